//! Counters, TTL writes and the expiry cycle (the TTL issue's benchmarks):
//!
//! ```text
//! cargo bench --bench counters_ttl            # 1M keys for the expiry run
//! KEG_BENCH_KEYS=200000 cargo bench --bench counters_ttl
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keg::{Options, Store, SyncPolicy};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M/s", r / 1e6)
    } else {
        format!("{:.1}k/s", r / 1e3)
    }
}

/// Process CPU time (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn open(dir: &std::path::Path, policy: SyncPolicy) -> Store {
    Options::new().sync_policy(policy).open(dir).unwrap()
}

/// `threads` threads incrementing one key for `secs`.
fn incr_one_key(dir: &std::path::Path, policy: SyncPolicy, threads: usize, secs: u64) -> f64 {
    let store = open(dir, policy);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (store, stop, done) = (store.clone(), Arc::clone(&stop), Arc::clone(&done));
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    store.incr(b"hits").unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let n = done.load(Ordering::Relaxed);
    assert_eq!(
        store.incr_by(b"hits", 0).unwrap() as u64,
        n,
        "no lost increment"
    );
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env_or("KEG_BENCH_KEYS", 1_000_000);
    let base = std::env::var("KEG_BENCH_DIR").unwrap_or_else(|_| "target/bench-data".into());
    std::fs::create_dir_all(&base).unwrap();
    let work = tempfile::tempdir_in(&base).unwrap();

    println!("| workload | result |");
    println!("|---|---|");
    for (policy, name, secs) in [
        (SyncPolicy::Never, "Never", 2),
        (SyncPolicy::Always, "Always", 2),
    ] {
        for threads in [1usize, 8] {
            let dir = work.path().join(format!("incr-{name}-{threads}"));
            let r = incr_one_key(&dir, policy, threads, secs);
            println!(
                "| `incr`, one key, `{name}`, {threads} thread(s) | {} |",
                fmt_rate(r)
            );
        }
    }

    // set_with_ttl against plain set, same keys, one thread, no fsync.
    let dir = work.path().join("ttl");
    let store = open(&dir, SyncPolicy::Never);
    let keys: Vec<[u8; 16]> = (0..n)
        .map(|i| {
            let mut k = [0u8; 16];
            k[8..].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
            k
        })
        .collect();
    let start = Instant::now();
    for k in &keys {
        store.set(k, &[7u8; 100]).unwrap();
    }
    let plain = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for k in &keys {
        store
            .set_with_ttl(k, &[7u8; 100], Duration::from_secs(3600))
            .unwrap();
    }
    let ttl = n as f64 / start.elapsed().as_secs_f64();
    println!("| `set` (overwrite), `Never` | {} |", fmt_rate(plain));
    println!(
        "| `set_with_ttl` (overwrite), `Never` | {} = {:.2} × set |",
        fmt_rate(ttl),
        ttl / plain
    );
    drop(store);

    // Expiry cycle: n keys, half of them expiring together; how long until the cycle has
    // deleted them all, at what CPU cost, and how much index memory comes back.
    let dir = work.path().join("expiry");
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(&dir)
        .unwrap();
    let ttl = Duration::from_secs(3);
    for (i, k) in keys.iter().enumerate() {
        if i % 2 == 0 {
            store.set_with_ttl(k, &[7u8; 100], ttl).unwrap();
        } else {
            store.set(k, &[7u8; 100]).unwrap();
        }
    }
    let loaded = store.stats();
    // Wait until every TTL has passed (the last one was set just now).
    std::thread::sleep(ttl + Duration::from_millis(50));
    let cpu_before = cpu_time();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(120);
    while store.stats().expired_keys_pending > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    let after = store.stats();
    println!(
        "| expiry cycle: {} of {n} keys expire together | all deleted {:.2} s after expiry, {:.2} s CPU ({:.0} % of one core) |",
        n / 2,
        took.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / took.as_secs_f64().max(0.001)
    );
    println!(
        "| index memory: loaded → after the cycle | {:.1} MiB → {:.1} MiB ({} keys left, {} deleted) |",
        loaded.index_bytes as f64 / (1 << 20) as f64,
        after.index_bytes as f64 / (1 << 20) as f64,
        after.keys,
        after.expired_keys_deleted
    );
}
