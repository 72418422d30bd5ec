//! One benchmark thread: random operations against the store until its share of the
//! operations is done or the time is up, each one timed into a histogram.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use keg::Store;

use super::mix::{Mix, Op};
use crate::histogram::Histogram;

/// What one thread does.
pub struct Plan<'a> {
    pub mix: Mix,
    pub keys: u64,
    pub value: &'a [u8],
    pub ops: u64,
    pub deadline: Instant,
    pub seed: u64,
}

/// Latencies in nanoseconds, per operation (indexed by `Op::index`).
pub type Latencies = [Histogram; 3];

/// How often a thread reports its count to the progress bar.
const REPORT_EVERY: u64 = 1024;

/// Runs `plan`; the first error stops every thread (through `stop`) and is returned.
pub fn run(
    store: &Store,
    plan: &Plan<'_>,
    stop: &AtomicBool,
    done: &AtomicU64,
) -> anyhow::Result<Latencies> {
    let result = run_ops(store, plan, stop, done);
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    result
}

fn run_ops(
    store: &Store,
    plan: &Plan<'_>,
    stop: &AtomicBool,
    done: &AtomicU64,
) -> anyhow::Result<Latencies> {
    let mut latencies: Latencies = Default::default();
    let mut rng = SplitMix64(plan.seed);
    let mut key = Vec::with_capacity(32);
    for i in 0..plan.ops {
        if i % REPORT_EVERY == REPORT_EVERY - 1 {
            done.fetch_add(REPORT_EVERY, Ordering::Relaxed);
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        let op = plan.mix.pick(rng.below(100) as u32);
        key.clear();
        let n = rng.below(plan.keys);
        // Counters have keys of their own: incr on a value of `value_size` bytes would fail.
        match op {
            Op::Incr => write!(key, "counter:{n:010}")?,
            Op::Set | Op::Get => write!(key, "key:{n:010}")?,
        }
        let start = Instant::now();
        match op {
            Op::Set => store.set(&key, plan.value)?,
            Op::Get => {
                store.get(&key)?;
            }
            Op::Incr => {
                store.incr(&key)?;
            }
        }
        let end = Instant::now();
        let ns = u64::try_from((end - start).as_nanos()).unwrap_or(u64::MAX);
        if let Some(h) = latencies.get_mut(op.index()) {
            h.record(ns);
        }
        if end >= plan.deadline {
            break;
        }
    }
    Ok(latencies)
}

/// A small, fast, seedable generator (SplitMix64): the benchmark needs spread, not
/// cryptographic quality, and no dependency for it.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is negligible here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}
