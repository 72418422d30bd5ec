//! The `struct` library Redis gives scripts (Roberto Ierusalimschy's struct, as Redis 7.0
//! ships it): `struct.pack(format, ...)`, `struct.unpack(format, data [, position])` and
//! `struct.size(format)`, byte for byte and error for error as Redis's on x86-64.
//!
//! Format options: `>` big-endian, `<` little-endian (the default), `![n]` align to at most
//! n bytes (default 8), `x` a zero byte, `b`/`B` a signed/unsigned byte, `h`/`H` 2 bytes,
//! `l`/`L` and `T` 8 bytes, `i[n]`/`I[n]` n bytes (default 4, at most 32), `c[n]` n bytes of
//! a string (packing: 0 means the whole string; unpacking: 0 means the number unpacked just
//! before), `s` a zero-terminated string, `f` a float, `d` a double, space ignored; the
//! format ends at its first zero byte. As in the C code: an integer holds 64 bits (bytes
//! past the eighth pack as zero and are shifted out when unpacked) and a number out of
//! range packs as x86-64 converts it (NaN as 2^63, 2^64 and above as 0).

use mlua::{Lua, MultiValue, Table, Value, Variadic};

use super::c_library::{
    MAX_STACK_SLOTS, argument_error, at_caller, c_integer, check_number, check_string, opt_integer,
    runtime, stack_overflow,
};

/// Widest integer option (`MAXINTSIZE`).
const MAX_INT_SIZE: usize = 32;
/// Default of `!` (`MAXALIGN` on x86-64: a double's alignment).
const MAX_ALIGN: usize = 8;

/// The `struct` table.
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?,
    )?;
    table.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?,
    )?;
    table.raw_set(
        "size",
        lua.create_function(|lua, args: Variadic<Value>| size(lua, &args))?,
    )?;
    Ok(table)
}

/// Byte order and alignment, as the options so far set them.
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// The format string, read one option at a time; it ends at its first zero byte (the C
/// code reads a C string).
struct Format {
    bytes: Vec<u8>,
    at: usize,
}

