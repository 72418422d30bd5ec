//! A latency histogram of fixed size (log-linear buckets, as HdrHistogram keeps them), so a
//! benchmark of any length records every operation in constant memory.
//!
//! Values below 128 are counted exactly. Above, each power of two is split into 64 equal
//! buckets, so a reported percentile is at most 1/64 (1.6 %) above the true value.

/// Bits of a value kept exactly: values below `1 << SUB_BITS` get a bucket each.
const SUB_BITS: u32 = 7;
const HALF: usize = 1 << (SUB_BITS - 1);
/// Buckets for every u64: the exact ones, then 64 per power of two up to 2^64.
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * HALF + HALF;

#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

/// The bucket of `value`.
fn bucket(value: u64) -> usize {
    if value < 1 << SUB_BITS {
        return value as usize;
    }
    let top_bit = 63 - value.leading_zeros(); // >= SUB_BITS
    let shift = top_bit - (SUB_BITS - 1); // keeps the SUB_BITS highest bits
    let top = (value >> shift) as usize; // in HALF..2 * HALF
    ((shift as usize) << (SUB_BITS - 1)) + top
}

/// The largest value in bucket `index`.
fn bucket_high(index: usize) -> u64 {
    if index < 1 << SUB_BITS {
        return index as u64;
    }
    let shift = index / HALF - 1;
    let top = (index - shift * HALF) as u64;
    // Written so that the last bucket's bound, u64::MAX, does not overflow.
    (top << shift) + ((1u64 << shift) - 1)
}

impl Histogram {
    pub fn record(&mut self, value: u64) {
        if let Some(count) = self.counts.get_mut(bucket(value)) {
            *count += 1;
        }
        self.total += 1;
        self.max = self.max.max(value);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0.5 = median, 0.999 = p999): the smallest bucket bound
    /// at or below which a fraction `q` of the values lie. 0 for an empty histogram.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_high(index).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for value in (0..100_000u64).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket(value);
            assert!(b < BUCKETS, "{value}");
            assert!(b >= last, "{value}");
            assert!(bucket_high(b) >= value, "{value}");
            last = b;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn quantiles_are_within_the_bucket_error() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        for (q, exact) in [(0.5, 5_000_000u64), (0.99, 9_900_000), (0.999, 9_990_000)] {
            let got = h.quantile(q);
            assert!(got >= exact && got <= exact + exact / 64, "{q}: {got}");
        }
        assert_eq!(h.quantile(1.0), 10_000_000);
        let mut other = Histogram::default();
        other.record(1);
        h.merge(&other);
        assert_eq!(h.count(), 10_001);
        assert_eq!(h.quantile(0.0), 1);
    }
}
