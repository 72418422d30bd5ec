//! Shortest round-trip digits of a double, found the way Redis 7.2 and later find them for
//! every score it replies with: Florian Loitsch's Grisu2 ("Printing Floating-Point Numbers
//! Quickly and Accurately with Integers", PLDI 2010), as in the `fpconv` library that Redis
//! ships, and laid out as `fpconv_dtoa` lays them out.
//!
//! Grisu2 is not Grisu3 with a fallback: for a small share of doubles it settles for one
//! digit more than the shortest, or a last digit one off from the closest. A reply must
//! match Redis byte for byte, so every step that decides a digit follows fpconv: the choice
//! of cached power, the rounding of the 64x64-bit product, the ±1 narrowing of the bounds,
//! and the "weeding" of the last digit. Differences from Rust's own shortest formatting
//! are covered by the vectors in `score.rs`'s tests, taken from a real server.

use super::score::ScoreText;

/// A value `f × 2^e`.
#[derive(Clone, Copy, Debug)]
struct DiyFp {
    f: u64,
    e: i32,
}

const HIDDEN_BIT: u64 = 1 << 52;
const FRACTION_MASK: u64 = HIDDEN_BIT - 1;

/// Cached powers 10^k for k = -348, -340, ..., 340: the 64-bit significand (top bit set)
/// nearest to 10^k, and its binary exponent. Generated with exact integer arithmetic;
/// `cached_powers_are_the_nearest_64_bit_approximations` checks every entry.
const CACHED_POWERS: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220),
    (0xbaaee17fa23ebf76, -1193),
    (0x8b16fb203055ac76, -1166),
    (0xcf42894a5dce35ea, -1140),
    (0x9a6bb0aa55653b2d, -1113),
    (0xe61acf033d1a45df, -1087),
    (0xab70fe17c79ac6ca, -1060),
    (0xff77b1fcbebcdc4f, -1034),
    (0xbe5691ef416bd60c, -1007),
    (0x8dd01fad907ffc3c, -980),
    (0xd3515c2831559a83, -954),
    (0x9d71ac8fada6c9b5, -927),
    (0xea9c227723ee8bcb, -901),
    (0xaecc49914078536d, -874),
    (0x823c12795db6ce57, -847),
    (0xc21094364dfb5637, -821),
    (0x9096ea6f3848984f, -794),
    (0xd77485cb25823ac7, -768),
    (0xa086cfcd97bf97f4, -741),
    (0xef340a98172aace5, -715),
    (0xb23867fb2a35b28e, -688),
    (0x84c8d4dfd2c63f3b, -661),
    (0xc5dd44271ad3cdba, -635),
    (0x936b9fcebb25c996, -608),
    (0xdbac6c247d62a584, -582),
    (0xa3ab66580d5fdaf6, -555),
    (0xf3e2f893dec3f126, -529),
    (0xb5b5ada8aaff80b8, -502),
    (0x87625f056c7c4a8b, -475),
    (0xc9bcff6034c13053, -449),
    (0x964e858c91ba2655, -422),
    (0xdff9772470297ebd, -396),
    (0xa6dfbd9fb8e5b88f, -369),
    (0xf8a95fcf88747d94, -343),
    (0xb94470938fa89bcf, -316),
    (0x8a08f0f8bf0f156b, -289),
    (0xcdb02555653131b6, -263),
    (0x993fe2c6d07b7fac, -236),
    (0xe45c10c42a2b3b06, -210),
    (0xaa242499697392d3, -183),
    (0xfd87b5f28300ca0e, -157),
    (0xbce5086492111aeb, -130),
    (0x8cbccc096f5088cc, -103),
    (0xd1b71758e219652c, -77),
    (0x9c40000000000000, -50),
    (0xe8d4a51000000000, -24),
    (0xad78ebc5ac620000, 3),
    (0x813f3978f8940984, 30),
    (0xc097ce7bc90715b3, 56),
    (0x8f7e32ce7bea5c70, 83),
    (0xd5d238a4abe98068, 109),
    (0x9f4f2726179a2245, 136),
    (0xed63a231d4c4fb27, 162),
    (0xb0de65388cc8ada8, 189),
    (0x83c7088e1aab65db, 216),
    (0xc45d1df942711d9a, 242),
    (0x924d692ca61be758, 269),
    (0xda01ee641a708dea, 295),
    (0xa26da3999aef774a, 322),
    (0xf209787bb47d6b85, 348),
    (0xb454e4a179dd1877, 375),
    (0x865b86925b9bc5c2, 402),
    (0xc83553c5c8965d3d, 428),
    (0x952ab45cfa97a0b3, 455),
    (0xde469fbd99a05fe3, 481),
    (0xa59bc234db398c25, 508),
    (0xf6c69a72a3989f5c, 534),
    (0xb7dcbf5354e9bece, 561),
    (0x88fcf317f22241e2, 588),
    (0xcc20ce9bd35c78a5, 614),
    (0x98165af37b2153df, 641),
    (0xe2a0b5dc971f303a, 667),
    (0xa8d9d1535ce3b396, 694),
    (0xfb9b7cd9a4a7443c, 720),
    (0xbb764c4ca7a44410, 747),
    (0x8bab8eefb6409c1a, 774),
    (0xd01fef10a657842c, 800),
    (0x9b10a4e5e9913129, 827),
    (0xe7109bfba19c0c9d, 853),
    (0xac2820d9623bf429, 880),
    (0x80444b5e7aa7cf85, 907),
    (0xbf21e44003acdd2d, 933),
    (0x8e679c2f5e44ff8f, 960),
    (0xd433179d9c8cb841, 986),
    (0x9e19db92b4e31ba9, 1013),
    (0xeb96bf6ebadf77d9, 1039),
    (0xaf87023b9bf0ee6b, 1066),
];
const FIRST_POWER: i32 = -348;
const POWER_STEP: i32 = 8;
/// The product of a normalized value and the chosen power has its binary exponent in this
/// window, so that the integral part of the scaled upper bound fits in 32 bits.
const MIN_SCALED_EXP: i32 = -60;
const MAX_SCALED_EXP: i32 = -32;

