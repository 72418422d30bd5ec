//! The background expiry cycle deletes expired keys nobody reads, and frees their memory.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keg::{ManualClock, Options, SyncPolicy};

#[test]
fn background_cycle_deletes_expired_keys_without_reads() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(clock.clone())
        .expiry_cycle_interval(Duration::from_millis(2))
        .open(dir.path())
        .unwrap();
    // Enough keys that every shard's freed arena space passes the compaction threshold.
    for i in 0..200_000u32 {
        let key = format!("session:{i}");
        if i % 2 == 0 {
            store
                .set_with_ttl(key.as_bytes(), b"v", Duration::from_secs(60))
                .unwrap();
        } else {
            store.set(key.as_bytes(), b"v").unwrap();
        }
    }
    let full = store.stats().index_bytes;
    clock.advance(Duration::from_secs(61));
    assert_eq!(store.len(), 100_000, "expired keys are invisible at once");

    // The thread works on its own; this only waits for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    // The cycle counts its deletions after they are published: wait for both figures.
    while store.stats().expired_keys_pending > 0 || store.stats().expired_keys_deleted < 100_000 {
        assert!(Instant::now() < deadline, "expiry cycle made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = store.stats();
    assert_eq!(stats.expired_keys_deleted, 100_000);
    assert_eq!(stats.keys, 100_000);
    assert!(
        stats.index_bytes < full * 3 / 4,
        "index memory not returned: {} of {full} bytes",
        stats.index_bytes
    );
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.len(), 100_000);
}

#[test]
fn an_expiry_cycle_interval_of_zero_turns_the_thread_off() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000));
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(clock.clone())
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir.path())
        .unwrap();
    store
        .set_with_ttl(b"k", b"v", Duration::from_millis(1))
        .unwrap();
    clock.advance(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(store.stats().expired_keys_pending, 1);
    assert_eq!(store.purge_expired().unwrap(), 1);
    assert_eq!(store.stats().expired_keys_pending, 0);
}
