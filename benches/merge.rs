//! Merge and hint-file benchmarks (the merge issue's targets):
//!
//! 1. Disk after overwriting every key 10 times and merging, against live data.
//! 2. Open of a store from its index snapshot, from its hint files, and from neither.
//! 3. Foreground get/set p99 latency while merges run, against the same load without.
//!
//! ```text
//! cargo bench --bench merge                       # 1M keys (16 B keys, 100 B values)
//! KEG_BENCH_KEYS=200000 cargo bench --bench merge
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use keg::{MergePolicy, Options, Store, SyncPolicy};

const VALUE_LEN: usize = 100;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"key:0000");
    k[8..].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    k
}

fn value(i: u64, round: u64) -> [u8; VALUE_LEN] {
    let mut v = [b'v'; VALUE_LEN];
    v[..8].copy_from_slice(&i.to_le_bytes());
    v[8..16].copy_from_slice(&round.to_le_bytes());
    v
}

fn no_background_merge() -> MergePolicy {
    MergePolicy {
        check_interval: Duration::ZERO,
        ..MergePolicy::default()
    }
}

/// Opens `dir` with `SyncPolicy::Never` and no background merge (merges run when asked).
fn open_quiet(dir: &Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .merge_policy(no_background_merge())
        .open(dir)
        .unwrap()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// Bytes of the hint files in `dir`.
fn hint_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "hint"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// The process's resident anonymous memory (heap), from /proc (0 where there is none).
fn rss_anon() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs `f`, sampling the heap's resident size every 2 ms meanwhile: returns `f`'s result
/// and the most the heap grew above where it started.
fn peak_rss_anon_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let start = rss_anon();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = start;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_anon());
                std::thread::sleep(Duration::from_millis(2));
            }
            peak.max(rss_anon())
        });
        let result = f();
        done.store(true, Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        (result, peak.saturating_sub(start))
    })
}

/// Overwrites `n` keys `rounds` times with `policy`, then merges once (a `Store::merge`).
fn disk_after_overwrites(dir: &Path, n: u64, rounds: u64, policy: MergePolicy, label: &str) {
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .merge_policy(policy)
        .open(dir)
        .unwrap();
    let start = Instant::now();
    for round in 0..rounds {
        for i in 0..n {
            store.set(&key(i), &value(i, round)).unwrap();
        }
    }
    let wrote = start.elapsed();
    let before = store.stats();
    let started = Instant::now();
    let (report, merge_memory) = peak_rss_anon_growth(|| store.merge().unwrap());
    let merge_time = started.elapsed();
    let after = store.stats();
    let hints = hint_bytes(dir);
    println!(
        "| {label} | {:.1} s | {} | {} ({} in {:.2} s; {} records copied, peak memory +{}) | {} | {:.3} × | {:.3} × |",
        wrote.as_secs_f64(),
        mib(before.disk_bytes),
        mib(after.disk_bytes),
        mib(report.bytes_reclaimed()),
        merge_time.as_secs_f64(),
        report.records_copied,
        mib(merge_memory),
        mib(after.live_bytes),
        after.disk_bytes as f64 / after.live_bytes as f64,
        (after.disk_bytes + hints) as f64 / after.live_bytes as f64,
    );
    // Every value is the last round's.
    for i in (0..n).step_by(997) {
        assert_eq!(
            store.get(&key(i)).unwrap().as_deref(),
            Some(&value(i, rounds - 1)[..])
        );
    }
    store.close().unwrap();
}

/// Writes `n` keys, then `n` other keys, then overwrites every other key of the first
/// `n`: a requested merge of the sealed segments copies most records it reads. Prints how
/// much the heap grew during it.
fn merge_memory(dir: &Path, n: u64) {
    let store = open_quiet(dir);
    for round in 0..2 {
        for i in 0..n {
            store.set(&key(i + round * n), &value(i, round)).unwrap();
        }
    }
    for i in (0..n).step_by(2) {
        store.set(&key(i), &value(i, 2)).unwrap();
    }
    let (report, growth) = peak_rss_anon_growth(|| store.merge().unwrap());
    println!(
        "| records copied | dropped | merge time | heap growth during the merge (peak) | per copied record |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.2} s | {} | {:.1} bytes |",
        report.records_copied,
        report.records_dropped,
        report.duration.as_secs_f64(),
        mib(growth),
        growth as f64 / report.records_copied.max(1) as f64
    );
    store.close().unwrap();
}

