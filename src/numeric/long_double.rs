//! The x87 80-bit extended format (`long double` on x86-64 Linux), emulated exactly, so that
//! `incr_by_float` stores what Redis stores: Redis parses the value and the increment with
//! `strtold` (plus checks), adds them in `long double`, and prints the sum with `%.17Lf`,
//! trailing zeros trimmed. In `f64`, `0.1 + 0.2` would print as `0.30000000000000004`;
//! Redis prints `0.3` (and `123456.789 + 0.001` as `123456.78999999999999915`).
//!
//! A value is `mantissa × 2^exp` with a 64-bit mantissa, rounded to nearest, ties to even.
//! Exact arithmetic on the way in and out uses [`BigUint`].

use super::bignum::BigUint;

/// Exponent of the lowest mantissa bit of the smallest (denormal) values: 2^-16445.
const MIN_EXP: i64 = -16445;
/// Values at or above 2^16384 overflow to infinity.
const OVERFLOW_BIT: i64 = 16384;
/// Bits kept before rounding to 64: two more, so the guard bit is always a real bit.
const WORK_BITS: i64 = 66;
/// Redis refuses numbers written in this many bytes or more (MAX_LONG_DOUBLE_CHARS).
pub(crate) const MAX_TEXT_LEN: usize = 5 * 1024;
/// Powers of ten beyond this cannot be finite or nonzero in this format (10^4933 > 2^16384,
/// 10^-4951 < 2^-16445): they are answered without computing.
const DECIMAL_RANGE: i64 = 4960;

/// An 80-bit extended value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LongDouble {
    /// `mantissa × 2^exp`; a zero mantissa is zero (signed).
    Finite {
        negative: bool,
        mantissa: u64,
        exp: i64,
    },
    Infinite {
        negative: bool,
    },
}

/// Why arithmetic produced no storable number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotFinite {
    NanOrInfinity,
}

