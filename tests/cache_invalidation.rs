//! Each invalidation strategy's staleness property, against a stand-in database whose
//! commits are numbered (a "generation"): a read is stale when it returns a generation
//! older than one the database had already committed.
//!
//! - TTL only: staleness is bounded by the TTL.
//! - delete-on-write and write-through: a read after the write is fresh when no load
//!   overlaps the write; a load that overlaps it can leave an old value, until its TTL.
//! - versioned keys: a read that starts after a write's version bump is never stale, in
//!   any interleaving.

mod cache_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_support::{Db, Rng, TestStore, decode, encode};
use keg::cache::{Cache, CacheOptions, LoadError};

const TTL_MS: u64 = 1000;
const TTL: Duration = Duration::from_millis(TTL_MS);

#[derive(Clone, Copy, Debug)]
enum Strategy {
    DeleteOnWrite,
    WriteThrough,
    Versioned,
}

/// A write to the database, then the strategy's cache update.
fn write(cache: &Cache<keg::Store>, db: &Db, strategy: Strategy, now: u64) -> u64 {
    let generation = db.commit(now);
    match strategy {
        Strategy::DeleteOnWrite => {
            cache.invalidate(b"dashboard").unwrap();
        }
        Strategy::WriteThrough => cache.put(b"dashboard", &encode(generation), TTL).unwrap(),
        Strategy::Versioned => {
            cache.bump_version(b"user:42").unwrap();
        }
    }
    generation
}

/// A read through the cache with the strategy's key.
fn read(cache: &Cache<keg::Store>, db: &Db, strategy: Strategy) -> u64 {
    let load = || Ok::<_, LoadError>(encode(db.query()));
    let value = match strategy {
        Strategy::Versioned => cache.get_or_load_versioned(b"user:42", b"dashboard", TTL, load),
        _ => cache.get_or_load(b"dashboard", TTL, load),
    };
    decode(&value.unwrap())
}

#[test]
fn without_overlapping_loads_every_strategy_reads_its_writes() {
    for strategy in [
        Strategy::DeleteOnWrite,
        Strategy::WriteThrough,
        Strategy::Versioned,
    ] {
        let t = TestStore::new();
        let cache = Cache::new(t.store.clone());
        let db = Db::new(t.now());
        let mut rng = Rng(11);
        for _ in 0..500 {
            t.advance_ms(rng.below(300));
            if rng.below(4) == 0 {
                write(&cache, &db, strategy, t.now());
            } else {
                assert_eq!(read(&cache, &db, strategy), db.query(), "{strategy:?}");
            }
        }
        assert!(
            cache.stats().unwrap().hits > 0,
            "{strategy:?}: the cache was used"
        );
    }
}

#[test]
fn ttl_only_staleness_is_bounded_by_the_ttl() {
    let t = TestStore::new();
    let cache = CacheOptions::new()
        .ttl_jitter(0.3)
        .seed(5)
        .build(t.store.clone())
        .unwrap();
    let db = Db::new(t.now());
    let mut rng = Rng(99);
    let (mut stale_reads, mut worst) = (0, 0);
    for _ in 0..3000 {
        t.advance_ms(rng.below(200));
        if rng.below(10) < 3 {
            db.commit(t.now()); // and nothing else: TTL only
            continue;
        }
        let load_ms = rng.below(150);
        let value = cache
            .get_or_load(b"dashboard", TTL, || {
                // The query sees the database as it is when it starts, then takes time.
                let generation = db.query();
                t.advance_ms(load_ms);
                Ok::<_, LoadError>(encode(generation))
            })
            .unwrap();
        let now = t.now();
        if let Some(superseded) = db.superseded_at(decode(&value)) {
            let staleness = now - superseded;
            assert!(staleness < TTL_MS, "stale for {staleness} ms");
            stale_reads += 1;
            worst = worst.max(staleness);
        }
    }
    // The bound is approached, so the check above has something to check.
    assert!(stale_reads > 100, "{stale_reads}");
    assert!(worst > TTL_MS / 2, "{worst}");
}

