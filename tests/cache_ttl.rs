//! TTLs, jitter, stale-while-revalidate and early refresh, on a manual clock: time is
//! moved, never waited for.

mod cache_support;

use std::cell::Cell;
use std::sync::mpsc;
use std::time::Duration;

use cache_support::TestStore;
use keg::cache::{Cache, CacheOptions, LoadError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A loader returning `value` and counting its runs in `loads`.
fn loader<'a>(
    loads: &'a Cell<u32>,
    value: &'a [u8],
) -> impl FnOnce() -> Result<Vec<u8>, LoadError> + 'a {
    move || {
        loads.set(loads.get() + 1);
        Ok(value.to_vec())
    }
}

#[test]
fn a_value_is_served_until_its_ttl_and_loaded_again_after() {
    let t = TestStore::new();
    let cache = Cache::new(t.store.clone());
    let loads = Cell::new(0);
    let ttl = ms(1000);
    assert_eq!(
        cache.get_or_load(b"k", ttl, loader(&loads, b"v1")).unwrap(),
        b"v1"
    );
    t.advance_ms(999);
    assert_eq!(
        cache.get_or_load(b"k", ttl, loader(&loads, b"v2")).unwrap(),
        b"v1"
    );
    assert_eq!(loads.get(), 1);
    t.advance_ms(1);
    assert_eq!(
        cache.get_or_load(b"k", ttl, loader(&loads, b"v2")).unwrap(),
        b"v2"
    );
    assert_eq!(loads.get(), 2);
    // The store's own TTL drops the key at the same moment.
    t.advance_ms(1000);
    assert!(!t.store.contains(b"k"));
    let stats = cache.stats().unwrap();
    assert_eq!((stats.hits, stats.misses, stats.loads), (1, 2, 2));
}

#[test]
fn the_ttl_counts_from_the_start_of_the_load() {
    let t = TestStore::new();
    let cache = Cache::new(t.store.clone());
    // A load that takes 300 ms of (manual) time, with a 1 s TTL: fresh for 700 ms more.
    let slow = || {
        t.advance_ms(300);
        Ok::<_, LoadError>(b"v".to_vec())
    };
    cache.get_or_load(b"k", ms(1000), slow).unwrap();
    t.advance_ms(699);
    assert!(t.store.contains(b"k"));
    t.advance_ms(1);
    assert!(!t.store.contains(b"k"));
    // A load slower than the TTL returns its value but does not cache it.
    let slower = || {
        t.advance_ms(1500);
        Ok::<_, LoadError>(b"late".to_vec())
    };
    assert_eq!(cache.get_or_load(b"k", ms(1000), slower).unwrap(), b"late");
    assert!(!t.store.contains(b"k"));
}

#[test]
fn jitter_only_shortens_ttls_and_spreads_them() {
    let t = TestStore::new();
    let cache = CacheOptions::new()
        .ttl_jitter(0.2)
        .seed(7)
        .build(t.store.clone())
        .unwrap();
    let mut expiries = Vec::new();
    for i in 0..50u32 {
        let key = format!("k{i}");
        cache
            .get_or_load(key.as_bytes(), ms(10_000), || Ok::<_, LoadError>(vec![1]))
            .unwrap();
        let at = t.store.expires_at(key.as_bytes()).unwrap().unwrap();
        expiries.push(at - t.now());
    }
    assert!(
        expiries.iter().all(|&ttl| (8_000..=10_000).contains(&ttl)),
        "{expiries:?}"
    );
    let distinct: std::collections::BTreeSet<_> = expiries.iter().collect();
    assert!(distinct.len() > 40, "TTLs are spread: {distinct:?}");
}

#[test]
fn invalid_options_are_rejected() {
    let t = TestStore::new();
    for options in [
        CacheOptions::new().ttl_jitter(1.0),
        CacheOptions::new().ttl_jitter(-0.1),
        CacheOptions::new().early_refresh(-1.0),
        CacheOptions::new().early_refresh(f64::NAN),
    ] {
        assert!(options.build(t.store.clone()).is_err());
    }
}

