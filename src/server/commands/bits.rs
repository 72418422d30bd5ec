//! Bitmap commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO, as Redis 7.0's `bitops.c` answers them. Bits are numbered from the most
//! significant bit of the first byte; a missing key, or bytes past a string's end, read
//! as zero bits.

use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX, value_fits};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// Largest string a bit offset may reach: `proto-max-bulk-len`, 512 MiB.
const MAX_BYTES: u64 = 512 << 20;

const BAD_OFFSET: CmdError = CmdError::fixed("ERR bit offset is not an integer or out of range");

/// A bit offset argument (Redis's `getBitOffsetFromArgument`); with `bits`, `#n` means
/// the n-th field of that width (BITFIELD).
fn bit_offset(arg: &[u8], bits: Option<u32>) -> Result<u64, CmdError> {
    let (digits, multiplier) = match (arg.strip_prefix(b"#"), bits) {
        (Some(rest), Some(bits)) => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    let offset = crate::numeric::parse_i64(digits)
        .and_then(|n| n.checked_mul(multiplier))
        .and_then(|n| u64::try_from(n).ok())
        .ok_or(BAD_OFFSET)?;
    if offset >> 3 >= MAX_BYTES {
        return Err(BAD_OFFSET);
    }
    Ok(offset)
}

fn bit_at(value: &[u8], offset: u64) -> bool {
    usize::try_from(offset >> 3)
        .ok()
        .and_then(|byte| value.get(byte))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

fn set_bit(value: &mut [u8], offset: u64, on: bool) {
    let Some(byte) = usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| value.get_mut(i))
    else {
        return;
    };
    let mask = 0x80u8 >> (offset & 7);
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
}

/// Grows `value` with zero bytes so that bit `offset` is inside it; true if it grew.
fn grow_to_bit(value: &mut Vec<u8>, offset: u64) -> bool {
    let needed = usize::try_from(offset >> 3)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    if value.len() < needed {
        value.resize(needed, 0);
        return true;
    }
    false
}

/// SETBIT key offset 0|1: the bit's previous value. The string grows as needed; its
/// expiry stays.
pub(crate) fn setbit(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let offset = bit_offset(a.get(2), None)?;
    let on = match crate::numeric::parse_i64(a.get(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => {
            return Err(CmdError::fixed("ERR bit is not an integer or out of range"));
        }
    };
    let key = a.get(1);
    let current = ks.get_with_expiry(key)?;
    let created = current.is_none();
    let (mut value, expiry) = current.unwrap_or_default();
    value_fits((offset >> 3) + 1, shared.store.max_value_size())?;
    let grew = grow_to_bit(&mut value, offset);
    let was = bit_at(&value, offset);
    if created || grew || was != on {
        set_bit(&mut value, offset, on);
        ks.set_with_expiry(key, &value, expiry)?;
        shared.notify(out, class::STRING, "setbit", key);
    }
    out.int(i64::from(was));
    Ok(())
}

/// GETBIT key offset.
pub(crate) fn getbit(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let offset = bit_offset(a.get(2), None)?;
    let value = ks.get(a.get(1))?.unwrap_or_default();
    out.int(i64::from(bit_at(&value, offset)));
    Ok(())
}

/// A BITCOUNT / BITPOS range in bits, `first..=last`, from byte or bit indexes that may
/// count from the end (Redis's conversion: negative from the end, then clamped).
/// `None` when the range is empty.
fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let mut total = i64::try_from(len).unwrap_or(i64::MAX);
    if in_bits {
        total = total.saturating_mul(8);
    }
    let mut start = if start < 0 { total + start } else { start };
    let mut end = if end < 0 { total + end } else { end };
    start = start.max(0);
    end = end.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (u64::try_from(start).ok()?, u64::try_from(end).ok()?);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// BYTE or BIT, the unit of a range.
fn unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// Set bits in `first..=last`.
fn count_ones(value: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let Some(bytes) = value.get(first_byte..=last_byte) else {
        return 0;
    };
    let mut count: u64 = bytes.iter().map(|b| u64::from(b.count_ones())).sum();
    // Take off the bits of the edge bytes outside the range.
    if let Some(b) = bytes.first() {
        count -= u64::from((b & !(0xffu8 >> (first & 7))).count_ones());
    }
    if let Some(b) = bytes.last() {
        count -= u64::from((b & (0x7fu8 >> (last & 7))).count_ones());
    }
    count
}

/// BITCOUNT key [start end [BYTE|BIT]].
pub(crate) fn bitcount(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    // As Redis: the key is looked up before the range is read.
    let Some(value) = ks.get(a.get(1))? else {
        out.int(0);
        return Ok(());
    };
    let range = match a.len() {
        2 => bit_range(value.len(), 0, -1, false),
        4 | 5 => {
            let start = crate::numeric::parse_i64(a.get(2)).ok_or(NOT_INTEGER)?;
            let end = crate::numeric::parse_i64(a.get(3)).ok_or(NOT_INTEGER)?;
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let in_bits = a.len() == 5 && unit(a.get(4))?;
            bit_range(value.len(), start, end, in_bits)
        }
        _ => return Err(SYNTAX),
    };
    let count = range.map_or(0, |(first, last)| count_ones(&value, first, last));
    out.int(i64::try_from(count).unwrap_or(i64::MAX));
    Ok(())
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]]: the first bit of that value in the range, or
/// -1. Looking for 0 without an end, the string counts as followed by zero bits.
pub(crate) fn bitpos(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let bit = match crate::numeric::parse_i64(a.get(2)) {
        Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(CmdError::fixed("ERR The bit argument must be 1 or 0.")),
        None => return Err(NOT_INTEGER),
    };
    let Some(value) = ks.get(a.get(1))? else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let end_given = a.len() >= 5;
    let range = match a.len() {
        3 => bit_range(value.len(), 0, -1, false),
        4..=6 => {
            let start = crate::numeric::parse_i64(a.get(3)).ok_or(NOT_INTEGER)?;
            let in_bits = a.len() == 6 && unit(a.get(5))?;
            let end = if end_given {
                crate::numeric::parse_i64(a.get(4)).ok_or(NOT_INTEGER)?
            } else {
                -1
            };
            bit_range(value.len(), start, end, in_bits)
        }
        _ => return Err(SYNTAX),
    };
    let Some((first, last)) = range else {
        out.int(-1);
        return Ok(());
    };
    let found = first_bit(&value, bit, first, last);
    let position = match found {
        Some(p) => i64::try_from(p).unwrap_or(-1),
        // No clear bit in the string: the first one past it, unless an end was given.
        None if !bit && !end_given => i64::try_from((last >> 3) + 1).unwrap_or(0) * 8,
        None => -1,
    };
    out.int(position);
    Ok(())
}

/// The first bit equal to `bit` in `first..=last`.
fn first_bit(value: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let skip = if bit { 0x00 } else { 0xff };
    let mut at = first;
    while at <= last {
        // Whole bytes without the bit are skipped.
        if at & 7 == 0 && at + 7 <= last && value.get((at >> 3) as usize) == Some(&skip) {
            at += 8;
            continue;
        }
        if bit_at(value, at) == bit {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// BITOP AND|OR|XOR|NOT destination key [key ...]: the result, as long as the longest
/// source (missing keys and short strings count as zero bytes), replaces the destination
/// (deleted when empty); its length.
pub(crate) fn bitop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match a.get(1) {
        o if is(o, "and") => Op::And,
        o if is(o, "or") => Op::Or,
        o if is(o, "xor") => Op::Xor,
        o if is(o, "not") => Op::Not,
        _ => return Err(SYNTAX),
    };
    if op == Op::Not && a.len() != 4 {
        return Err(CmdError::fixed(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let mut sources = Vec::with_capacity(a.len() - 3);
    for key in a.iter().skip(3) {
        sources.push(ks.get(key)?.unwrap_or_default());
    }
    let len = sources.iter().map(Vec::len).max().unwrap_or(0);
    let destination = a.get(2);
    if len == 0 {
        if ks.delete(destination)? {
            shared.notify(out, class::GENERIC, "del", destination);
        }
        out.int(0);
        return Ok(());
    }
    let byte = |source: &Vec<u8>, i: usize| source.get(i).copied().unwrap_or(0);
    let result: Vec<u8> = (0..len)
        .map(|i| {
            let mut bytes = sources.iter().map(|s| byte(s, i));
            let first = bytes.next().unwrap_or(0);
            match op {
                Op::And => bytes.fold(first, |acc, b| acc & b),
                Op::Or => bytes.fold(first, |acc, b| acc | b),
                Op::Xor => bytes.fold(first, |acc, b| acc ^ b),
                Op::Not => !first,
            }
        })
        .collect();
    ks.set_with_expiry(destination, &result, None)?;
    shared.notify(out, class::STRING, "set", destination);
    out.count(len);
    Ok(())
}

/// How a BITFIELD write that does not fit its type behaves.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD operation: a field of `bits` bits at `offset`, signed or not.
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// `i16`, `u8`, ...: signed up to 64 bits, unsigned up to 63.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    const BAD_TYPE: CmdError = CmdError::fixed(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
    );
    let (signed, digits) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(BAD_TYPE),
    };
    let bits = crate::numeric::parse_i64(digits).ok_or(BAD_TYPE)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(BAD_TYPE);
    }
    Ok((signed, u32::try_from(bits).map_err(|_| BAD_TYPE)?))
}

fn parse_fields(a: &Args) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let word = a.get(j);
        let get = is(word, "get") && left >= 2;
        if !get && !((is(word, "set") || is(word, "incrby")) && left >= 3) {
            if is(word, "overflow") && left >= 1 {
                overflow = match a.get(j + 1) {
                    o if is(o, "wrap") => Overflow::Wrap,
                    o if is(o, "sat") => Overflow::Sat,
                    o if is(o, "fail") => Overflow::Fail,
                    _ => return Err(CmdError::fixed("ERR Invalid OVERFLOW type specified")),
                };
                j += 2;
                continue;
            }
            return Err(SYNTAX);
        }
        let (signed, bits) = field_type(a.get(j + 1))?;
        let offset = bit_offset(a.get(j + 2), Some(bits))?;
        let op = if get {
            FieldOp::Get
        } else {
            let n = crate::numeric::parse_i64(a.get(j + 3)).ok_or(NOT_INTEGER)?;
            if is(word, "set") {
                FieldOp::Set(n)
            } else {
                FieldOp::IncrBy(n)
            }
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if get { 3 } else { 4 };
    }
    Ok(fields)
}

/// The `bits` bits at `offset`, most significant first, as an unsigned number.
fn read_field(value: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0, |acc, i| {
        (acc << 1) | u64::from(bit_at(value, offset + i))
    })
}

