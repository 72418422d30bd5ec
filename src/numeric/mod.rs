//! Numbers stored as text, with Redis's rules: decimal integers for `incr_by`, and
//! extended-precision floats for `incr_by_float`.

mod bignum;
mod long_double;

pub(crate) use long_double::LongDouble;

/// Parses `text` as Redis's `string2ll` does: an optional `-`, then digits without leading
/// zeros (`0` alone is fine), no sign `+`, no spaces, within `i64`. `None` otherwise.
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        for (text, want) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("", None),
            ("-", None),
            ("-0", None),
            ("007", None),
            ("+5", None),
            (" 5", None),
            ("5 ", None),
            ("1.0", None),
            ("1e3", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), want, "{text:?}");
        }
    }
}
