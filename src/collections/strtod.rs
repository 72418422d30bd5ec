//! C's `strtod` (glibc, "C" locale), the parser behind every score Redis reads. Redis calls it
//! in two ways that accept different texts: ZADD's scores demand that it consume the whole
//! argument, range bounds only that it stop at a NUL (so `" 1"`, `""` and `"1\0x"` are bounds
//! but not scores). Modelling `strtod` itself, with how far it read and whether it reported
//! `ERANGE`, lets both callers state Redis's own checks in Redis's terms.
//!
//! Decimal text is converted by Rust's float parser, which rounds correctly as glibc does;
//! hexadecimal text (`0x1.8p3`), which Rust does not read, is rounded here.

/// What `strtod` makes of the start of a C string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Strtod {
    /// The converted value (`0.0` when nothing was converted).
    pub value: f64,
    /// Bytes read, leading white space included; 0 when no number was found, in which case
    /// C's end pointer is the start of the text.
    pub consumed: usize,
    /// `errno == ERANGE`: the value overflowed to infinity or a nonzero number underflowed
    /// to zero. (glibc also reports tiny nonzero results; no caller here tells them apart,
    /// so they are not flagged.)
    pub range_error: bool,
}

/// White space as C's `isspace` sees it in the "C" locale.
pub(super) fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Runs `strtod` on `text` as a C string: it ends at the first NUL, if any.
pub(super) fn strtod(text: &[u8]) -> Strtod {
    let text = match text.iter().position(|&b| b == 0) {
        Some(nul) => text.get(..nul).unwrap_or_default(),
        None => text,
    };
    let start = text.iter().take_while(|&&b| is_c_space(b)).count();
    let mut at = start;
    let negative = match text.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let rest = text.get(at..).unwrap_or_default();
    let parsed = if let Some(len) = infinity_len(rest) {
        Some(Magnitude {
            value: f64::INFINITY,
            len,
            range_error: false,
        })
    } else if let Some(len) = nan_len(rest) {
        Some(Magnitude {
            value: f64::NAN,
            len,
            range_error: false,
        })
    } else if let Some(hex) = parse_hex(rest) {
        Some(hex)
    } else {
        parse_decimal(rest)
    };
    match parsed {
        Some(m) => Strtod {
            value: if negative { -m.value } else { m.value },
            consumed: at + m.len,
            range_error: m.range_error,
        },
        None => Strtod {
            value: 0.0,
            consumed: 0,
            range_error: false,
        },
    }
}

/// An unsigned number read from the front of a text.
struct Magnitude {
    value: f64,
    len: usize,
    range_error: bool,
}

fn starts_with_ignore_case(text: &[u8], word: &[u8]) -> bool {
    text.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
}

/// `inf` or `infinity`, any case: how many bytes.
fn infinity_len(text: &[u8]) -> Option<usize> {
    if starts_with_ignore_case(text, b"infinity") {
        Some(8)
    } else if starts_with_ignore_case(text, b"inf") {
        Some(3)
    } else {
        None
    }
}

/// `nan`, optionally followed by `(chars)` of letters, digits and `_`: how many bytes.
fn nan_len(text: &[u8]) -> Option<usize> {
    if !starts_with_ignore_case(text, b"nan") {
        return None;
    }
    let after = text.get(3..).unwrap_or_default();
    if after.first() == Some(&b'(') {
        let inner = after
            .iter()
            .skip(1)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if after.get(1 + inner) == Some(&b')') {
            return Some(3 + inner + 2);
        }
    }
    Some(3)
}

/// How many ASCII digits `text` starts with.
fn digit_run(text: &[u8], radix: u32) -> usize {
    text.iter()
        .take_while(|b| char::from(**b).is_digit(radix))
        .count()
}

/// The length of an exponent part (`e-12`, `p+3`) at the start of `text`, or 0 when there
/// is none: the marker must be followed by an optional sign and at least one digit.
fn exponent_len(text: &[u8], markers: [u8; 2]) -> usize {
    match text.first() {
        Some(m) if markers.contains(m) => {}
        _ => return 0,
    }
    let sign = usize::from(matches!(text.get(1), Some(b'+' | b'-')));
    let digits = digit_run(text.get(1 + sign..).unwrap_or_default(), 10);
    if digits == 0 { 0 } else { 1 + sign + digits }
}

