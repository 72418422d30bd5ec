//! Helpers for the cache tests: a store on a manual clock, a counting backend, and a
//! stand-in "database" whose every commit gets a generation number.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keg::cache::CacheBackend;
use keg::{ManualClock, Options, Store, SyncPolicy};

/// A plausible "now": 2023-11-14.
pub const T0: u64 = 1_700_000_000_000;

/// A temporary store on a manual clock, without background threads.
pub struct TestStore {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub store: Store,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let store = Options::new()
            .sync_policy(SyncPolicy::Never)
            .clock(Arc::clone(&clock) as Arc<dyn keg::Clock>)
            .expiry_cycle_interval(Duration::ZERO)
            .open(dir.path())
            .unwrap();
        TestStore { dir, clock, store }
    }

    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    pub fn now(&self) -> u64 {
        self.store.now_ms()
    }
}

/// A backend that counts GETs and increments of the misses counter (to know when
/// concurrent callers have all missed).
#[derive(Clone)]
pub struct CountingBackend {
    pub store: Store,
    pub gets: Arc<AtomicU64>,
    pub misses: Arc<AtomicU64>,
}

impl CountingBackend {
    pub fn new(store: Store) -> CountingBackend {
        CountingBackend {
            store,
            gets: Arc::new(AtomicU64::new(0)),
            misses: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::SeqCst)
    }
}

impl CacheBackend for CountingBackend {
    type Error = keg::Error;

    fn get(&self, key: &[u8]) -> keg::Result<Option<Vec<u8>>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.store.get(key)
    }
    fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> keg::Result<()> {
        self.store.set_with_ttl(key, value, ttl)
    }
    fn delete(&self, key: &[u8]) -> keg::Result<bool> {
        self.store.delete(key)
    }
    fn incr_by(&self, key: &[u8], delta: i64) -> keg::Result<i64> {
        let result = self.store.incr_by(key, delta);
        if key.ends_with(b"misses") {
            self.misses.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    fn expire(&self, key: &[u8], ttl: Duration) -> keg::Result<bool> {
        self.store.expire(key, ttl)
    }
    fn now_ms(&self) -> keg::Result<u64> {
        Ok(self.store.now_ms())
    }
}

/// A stand-in database: one row whose every committed change has the next generation
/// number, with the clock time of each commit.
#[derive(Default)]
pub struct Db {
    /// (generation, commit time in ms) of every commit, in order; generation 0 at start.
    commits: Mutex<Vec<(u64, u64)>>,
}

impl Db {
    pub fn new(now_ms: u64) -> Db {
        Db {
            commits: Mutex::new(vec![(0, now_ms)]),
        }
    }

    /// Commits a change at `now_ms`; returns its generation.
    pub fn commit(&self, now_ms: u64) -> u64 {
        let mut commits = self.commits.lock().unwrap();
        let generation = commits.len() as u64;
        commits.push((generation, now_ms));
        generation
    }

    /// The current generation (what a query returns).
    pub fn query(&self) -> u64 {
        self.commits.lock().unwrap().len() as u64 - 1
    }

    /// When generation `g` was superseded by the next commit, if it was.
    pub fn superseded_at(&self, g: u64) -> Option<u64> {
        self.commits
            .lock()
            .unwrap()
            .get(g as usize + 1)
            .map(|&(_, at)| at)
    }
}

/// A generation as a cached value.
pub fn encode(g: u64) -> Vec<u8> {
    g.to_string().into_bytes()
}

/// A cached value back to its generation.
pub fn decode(v: &[u8]) -> u64 {
    std::str::from_utf8(v).unwrap().parse().unwrap()
}

/// A minimal seedable generator for test schedules.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