impl LongDouble {
    pub(crate) const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        mantissa: 0,
        exp: 0,
    };

    /// Rounds `big × 2^exp` (plus something nonzero below it when `sticky`) to the format.
    fn round(negative: bool, mut big: BigUint, mut exp: i64, sticky: bool) -> LongDouble {
        if big.is_zero() {
            return LongDouble::Finite {
                negative,
                mantissa: 0,
                exp: 0,
            };
        }
        let len = big.bit_len() as i64;
        if len < WORK_BITS {
            big.shl((WORK_BITS - len) as u64);
            exp -= WORK_BITS - len;
        }
        let len = big.bit_len() as i64;
        // Keep 64 bits, or fewer where the value is denormal.
        let shift = (len - 64).max(MIN_EXP - exp);
        let mut mantissa = 0;
        if shift < len + 2 {
            let s = shift as u64;
            let guard = big.bit(s - 1);
            let rest = sticky || big.any_below(s - 1);
            big.shr(s);
            mantissa = big.low_u64();
            exp += shift;
            if guard && (rest || mantissa & 1 == 1) {
                mantissa = match mantissa.checked_add(1) {
                    Some(m) => m,
                    None => {
                        exp += 1;
                        1 << 63
                    }
                };
            }
        }
        if mantissa == 0 {
            return LongDouble::Finite {
                negative,
                mantissa: 0,
                exp: 0,
            };
        }
        if exp + i64::from(64 - mantissa.leading_zeros()) > OVERFLOW_BIT {
            return LongDouble::Infinite { negative };
        }
        LongDouble::Finite {
            negative,
            mantissa,
            exp,
        }
    }

    /// Parses `text` as Redis's `string2ld` does: `strtold` syntax (decimal, hexadecimal
    /// with `0x`, `inf`/`infinity`), the whole text consumed, no leading white space, and
    /// neither NaN nor a result that overflows or underflows to zero. `None` if rejected.
    pub(crate) fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT_LEN {
            return None;
        }
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let value = match rest {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex)?,
            _ => parse_decimal(negative, rest)?,
        };
        match value {
            // strtold reports ERANGE for overflow and for underflow to zero; Redis refuses.
            LongDouble::Infinite { .. } => None,
            v => Some(v),
        }
    }

    /// The nearest `f64` (infinite beyond its range).
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            LongDouble::Infinite { negative } => {
                if negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            LongDouble::Finite {
                negative,
                mantissa,
                exp,
            } => {
                // u64 -> f64 rounds to nearest; scaling by powers of two is then exact
                // except at the edges of f64's range.
                let mut v = mantissa as f64;
                let mut e = exp;
                while e > 0 {
                    let step = e.min(1000);
                    v *= 2f64.powi(step as i32);
                    e -= step;
                }
                while e < 0 {
                    let step = (-e).min(1000);
                    v /= 2f64.powi(step as i32);
                    e += step;
                }
                if negative { -v } else { v }
            }
        }
    }

    /// `self + other`, rounded to the format; an infinite or NaN result is an error.
    pub(crate) fn add(self, other: LongDouble) -> Result<LongDouble, NotFinite> {
        let (
            LongDouble::Finite {
                negative: na,
                mantissa: ma,
                exp: ea,
            },
            LongDouble::Finite {
                negative: nb,
                mantissa: mb,
                exp: eb,
            },
        ) = (self, other)
        else {
            return Err(NotFinite::NanOrInfinity);
        };
        if ma == 0 && mb == 0 {
            // -0 + -0 = -0; any other mix of zeros is +0.
            return Ok(LongDouble::Finite {
                negative: na && nb,
                mantissa: 0,
                exp: 0,
            });
        }
        if mb == 0 {
            return Ok(self);
        }
        if ma == 0 {
            return Ok(other);
        }
        // An operand whose top bit lies far below the other's lowest bit only matters for
        // rounding: replace it by a single bit just as far below (same sign).
        let top_a = ea + i64::from(64 - ma.leading_zeros());
        let top_b = eb + i64::from(64 - mb.leading_zeros());
        let (ma, ea, mb, eb) = if top_a - top_b > 130 {
            (ma, ea, 1, top_a - 130)
        } else if top_b - top_a > 130 {
            (1, top_b - 130, mb, eb)
        } else {
            (ma, ea, mb, eb)
        };
        let low = ea.min(eb);
        let mut a = BigUint::from_u64(ma);
        a.shl((ea - low) as u64);
        let mut b = BigUint::from_u64(mb);
        b.shl((eb - low) as u64);
        let (negative, sum) = if na == nb {
            (na, a.add(&b))
        } else {
            match a.cmp_big(&b) {
                std::cmp::Ordering::Greater => (na, a.sub(&b)),
                std::cmp::Ordering::Less => (nb, b.sub(&a)),
                std::cmp::Ordering::Equal => return Ok(LongDouble::ZERO),
            }
        };
        match LongDouble::round(negative, sum, low, false) {
            LongDouble::Infinite { .. } => Err(NotFinite::NanOrInfinity),
            v => Ok(v),
        }
    }

    /// The text Redis stores for an `INCRBYFLOAT` result: `%.17Lf`, trailing zeros (and a
    /// bare point) removed, `-0` written `0`.
    pub(crate) fn to_redis_text(self) -> String {
        let (negative, mantissa, exp) = match self {
            LongDouble::Infinite { negative } => {
                return if negative { "-inf" } else { "inf" }.to_owned();
            }
            LongDouble::Finite {
                negative,
                mantissa,
                exp,
            } => (negative, mantissa, exp),
        };
        // round(value × 10^17) to an integer, ties to even, as printf does.
        let mut scaled = BigUint::from_u64(mantissa);
        scaled.mul_add_small(100_000_000, 0);
        scaled.mul_add_small(1_000_000_000, 0);
        if exp >= 0 {
            scaled.shl(exp as u64);
        } else {
            let s = (-exp) as u64;
            let guard = scaled.bit(s - 1);
            let rest = scaled.any_below(s - 1);
            scaled.shr(s);
            if guard && (rest || scaled.bit(0)) {
                scaled = scaled.add(&BigUint::from_u64(1));
            }
        }
        let mut digits = scaled.to_decimal();
        if digits.len() < 18 {
            digits.insert_str(0, &"0".repeat(18 - digits.len()));
        }
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if negative {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out.truncate(0);
            out.push('0');
        }
        out
    }
}

