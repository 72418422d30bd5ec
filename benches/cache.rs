//! The cache's own costs on an embedded store (SyncPolicy::Never, as a cache runs):
//! a hit with and without counters, a versioned hit, a miss that loads and stores, and a
//! rate-limit check.
//!
//! ```text
//! cargo bench --bench cache
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use keg::cache::{Cache, CacheOptions, FixedWindow, LoadError, SlidingWindow};
use keg::{Options, Store, SyncPolicy};

const TTL: Duration = Duration::from_secs(3600);

fn value() -> Result<Vec<u8>, LoadError> {
    Ok(vec![b'v'; 512])
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store: Store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir.path())
        .unwrap();
    let cache = Cache::new(store.clone());
    let quiet = CacheOptions::new()
        .without_stats()
        .build(store.clone())
        .unwrap();
    cache.get_or_load(b"user:42:dashboard", TTL, value).unwrap();
    cache
        .get_or_load_versioned(b"user:42", b"dashboard", TTL, value)
        .unwrap();

    c.bench_function("cache/hit, 512B, counters on", |b| {
        b.iter(|| cache.get_or_load(b"user:42:dashboard", TTL, value).unwrap())
    });
    c.bench_function("cache/hit, 512B, counters off", |b| {
        b.iter(|| quiet.get_or_load(b"user:42:dashboard", TTL, value).unwrap())
    });
    c.bench_function("cache/versioned hit, 512B", |b| {
        b.iter(|| {
            cache
                .get_or_load_versioned(b"user:42", b"dashboard", TTL, value)
                .unwrap()
        })
    });
    c.bench_function("cache/invalidate + miss + load + store, 512B", |b| {
        b.iter(|| {
            cache.invalidate(b"user:7:dashboard").unwrap();
            cache.get_or_load(b"user:7:dashboard", TTL, value).unwrap()
        })
    });
    let fixed = FixedWindow::new("bench", u64::MAX, Duration::from_secs(1)).unwrap();
    c.bench_function("rate_limit/fixed window check", |b| {
        b.iter(|| fixed.check(&store, b"client").unwrap())
    });
    let sliding = SlidingWindow::new("bench", u64::MAX / 4, Duration::from_secs(1)).unwrap();
    c.bench_function("rate_limit/sliding window check", |b| {
        b.iter(|| sliding.check(&store, b"client").unwrap())
    });
}

criterion_group! {
    name = cache;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(cache);
