//! The storage side of pipelined list commands, without the network: what `kvctl serve`
//! does for a turn of pipelined LPUSH / RPUSH / LPOP / RPOP (one transaction of many
//! commands on one list), here as `Store::transaction`s of `KEG_BENCH_BATCH` commands
//! (default 800: 50 clients × 16 pipelined) over `KEG_BENCH_ELEMENTS` elements (default
//! 500,000; 100-byte values, as redis-benchmark's `-d 100`), `SyncPolicy::Interval(1 s)` as
//! the server's default `everysec`. Five rounds; the median round's ns per command.
//!
//! ```text
//! cargo bench --bench list_pipeline
//! ```

use std::time::{Duration, Instant};

use keg::{Options, Store, SyncPolicy};

const ROUNDS: usize = 5;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// ns per command of `elements / batch` transactions, each running `command` `batch` times.
fn per_command(
    store: &Store,
    elements: usize,
    batch: usize,
    command: impl Fn(&keg::Transaction<'_>) -> keg::Result<()>,
) -> f64 {
    let start = Instant::now();
    for _ in 0..elements / batch {
        store
            .transaction(|tx| {
                for _ in 0..batch {
                    command(tx)?;
                }
                Ok(())
            })
            .unwrap();
    }
    start.elapsed().as_nanos() as f64 / (elements / batch * batch) as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let elements = env_or("KEG_BENCH_ELEMENTS", 500_000);
    let batch = env_or("KEG_BENCH_BATCH", 800).max(1);
    let value = [b'x'; 100];
    let mut results: Vec<(&str, Vec<f64>)> = ["LPUSH", "LPOP", "RPUSH", "RPOP"]
        .iter()
        .map(|&name| (name, Vec::new()))
        .collect();
    for _ in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let store = Options::new()
            .sync_policy(SyncPolicy::Interval(Duration::from_secs(1)))
            .open(dir.path())
            .unwrap();
        let figures = [
            per_command(&store, elements, batch, |tx| {
                tx.lpush(b"list", &[&value]).map(drop)
            }),
            per_command(&store, elements, batch, |tx| {
                assert_eq!(tx.lpop(b"list", 1)?.len(), 1);
                Ok(())
            }),
            per_command(&store, elements, batch, |tx| {
                tx.rpush(b"list", &[&value]).map(drop)
            }),
            per_command(&store, elements, batch, |tx| {
                assert_eq!(tx.rpop(b"list", 1)?.len(), 1);
                Ok(())
            }),
        ];
        for ((_, runs), ns) in results.iter_mut().zip(figures) {
            runs.push(ns);
        }
    }
    println!("{elements} elements, transactions of {batch} commands, median of {ROUNDS} rounds:");
    for (name, runs) in results {
        println!("{name:>6}: {:.0} ns per command", median(runs));
    }
}