/// Deletes the hint files in `dir`.
fn remove_hints(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        if entry.path().extension().is_some_and(|x| x == "hint") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
}

/// What an open may use besides the data files.
#[derive(Clone, Copy, PartialEq)]
enum OpenFrom {
    /// The index snapshot (and hint files) a clean close left.
    Snapshot,
    /// Hint files only.
    Hints,
    /// Neither: every segment is scanned.
    Scan,
}

/// Median of `runs` timed opens of `dir`, deleting before each what `from` excludes (a
/// clean close writes a snapshot and a hint for the active segment).
fn time_open(dir: &Path, runs: usize, from: OpenFrom) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut keys = 0;
    for _ in 0..runs {
        if from != OpenFrom::Snapshot {
            let _ = std::fs::remove_file(dir.join("index.snapshot"));
        }
        if from == OpenFrom::Scan {
            remove_hints(dir);
        }
        let start = Instant::now();
        let store = open_quiet(dir);
        times.push(start.elapsed());
        assert_eq!(
            store.stats().opened_from_index_snapshot,
            from == OpenFrom::Snapshot
        );
        keys = store.len();
        store.close().unwrap();
    }
    times.sort();
    (times[runs / 2], keys)
}

fn open_with_and_without_hints(dir: &Path, n: u64) {
    {
        let store = open_quiet(dir);
        for i in 0..n {
            store.set(&key(i), &value(i, 0)).unwrap();
        }
        // Hints for every sealed segment (there is nothing to reclaim, so no merge).
        store.merge().unwrap();
        let started = Instant::now();
        store.close().unwrap();
        println!(
            "| close, writing the index snapshot (fsynced) | {:.0} ms |",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let segments = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "data"))
        .count();
    let hints = hint_bytes(dir);
    let snapshot = std::fs::metadata(dir.join("index.snapshot")).map_or(0, |m| m.len());
    let (from_snapshot, keys_snapshot) = time_open(dir, 5, OpenFrom::Snapshot);
    let (with, keys_with) = time_open(dir, 5, OpenFrom::Hints);
    let (without, keys_without) = time_open(dir, 5, OpenFrom::Scan);
    assert_eq!(keys_with, keys_without);
    assert_eq!(keys_with, keys_snapshot);
    println!(
        "| open, {keys_with} keys, {segments} segments, index snapshot ({}) and hint files | {:.0} ms = **{:.1} ×** faster than no hint files |",
        mib(snapshot),
        from_snapshot.as_secs_f64() * 1e3,
        without.as_secs_f64() / from_snapshot.as_secs_f64()
    );
    println!(
        "| open, same store, hint files only ({}) | {:.0} ms = {:.1} × faster than no hint files |",
        mib(hints),
        with.as_secs_f64() * 1e3,
        without.as_secs_f64() / with.as_secs_f64()
    );
    println!(
        "| open, same store, no hint files | {:.0} ms |",
        without.as_secs_f64() * 1e3,
    );
}

