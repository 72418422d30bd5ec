//! A small seedable random generator for TTL jitter and early-refresh draws: the cache
//! needs spread, not cryptographic quality, and tests need to fix the seed.

use std::hash::{BuildHasher, RandomState};

/// SplitMix64: one 64-bit state, full period, good enough statistics for jitter.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator with a fixed seed (same seed, same draws).
    pub fn seeded(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// A generator seeded from the process's random hashing keys (different per process,
    /// no dependency needed).
    pub fn from_entropy() -> SplitMix64 {
        SplitMix64(RandomState::new().hash_one(0x6b65_6763_6163_6865_u64))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    pub fn unit_open_closed(&mut self) -> f64 {
        // 53 random bits, shifted up by one step so 0 cannot come out and 1 can.
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_in_range() {
        let mut a = SplitMix64::seeded(7);
        let mut b = SplitMix64::seeded(7);
        for _ in 0..10_000 {
            let x = a.unit_open_closed();
            assert_eq!(x, b.unit_open_closed());
            assert!(x > 0.0 && x <= 1.0);
        }
        assert_ne!(
            SplitMix64::seeded(1).next_u64(),
            SplitMix64::seeded(2).next_u64()
        );
    }
}
