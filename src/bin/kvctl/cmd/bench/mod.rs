//! `kvctl bench`: a load generator, so anyone can measure keg on their machine.
//!
//! It creates a scratch store (never the one in --dir), fills every key, then runs a
//! set/get/incr mix from several threads until the operation count or the duration is
//! reached, whichever comes first, and prints ops/s and latency percentiles.

mod mix;
mod report;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use keg::{Options, Store, SyncPolicy};

use self::mix::Mix;
use self::report::Report;
use crate::context::Context;
use crate::duration;
use crate::histogram::Histogram;
use crate::progress;
use crate::scratch::ScratchDir;
use crate::size::parse_size;
use crate::status::{Status, usage};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Operation mix in percent, adding up to 100: set=N,get=N,incr=N.
    #[arg(long, default_value = "set=20,get=80", value_parser = Mix::parse)]
    mix: Mix,

    /// Number of distinct keys (all written before the measurement starts).
    #[arg(long, default_value_t = 10_000)]
    keys: u64,

    /// Value size in bytes (k/M suffixes allowed).
    #[arg(long, default_value = "100", value_parser = parse_size)]
    value_size: usize,

    /// Threads issuing operations.
    #[arg(long, default_value_t = 1)]
    threads: usize,

    /// Stop after this long (500ms, 10s, 1m)...
    #[arg(long, default_value = "5s", value_parser = duration::parse_seconds)]
    duration: Duration,

    /// ...or after this many operations in all, whichever comes first.
    #[arg(long, default_value_t = 10_000_000)]
    ops: u64,

    /// Where to create the scratch store (removed afterwards). Put it on the disk you
    /// want to measure. Default: the current directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    scratch_dir: PathBuf,
}

impl BenchArgs {
    fn validate(&self) -> anyhow::Result<()> {
        if self.keys == 0 || self.ops == 0 || self.duration.is_zero() {
            return Err(usage("--keys, --ops and --duration must be positive"));
        }
        if !(1..=1024).contains(&self.threads) {
            return Err(usage("--threads must be between 1 and 1024"));
        }
        Ok(())
    }
}

pub fn run(args: &BenchArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    args.validate()?;
    let sync = ctx.global.sync.unwrap_or(SyncPolicy::Always);
    let scratch = ScratchDir::create(&args.scratch_dir, "bench")?;
    let value = vec![b'v'; args.value_size];
    // The library's defaults (background expiry and merge included), as an application
    // gets them.
    let options = Options::new().max_value_size(args.value_size.max(keg::DEFAULT_MAX_VALUE_SIZE));

    fill(&options, scratch.path(), args.keys, &value)?;
    let store = options
        .sync_policy(sync)
        .open(scratch.path())
        .with_context(|| format!("opening the scratch store {}", scratch.path().display()))?;
    let (latencies, elapsed) = measure(&store, args, &value)?;
    store.close()?;

    let report = Report {
        threads: args.threads,
        keys: args.keys,
        value_size: args.value_size,
        mix: args.mix,
        sync,
        scratch: scratch.path().to_path_buf(),
        elapsed,
        latencies,
    };
    if ctx.wants_json() {
        ctx.json(report.to_json())?;
    } else {
        report.print(ctx)?;
    }
    Ok(Status::Success)
}

/// Writes every key once, without fsyncs (then one on close): gets then always hit, and
/// the fill is not measured.
fn fill(options: &Options, dir: &std::path::Path, keys: u64, value: &[u8]) -> anyhow::Result<()> {
    let store = options
        .clone()
        .sync_policy(SyncPolicy::Never)
        .open(dir)
        .with_context(|| format!("creating the scratch store {}", dir.display()))?;
    let bar = progress::items(keys, "writing keys", "keys");
    for n in 0..keys {
        store.set(format!("key:{n:010}").as_bytes(), value)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    store.close()?;
    Ok(())
}

/// Runs the workers; returns the merged latencies and the time they took.
fn measure(
    store: &Store,
    args: &BenchArgs,
    value: &[u8],
) -> anyhow::Result<(worker::Latencies, Duration)> {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + args.duration;
    let threads = args.threads as u64;
    let bar = progress::bar(1000, "measuring", "{msg} [{bar:40}] {elapsed}");
    let results: Vec<anyhow::Result<worker::Latencies>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let plan = worker::Plan {
                    mix: args.mix,
                    keys: args.keys,
                    value,
                    // The operations split evenly; the first threads take the remainder.
                    ops: args.ops / threads + u64::from(t < args.ops % threads),
                    deadline,
                    seed: 0x6b65_6720_6265_6e63 ^ t,
                };
                let (stop, done) = (&stop, &done);
                scope.spawn(move || worker::run(store, &plan, stop, done))
            })
            .collect();
        if !bar.is_hidden() {
            while !handles.iter().all(|h| h.is_finished()) {
                let by_time = start.elapsed().as_secs_f64() / args.duration.as_secs_f64();
                let by_ops = done.load(Ordering::Relaxed) as f64 / args.ops as f64;
                bar.set_position((by_time.max(by_ops).min(1.0) * 1000.0) as u64);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a benchmark thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    let mut merged: worker::Latencies = Default::default();
    for result in results {
        for (total, part) in merged.iter_mut().zip(result?.iter()) {
            total.merge(part);
        }
    }
    Ok((merged, elapsed))
}

/// The sum of all operations' histograms.
fn all_ops(latencies: &worker::Latencies) -> Histogram {
    let mut all = Histogram::default();
    for h in latencies {
        all.merge(h);
    }
    all
}
