//! The `cmsgpack` library Redis gives scripts (lua-cmsgpack 0.4.0): `cmsgpack.pack` writes
//! Lua values as MessagePack, `cmsgpack.unpack`, `unpack_one` and `unpack_limit` read them
//! back — byte for byte and error for error as Redis's, so that scripts written for Redis
//! (job queues that keep their jobs' options as MessagePack, for one) run unchanged.
//!
//! Packing: a number that is a 64-bit integer takes the smallest integer encoding that
//! holds it, any other number a 32-bit float when that is exact, else a 64-bit one; a
//! string is a str (fixstr, str 8, 16 or 32); a table whose keys are exactly 1..n is an
//! array, any other table a map in the table's own iteration order; a table nested 16
//! deep packs as nil (so a table that holds itself packs); nil, functions and the rest are
//! nil. Several arguments pack one after another. Unpacking reads what 0.4.0 writes plus
//! the other integer encodings (bin and ext are bad data); integers become Lua numbers (a
//! uint 64 above 2^63 wraps to negative, as in Redis); a map key that is nil or NaN is
//! Lua's error; like any C function, unpacking returns at most ~8000 values and nests at
//! most as deep as Lua's stack allows.

use mlua::{Lua, MultiValue, Table, Value, Variadic};

use std::rc::Rc;

use super::c_library::{
    MAX_STACK_SLOTS, Pace, Watchdog, argument_error, at_caller, check_integer, check_string,
    opt_integer, runtime, stack_overflow,
};
use super::vm::MEMORY_LIMIT;

/// Tables nested deeper than this pack as nil (`LUACMSGPACK_MAX_NESTING`).
const MAX_NESTING: usize = 16;
/// Why a decode that reaches Lua's stack limit fails.
const TOO_MANY_VALUES: &str =
    "too many return values at once; use unpack_one or unpack_limit instead.";

/// The `cmsgpack` table.
pub(super) fn library(lua: &Lua, watchdog: &Watchdog) -> mlua::Result<Table> {
    let cmsgpack = lua.create_table()?;
    let watchdog = Rc::clone(watchdog);
    cmsgpack.raw_set(
        "pack",
        lua.create_function(move |lua, args: Variadic<Value>| {
            pack(lua, &args, &Pace::new(&watchdog))
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = check_string(lua, &args, 1)?;
            // Arguments past the first stay on the C function's stack.
            unpack(lua, &data, 0, 0, args.len())
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let offset = opt_integer(lua, &args, 2, 0)?;
            let data = check_string(lua, &args, 1)?;
            unpack(lua, &data, 1, offset, 1)
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let limit = check_integer(lua, &args, 2)?;
            let offset = opt_integer(lua, &args, 3, 0)?;
            let data = check_string(lua, &args, 1)?;
            unpack(lua, &data, limit, offset, 1)
        })?,
    )?;
    cmsgpack.raw_set("_NAME", "cmsgpack")?;
    cmsgpack.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    cmsgpack.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    cmsgpack.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(cmsgpack)
}

fn pack(lua: &Lua, args: &[Value], pace: &Pace) -> mlua::Result<mlua::LuaString> {
    if args.is_empty() {
        return Err(argument_error(lua, 0, "MessagePack pack needs input."));
    }
    // The C function copies its arguments on the stack first.
    if args.len() * 2 > MAX_STACK_SLOTS {
        return Err(argument_error(
            lua,
            0,
            "Too many arguments for MessagePack pack.",
        ));
    }
    let mut out = Vec::new();
    for value in args {
        encode(value, 0, &mut out, pace)?;
    }
    lua.create_string(&out)
}