fn write_field(value: &mut [u8], offset: u64, bits: u32, field: u64) {
    for i in 0..u64::from(bits) {
        set_bit(
            value,
            offset + i,
            field >> (u64::from(bits) - 1 - i) & 1 == 1,
        );
    }
}

/// An unsigned field read as a signed one (two's complement of `bits` bits).
fn sign_extend(field: u64, bits: u32) -> i64 {
    if bits < 64 && field & (1 << (bits - 1)) != 0 {
        (field | (u64::MAX << bits)) as i64
    } else {
        field as i64
    }
}

/// `value + incr` in a field of `bits` bits, with Redis's overflow rules, stated as
/// Redis states them (`checkSignedBitfieldOverflow`, `checkUnsignedBitfieldOverflow`, in
/// wrapping 64-bit arithmetic): the result, and whether it overflowed.
fn field_add(signed: bool, bits: u32, value: i64, incr: i64, how: Overflow) -> (i64, bool) {
    let sum = (value as u64).wrapping_add(incr as u64);
    let mask = if bits == 64 { 0 } else { u64::MAX << bits };
    // 1: past the top, -1: past the bottom, 0: fits.
    let (side, max, min) = if signed {
        let max: i64 = if bits == 64 {
            i64::MAX
        } else {
            (1 << (bits - 1)) - 1
        };
        let min = -max - 1;
        let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
        let min_incr = min.wrapping_sub(value);
        let side = if value > max
            || (bits != 64 && incr > max_incr)
            || (value >= 0 && incr > 0 && incr > max_incr)
        {
            1
        } else if value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr)
        {
            -1
        } else {
            0
        };
        (side, max, min)
    } else {
        let unsigned = value as u64;
        let max = !mask;
        let max_incr = max.wrapping_sub(unsigned) as i64;
        let min_incr = unsigned.wrapping_neg() as i64;
        let side = if unsigned > max || (incr > 0 && incr > max_incr) {
            1
        } else if incr < 0 && incr < min_incr {
            -1
        } else {
            0
        };
        (side, max as i64, 0)
    };
    if side == 0 {
        return (sum as i64, false);
    }
    let limited = match how {
        Overflow::Sat if side > 0 => max,
        Overflow::Sat => min,
        // Wrap (and Fail, whose value is not used).
        _ if signed && bits < 64 => sign_extend(sum & !mask, bits),
        _ => (sum & !mask) as i64,
    };
    (limited, true)
}

