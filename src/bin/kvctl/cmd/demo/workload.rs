//! One phase of the demo: reader threads asking for dashboards and a writer placing
//! orders, through one strategy, for a fixed time. Every read is timed and checked
//! against the database.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keg::cache::{Cache, CacheBackend, CacheStats};

use super::database;
use super::rng::SplitMix64;
use super::strategy::{Access, Strategy};
use crate::histogram::Histogram;

/// The shape of the workload, the same for every strategy.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Reader threads.
    pub readers: usize,
    /// Users whose dashboards are read and written (ids 1..=hot_users).
    pub hot_users: u64,
    /// How long each phase runs.
    pub duration: Duration,
    /// The writer places one order this often.
    pub write_every: Duration,
    /// TTL of a cached dashboard.
    pub ttl: Duration,
    pub seed: u64,
}

/// What one phase measured.
pub struct Phase {
    pub strategy: Strategy,
    pub elapsed: Duration,
    /// Read latencies in nanoseconds.
    pub reads: Histogram,
    /// Reads that returned a dashboard missing an order whose write had finished (commit
    /// and cache update) before the read began: what the strategy got wrong.
    pub stale_reads: u64,
    /// Reads that returned a dashboard missing an order committed before the read began,
    /// checked against the database: stale reads plus those that overlapped a write
    /// between its commit and its cache update.
    pub behind_db: u64,
    /// Runs of the dashboard query (by readers' loads and write-through writers).
    pub queries: u64,
    /// Orders placed.
    pub writes: u64,
    /// The cache's counters (none when uncached).
    pub stats: Option<CacheStats>,
}

/// Runs `plan` against the database at `db` through `strategy`, with keys prefixed by
/// `run`; removes the counters it leaves in the cache's backend when it is done.
pub fn run<B>(
    db: &Path,
    strategy: Strategy,
    cache: Option<&Cache<B>>,
    run: &str,
    plan: &Plan,
) -> anyhow::Result<Phase>
where
    B: CacheBackend,
    B::Error: Send + Sync + 'static,
{
    let queries = AtomicU64::new(0);
    // Per user, the newest order whose write (commit + cache update) has finished.
    let finished: Vec<AtomicU64> = (0..=plan.hot_users).map(|_| AtomicU64::new(0)).collect();
    let finished = &finished[..];
    let access = Access {
        strategy,
        cache,
        ttl: plan.ttl,
        run,
        queries: &queries,
    };
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let deadline = start + plan.duration;
    let (readers, writes) = std::thread::scope(|s| {
        let readers: Vec<_> = (0..plan.readers as u64)
            .map(|r| {
                let (access, stop) = (&access, &stop);
                s.spawn(move || {
                    stop_on_error(stop, || {
                        read_loop(db, access, plan, r, deadline, finished, stop)
                    })
                })
            })
            .collect();
        let writer = s.spawn(|| {
            stop_on_error(&stop, || {
                write_loop(db, &access, plan, deadline, finished, &stop)
            })
        });
        let readers: Vec<_> = readers.into_iter().map(join).collect();
        (readers, join(writer))
    });
    let elapsed = start.elapsed();
    let mut phase = Phase {
        strategy,
        elapsed,
        reads: Histogram::default(),
        stale_reads: 0,
        behind_db: 0,
        queries: 0,
        writes: writes?,
        stats: None,
    };
    for reader in readers {
        let reader = reader?;
        phase.reads.merge(&reader.latencies);
        phase.stale_reads += reader.stale;
        phase.behind_db += reader.behind_db;
    }
    phase.queries = queries.load(Ordering::Relaxed);
    phase.stats = cache.map(Cache::stats).transpose()?;
    access.clean_up(plan.hot_users)?;
    Ok(phase)
}

pub(super) fn join<T>(
    handle: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>,
) -> anyhow::Result<T> {
    handle
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("a demo thread panicked")))
}

/// Runs `work`; an error stops the other threads.
pub(super) fn stop_on_error<T>(
    stop: &AtomicBool,
    work: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let result = work();
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    result
}

/// What one reader saw.
struct ReaderResult {
    latencies: Histogram,
    stale: u64,
    behind_db: u64,
}

/// Reads random hot users' dashboards until the deadline, timing and checking each.
fn read_loop<B>(
    db: &Path,
    access: &Access<'_, B>,
    plan: &Plan,
    reader: u64,
    deadline: Instant,
    finished: &[AtomicU64],
    stop: &AtomicBool,
) -> anyhow::Result<ReaderResult>
where
    B: CacheBackend,
    B::Error: Send + Sync + 'static,
{
    let conn = database::connect(db)?;
    let mut rng = SplitMix64(plan.seed ^ (reader + 1).wrapping_mul(0x5851_f42d_4c95_7f2d));
    let mut result = ReaderResult {
        latencies: Histogram::default(),
        stale: 0,
        behind_db: 0,
    };
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let user = 1 + rng.below(plan.hot_users);
        // Before the read begins: the newest order whose write has finished, then the
        // newest one committed (never older: a write finishes after its commit).
        let done = finished
            .get(user as usize)
            .map_or(0, |order| order.load(Ordering::SeqCst));
        let committed = database::last_order(&conn, user)?;
        let started = Instant::now();
        let dashboard = access.read(&conn, user)?;
        let elapsed = started.elapsed();
        result
            .latencies
            .record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        result.stale += u64::from(dashboard.last_order < done);
        result.behind_db += u64::from(dashboard.last_order < committed);
    }
    Ok(result)
}

/// Places an order for a random hot user every `plan.write_every` until the deadline,
/// then applies the strategy's cache update; returns the number of orders.
fn write_loop<B>(
    db: &Path,
    access: &Access<'_, B>,
    plan: &Plan,
    deadline: Instant,
    finished: &[AtomicU64],
    stop: &AtomicBool,
) -> anyhow::Result<u64>
where
    B: CacheBackend,
    B::Error: Send + Sync + 'static,
{
    let mut conn = database::connect(db)?;
    let mut rng = SplitMix64(plan.seed ^ 0x7772_6974_6572);
    let mut writes = 0;
    let mut next = Instant::now() + plan.write_every;
    while next < deadline && !stop.load(Ordering::Relaxed) {
        // Pacing a workload, not waiting for a result: the writer is a user clicking "buy".
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let user = 1 + rng.below(plan.hot_users);
        let order = database::place_order(&mut conn, user, &mut rng)?;
        access.after_commit(&conn, user)?;
        if let Some(done) = finished.get(user as usize) {
            done.store(order, Ordering::SeqCst);
        }
        writes += 1;
        next += plan.write_every;
    }
    Ok(writes)
}
