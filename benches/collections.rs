//! Memory per element and open time of the collection types (the data-types issue asks
//! for bytes of RAM per element at 1M elements): one collection of each type with
//! `KEG_BENCH_ELEMENTS` members (default 1,000,000; members `member:NNNNNNN`, 16 bytes;
//! hash values and list elements 16 bytes), built in batches, then reopened.
//!
//! ```text
//! cargo bench --bench collections
//! ```
//!
//! Reported: `Stats::element_bytes_per_element` (the store's own estimate) and the growth
//! of the process's anonymous resident memory per element (RssAnon, measured around a
//! reopen, so only the rebuilt indexes count), the time to reopen, and reads of many
//! elements at once after it (HMGET and HGETALL of the hash, LRANGE and LPOS of the list). Each
//! type is built in one process and reopened in another (this binary again, with
//! `KEG_BENCH_TYPE` and `KEG_BENCH_DIR`), so that memory freed by building cannot hide
//! what the reopen takes.

use std::time::{Duration, Instant};

use keg::{MergePolicy, Options, Store, SyncPolicy};

fn rss_anon() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn open(dir: &std::path::Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap()
}

fn member(i: u64) -> Vec<u8> {
    format!("member:{i:09}").into_bytes()
}

fn main() {
    let n: u64 = std::env::var("KEG_BENCH_ELEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (Ok(ty), Ok(dir)) = (
        std::env::var("KEG_BENCH_TYPE"),
        std::env::var("KEG_BENCH_DIR"),
    ) else {
        println!(
            "| type | elements | stats() bytes/element | RssAnon bytes/element | reopen | reads after the reopen |"
        );
        println!("|---|---:|---:|---:|---:|---|");
        for ty in ["hash", "set", "list", "zset"] {
            let dir = tempfile::tempdir().unwrap();
            for phase in ["build", "measure"] {
                let status = std::process::Command::new(std::env::current_exe().unwrap())
                    .env("KEG_BENCH_TYPE", ty)
                    .env("KEG_BENCH_DIR", dir.path())
                    .env("KEG_BENCH_PHASE", phase)
                    .status()
                    .unwrap();
                assert!(status.success(), "{ty} {phase}: {status}");
            }
        }
        return;
    };
    let (ty, dir) = (ty.as_str(), std::path::Path::new(&dir));
    if std::env::var("KEG_BENCH_PHASE").as_deref() == Ok("build") {
        build(dir, ty, n);
        return;
    }
    let before = rss_anon();
    let started = Instant::now();
    let store = open(dir);
    let reopen = started.elapsed();
    let after = rss_anon();
    let stats = store.stats();
    assert_eq!(stats.elements, n);
    println!(
        "| {ty} | {n} | {:.1} | {:.1} | {:.0} ms | {} |",
        stats.element_bytes_per_element,
        after.saturating_sub(before) as f64 / n as f64,
        reopen.as_secs_f64() * 1000.0,
        reads(&store, ty, n)
    );
}

/// Reads of many elements at once, after the reopen: HMGET of 100 random fields and one
/// HGETALL for the hash, LRANGE of 100 at a random place and a full LPOS scan for the list.
fn reads(store: &Store, ty: &str, n: u64) -> String {
    const ROUNDS: u32 = 2_000;
    // xorshift: the same places every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    match ty {
        "hash" => {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                let fields: Vec<Vec<u8>> = (0..100).map(|_| member(next())).collect();
                let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
                assert_eq!(store.hmget(b"h", &refs).unwrap().len(), 100);
            }
            let hmget = started.elapsed() / ROUNDS;
            let started = Instant::now();
            assert_eq!(store.hgetall(b"h").unwrap().len() as u64, n);
            let hgetall = started.elapsed();
            format!(
                "HMGET of 100 random fields {:.1} µs; HGETALL {:.0} ms",
                hmget.as_secs_f64() * 1e6,
                hgetall.as_secs_f64() * 1e3
            )
        }
        "list" => {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                let start = next().min(n - 100) as i64;
                assert_eq!(store.lrange(b"l", start, start + 99).unwrap().len(), 100);
            }
            let lrange = started.elapsed() / ROUNDS;
            // A value no element has: LPOS compares every element, from each end.
            let started = Instant::now();
            assert!(store.lpos(b"l", b"absent", 1, 0, 0).unwrap().is_empty());
            assert!(store.lpos(b"l", b"absent", -1, 0, 0).unwrap().is_empty());
            let lpos = started.elapsed() / 2;
            format!(
                "LRANGE of 100 at a random place {:.1} µs; LPOS of an absent value {:.0} ms",
                lrange.as_secs_f64() * 1e6,
                lpos.as_secs_f64() * 1e3
            )
        }
        _ => "—".to_string(),
    }
}

/// One collection of type `ty` with `n` members, then a merge (hint files for the reopen).
fn build(dir: &std::path::Path, ty: &str, n: u64) {
    let store = open(dir);
    let batch = 1000;
    for start in (0..n).step_by(batch) {
        let members: Vec<Vec<u8>> = (start..(start + batch as u64).min(n)).map(member).collect();
        let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
        match ty {
            "hash" => {
                let pairs: Vec<(&[u8], &[u8])> = refs.iter().map(|m| (*m, *m)).collect();
                store.hset_many(b"h", &pairs).unwrap();
            }
            "set" => {
                store.sadd(b"s", &refs).unwrap();
            }
            "list" => {
                store.rpush(b"l", &refs).unwrap();
            }
            _ => {
                let items: Vec<(f64, &[u8])> = refs
                    .iter()
                    .enumerate()
                    .map(|(i, m)| ((start + i as u64) as f64, *m))
                    .collect();
                store.zadd(b"z", &items).unwrap();
            }
        }
    }
    store.merge().unwrap();
    store.close().unwrap();
}