/// The race that defeats delete-on-write: a reader's query runs before a commit, the
/// writer deletes the key, then the reader stores its old result.
#[test]
fn a_load_overlapping_a_write_leaves_delete_on_write_stale_until_the_ttl() {
    let t = TestStore::new();
    let cache = Cache::new(t.store.clone());
    let db = Db::new(t.now());
    let slow_reader = cache
        .get_or_load(b"dashboard", TTL, || {
            let before = db.query();
            write(&cache, &db, Strategy::DeleteOnWrite, t.now());
            Ok::<_, LoadError>(encode(before))
        })
        .unwrap();
    assert_eq!(decode(&slow_reader), 0);
    assert_eq!(read(&cache, &db, Strategy::DeleteOnWrite), 0, "stale");
    t.advance_ms(TTL_MS);
    assert_eq!(
        read(&cache, &db, Strategy::DeleteOnWrite),
        1,
        "fresh after the TTL"
    );
}

/// Write-through suffers the same race, and writers can also store out of order.
#[test]
fn write_through_writers_out_of_order_leave_it_stale_until_the_ttl() {
    let t = TestStore::new();
    let cache = Cache::new(t.store.clone());
    let db = Db::new(t.now());
    let first = db.commit(t.now());
    // A second writer commits and writes through before the first one does.
    write(&cache, &db, Strategy::WriteThrough, t.now());
    cache.put(b"dashboard", &encode(first), TTL).unwrap();
    assert_eq!(read(&cache, &db, Strategy::WriteThrough), first, "stale");
    t.advance_ms(TTL_MS);
    assert_eq!(read(&cache, &db, Strategy::WriteThrough), db.query());
}

/// The same overlapping load under versioned keys: the reader read the version before
/// its query, so its old result lands under the old version.
#[test]
fn a_load_overlapping_a_write_cannot_make_versioned_keys_stale() {
    let t = TestStore::new();
    let cache = Cache::new(t.store.clone());
    let db = Db::new(t.now());
    let slow_reader = cache
        .get_or_load_versioned(b"user:42", b"dashboard", TTL, || {
            let before = db.query();
            write(&cache, &db, Strategy::Versioned, t.now());
            Ok::<_, LoadError>(encode(before))
        })
        .unwrap();
    assert_eq!(decode(&slow_reader), 0, "it began before the write");
    assert_eq!(read(&cache, &db, Strategy::Versioned), 1, "fresh at once");
}

#[test]
fn versioned_keys_serve_no_stale_read_in_random_interleavings() {
    for seed in 0..4u64 {
        let t = TestStore::new();
        let cache = Cache::new(t.store.clone());
        let db = Db::new(t.now());
        // The newest generation whose version bump has completed.
        let published = AtomicU64::new(0);
        let writer_done = AtomicBool::new(false);
        let reads_done = AtomicU64::new(0);
        std::thread::scope(|s| {
            for reader in 0..3u64 {
                let (cache, db, published, reads_done, writer_done) =
                    (&cache, &db, &published, &reads_done, &writer_done);
                s.spawn(move || {
                    let mut rng = Rng(seed * 100 + reader);
                    // At least 1,500 reads, and on until the writer is done (so that the
                    // two interleave however the threads are scheduled), within bounds.
                    let deadline = Instant::now() + Duration::from_secs(30);
                    let mut reads = 0;
                    while reads < 1500
                        || !writer_done.load(Ordering::SeqCst)
                            && reads < 1_000_000
                            && Instant::now() < deadline
                    {
                        reads += 1;
                        let floor = published.load(Ordering::SeqCst);
                        let pause = rng.below(4);
                        let value = cache
                            .get_or_load_versioned(b"user:42", b"dashboard", TTL, || {
                                let generation = db.query();
                                // A slow query: let writers run in between.
                                for _ in 0..pause * 20 {
                                    std::thread::yield_now();
                                }
                                Ok::<_, LoadError>(encode(generation))
                            })
                            .unwrap();
                        let got = decode(&value);
                        assert!(
                            got >= floor,
                            "stale read: {got} after {floor} was published"
                        );
                        reads_done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            let (cache, db, published, writer_done) = (&cache, &db, &published, &writer_done);
            s.spawn(move || {
                let mut rng = Rng(seed);
                for _ in 0..300 {
                    for _ in 0..rng.below(50) {
                        std::thread::yield_now();
                    }
                    let generation = write(cache, db, Strategy::Versioned, 0);
                    published.store(generation, Ordering::SeqCst);
                }
                writer_done.store(true, Ordering::SeqCst);
            });
        });
        assert!(reads_done.load(Ordering::Relaxed) >= 4500);
        let stats = cache.stats().unwrap();
        assert!(stats.hits > 0 && stats.loads > 1, "seed {seed}: {stats:?}");
    }
}