/// Digits of `text` in `radix`, as a big integer, and how many came after a point.
/// `None` unless `text` is digits with at most one point and at least one digit.
fn mantissa_digits(text: &[u8], radix: u32) -> Option<(BigUint, i64)> {
    let mut value = BigUint::from_u64(0);
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut fraction_digits = 0i64;
    for &c in text {
        if c == b'.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let digit = char::from(c).to_digit(radix)?;
        seen_digit = true;
        value.mul_add_small(radix, digit);
        if seen_point {
            fraction_digits += 1;
        }
    }
    seen_digit.then_some((value, fraction_digits))
}

/// A decimal exponent's digits (with optional sign), saturated far beyond any finite range.
fn exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0i64, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d - b'0'))
            .min(1 << 40)
    });
    Some(if negative { -value } else { value })
}

fn parse_decimal(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa, exp_text) = match text.iter().position(|&c| c == b'e' || c == b'E') {
        Some(at) => (text.get(..at)?, Some(text.get(at + 1..)?)),
        None => (text, None),
    };
    let (digits, fraction_digits) = mantissa_digits(mantissa, 10)?;
    let exp10 = exp_text.map_or(Some(0), exponent)? - fraction_digits;
    if digits.is_zero() {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exp: 0,
        });
    }
    // Decimal digits of the value's integer part, roughly: settles hopeless cases cheaply.
    let magnitude = (digits.bit_len() as i64 * 30103 / 100_000) + exp10;
    if magnitude > DECIMAL_RANGE {
        return Some(LongDouble::Infinite { negative });
    }
    if magnitude < -DECIMAL_RANGE {
        return None; // underflow to zero: refused
    }
    let value = if exp10 >= 0 {
        let mut big = digits;
        for _ in 0..exp10 / 9 {
            big.mul_add_small(1_000_000_000, 0);
        }
        big.mul_add_small(10u32.pow((exp10 % 9) as u32), 0);
        LongDouble::round(negative, big, 0, false)
    } else {
        // digits / 10^m, with enough quotient bits for rounding (log2 10 < 3.3219282).
        let m = -exp10;
        let k = (WORK_BITS + 2 + m * 33_219_282 / 10_000_000 + 1 - digits.bit_len() as i64).max(0);
        let mut big = digits;
        big.shl(k as u64);
        let mut sticky = false;
        for _ in 0..m / 9 {
            sticky |= big.div_small(1_000_000_000) != 0;
        }
        sticky |= big.div_small(10u32.pow((m % 9) as u32)) != 0;
        LongDouble::round(negative, big, -k, sticky)
    };
    underflow_is_refused(value)
}

fn parse_hex(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa, exp_text) = match text.iter().position(|&c| c == b'p' || c == b'P') {
        Some(at) => (text.get(..at)?, Some(text.get(at + 1..)?)),
        None => (text, None),
    };
    let (digits, fraction_digits) = mantissa_digits(mantissa, 16)?;
    let exp2 = exp_text.map_or(Some(0), exponent)? - 4 * fraction_digits;
    if digits.is_zero() {
        return Some(LongDouble::Finite {
            negative,
            mantissa: 0,
            exp: 0,
        });
    }
    let top = exp2 + digits.bit_len() as i64;
    if top > OVERFLOW_BIT + 1 {
        return Some(LongDouble::Infinite { negative });
    }
    if top < MIN_EXP - 2 {
        return None;
    }
    underflow_is_refused(LongDouble::round(negative, digits, exp2, false))
}