/// Decimal digits (each 0..=9) and an exponent `k`: the value is `digits × 10^k`.
pub(super) struct Digits {
    buf: [u8; 24],
    len: usize,
    k: i32,
}

impl Digits {
    fn push(&mut self, digit: u8) {
        // At most 18 digits come out of Grisu2 for a double; the buffer has room to spare.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = digit;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl DiyFp {
    /// The exact value of a finite, nonzero double's magnitude.
    fn of(v: f64) -> DiyFp {
        let bits = v.to_bits();
        let fraction = bits & FRACTION_MASK;
        let biased = ((bits >> 52) & 0x7ff) as i32;
        if biased == 0 {
            DiyFp {
                f: fraction,
                e: -1074,
            }
        } else {
            DiyFp {
                f: fraction + HIDDEN_BIT,
                e: biased - 1075,
            }
        }
    }

    /// Shifted so the top bit of the 64 is set.
    fn normalized(self) -> DiyFp {
        let shift = self.f.leading_zeros();
        DiyFp {
            f: self.f << shift,
            e: self.e - shift as i32,
        }
    }

    /// The upper 64 bits of the 128-bit product, rounded half up.
    fn times(self, other: DiyFp) -> DiyFp {
        let product = u128::from(self.f) * u128::from(other.f) + (1u128 << 63);
        DiyFp {
            f: (product >> 64) as u64,
            e: self.e + other.e + 64,
        }
    }
}

/// The midpoints between `w` and its neighbours, normalized to the upper one's exponent.
/// The lower neighbour is closer when `w` is a power of two (the spacing halves below it).
fn boundaries(w: DiyFp) -> (DiyFp, DiyFp) {
    let upper = DiyFp {
        f: (w.f << 1) + 1,
        e: w.e - 1,
    }
    .normalized();
    let lower_shift = if w.f == HIDDEN_BIT { 2 } else { 1 };
    let lower = DiyFp {
        f: (w.f << lower_shift) - 1,
        e: w.e - lower_shift,
    };
    let align = (lower.e - upper.e).clamp(0, 63) as u32;
    (
        DiyFp {
            f: lower.f << align,
            e: upper.e,
        },
        upper,
    )
}

/// The cached power that scales a value of binary exponent `exp` into the target window,
/// and its decimal exponent. The search starts from the same estimate as fpconv's, because
/// where two powers both fit, the one found first decides the digits.
fn cached_power(exp: i32) -> Option<(DiyFp, i32)> {
    let approx = (f64::from(-(exp + CACHED_POWERS.len() as i32)) * 0.301_029_995_663_981_14) as i32;
    let mut index = (approx - FIRST_POWER) / POWER_STEP;
    for _ in 0..CACHED_POWERS.len() {
        let &(f, e) = CACHED_POWERS.get(usize::try_from(index).ok()?)?;
        let scaled = exp + e + 64;
        if scaled < MIN_SCALED_EXP {
            index += 1;
        } else if scaled > MAX_SCALED_EXP {
            index -= 1;
        } else {
            return Some((DiyFp { f, e }, FIRST_POWER + index * POWER_STEP));
        }
    }
    None
}

/// Grisu2's digits for a finite, nonzero double (its sign is ignored). `None` never happens
/// for such input; callers fall back to another shortest form all the same.
pub(super) fn shortest_digits(v: f64) -> Option<Digits> {
    let w = DiyFp::of(v);
    if w.f == 0 {
        return None;
    }
    let (lower, upper) = boundaries(w);
    let w = w.normalized();
    let (power, k) = cached_power(upper.e)?;
    let w = w.times(power);
    let mut upper = upper.times(power);
    let mut lower = lower.times(power);
    // Narrow the interval by one unit each side: the products may be off by that much.
    lower.f = lower.f.wrapping_add(1);
    upper.f = upper.f.wrapping_sub(1);
    Some(generate_digits(w, upper, lower, -k))
}

/// Digits of the scaled upper bound, as few as stay within the interval, then the last one
/// moved towards `w`.
fn generate_digits(w: DiyFp, upper: DiyFp, lower: DiyFp, k: i32) -> Digits {
    let mut out = Digits {
        buf: [0; 24],
        len: 0,
        k,
    };
    let to_closest = upper.f.wrapping_sub(w.f);
    let mut delta = upper.f.wrapping_sub(lower.f);
    let shift = (-upper.e).clamp(1, 63) as u32;
    let one = 1u64 << shift;
    let mut integral = upper.f >> shift;
    let mut fractional = upper.f & (one - 1);

    let mut kappa = 10;
    let mut divisor: u64 = 1_000_000_000;
    while kappa > 0 {
        let digit = integral / divisor;
        if digit != 0 || out.len > 0 {
            out.push(digit as u8);
        }
        integral -= digit * divisor;
        kappa -= 1;
        let rest = (integral << shift).wrapping_add(fractional);
        if rest <= delta {
            out.k += kappa;
            weed_last_digit(&mut out, delta, rest, divisor << shift, to_closest);
            return out;
        }
        divisor /= 10;
    }

    let mut unit: u64 = 10;
    // Each round multiplies delta by ten: it passes `one`, and so ends the loop, well
    // within 20 rounds.
    for _ in 0..20 {
        fractional = fractional.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = fractional >> shift;
        if digit != 0 || out.len > 0 {
            out.push(digit as u8);
        }
        fractional &= one - 1;
        if fractional < delta {
            out.k += kappa;
            weed_last_digit(
                &mut out,
                delta,
                fractional,
                one,
                to_closest.wrapping_mul(unit),
            );
            return out;
        }
        unit = unit.wrapping_mul(10);
    }
    out
}

/// Lowers the last digit while that stays inside the interval and brings the number closer
/// to the value (`distance` from the upper bound).
fn weed_last_digit(out: &mut Digits, delta: u64, mut rest: u64, ten_kappa: u64, distance: u64) {
    // A digit can be lowered at most nine times.
    for _ in 0..10 {
        let lower = rest.wrapping_add(ten_kappa);
        // Evaluated in C's order: each test relies on the ones before it for no underflow.
        let keep_going = rest < distance
            && delta - rest >= ten_kappa
            && (lower < distance || distance - rest > lower.wrapping_sub(distance));
        if !keep_going {
            return;
        }
        if let Some(last) = out.len.checked_sub(1).and_then(|i| out.buf.get_mut(i)) {
            *last = last.wrapping_sub(1);
        }
        rest = rest.wrapping_add(ten_kappa);
    }
}

/// Writes a finite, nonzero double as `fpconv_dtoa` does: plain digits for moderate
/// exponents, otherwise `d.ddde±x` with no padding of the exponent.
pub(super) fn write_fpconv(v: f64, out: &mut ScoreText) {
    let negative = v.is_sign_negative();
    if negative {
        out.push(b'-');
    }
    let Some(digits) = shortest_digits(v) else {
        // Unreachable for finite, nonzero input; a correct shortest form all the same.
        out.push_display(format_args!("{:e}", v.abs()));
        return;
    };
    let d = digits.as_slice();
    let n = d.len() as i32;
    let k = digits.k;
    let exp = (k + n - 1).abs();
    let push_digits = |out: &mut ScoreText, ds: &[u8]| {
        for &digit in ds {
            out.push(b'0'.wrapping_add(digit));
        }
    };

    if k >= 0 && exp < n + 7 {
        push_digits(out, d);
        for _ in 0..k {
            out.push(b'0');
        }
        return;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let offset = n + k; // digits before the point
        if offset <= 0 {
            out.push(b'0');
            out.push(b'.');
            for _ in 0..-offset {
                out.push(b'0');
            }
            push_digits(out, d);
        } else {
            let (int, frac) = d.split_at((offset as usize).min(d.len()));
            push_digits(out, int);
            out.push(b'.');
            push_digits(out, frac);
        }
        return;
    }
    // fpconv keeps at most 18 digits (17 for a negative value) in this form; its sign of the
    // exponent is computed from that count.
    let kept = n.min(18 - i32::from(negative));
    let kept_digits = d.get(..kept.max(0) as usize).unwrap_or(d);
    if let Some((first, rest)) = kept_digits.split_first() {
        push_digits(out, &[*first]);
        if !rest.is_empty() {
            out.push(b'.');
            push_digits(out, rest);
        }
    }
    out.push(b'e');
    out.push(if k + kept - 1 < 0 { b'-' } else { b'+' });
    let mut rest = exp;
    let hundreds = rest / 100;
    if rest > 99 {
        out.push(b'0' + hundreds as u8);
        rest -= hundreds * 100;
    }
    if rest > 9 {
        out.push(b'0' + (rest / 10) as u8);
        rest %= 10;
    } else if hundreds > 0 {
        out.push(b'0');
    }
    out.push(b'0' + rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little exact arithmetic: a natural number as little-endian 32-bit limbs.
    struct Nat(Vec<u32>);

    impl Nat {
        fn from_u128(v: u128) -> Nat {
            Nat((0..4).map(|i| (v >> (32 * i)) as u32).collect())
        }
        fn mul_small(&mut self, m: u32) {
            let mut carry = 0u64;
            for limb in &mut self.0 {
                let v = u64::from(*limb) * u64::from(m) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            self.0.push(carry as u32);
        }
        fn times_pow10(mut self, k: u32) -> Nat {
            for _ in 0..k {
                self.mul_small(10);
            }
            self
        }
        fn shl(mut self, bits: u32) -> Nat {
            for _ in 0..bits {
                self.mul_small(2);
            }
            self
        }
        fn cmp_num(&self, other: &Nat) -> std::cmp::Ordering {
            let len = self.0.len().max(other.0.len());
            let limb = |n: &Nat, i: usize| n.0.get(i).copied().unwrap_or(0);
            (0..len)
                .rev()
                .map(|i| limb(self, i).cmp(&limb(other, i)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        }
    }

    #[test]
    fn cached_powers_are_the_nearest_64_bit_approximations() {
        for (i, &(f, e)) in CACHED_POWERS.iter().enumerate() {
            let k = FIRST_POWER + POWER_STEP * i as i32;
            assert!(f >> 63 == 1, "10^{k}: not normalized");
            // |f·2^e − 10^k| ≤ 2^e/2, i.e. (2f−1)·2^e ≤ 2·10^k ≤ (2f+1)·2^e, in integers.
            let (low, high) = (
                Nat::from_u128(2 * u128::from(f) - 1),
                Nat::from_u128(2 * u128::from(f) + 1),
            );
            let (low, target, high) = if k >= 0 {
                let target = Nat::from_u128(2).times_pow10(k as u32);
                if e >= 0 {
                    (low.shl(e as u32), target, high.shl(e as u32))
                } else {
                    (low, target.shl((-e) as u32), high)
                }
            } else {
                let scale = (-k) as u32;
                let target = Nat::from_u128(2).shl((-e) as u32);
                (low.times_pow10(scale), target, high.times_pow10(scale))
            };
            assert!(low.cmp_num(&target).is_le(), "10^{k}: too big");
            assert!(target.cmp_num(&high).is_le(), "10^{k}: too small");
        }
    }

    fn fpconv(v: f64) -> String {
        let mut out = ScoreText::default();
        write_fpconv(v, &mut out);
        out.as_str().to_owned()
    }

    #[test]
    fn layouts_of_fpconv() {
        assert_eq!(fpconv(0.1), "0.1");
        assert_eq!(fpconv(-0.1), "-0.1");
        assert_eq!(fpconv(1.5), "1.5");
        assert_eq!(fpconv(0.001234567), "0.001234567");
        assert_eq!(fpconv(0.0001234567), "1.234567e-4");
        assert_eq!(fpconv(12345.123456789), "1.2345123456789e+4");
        assert_eq!(fpconv(1e-7), "1e-7");
        assert_eq!(fpconv(1e19), "1e+19");
        assert_eq!(fpconv(1e300), "1e+300");
        assert_eq!(fpconv(1.5e-300), "1.5e-300");
        assert_eq!(fpconv(5e-324), "5e-324");
        assert_eq!(fpconv(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(fpconv(4611686018427388928.0), "4611686018427389000");
        assert_eq!(fpconv(123456789012345678.0), "123456789012345680");
        assert_eq!(fpconv(2f64.powi(-25)), "2.9802322387695313e-8");
    }
}