fn bitfield_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    read_only: bool,
) -> CmdResult {
    let fields = parse_fields(a)?;
    let writes = fields.iter().any(|f| f.op != FieldOp::Get);
    if writes && read_only {
        return Err(CmdError::fixed(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let key = a.get(1);
    let current = ks.get_with_expiry(key)?;
    let (mut dirty, mut changed) = (writes && current.is_none(), false);
    let (mut value, expiry) = current.unwrap_or_default();
    if let Some(highest) = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max()
    {
        value_fits((highest >> 3) + 1, shared.store.max_value_size())?;
        dirty |= grow_to_bit(&mut value, highest);
    }
    // Replies are written once the value is stored: a failed write answers one error.
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(fields.len());
    for f in &fields {
        let raw = read_field(&value, f.offset, f.bits);
        let old = if f.signed {
            sign_extend(raw, f.bits)
        } else {
            raw as i64
        };
        let (new, overflowed, reply) = match f.op {
            FieldOp::Get => {
                replies.push(Some(old));
                continue;
            }
            FieldOp::Set(v) => {
                let (new, overflowed) = field_add(f.signed, f.bits, v, 0, f.overflow);
                (new, overflowed, old)
            }
            FieldOp::IncrBy(by) => {
                let (new, overflowed) = field_add(f.signed, f.bits, old, by, f.overflow);
                (new, overflowed, new)
            }
        };
        if overflowed && f.overflow == Overflow::Fail {
            replies.push(None);
            continue;
        }
        replies.push(Some(reply));
        write_field(&mut value, f.offset, f.bits, new as u64);
        // Redis 7.0 counts a write that succeeded as a change if it changed the field or
        // the string was created or grown for the command's writes.
        changed |= dirty || new != old;
    }
    if dirty || changed {
        ks.set_with_expiry(key, &value, expiry)?;
    }
    // Redis's event follows its count of changes: none for a string only created or
    // grown by writes that all failed.
    if changed {
        shared.notify(out, class::STRING, "setbit", key);
    }
    out.array(replies.len());
    for reply in replies {
        match reply {
            Some(n) => out.int(n),
            None => out.null(),
        }
    }
    Ok(())
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP|SAT|FAIL] ...
pub(crate) fn bitfield(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    bitfield_generic(ks, shared, a, out, false)
}

/// BITFIELD_RO key [GET type offset] ...
pub(crate) fn bitfield_ro(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    bitfield_generic(ks, shared, a, out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_wrap_saturate_and_report_overflow_as_redis() {
        // u8: 250 + 10 wraps to 4, saturates at 255.
        assert_eq!(field_add(false, 8, 250, 10, Overflow::Wrap), (4, true));
        assert_eq!(field_add(false, 8, 250, 10, Overflow::Sat), (255, true));
        assert_eq!(field_add(false, 8, 5, -10, Overflow::Sat), (0, true));
        // i8: 120 + 10 wraps to -126, saturates at 127; -128 - 1 at -128.
        assert_eq!(field_add(true, 8, 120, 10, Overflow::Wrap), (-126, true));
        assert_eq!(field_add(true, 8, 120, 10, Overflow::Sat), (127, true));
        assert_eq!(field_add(true, 8, -128, -1, Overflow::Sat), (-128, true));
        // i64 wraps as the machine does.
        assert_eq!(
            field_add(true, 64, i64::MAX, 1, Overflow::Wrap),
            (i64::MIN, true)
        );
        // SET of a negative value in an unsigned field: the low bits.
        assert_eq!(field_add(false, 4, -1, 0, Overflow::Wrap), (15, true));
        assert_eq!(field_add(true, 4, 7, 0, Overflow::Wrap), (7, false));
    }

    #[test]
    fn a_field_reads_back_what_was_written_at_any_bit_offset() {
        let mut value = vec![0u8; 4];
        write_field(&mut value, 5, 11, 0b101_1100_1101);
        assert_eq!(read_field(&value, 5, 11), 0b101_1100_1101);
        assert_eq!(sign_extend(read_field(&value, 5, 11), 11), -0b010_0011_0011);
        assert_eq!(value, [0b0000_0101, 0b1100_1101, 0, 0]);
    }
}