/// A nonzero number that rounded to zero underflowed: strtold says ERANGE, Redis refuses.
fn underflow_is_refused(value: LongDouble) -> Option<LongDouble> {
    match value {
        LongDouble::Finite { mantissa: 0, .. } => None,
        v => Some(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Produced on x86-64 Linux with glibc: Redis's string2ld on both operands, a `long
    /// double` sum, and ld2string(LD_STR_HUMAN) — see the comment in `incr_float_vectors`.
    const VECTORS: &[(&str, &str, Option<&str>)] = &[
        ("10.50", "0.1", Some("10.6")),
        ("0.1", "0.2", Some("0.3")),
        ("5.0e3", "2.0e2", Some("5200")),
        ("0", "0.000000000000000001", Some("0")),
        (
            "1.234567890123456789012345678901234",
            "0",
            Some("1.23456789012345679"),
        ),
        (
            "0",
            "1e300",
            Some(
                "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144",
            ),
        ),
        ("0", "-0.0", Some("0")),
        ("123456.789", "0.001", Some("123456.78999999999999915")),
        ("3.0", "-3.0", Some("0")),
        ("0x1p3", "1", Some("9")),
        ("+5", "1", Some("6")),
        (".5", ".5", Some("1")),
        ("5.", "1", Some("6")),
        ("1e-4950", "0", Some("0")),
        ("-1.5", "0.25", Some("-1.25")),
        ("99999999999999999999", "1", Some("100000000000000000000")),
        ("0.30000000000000004", "0", Some("0.30000000000000004")),
    ];

    #[test]
    fn incr_float_vectors() {
        // Vectors were generated with a small C program calling strtold and
        // snprintf("%.17Lf") exactly as Redis's util.c does; more are checked against the
        // C library, when a compiler is present, in tests/incr_by_float_matches_libc.rs.
        for &(a, b, want) in VECTORS {
            let got = LongDouble::parse(a.as_bytes())
                .zip(LongDouble::parse(b.as_bytes()))
                .and_then(|(x, y)| x.add(y).ok())
                .map(LongDouble::to_redis_text);
            assert_eq!(got.as_deref(), want, "{a} + {b}");
        }
    }

    #[test]
    fn rejections_match_redis() {
        for bad in [
            "",
            " 1",
            "1 ",
            "abc",
            "nan",
            "NaN",
            "-nan",
            "1e",
            "1e+",
            ".",
            "-",
            "0x",
            "1..2",
            "1e5000",
            "-1e5000",
            "1e-5000",
            "0x1p-20000",
            "1,5",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(LongDouble::parse(&[b'1'; MAX_TEXT_LEN]), None);
        for inf in ["inf", "-INF", "Infinity"] {
            assert!(matches!(
                LongDouble::parse(inf.as_bytes()),
                Some(LongDouble::Infinite { .. })
            ));
        }
        let inf = LongDouble::parse(b"inf").unwrap();
        assert_eq!(inf.add(LongDouble::ZERO), Err(NotFinite::NanOrInfinity));
        let big = LongDouble::parse(b"1e4932").unwrap();
        assert_eq!(big.add(big), Err(NotFinite::NanOrInfinity));
    }

    #[test]
    fn f64_round_trip_through_shortest_decimal() {
        for v in [
            0.0,
            -0.0,
            1.5,
            -2.25e-300,
            1e300,
            f64::MIN_POSITIVE,
            5e-324,
            123.456,
            0.1,
        ] {
            let ld = LongDouble::parse(v.to_string().as_bytes()).unwrap();
            assert_eq!(ld.to_f64().to_bits(), v.to_bits(), "{v}");
        }
        assert_eq!(LongDouble::parse(f64::NAN.to_string().as_bytes()), None);
    }
}