fn encode(value: &Value, level: usize, out: &mut Vec<u8>, pace: &Pace) -> mlua::Result<()> {
    // A table that holds itself k times packs to k^16 values: the script's time limit
    // (`pace`) and memory cap bound that, the cap as the interpreter's bounds the C
    // library's buffer (allocated through Lua).
    if out.len() > MEMORY_LIMIT {
        return Err(mlua::Error::MemoryError("not enough memory".into()));
    }
    match value {
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => encode_table(t, level, out, pace)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    // A 64-bit integer in C's sense: converting to int64_t and back gives the number
    // (x86-64 converts NaN and out-of-range numbers to i64::MIN, which then differs).
    let as_integer =
        (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) && n.trunc() == n;
    if as_integer {
        encode_integer(n as i64, out);
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_integer(n: i64, out: &mut Vec<u8>) {
    match n {
        0..=127 => out.push(n as u8),
        128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => out.push(n as u8),
        -128..=-33 => out.extend_from_slice(&[0xd0, n as u8]),
        -32768..=-129 => {
            out.push(0xd1);
            out.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            out.push(0xd2);
            out.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_table(table: &Table, level: usize, out: &mut Vec<u8>, pace: &Pace) -> mlua::Result<()> {
    pace.table()?;
    if let Some(len) = array_len(table)? {
        encode_header(len, [0x90, 0xdc, 0xdd], out);
        for j in 1..=len {
            encode(&table.raw_get::<Value>(j)?, level + 1, out, pace)?;
        }
        return Ok(());
    }
    // Counted first, then written (holding every pair would hold a Lua reference each).
    let mut count = 0;
    for pair in table.pairs::<Value, Value>() {
        pair?;
        count += 1;
    }
    encode_header(count, [0x80, 0xde, 0xdf], out);
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        encode(&key, level + 1, out, pace)?;
        encode(&value, level + 1, out, pace)?;
    }
    Ok(())
}

/// An array or map header: the fix form (`fix | n`) up to 15, then 16 and 32 bits.
fn encode_header(n: usize, [fix, bits16, bits32]: [u8; 3], out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(bits16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(bits32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `Some(n)` if the table's keys are exactly 1..=n (an empty table included): every key a
/// positive number that is a C `int`, the largest equal to their count.
fn array_len(table: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0usize, 0usize);
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let n = match key {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if !(n > 0.0 && n <= f64::from(i32::MAX) && n.trunc() == n) {
            return Ok(None);
        }
        max = max.max(n as usize);
        count += 1;
    }
    Ok((max == count).then_some(count))
}

/// Why a decode stopped.
enum Stop {
    /// The input ends inside a value.
    Missing,
    /// A byte that starts no value lua-cmsgpack reads.
    BadFormat,
    /// An error Lua raises (a nil map key, the stack limit).
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lua(e)
    }
}

/// `unpack_limit(data, limit, offset)`: up to `limit` values from byte `offset` (every
/// value when both are 0, as `unpack`); `slots` is the stack the C function's arguments
/// take. Returns the values, preceded by the next offset (-1 at the end) unless every value
/// was asked for.
fn unpack(
    lua: &Lua,
    data: &[u8],
    limit: i64,
    offset: i64,
    slots: usize,
) -> mlua::Result<MultiValue> {
    // The C library's messages, with its casts to int (and its length for the limit).
    if offset < 0 || limit < 0 {
        return Err(at_caller(
            lua,
            runtime(&format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32,
                data.len() as i32
            )),
        ));
    }
    let Some(mut rest) = usize::try_from(offset).ok().and_then(|o| data.get(o..)) else {
        return Err(at_caller(
            lua,
            runtime(&format!(
                "Start offset {} greater than input length {}.",
                offset as i32,
                data.len() as i32
            )),
        ));
    };
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut values = Vec::new();
    while !rest.is_empty() && (values.len() as i64) < limit {
        match decode(lua, &mut rest, slots + values.len()) {
            Ok(value) => values.push(value),
            Err(Stop::Missing) => return Err(at_caller(lua, runtime("Missing bytes in input."))),
            Err(Stop::BadFormat) => {
                return Err(at_caller(lua, runtime("Bad data format in input.")));
            }
            Err(Stop::Lua(e)) => return Err(e),
        }
    }
    if !decode_all {
        if slots + values.len() + 1 > MAX_STACK_SLOTS {
            return Err(stack_overflow(lua, "in function mp_unpack_full"));
        }
        let next = if rest.is_empty() {
            -1
        } else {
            (data.len() - rest.len()) as i64
        };
        values.insert(0, Value::Number(next as f64));
    }
    Ok(MultiValue::from_iter(values))
}

/// The first `n` bytes of `rest`, consumed.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], Stop> {
    if rest.len() < n {
        return Err(Stop::Missing);
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

/// The `N` bytes after a one-byte tag, consumed with it.
fn after_tag<const N: usize>(rest: &mut &[u8]) -> Result<[u8; N], Stop> {
    let bytes = take(rest, 1 + N)?;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes.get(1..).unwrap_or_default());
    Ok(out)
}

/// What one encoded item starts: a whole value, or an array or map of that many entries.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

/// An array or map being filled, innermost last.
enum Open {
    Array {
        table: Table,
        len: usize,
        next: usize,
    },
    Map {
        table: Table,
        left: usize,
        key: Option<Value>,
    },
}

/// One value from the front of `rest`; `slots` is the Lua stack in use before it. Nested
/// arrays and maps are filled without recursion (their depth is bounded only by the stack
/// slots they take, as in the C library: two per level, one for a map being keyed).
fn decode(lua: &Lua, rest: &mut &[u8], slots: usize) -> Result<Value, Stop> {
    let mut open: Vec<Open> = Vec::new();
    let mut used = slots;
    loop {
        if rest.is_empty() {
            return Err(Stop::Missing);
        }
        if used + 1 > MAX_STACK_SLOTS {
            return Err(Stop::Lua(stack_overflow(lua, TOO_MANY_VALUES)));
        }
        let mut value = match item(lua, rest)? {
            Item::Value(value) => value,
            Item::Array(len) => {
                let table = lua.create_table()?;
                // The table and the index being set.
                if used + 2 > MAX_STACK_SLOTS {
                    return Err(Stop::Lua(stack_overflow(
                        lua,
                        "in function mp_decode_to_lua_array",
                    )));
                }
                if len == 0 {
                    Value::Table(table)
                } else {
                    open.push(Open::Array {
                        table,
                        len,
                        next: 1,
                    });
                    used += 2;
                    continue;
                }
            }
            Item::Map(len) => {
                let table = lua.create_table()?;
                if len == 0 {
                    Value::Table(table)
                } else {
                    open.push(Open::Map {
                        table,
                        left: len,
                        key: None,
                    });
                    used += 1;
                    continue;
                }
            }
        };
        // Hand the value to the innermost open table; a table it fills is the next value.
        loop {
            match open.last_mut() {
                None => return Ok(value),
                Some(Open::Array { table, len, next }) => {
                    table.raw_set(*next, value)?;
                    if *next < *len {
                        *next += 1;
                        break;
                    }
                    value = Value::Table(table.clone());
                    used -= 2;
                }
                Some(Open::Map { table, left, key }) => {
                    let Some(k) = key.take() else {
                        // The key stays on the stack while its value is read.
                        *key = Some(value);
                        used += 1;
                        break;
                    };
                    used -= 1;
                    // Lua's own errors for these keys, raised where no Lua code runs (so
                    // without a line number).
                    match k {
                        Value::Nil => return Err(Stop::Lua(runtime("table index is nil"))),
                        Value::Number(n) if n.is_nan() => {
                            return Err(Stop::Lua(runtime("table index is NaN")));
                        }
                        k => table.raw_set(k, value)?,
                    }
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    value = Value::Table(table.clone());
                    used -= 1;
                }
            }
            open.pop();
        }
    }
}

/// The item at the front of `rest` (which is not empty), consumed.
fn item(lua: &Lua, rest: &mut &[u8]) -> Result<Item, Stop> {
    let tag = rest.first().copied().unwrap_or_default();
    let number = |n: f64| Ok(Item::Value(Value::Number(n)));
    match tag {
        0xcc => number(f64::from(after_tag::<1>(rest)?[0])),
        0xd0 => number(f64::from(after_tag::<1>(rest)?[0] as i8)),
        0xcd => number(f64::from(u16::from_be_bytes(after_tag(rest)?))),
        0xd1 => number(f64::from(i16::from_be_bytes(after_tag(rest)?))),
        0xce => number(f64::from(u32::from_be_bytes(after_tag(rest)?))),
        0xd2 => number(f64::from(i32::from_be_bytes(after_tag(rest)?))),
        // Pushed as Lua 5.1's signed integer type: above 2^63 it wraps to negative.
        0xcf => number(u64::from_be_bytes(after_tag(rest)?) as i64 as f64),
        0xd3 => number(i64::from_be_bytes(after_tag(rest)?) as f64),
        0xc0 | 0xc2 | 0xc3 => {
            take(rest, 1)?;
            Ok(Item::Value(match tag {
                0xc0 => Value::Nil,
                t => Value::Boolean(t == 0xc3),
            }))
        }
        0xca => number(f64::from(f32::from_be_bytes(after_tag(rest)?))),
        0xcb => number(f64::from_be_bytes(after_tag(rest)?)),
        0xd9 => {
            let [len] = after_tag(rest)?;
            string(lua, rest, usize::from(len))
        }
        0xda => {
            let len = u16::from_be_bytes(after_tag(rest)?);
            string(lua, rest, usize::from(len))
        }
        0xdb => {
            let len = u32::from_be_bytes(after_tag(rest)?);
            string(lua, rest, len as usize)
        }
        0xdc => Ok(Item::Array(usize::from(u16::from_be_bytes(after_tag(
            rest,
        )?)))),
        0xdd => Ok(Item::Array(u32::from_be_bytes(after_tag(rest)?) as usize)),
        0xde => Ok(Item::Map(usize::from(u16::from_be_bytes(after_tag(rest)?)))),
        0xdf => Ok(Item::Map(u32::from_be_bytes(after_tag(rest)?) as usize)),
        _ if tag & 0x80 == 0 => {
            take(rest, 1)?;
            number(f64::from(tag))
        }
        _ if tag & 0xe0 == 0xe0 => {
            take(rest, 1)?;
            number(f64::from(tag as i8))
        }
        _ if tag & 0xe0 == 0xa0 => {
            take(rest, 1)?;
            string(lua, rest, usize::from(tag & 0x1f))
        }
        _ if tag & 0xf0 == 0x90 => {
            take(rest, 1)?;
            Ok(Item::Array(usize::from(tag & 0xf)))
        }
        _ if tag & 0xf0 == 0x80 => {
            take(rest, 1)?;
            Ok(Item::Map(usize::from(tag & 0xf)))
        }
        _ => Err(Stop::BadFormat),
    }
}

fn string(lua: &Lua, rest: &mut &[u8], len: usize) -> Result<Item, Stop> {
    let bytes = take(rest, len)?;
    Ok(Item::Value(Value::String(lua.create_string(bytes)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn unwatched() -> Pace {
        Pace::new(&(Rc::new(|| Ok(())) as Watchdog))
    }

    fn packed(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, 0, &mut out, &unwatched()).expect("packs");
        out
    }

    #[test]
    fn numbers_take_the_smallest_encoding_that_holds_them() {
        let cases: &[(f64, &[u8])] = &[
            (0.0, &[0x00]),
            (127.0, &[0x7f]),
            (128.0, &[0xcc, 0x80]),
            (65536.0, &[0xce, 0, 1, 0, 0]),
            (4294967296.0, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            (-32.0, &[0xe0]),
            (-33.0, &[0xd0, 0xdf]),
            (-32769.0, &[0xd2, 0xff, 0xff, 0x7f, 0xff]),
            (1.5, &[0xca, 0x3f, 0xc0, 0, 0]),
            (0.1, &[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
            // 2^63 is no int64: C's conversion gives i64::MIN, which differs.
            (9_223_372_036_854_775_808.0, &[0xca, 0x5f, 0, 0, 0]),
        ];
        for (n, bytes) in cases {
            assert_eq!(packed(&Value::Number(*n)), *bytes, "{n}");
        }
    }

    #[test]
    fn tables_nested_past_sixteen_levels_pack_as_nil() {
        let lua = Lua::new();
        let table = lua.create_table().unwrap();
        table.raw_set(1, table.clone()).unwrap();
        let bytes = packed(&Value::Table(table));
        assert_eq!(bytes.len(), 17);
        assert_eq!(bytes.last(), Some(&0xc0));
        assert!(bytes.iter().take(16).all(|&b| b == 0x91));
    }

    proptest! {
        /// Any bytes unpack to values or fail with an error: never a panic.
        #[test]
        fn unpacking_any_bytes_returns(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let lua = Lua::new();
            let _ = unpack(&lua, &bytes, 0, 0, 1);
        }

        /// What unpacks, packs again to bytes that unpack and pack to the same bytes
        /// (compared sorted: a rebuilt table may list a map's keys in another order).
        #[test]
        fn a_packing_of_an_unpacked_value_is_stable(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let lua = Lua::new();
            let Ok(values) = unpack(&lua, &bytes, 0, 0, 1) else { return Ok(()) };
            let mut first = Vec::new();
            for value in &values {
                encode(value, 0, &mut first, &unwatched()).expect("packs");
            }
            let again = unpack(&lua, &first, 0, 0, 1).expect("a packing unpacks");
            let mut second = Vec::new();
            for value in &again {
                encode(value, 0, &mut second, &unwatched()).expect("packs again");
            }
            let (mut first, mut second) = (first, second);
            first.sort_unstable();
            second.sort_unstable();
            prop_assert_eq!(first, second);
        }
    }
}