/// A decimal number: digits with at most one point (at least one digit), then an optional
/// exponent.
fn parse_decimal(text: &[u8]) -> Option<Magnitude> {
    let int_digits = digit_run(text, 10);
    let mut len = int_digits;
    let mut frac_digits = 0;
    if text.get(len) == Some(&b'.') {
        frac_digits = digit_run(text.get(len + 1..).unwrap_or_default(), 10);
        if int_digits + frac_digits > 0 {
            len += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    len += exponent_len(text.get(len..).unwrap_or_default(), [b'e', b'E']);
    let number = text.get(..len)?;
    // The slice is ASCII digits, '.', 'e', signs: always UTF-8 and always Rust float syntax.
    let value: f64 = std::str::from_utf8(number).ok()?.parse().ok()?;
    let nonzero = number
        .iter()
        .take(int_digits + 1 + frac_digits)
        .any(|b| (b'1'..=b'9').contains(b));
    Some(Magnitude {
        value,
        len,
        range_error: value.is_infinite() || (value == 0.0 && nonzero),
    })
}

/// A hexadecimal number: `0x`, hex digits with at most one point (at least one digit), then
/// an optional binary exponent `p±d`. Without a digit after `0x`, C reads just the `0`,
/// which [`parse_decimal`] does.
fn parse_hex(text: &[u8]) -> Option<Magnitude> {
    if !(starts_with_ignore_case(text, b"0x")) {
        return None;
    }
    let body = text.get(2..).unwrap_or_default();
    let int_digits = digit_run(body, 16);
    let mut len = int_digits;
    let mut frac_digits = 0;
    if body.get(len) == Some(&b'.') {
        frac_digits = digit_run(body.get(len + 1..).unwrap_or_default(), 16);
        len += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let exp_len = exponent_len(body.get(len..).unwrap_or_default(), [b'p', b'P']);
    let exp2 = match exp_len {
        0 => 0,
        n => saturating_exponent(body.get(len + 1..len + n).unwrap_or_default()),
    };

    // Keep the leading 60 bits of the digits exactly; later nonzero digits only matter as
    // a sticky bit for rounding.
    let mut mantissa: u64 = 0;
    let mut scale: i64 = 0; // value = mantissa × 2^scale (× 2^exp2), plus sticky
    let mut sticky = false;
    let digits = body
        .get(..len)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, b)| char::from(*b).to_digit(16).map(|d| (i < int_digits, d)));
    for (in_int_part, digit) in digits {
        if mantissa >> 56 == 0 {
            mantissa = mantissa << 4 | u64::from(digit);
            if !in_int_part {
                scale -= 4;
            }
        } else {
            sticky |= digit != 0;
            if in_int_part {
                scale += 4;
            }
        }
    }
    let (value, range_error) = round_binary(mantissa, scale.saturating_add(exp2), sticky);
    Some(Magnitude {
        value,
        len: 2 + len + exp_len,
        range_error,
    })
}

/// A decimal exponent's value with its sign, saturated far beyond any finite range.
fn saturating_exponent(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = digits.iter().fold(0i64, |acc, d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d.wrapping_sub(b'0')))
            .min(1 << 40)
    });
    if negative { -magnitude } else { magnitude }
}

