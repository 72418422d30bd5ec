//! Reading command arguments the way Redis does.

use super::error::{CmdError, NOT_INTEGER};
use crate::numeric::parse_i64;

/// Whether `arg` is `word`, ignoring ASCII case (`word` is lowercase).
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// An integer argument (Redis's `string2ll` rules), or the "not an integer" error.
pub(crate) fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(NOT_INTEGER)
}

/// An integer argument with a specific error when it is not one.
pub(crate) fn int_or(arg: &[u8], error: CmdError) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(error)
}

/// A count that must not be negative (LPOP, SPOP, ZPOPMIN's): Redis's
/// `getPositiveLongFromObjectOrReply`, whose one error covers a word and a negative number.
pub(crate) fn positive(arg: &[u8]) -> Result<usize, CmdError> {
    const OUT_OF_RANGE_POSITIVE: CmdError =
        CmdError::fixed("ERR value is out of range, must be positive");
    parse_i64(arg)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(OUT_OF_RANGE_POSITIVE)
}

/// A SCAN-family cursor as Redis reads it (`strtoul`, refusing a leading space and trailing
/// bytes): an optional sign, then digits; a negative number wraps around (`-1` is the
/// largest cursor), and the empty string is 0. Out of range is `ERR invalid cursor`.
pub(crate) fn cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = CmdError::fixed("ERR invalid cursor");
    let (negative, digits) = match arg.split_first() {
        None => return Ok(0),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid);
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(|| invalid.clone())?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// Text for messages: the argument as UTF-8, invalid bytes replaced.
pub(crate) fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// The current wall-clock time in unix milliseconds (for TIME, LASTSAVE, CLIENT LIST ages).
pub(crate) fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_as_strtoul_reads_them() {
        assert_eq!(cursor(b"0").ok(), Some(0));
        assert_eq!(cursor(b"").ok(), Some(0));
        assert_eq!(cursor(b"+7").ok(), Some(7));
        assert_eq!(cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(cursor(b"18446744073709551615").ok(), Some(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"-",
            b"+",
            b"1x",
            b"0x10",
        ] {
            assert!(cursor(bad).is_err(), "{bad:?}");
        }
    }
}
