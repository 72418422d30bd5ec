//! Scores as Redis reads and writes them: `ZADD`/`ZINCRBY` arguments, increments, and the
//! text of every score in a reply.

use std::fmt;

use super::arg_error::ArgError;
use super::grisu::write_fpconv;
use super::strtod::{is_c_space, strtod};

/// Reads a score argument as Redis's `string2d` does (ZADD, ZINCRBY, ZADD INCR): the whole
/// argument is a C float — decimal, hexadecimal (`0x1p3`) or `inf`/`infinity` in any case,
/// optionally signed — with no white space before it and nothing after it, not NaN, and
/// not so large it overflows or so small it rounds to zero.
///
/// Errors with [`ArgError::NotAFloat`] (`ERR value is not a valid float`).
pub(crate) fn parse_score(arg: &[u8]) -> Result<f64, ArgError> {
    match arg.first() {
        None => return Err(ArgError::NotAFloat),
        Some(&b) if is_c_space(b) => return Err(ArgError::NotAFloat),
        Some(_) => {}
    }
    let parsed = strtod(arg);
    let out_of_range = parsed.range_error && (parsed.value.is_infinite() || parsed.value == 0.0);
    if parsed.consumed != arg.len() || out_of_range || parsed.value.is_nan() {
        return Err(ArgError::NotAFloat);
    }
    Ok(parsed.value)
}

/// Reads an element, or the value a BY pattern names, for SORT as Redis does: C's
/// `strtod` must stop at the end of the text (or at a NUL) — white space before the number
/// is fine, and empty text reads as 0 — and the result be neither NaN nor out of range.
pub(crate) fn parse_sort_score(text: &[u8]) -> Option<f64> {
    let parsed = strtod(text);
    let c_len = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    if parsed.consumed != c_len || parsed.range_error || parsed.value.is_nan() {
        return None;
    }
    Some(parsed.value)
}

/// `current + by` for ZINCRBY and ZADD INCR. Infinities are fine; a NaN (`inf` plus
/// `-inf`) is [`ArgError::ResultIsNan`] and the member keeps its score.
pub(crate) fn increment_score(current: f64, by: f64) -> Result<f64, ArgError> {
    let sum = current + by;
    if sum.is_nan() {
        Err(ArgError::ResultIsNan)
    } else {
        Ok(sum)
    }
}

/// The text of a score in a reply, as Redis 7.2 and later (and Valkey) write it — Redis's
/// `d2string`: `inf`, `-inf`, `0`, `-0`, integers up to 2^62 in magnitude as plain
/// integers, anything else in the shortest form that reads back to the same double, found
/// with Grisu2 as Redis's `fpconv_dtoa` finds it (`0.1`, `1.5e-7`, `1e+19`,
/// `1.2345123456789e+4`: past 4 or 7 digit places the exponent form, unpadded).
///
/// Redis 7.0 and older write `%.17g` instead: see [`format_score_printf`].
#[allow(
    dead_code,
    reason = "Redis 7.2's form; the server writes 7.0's (see mod.rs)"
)]
pub(crate) fn format_score(score: f64) -> ScoreText {
    let mut out = ScoreText::default();
    if let Some(text) = special_text(score) {
        out.push_str(text);
    } else if let Some(integer) = exact_small_integer(score) {
        out.push_display(format_args!("{integer}"));
    } else {
        write_fpconv(score, &mut out);
    }
    out
}