/// `mantissa × 2^exp` (plus something nonzero below it when `sticky`) rounded to the nearest
/// `f64`, ties to even; and whether that overflowed or underflowed to zero.
fn round_binary(mantissa: u64, exp: i64, sticky: bool) -> (f64, bool) {
    if mantissa == 0 {
        return (0.0, false);
    }
    let shift_up = mantissa.leading_zeros();
    let m = mantissa << shift_up;
    // The value is m × 2^e with m's top bit set, so it lies in [2^(e+63), 2^(e+64)).
    let e = exp - i64::from(shift_up);
    let top = e + 63;
    if top > 1023 {
        return (f64::INFINITY, true);
    }
    // Bits of m dropped: 11 for a normal result; more below 2^-1022, where the spacing of
    // f64 values stays 2^-1074.
    let drop = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    if drop > 64 {
        return (0.0, true); // below half the smallest subnormal
    }
    let wide = u128::from(m);
    let kept = wide >> drop;
    let guard = (wide >> (drop - 1)) & 1 == 1;
    let rest = wide & ((1u128 << (drop - 1)) - 1) != 0 || sticky;
    let mut mant = kept as u64;
    if guard && (rest || mant & 1 == 1) {
        mant += 1;
    }
    if top < -1022 {
        // A subnormal's bits are its mantissa; rounding up to 2^52 gives the smallest normal,
        // whose bits are the same number.
        return (f64::from_bits(mant), mant == 0);
    }
    let mut biased = top + 1023;
    if mant == 1 << 53 {
        mant >>= 1;
        biased += 1;
    }
    if biased >= 2047 {
        return (f64::INFINITY, true);
    }
    let bits = (biased as u64) << 52 | (mant & ((1 << 52) - 1));
    (f64::from_bits(bits), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (f64, usize, bool) {
        let r = strtod(text.as_bytes());
        (r.value, r.consumed, r.range_error)
    }

    #[test]
    fn decimal_forms_and_how_far_they_read() {
        assert_eq!(run("1"), (1.0, 1, false));
        assert_eq!(run("  -1.5e3xyz"), (-1500.0, 8, false));
        assert_eq!(run(".5"), (0.5, 2, false));
        assert_eq!(run("5."), (5.0, 2, false));
        assert_eq!(run("+.5e-3"), (0.0005, 6, false));
        assert_eq!(run("1e"), (1.0, 1, false));
        assert_eq!(run("1e+"), (1.0, 1, false));
        assert_eq!(run("1E3"), (1000.0, 3, false));
        assert_eq!(run("1.5.5"), (1.5, 3, false));
        assert_eq!(run("00012"), (12.0, 5, false));
        assert_eq!(run("1 "), (1.0, 1, false));
    }

    #[test]
    fn nothing_converted_reads_nothing() {
        for text in ["", " ", "+", "-", ".", "-.", "e5", "abc", " +x", "\u{a0}1"] {
            assert_eq!(run(text), (0.0, 0, false), "{text:?}");
        }
    }

    #[test]
    fn a_nul_ends_the_c_string() {
        assert_eq!(strtod(b"1\0").consumed, 1);
        assert_eq!(strtod(b"12\x003").value, 12.0);
        assert_eq!(strtod(b"\x001").consumed, 0);
    }

    #[test]
    fn infinities_and_nans() {
        assert_eq!(run("inf"), (f64::INFINITY, 3, false));
        assert_eq!(run("-INF"), (f64::NEG_INFINITY, 4, false));
        assert_eq!(run("Infinity"), (f64::INFINITY, 8, false));
        assert_eq!(run("infinit"), (f64::INFINITY, 3, false));
        for (text, len) in [("nan", 3), ("-NaN", 4), ("nan(12_ab)", 10), ("nan(1", 3)] {
            let r = strtod(text.as_bytes());
            assert!(r.value.is_nan(), "{text}");
            assert_eq!(r.consumed, len, "{text}");
        }
    }

    #[test]
    fn overflow_and_underflow_set_range_error() {
        assert_eq!(run("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(run("-1e400"), (f64::NEG_INFINITY, 6, true));
        assert_eq!(run("1.7976931348623159e308"), (f64::INFINITY, 22, true));
        assert_eq!(run("1e-400"), (0.0, 6, true));
        assert_eq!(run("2.4e-324"), (0.0, 8, true));
        assert_eq!(run("0e-400"), (0.0, 6, false));
        assert_eq!(run("0.000"), (0.0, 5, false));
        assert_eq!(run("4.9e-324"), (5e-324, 8, false));
        assert_eq!(run("1e-310"), (1e-310, 6, false));
        assert_eq!(run("1.7976931348623157e308"), (f64::MAX, 22, false));
    }

    #[test]
    fn hexadecimal_forms() {
        assert_eq!(run("0x10"), (16.0, 4, false));
        assert_eq!(run("0x1p-3"), (0.125, 6, false));
        assert_eq!(run("0X1.8P1"), (3.0, 7, false));
        assert_eq!(run("-0x.8"), (-0.5, 5, false));
        assert_eq!(run("0x1p"), (1.0, 3, false));
        assert_eq!(run("0x"), (0.0, 1, false));
        assert_eq!(run("0xg"), (0.0, 1, false));
        assert_eq!(run("0x.p1"), (0.0, 1, false));
        assert_eq!(run("0x1p1024"), (f64::INFINITY, 8, true));
        assert_eq!(run("0x1p1023"), (2f64.powi(1023), 8, false));
        assert_eq!(run("0x1p-1074"), (5e-324, 9, false));
        assert_eq!(run("0x1p-1075"), (0.0, 9, true)); // a tie, to even: zero
        assert_eq!(run("0x1.8p-1075"), (5e-324, 11, false));
        assert_eq!(run("0x1p-1022"), (f64::MIN_POSITIVE, 9, false));
        assert_eq!(run("0x0p99999"), (0.0, 9, false));
    }

    #[test]
    fn hexadecimal_rounding_to_53_bits() {
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: to even.
        assert_eq!(run("0x20000000000001").0, 9007199254740992.0);
        assert_eq!(run("0x20000000000003").0, 9007199254740996.0);
        // Beyond the first 60 bits only whether any digit is nonzero counts: it breaks a tie
        // (2^89 + 2^36 lies halfway between two neighbours 2^37 apart).
        assert_eq!(run("0x20000000000001000000000").0, 2f64.powi(89));
        assert_eq!(
            run("0x20000000000001000000001").0,
            2f64.powi(89) + 2f64.powi(37)
        );
        assert_eq!(run("0x1.fffffffffffff8p0").0, 2.0);
        assert_eq!(run("0x1.fffffffffffff7ffp0").0, 2.0 - 2f64.powi(-52));
        assert_eq!(run("0x1.fffffffffffffp1023").0, f64::MAX);
        assert_eq!(run("0x1.fffffffffffff8p1023"), (f64::INFINITY, 23, true));
        assert_eq!(run("0x0.0000000000001p-1022").0, 5e-324);
    }
}
