//! Unique visitors: every page view adds its visitor to the day's set (SADD), and a
//! dashboard reads the count (SCARD) every 1000 views. Half the views come from a few
//! regulars, so most SADDs find the member already there. The visitors are also marked
//! in memory, so the final SCARD is checked against the true number of distinct ones.

use std::time::{Duration, Instant};

use super::backend::Backend;
use super::measure::OpStats;
use crate::cmd::demo::rng::SplitMix64;

/// Views between two reads of the count.
const COUNT_EVERY: u64 = 1000;

pub struct Visitors {
    /// Visitors views are drawn from.
    pub population: u64,
    pub elapsed: Duration,
    pub sadd: OpStats,
    pub scard: OpStats,
    /// Distinct visitors, counted in memory.
    pub distinct: u64,
    /// SADDs that answered "new".
    pub added: u64,
    /// The final SCARD.
    pub counted: u64,
    pub problem: Option<String>,
}

pub fn run(
    backend: &dyn Backend,
    key: &[u8],
    population: u64,
    run_for: Duration,
    seed: u64,
) -> anyhow::Result<Visitors> {
    let mut conn = backend.connect()?;
    let mut rng = SplitMix64(seed);
    let mut seen = vec![false; population as usize];
    let mut sadd = OpStats::default();
    let mut scard = OpStats::default();
    let (mut distinct, mut added, mut views) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let deadline = started + run_for;
    while Instant::now() < deadline {
        // Half the views from the first 2% of visitors (the regulars).
        let visitor = if rng.below(2) == 0 {
            rng.below(population.div_ceil(50))
        } else {
            rng.below(population)
        };
        let member = format!("visitor:{visitor}");
        added += u64::from(sadd.time(|| conn.sadd(key, member.as_bytes()))?);
        if let Some(seen) = seen.get_mut(visitor as usize)
            && !*seen
        {
            *seen = true;
            distinct += 1;
        }
        views += 1;
        if views.is_multiple_of(COUNT_EVERY) {
            scard.time(|| conn.scard(key))?;
        }
    }
    let elapsed = started.elapsed();
    let counted = scard.time(|| conn.scard(key))?;
    let mut problems = Vec::new();
    if counted != distinct {
        problems.push(format!(
            "SCARD says {counted}, {distinct} distinct visitors came"
        ));
    }
    if added != distinct {
        problems.push(format!(
            "{added} SADD answered \"new\" for {distinct} distinct visitors"
        ));
    }
    Ok(Visitors {
        population,
        elapsed,
        sadd,
        scard,
        distinct,
        added,
        counted,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}
