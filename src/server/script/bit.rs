//! The `bit` library Redis gives scripts (LuaBitOp 1.0): 32-bit operations on Lua numbers.
//! An argument is taken modulo 2^32 (as LuaBitOp takes it: the low 32 bits of the number
//! plus 2^52 + 2^51), and every result is a signed 32-bit number.

use mlua::{Lua, Table, Value, Variadic};

use super::c_library::check_number;

/// An operation on one argument (`bnot`).
type Unary = fn(u32) -> u32;
/// An operation on two (`band`; `lshift` with its shift count).
type Binary = fn(u32, u32) -> u32;

/// LuaBitOp's argument conversion.
fn bits(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<u32> {
    let x = check_number(lua, args, n)?;
    // The low word of the sum's bits, as LuaBitOp reads it through a union.
    Ok((x + 6_755_399_441_055_744.0).to_bits() as u32)
}

/// A result: the bits as a signed 32-bit number.
fn number(b: u32) -> f64 {
    f64::from(b as i32)
}

/// The `bit` table.
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let bit = lua.create_table()?;
    let unary: [(&'static str, Unary); 3] = [
        ("tobit", |b| b),
        ("bnot", |b| !b),
        ("bswap", u32::swap_bytes),
    ];
    for (name, op) in unary {
        let f = lua.create_function(move |lua, args: Variadic<Value>| {
            Ok(number(op(bits(lua, &args, 1)?)))
        })?;
        bit.raw_set(name, f)?;
    }
    let folds: [(&'static str, Binary); 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, op) in folds {
        let f = lua.create_function(move |lua, args: Variadic<Value>| {
            // As LuaBitOp: the first argument, then the others from the last one back.
            let mut acc = bits(lua, &args, 1)?;
            for n in (2..=args.len()).rev() {
                acc = op(acc, bits(lua, &args, n)?);
            }
            Ok(number(acc))
        })?;
        bit.raw_set(name, f)?;
    }
    let shifts: [(&'static str, Binary); 5] = [
        ("lshift", |b, n| b << n),
        ("rshift", |b, n| b >> n),
        ("arshift", |b, n| ((b as i32) >> n) as u32),
        ("rol", u32::rotate_left),
        ("ror", u32::rotate_right),
    ];
    for (name, op) in shifts {
        let f = lua.create_function(move |lua, args: Variadic<Value>| {
            let b = bits(lua, &args, 1)?;
            let n = bits(lua, &args, 2)? & 31;
            Ok(number(op(b, n)))
        })?;
        bit.raw_set(name, f)?;
    }
    let tohex = lua.create_function(|lua, args: Variadic<Value>| {
        let mut b = bits(lua, &args, 1)?;
        let mut n = if args.len() < 2 {
            8
        } else {
            bits(lua, &args, 2)? as i32
        };
        let digits: &[u8; 16] = if n < 0 {
            n = n.saturating_neg();
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = n.min(8) as usize;
        let mut out = vec![b'0'; n];
        for slot in out.iter_mut().rev() {
            *slot = digits.get((b & 15) as usize).copied().unwrap_or(b'0');
            b >>= 4;
        }
        lua.create_string(&out)
    })?;
    bit.raw_set("tohex", tohex)?;
    Ok(bit)
}
