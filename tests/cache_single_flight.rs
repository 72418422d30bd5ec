//! Single-flight: concurrent misses on one key run the loader once; its value, or its
//! error, goes to every waiter; an error caches nothing.

mod cache_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cache_support::{CountingBackend, TestStore};
use keg::cache::{Cache, CacheError, CacheOptions, LoadError};

const CALLERS: u64 = 100;
const TTL: Duration = Duration::from_secs(60);

/// Waits (bounded) until `callers` misses are counted: the cache counts a miss after the
/// caller has joined the key's flight, so all of them are then waiting for this load.
fn until_all_missed(backend: &CountingBackend, callers: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while backend.misses() < callers {
        assert!(
            Instant::now() < deadline,
            "callers did not all miss in time"
        );
        std::thread::yield_now();
    }
}

#[test]
fn one_hundred_concurrent_misses_run_the_loader_once() {
    let t = TestStore::new();
    let backend = CountingBackend::new(t.store.clone());
    let cache = CacheOptions::new().build(backend.clone()).unwrap();
    let loads = AtomicU64::new(0);
    let start = Barrier::new(CALLERS as usize);
    let values: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    cache
                        .get_or_load(b"user:42:dashboard", TTL, || {
                            loads.fetch_add(1, Ordering::SeqCst);
                            // Hold the load until every caller waits for it.
                            until_all_missed(&backend, CALLERS);
                            Ok::<_, LoadError>(b"the dashboard".to_vec())
                        })
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert!(values.iter().all(|v| v == b"the dashboard"));
    let stats = cache.stats().unwrap();
    assert_eq!((stats.misses, stats.loads, stats.hits), (CALLERS, 1, 0));
    // The value is cached: the next read is a hit.
    let again = cache
        .get_or_load(b"user:42:dashboard", TTL, || {
            Err(LoadError::msg("not called"))
        })
        .unwrap();
    assert_eq!(again, b"the dashboard");
    assert_eq!(cache.stats().unwrap().hits, 1);
}

#[test]
fn a_loader_error_reaches_every_waiter_and_caches_nothing() {
    let t = TestStore::new();
    let backend = CountingBackend::new(t.store.clone());
    let cache = Cache::new(backend.clone());
    let loads = AtomicU64::new(0);
    let start = Barrier::new(CALLERS as usize);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    cache.get_or_load(b"report", TTL, || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        until_all_missed(&backend, CALLERS);
                        Err(std::io::Error::other("database is down"))
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    for result in &results {
        match result {
            Err(CacheError::Load(e)) => assert_eq!(e.to_string(), "database is down"),
            other => panic!("expected the loader's error, got {other:?}"),
        }
    }
    let stats = cache.stats().unwrap();
    assert_eq!((stats.loads, stats.load_errors), (1, 1));
    // Nothing was cached: the next read loads again, and succeeds.
    assert_eq!(t.store.keys().iter().filter(|k| k == &b"report").count(), 0);
    let value = cache
        .get_or_load(b"report", TTL, || Ok::<_, LoadError>(b"ok".to_vec()))
        .unwrap();
    assert_eq!(value, b"ok");
    assert_eq!(cache.stats().unwrap().loads, 2);
}

#[test]
fn a_panicking_loader_fails_its_waiters_instead_of_stranding_them() {
    let t = TestStore::new();
    let backend = CountingBackend::new(t.store.clone());
    let cache = Arc::new(Cache::new(backend.clone()));
    let start = Arc::new(Barrier::new(2));
    let leader = {
        let (cache, backend, start) = (Arc::clone(&cache), backend.clone(), Arc::clone(&start));
        std::thread::spawn(move || {
            let _ = cache.get_or_load(b"k", TTL, || -> Result<Vec<u8>, LoadError> {
                start.wait();
                until_all_missed(&backend, 2);
                panic!("loader bug");
            });
        })
    };
    start.wait();
    let follower = cache.get_or_load(b"k", TTL, || Ok::<_, LoadError>(b"late".to_vec()));
    assert!(
        leader.join().is_err(),
        "the leader's panic propagates to it"
    );
    match follower {
        Err(CacheError::Load(e)) => assert!(e.to_string().contains("abandoned"), "{e}"),
        // The follower may also have arrived after the flight ended and loaded itself.
        Ok(v) => assert_eq!(v, b"late"),
        Err(other) => panic!("{other}"),
    }
}
