//! A minimal unsigned big integer: just what exact float parsing and printing need
//! (multiply and divide by small numbers, shifts, decimal digits). Little-endian base-2^32
//! limbs; no allocation beyond the limb vector.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub(crate) fn from_u64(v: u64) -> BigUint {
        let mut b = BigUint {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Number of significant bits (0 for zero).
    pub(crate) fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    /// `self = self * m + add`.
    pub(crate) fn mul_add_small(&mut self, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    /// `self = self / d`, returning the remainder. `d` must not be zero.
    pub(crate) fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    pub(crate) fn shl(&mut self, bits: u64) {
        if self.is_zero() || bits == 0 {
            return;
        }
        let words = (bits / 32) as usize;
        let rest = (bits % 32) as u32;
        if rest != 0 {
            let mut carry = 0u32;
            for limb in &mut self.limbs {
                let v = (*limb << rest) | carry;
                carry = *limb >> (32 - rest);
                *limb = v;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        let mut shifted = vec![0u32; words];
        shifted.append(&mut self.limbs);
        self.limbs = shifted;
    }

    /// Bit `i` (0 = least significant).
    pub(crate) fn bit(&self, i: u64) -> bool {
        let word = (i / 32) as usize;
        self.limbs
            .get(word)
            .is_some_and(|limb| (limb >> (i % 32)) & 1 == 1)
    }

    /// Whether any of the bits below `i` is set.
    pub(crate) fn any_below(&self, i: u64) -> bool {
        let word = (i / 32) as usize;
        let whole = self.limbs.iter().take(word).any(|&l| l != 0);
        let part = self
            .limbs
            .get(word)
            .is_some_and(|&l| !i.is_multiple_of(32) && l & ((1u32 << (i % 32)) - 1) != 0);
        whole || part
    }

    /// Shifts right by `bits`, dropping them.
    pub(crate) fn shr(&mut self, bits: u64) {
        let words = (bits / 32) as usize;
        if words >= self.limbs.len() {
            self.limbs.clear();
            return;
        }
        self.limbs.drain(..words);
        let rest = (bits % 32) as u32;
        if rest != 0 {
            let mut carry = 0u32;
            for limb in self.limbs.iter_mut().rev() {
                let v = (*limb >> rest) | carry;
                carry = *limb << (32 - rest);
                *limb = v;
            }
        }
        self.trim();
    }

    /// The low 64 bits.
    pub(crate) fn low_u64(&self) -> u64 {
        let lo = self.limbs.first().copied().unwrap_or(0);
        let hi = self.limbs.get(1).copied().unwrap_or(0);
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// Decimal digits (at least one).
    pub(crate) fn to_decimal(&self) -> String {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut out = match chunks.pop() {
            Some(top) => top.to_string(),
            None => return "0".to_owned(),
        };
        for chunk in chunks.iter().rev() {
            out.push_str(&format!("{chunk:09}"));
        }
        out
    }

    pub(crate) fn cmp_big(&self, other: &BigUint) -> std::cmp::Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// `self + other`.
    pub(crate) fn add(&self, other: &BigUint) -> BigUint {
        let mut limbs = Vec::with_capacity(self.limbs.len().max(other.limbs.len()) + 1);
        let mut carry = 0u64;
        for i in 0..self.limbs.len().max(other.limbs.len()) {
            let v = u64::from(self.limbs.get(i).copied().unwrap_or(0))
                + u64::from(other.limbs.get(i).copied().unwrap_or(0))
                + carry;
            limbs.push(v as u32);
            carry = v >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
        let mut b = BigUint { limbs };
        b.trim();
        b
    }

    /// `self - other`; `other` must not be larger.
    pub(crate) fn sub(&self, other: &BigUint) -> BigUint {
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0i64;
        for i in 0..self.limbs.len() {
            let mut v = i64::from(self.limbs.get(i).copied().unwrap_or(0))
                - i64::from(other.limbs.get(i).copied().unwrap_or(0))
                - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            limbs.push(v as u32);
        }
        let mut b = BigUint { limbs };
        b.trim();
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_round_trips() {
        let mut n = BigUint::from_u64(0);
        for d in b"123456789012345678901234567890" {
            n.mul_add_small(10, u32::from(d - b'0'));
        }
        assert_eq!(n.to_decimal(), "123456789012345678901234567890");
        let mut m = n.clone();
        m.shl(77);
        m.shr(77);
        assert_eq!(m, n);
        assert_eq!(BigUint::from_u64(5).div_small(3), 2);
        assert_eq!(BigUint::from_u64(0).to_decimal(), "0");
        assert_eq!(BigUint::from_u64(1 << 40).bit_len(), 41);
        let a = BigUint::from_u64(u64::MAX);
        let b = a.add(&BigUint::from_u64(1));
        assert_eq!(b.to_decimal(), "18446744073709551616");
        assert_eq!(b.sub(&BigUint::from_u64(1)), a);
        assert!(b.bit(64) && !b.bit(63) && !b.any_below(64) && a.any_below(1));
    }
}