/// The text of a score in a reply as Redis 7.0 and older write it: C's `%.17g` (17
/// significant digits, so `0.1` is `0.10000000000000001`; exponent form below 1e-4 and from
/// 1e17, with at least two exponent digits: `1e+17`, `9.9999999999999995e-08`), with
/// `inf`/`-inf` spelled out. The Redis server a machine has installed may be such a version
/// (Debian 12 ships 7.0): byte-for-byte comparisons against it need this form.
pub(crate) fn format_score_printf(score: f64) -> ScoreText {
    let mut out = ScoreText::default();
    if let Some(text) = special_text(score) {
        out.push_str(text);
        return out;
    }
    // Rust rounds `{:.16e}` exactly, ties to even, as glibc's printf does.
    let mut scientific = ScoreText::default();
    scientific.push_display(format_args!("{:.16e}", score.abs()));
    let text = scientific.as_bytes();
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(at) => (
            text.get(..at).unwrap_or_default(),
            text.get(at + 1..).unwrap_or_default(),
        ),
        None => (text, &b"0"[..]),
    };
    // 17 significant digits.
    let mut digits = [b'0'; 17];
    for (slot, &d) in digits
        .iter_mut()
        .zip(mantissa.iter().filter(|b| b.is_ascii_digit()))
    {
        *slot = d;
    }
    let exp: i32 = std::str::from_utf8(exponent)
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    if score < 0.0 {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        out.push(*first);
        push_fraction(&mut out, 0, rest);
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        out.push_display(format_args!("{:02}", exp.unsigned_abs()));
    } else if exp >= 0 {
        let (int, frac) = digits.split_at((exp as usize + 1).min(digits.len()));
        out.push_slice(int);
        push_fraction(&mut out, 0, frac);
    } else {
        out.push(b'0');
        push_fraction(&mut out, (-exp - 1) as usize, &digits);
    }
    out
}

/// A fraction of `zeros` zeros then `digits`, as `%g` ends a number: without trailing
/// zeros, and with no point at all when nothing is left.
fn push_fraction(out: &mut ScoreText, zeros: usize, digits: &[u8]) {
    let kept = digits.len() - digits.iter().rev().take_while(|&&d| d == b'0').count();
    if let Some(kept) = digits.get(..kept).filter(|k| !k.is_empty()) {
        out.push(b'.');
        for _ in 0..zeros {
            out.push(b'0');
        }
        out.push_slice(kept);
    }
}

/// The fixed spellings of NaN, the infinities and the zeros.
fn special_text(score: f64) -> Option<&'static str> {
    if score.is_nan() {
        Some("nan")
    } else if score.is_infinite() {
        Some(if score > 0.0 { "inf" } else { "-inf" })
    } else if score == 0.0 {
        Some(if score.is_sign_negative() { "-0" } else { "0" })
    } else {
        None
    }
}

/// Redis's `double2ll`: an integral value within ±(2^63−1)/2 is printed as an integer.
fn exact_small_integer(score: f64) -> Option<i64> {
    let limit = (i64::MAX / 2) as f64;
    if !(-limit..=limit).contains(&score) {
        return None;
    }
    let integer = score as i64;
    (integer as f64 == score).then_some(integer)
}

/// A score's text, kept inline: writing one allocates nothing. Always ASCII.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScoreText {
    buf: [u8; ScoreText::CAPACITY],
    len: usize,
}

impl ScoreText {
    /// Room for the longest text either format writes (25 bytes: a sign and fpconv's 24).
    const CAPACITY: usize = 32;

    /// The text's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    pub(super) fn push(&mut self, byte: u8) {
        // Nothing written here is longer than CAPACITY; a longer text would be cut.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn push_slice(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }

    fn push_str(&mut self, text: &str) {
        self.push_slice(text.as_bytes());
    }

    pub(super) fn push_display(&mut self, args: fmt::Arguments<'_>) {
        // Writing to a ScoreText never fails (it cuts instead), so there is no error to see.
        let _ = fmt::Write::write_fmt(self, args);
    }
}

impl Default for ScoreText {
    fn default() -> ScoreText {
        ScoreText {
            buf: [0; ScoreText::CAPACITY],
            len: 0,
        }
    }
}