/// Latency percentiles (get p50, get p99, set p50, set p99) of a closed-loop get/set mix
/// (one thread, one set per four gets) until `until` says stop.
fn foreground_latency(store: &Store, n: u64, until: impl Fn() -> bool) -> [Duration; 4] {
    let mut gets = Vec::new();
    let mut sets = Vec::new();
    let mut i = 0u64;
    while !until() {
        let k = key(i.wrapping_mul(7919) % n);
        let t = Instant::now();
        if i.is_multiple_of(5) {
            store.set(&k, &value(i, 7)).unwrap();
            sets.push(t.elapsed());
        } else {
            std::hint::black_box(store.get(&k).unwrap());
            gets.push(t.elapsed());
        }
        i += 1;
    }
    gets.sort();
    sets.sort();
    let p = |v: &[Duration], q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    [p(&gets, 0.5), p(&gets, 0.99), p(&sets, 0.5), p(&sets, 0.99)]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = env_or("KEG_BENCH_KEYS", 1_000_000);
    let base = std::env::var("KEG_BENCH_DIR").unwrap_or_else(|_| "target/bench-data".into());
    std::fs::create_dir_all(&base).unwrap();
    let work = tempfile::tempdir_in(&base).unwrap();

    println!("### Disk after overwriting {n} keys 10 times, then one `merge()`\n");
    println!(
        "| merges while writing | write time | disk before | disk after (reclaimed) | live | disk / live | (disk + hints) / live |"
    );
    println!("|---|---|---|---|---|---|---|");
    disk_after_overwrites(
        &work.path().join("overwrite-bg"),
        n,
        10,
        MergePolicy::default(),
        "background merge (default policy)",
    );
    disk_after_overwrites(
        &work.path().join("overwrite-none"),
        n,
        10,
        MergePolicy {
            max_merge_bytes: u64::MAX,
            ..no_background_merge()
        },
        "none; one merge of everything",
    );

    println!("\n### Memory of a merge that copies most of what it reads\n");
    merge_memory(&work.path().join("copying"), n);

    println!("\n### Open of {n} keys (16 B keys, 100 B values), page cache warm, median of 5\n");
    println!("| store | open |");
    println!("|---|---|");
    open_with_and_without_hints(&work.path().join("open"), n);

    println!("\n### Foreground latency, one thread, 80 % get / 20 % set, `SyncPolicy::Never`\n");
    let dir = work.path().join("latency");
    let store = open_quiet(&dir);
    for i in 0..n {
        store.set(&key(i), &value(i, 0)).unwrap();
    }
    // Four more rounds of overwrites: a merge then has 4 dead bytes to drop per live one.
    for round in 1..5 {
        for i in 0..n {
            store.set(&key(i), &value(i, round)).unwrap();
        }
    }
    // With a merge: the foreground load runs exactly as long as one merge of it all.
    let merging = Arc::new(AtomicBool::new(true));
    let (busy, merge) = std::thread::scope(|s| {
        let merger = {
            let (store, merging) = (store.clone(), Arc::clone(&merging));
            s.spawn(move || {
                let report = store.merge().unwrap();
                merging.store(false, Ordering::Release);
                report
            })
        };
        let busy = foreground_latency(&store, n, || !merging.load(Ordering::Acquire));
        (busy, merger.join().unwrap())
    });
    // Without: the same load for the same time.
    let start = Instant::now();
    let quiet = foreground_latency(&store, n, || start.elapsed() >= merge.duration);
    println!(
        "(the merge read {} and wrote {} in {:.2} s)\n",
        mib(merge.bytes_before),
        mib(merge.bytes_after),
        merge.duration.as_secs_f64()
    );
    println!("| | get p50 | get p99 | set p50 | set p99 |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, l: &[Duration; 4]| {
        println!(
            "| {name} | {:.2?} | {:.2?} | {:.2?} | {:.2?} |",
            l[0], l[1], l[2], l[3]
        );
    };
    row("no merge", &quiet);
    row("during a merge", &busy);
    println!(
        "| ratio | {:.2} × | **{:.2} ×** | {:.2} × | **{:.2} ×** |",
        busy[0].as_secs_f64() / quiet[0].as_secs_f64(),
        busy[1].as_secs_f64() / quiet[1].as_secs_f64(),
        busy[2].as_secs_f64() / quiet[2].as_secs_f64(),
        busy[3].as_secs_f64() / quiet[3].as_secs_f64(),
    );
    store.close().unwrap();
}