#[test]
fn stale_values_are_served_while_one_caller_revalidates() {
    let t = TestStore::new();
    let cache = &CacheOptions::new()
        .stale_while_revalidate(ms(5000))
        .build(t.store.clone())
        .unwrap();
    cache
        .get_or_load(b"k", ms(1000), || Ok::<_, LoadError>(b"old".to_vec()))
        .unwrap();
    t.advance_ms(1500); // past the TTL, within the grace
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let refresher = s.spawn(move || {
            cache.get_or_load(b"k", ms(1000), || {
                entered_tx.send(()).unwrap();
                release_rx.recv_timeout(Duration::from_secs(20)).unwrap();
                Ok::<_, LoadError>(b"new".to_vec())
            })
        });
        entered_rx.recv_timeout(Duration::from_secs(20)).unwrap();
        // Meanwhile: answered at once with the stale value.
        let meanwhile = cache
            .get_or_load(b"k", ms(1000), || Err(LoadError::msg("must not load")))
            .unwrap();
        assert_eq!(meanwhile, b"old");
        release_tx.send(()).unwrap();
        assert_eq!(refresher.join().unwrap().unwrap(), b"new");
    });
    let after = cache
        .get_or_load(b"k", ms(1000), || Err(LoadError::msg("must not load")))
        .unwrap();
    assert_eq!(after, b"new");
    let stats = cache.stats().unwrap();
    assert_eq!(
        (stats.stale_serves, stats.refreshes, stats.loads),
        (1, 1, 2)
    );
    // Past the grace, the value is gone: a plain miss.
    t.advance_ms(6001);
    assert!(!t.store.contains(b"k"));
}

/// Reads `key` once per `step` ms from `from` ms after caching until the value is
/// reloaded; returns how long before expiry (ms) that happened, or `None` if it never
/// did before the TTL ended.
fn time_left_at_refresh(beta: f64, seed: u64) -> Option<u64> {
    let t = TestStore::new();
    let cache = CacheOptions::new()
        .early_refresh(beta)
        .seed(seed)
        .build(t.store.clone())
        .unwrap();
    let ttl = 10_000;
    // The load takes 1 s of clock time: XFetch's delta.
    let clock = &t;
    let load = |v: &'static [u8]| {
        move || {
            let t = clock;
            t.advance_ms(1000);
            Ok::<_, LoadError>(v.to_vec())
        }
    };
    let started = t.now();
    cache.get_or_load(b"k", ms(ttl), load(b"first")).unwrap();
    let expiry = started + ttl;
    while t.now() + 10 < expiry {
        t.advance_ms(10);
        let value = cache
            .get_or_load(b"k", ms(ttl), load(b"refreshed"))
            .unwrap();
        if value == b"refreshed" {
            return Some(expiry - (t.now() - 1000));
        }
    }
    None
}

#[test]
fn early_refresh_reloads_before_expiry_with_a_seeded_draw() {
    // With beta 1 and a 1 s load, a refresh happens in the last few seconds before
    // expiry, never at a miss: P(refresh) = exp(-time_left / 1 s) per read.
    let mut lefts = Vec::new();
    for seed in 0..20 {
        let left = time_left_at_refresh(1.0, seed).expect("refreshed before expiry");
        assert!(
            left > 0 && left < 9000,
            "seed {seed}: {left} ms before expiry"
        );
        lefts.push(left);
    }
    // Same seed, same moment.
    assert_eq!(time_left_at_refresh(1.0, 3), time_left_at_refresh(1.0, 3));
    // A larger beta refreshes earlier on average.
    let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len() as f64;
    let eager: Vec<u64> = (0..20)
        .filter_map(|s| time_left_at_refresh(4.0, s))
        .collect();
    assert_eq!(eager.len(), 20);
    assert!(mean(&eager) > mean(&lefts), "{eager:?} vs {lefts:?}");
    // Off: never early.
    assert_eq!(time_left_at_refresh(0.0, 1), None);
}