impl fmt::Write for ScoreText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl fmt::Display for ScoreText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ScoreText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_that_redis_accepts() {
        for (text, want) in [
            ("1", 1.0),
            ("-1.5", -1.5),
            ("inf", f64::INFINITY),
            ("+inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("INF", f64::INFINITY),
            ("infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("1e-310", 1e-310),
            ("0x10", 16.0),
            ("0x1p-3", 0.125),
            ("0X1.8P1", 3.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("+.5e-3", 0.0005),
            ("0e0", 0.0),
            ("00012", 12.0),
            ("1e+3", 1000.0),
            ("1E3", 1000.0),
            ("4.9e-324", 5e-324),
            ("1.7976931348623157e308", f64::MAX),
        ] {
            assert_eq!(parse_score(text.as_bytes()), Ok(want), "{text:?}");
        }
        let negative_zero = parse_score(b"-0").unwrap();
        assert!(negative_zero == 0.0 && negative_zero.is_sign_negative());
    }

    #[test]
    fn scores_that_redis_refuses() {
        for text in [
            &b" 1"[..],
            b"1 ",
            b"",
            b"\t1",
            b"\n1",
            b"infinit",
            b"nan",
            b"-nan",
            b"NaN",
            b"nan(1)",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"2.4e-324",
            b"1.7976931348623159e308",
            b"1e",
            b"1_000",
            b"1\x00",
            b"1\x002",
            b"\x001",
            b"(1",
            b"[1",
            b"+",
            b"-",
            b"(",
            b"1.5.5",
            b"0x",
            b"x1",
            b"1,5",
            b"\xff",
        ] {
            assert_eq!(parse_score(text), Err(ArgError::NotAFloat), "{text:?}");
        }
    }

    #[test]
    fn increments_refuse_only_nan() {
        assert_eq!(increment_score(1.5, 2.0), Ok(3.5));
        assert_eq!(increment_score(f64::INFINITY, 1.0), Ok(f64::INFINITY));
        assert_eq!(increment_score(f64::MAX, f64::MAX), Ok(f64::INFINITY));
        assert_eq!(
            increment_score(f64::INFINITY, f64::NEG_INFINITY),
            Err(ArgError::ResultIsNan)
        );
    }

    #[test]
    fn special_values_and_integers() {
        for (score, want) in [
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (4611686018427387904.0, "4611686018427387904"),
            (-4611686018427387904.0, "-4611686018427387904"),
        ] {
            assert_eq!(format_score(score).as_str(), want, "{score}");
        }
        assert_eq!(format_score(f64::NAN).as_str(), "nan");
    }

    #[test]
    fn printf_form_of_redis_7_0() {
        for (score, want) in [
            (0.1, "0.10000000000000001"),
            (1e-7, "9.9999999999999995e-08"),
            (12345.123456789, "12345.123456789001"),
            (0.001234567, "0.001234567"),
            (0.0001234567, "0.0001234567"),
            (1e19, "1e+19"),
            (4611686018427387904.0, "4.6116860184273879e+18"),
            (1.5, "1.5"),
            (1e300, "1.0000000000000001e+300"),
            // 2^-25 = 2.98023223876953125e-8: a tie at 17 digits, to even.
            (2f64.powi(-25), "2.9802322387695312e-08"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (5e-324, "4.9406564584124654e-324"),
            (1e-310, "9.9999999999999694e-311"),
            (0.0005, "0.00050000000000000001"),
            (16.0, "16"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (-2.5, "-2.5"),
            (-0.0, "-0"),
            (f64::NEG_INFINITY, "-inf"),
            (-f64::MAX, "-1.7976931348623157e+308"),
        ] {
            assert_eq!(format_score_printf(score).as_str(), want, "{score}");
        }
    }

    #[test]
    fn every_score_text_reads_back_to_the_same_double() {
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            // xorshift over all bit patterns: every exponent, subnormals included.
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let v = f64::from_bits(bits);
            if v.is_nan() {
                continue;
            }
            for text in [format_score(v), format_score_printf(v)] {
                let back = parse_score(text.as_bytes()).unwrap();
                assert_eq!(back.to_bits(), v.to_bits(), "{v:e} -> {text}");
            }
        }
    }
}