impl Format {
    fn new(mut bytes: Vec<u8>) -> Format {
        if let Some(end) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(end);
        }
        Format { bytes, at: 0 }
    }

    fn next_option(&mut self) -> Option<u8> {
        let opt = self.bytes.get(self.at).copied()?;
        self.at += 1;
        Some(opt)
    }

    /// The number after an option, or `default`; `int` arithmetic as the C code's, which
    /// checks each digit against overflow.
    fn number(&mut self, lua: &Lua, default: usize) -> mlua::Result<usize> {
        let mut value: Option<i32> = None;
        while let Some(digit) = self.bytes.get(self.at).filter(|b| b.is_ascii_digit()) {
            let digit = i32::from(digit - b'0');
            let a = value.unwrap_or(0);
            if a > i32::MAX / 10 || a * 10 > i32::MAX - digit {
                return Err(at_caller(lua, runtime("integral size overflow")));
            }
            value = Some(a * 10 + digit);
            self.at += 1;
        }
        Ok(value.map_or(default, |v| v as usize))
    }

    /// Bytes the option `opt` takes (0 for options that are not values).
    fn option_size(&mut self, lua: &Lua, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(lua, 1)?,
            b'i' | b'I' => {
                let size = self.number(lua, 4)?;
                if size > MAX_INT_SIZE {
                    return Err(at_caller(
                        lua,
                        runtime(&format!(
                            "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                        )),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// The options that set byte order and alignment, and the error for any other option.
    fn control(&mut self, lua: &Lua, opt: u8, header: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => header.little = false,
            b'<' => header.little = true,
            b'!' => {
                let align = self.number(lua, MAX_ALIGN)?;
                if !align.is_power_of_two() {
                    return Err(at_caller(
                        lua,
                        runtime(&format!("alignment {align} is not a power of 2")),
                    ));
                }
                header.align = align;
            }
            other => {
                let problem = format!("invalid format option '{}'", char::from(other));
                return Err(argument_error(lua, 1, &problem));
            }
        }
        Ok(())
    }
}

/// Padding before a value of `size` bytes at offset `len` (the C code's arithmetic, also
/// for sizes that are not powers of two).
fn padding(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(header.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// A number converted to the C code's unsigned long: negative numbers through `long`, the
/// rest as x86-64's conversion to unsigned gives them.
fn c_unsigned(n: f64) -> u64 {
    if n < 0.0 {
        c_integer(n) as u64
    } else if n.is_nan() {
        1 << 63
    } else if n < 18_446_744_073_709_551_616.0 {
        n as u64
    } else {
        0
    }
}

fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::LuaString> {
    let mut format = Format::new(check_string(lua, args, 1)?);
    // The C code then pushes a nil after its arguments: the first one missing is "nil",
    // not "no value", in its errors.
    let args: Vec<Value> = args.iter().cloned().chain([Value::Nil]).collect();
    let args = args.as_slice();
    let mut header = Header::default();
    let mut arg = 2;
    let mut out = Vec::new();
    while let Some(opt) = format.next_option() {
        let mut size = format.option_size(lua, opt)?;
        let pad = padding(out.len(), &header, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_integer_option(opt) => {
                let mut value = c_unsigned(check_number(lua, args, arg)?);
                arg += 1;
                let mut bytes = vec![0u8; size];
                for byte in bytes.iter_mut() {
                    *byte = value as u8;
                    value >>= 8;
                }
                if !header.little {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' | b'd' => {
                let n = check_number(lua, args, arg)?;
                arg += 1;
                let mut bytes = if opt == b'f' {
                    (n as f32).to_le_bytes().to_vec()
                } else {
                    n.to_le_bytes().to_vec()
                };
                if !header.little {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
            }
            b'c' | b's' => {
                let s = check_string(lua, args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                let Some(part) = s.get(..size) else {
                    // The C code names the argument after the string (it counted it already).
                    return Err(argument_error(lua, arg, "string too short"));
                };
                out.extend_from_slice(part);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => format.control(lua, opt, &mut header)?,
        }
    }
    lua.create_string(&out)
}

/// An integer of `bytes.len()` bytes; past 8 bytes the first ones are shifted out, as from
/// the C code's 64-bit accumulator.
fn read_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |l: u64, b: &u8| (l << 8) | u64::from(*b);
    let l = if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    };
    if !signed {
        return l as f64;
    }
    // The C shift by size * 8 - 1, which x86-64 takes modulo 64.
    let mask = u64::MAX.wrapping_shl((bytes.len() as i64 * 8 - 1) as u32);
    let l = if l & mask != 0 { l | mask } else { l };
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<MultiValue> {
    let mut format = Format::new(check_string(lua, args, 1)?);
    let data = check_string(lua, args, 2)?;
    // An unsigned position in the C code: only 0 is refused as such; a negative one is
    // past any data.
    let start = opt_integer(lua, args, 3, 1)?;
    if start == 0 {
        return Err(argument_error(lua, 3, "offset must be 1 or greater"));
    }
    let too_short = || argument_error(lua, 2, "data string too short");
    let mut pos = (start as usize).wrapping_sub(1);
    let mut header = Header::default();
    let mut results: Vec<Value> = Vec::new();
    while let Some(opt) = format.next_option() {
        let mut size = format.option_size(lua, opt)?;
        pos = pos.saturating_add(padding(pos, &header, opt, size));
        if pos.saturating_add(size) > data.len() {
            return Err(too_short());
        }
        // The format and the data take two of the C function's stack slots.
        if 2 + results.len() + 1 > MAX_STACK_SLOTS {
            return Err(stack_overflow(lua, "too many results"));
        }
        let bytes = data.get(pos..pos + size).unwrap_or_default();
        match opt {
            _ if is_integer_option(opt) => {
                let n = read_integer(bytes, header.little, opt.is_ascii_lowercase());
                results.push(Value::Number(n));
            }
            b'x' => {}
            b'f' | b'd' => {
                let mut bytes = bytes.to_vec();
                if !header.little {
                    bytes.reverse();
                }
                let n = match (opt, bytes.first_chunk::<4>(), bytes.first_chunk::<8>()) {
                    (b'f', Some(b), _) => f64::from(f32::from_le_bytes(*b)),
                    (_, _, Some(b)) => f64::from_le_bytes(*b),
                    _ => 0.0,
                };
                results.push(Value::Number(n));
            }
            b'c' => {
                if size == 0 {
                    let previous = match results.last() {
                        Some(v) => lua.coerce_number(v.clone())?,
                        None => None,
                    };
                    let Some(n) = previous else {
                        return Err(at_caller(lua, runtime("format 'c0' needs a previous size")));
                    };
                    results.pop();
                    size = usize::try_from(c_unsigned(n)).unwrap_or(usize::MAX);
                    if pos.saturating_add(size) > data.len() {
                        return Err(too_short());
                    }
                }
                let part = data.get(pos..pos + size).unwrap_or_default();
                results.push(Value::String(lua.create_string(part)?));
            }
            b's' => {
                let rest = data.get(pos..).unwrap_or_default();
                let Some(end) = rest.iter().position(|&b| b == 0) else {
                    return Err(at_caller(lua, runtime("unfinished string in data")));
                };
                let part = rest.get(..end).unwrap_or_default();
                results.push(Value::String(lua.create_string(part)?));
                size = end + 1;
            }
            _ => format.control(lua, opt, &mut header)?,
        }
        pos += size;
    }
    results.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    Ok(MultiValue::from_iter(results))
}

fn size(lua: &Lua, args: &[Value]) -> mlua::Result<f64> {
    let mut format = Format::new(check_string(lua, args, 1)?);
    let mut header = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = format.next_option() {
        let size = format.option_size(lua, opt)?;
        pos += padding(pos, &header, opt, size);
        if opt == b's' {
            return Err(argument_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(argument_error(lua, 1, "option 'c0' has no fixed size"));
        }
        // Letters and digits that are not options count for nothing here.
        if !opt.is_ascii_alphanumeric() {
            format.control(lua, opt, &mut header)?;
        }
        pos += size;
    }
    Ok(pos as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_follows_the_c_arithmetic() {
        let header = Header {
            little: true,
            align: 4,
        };
        assert_eq!(padding(1, &header, b'i', 4), 3);
        assert_eq!(padding(4, &header, b'i', 4), 0);
        assert_eq!(padding(1, &header, b'd', 8), 3);
        assert_eq!(padding(3, &header, b'i', 4), 1);
        assert_eq!(padding(1, &header, b'c', 4), 0);
        assert_eq!(padding(5, &Header::default(), b'i', 4), 0);
    }

    #[test]
    fn integers_read_as_the_c_code_reads_them() {
        assert_eq!(read_integer(&[0xff, 0xfe], false, true), -2.0);
        assert_eq!(read_integer(&[0xfe, 0xff], true, true), -2.0);
        assert_eq!(read_integer(&[0xff, 0xff], true, false), 65535.0);
        // Twelve bytes: the top four are shifted out; the sign bit is bit 95 mod 64.
        let mut bytes = [0u8; 12];
        bytes[7] = 0x80;
        assert_eq!(read_integer(&bytes, true, true), -2_147_483_648.0);
    }

    #[test]
    fn numbers_out_of_range_convert_as_x86_converts_them() {
        assert_eq!(c_unsigned(f64::NAN), 1 << 63);
        assert_eq!(c_unsigned(18_446_744_073_709_551_616.0), 0);
        assert_eq!(c_unsigned(f64::INFINITY), 0);
        assert_eq!(c_unsigned(-1.0), u64::MAX);
        assert_eq!(c_unsigned(-1e300), 1 << 63);
        assert_eq!(c_unsigned(1.9), 1);
    }
}
