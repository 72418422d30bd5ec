//! Atomic operations under contention: counters lose no increment, compare-and-swap loops
//! lose no update, and `set_nx` has exactly one winner, under both durability extremes.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use keg::{Options, Store, SyncPolicy};

const THREADS: usize = 8;

fn open(policy: SyncPolicy) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Options::new().sync_policy(policy).open(dir.path()).unwrap();
    (dir, store)
}

fn stores() -> Vec<(tempfile::TempDir, Store)> {
    vec![open(SyncPolicy::Never), open(SyncPolicy::Always)]
}

fn on_threads(store: &Store, f: impl Fn(Store, usize) + Send + Sync + Clone + 'static) {
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, f, barrier) = (store.clone(), f.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                f(store, t);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn count_to(policy: SyncPolicy, per_thread: i64) {
    let (_dir, store) = open(policy);
    on_threads(&store, move |store, _| {
        for _ in 0..per_thread {
            store.incr(b"counter").unwrap();
        }
    });
    let want = per_thread * THREADS as i64;
    assert_eq!(
        store.get(b"counter").unwrap(),
        Some(want.to_string().into_bytes())
    );
    let path = store.path().to_path_buf();
    drop(store);
    let reopened = common::open_fast(&path);
    assert_eq!(reopened.incr_by(b"counter", 0).unwrap(), want);
}

#[test]
fn eight_threads_times_ten_thousand_increments_make_eighty_thousand() {
    count_to(SyncPolicy::Never, 10_000);
}

#[test]
fn durable_increments_from_eight_threads_are_exact_too() {
    // Every increment waits for an fsync (shared by the group): fewer rounds, same rule.
    count_to(SyncPolicy::Always, 500);
}

#[test]
fn compare_and_swap_loops_lose_no_update() {
    let (_dir, store) = open(SyncPolicy::Never);
    store.set(b"n", b"0").unwrap();
    on_threads(&store, |store, _| {
        for _ in 0..2_000 {
            loop {
                let current = store.get(b"n").unwrap().unwrap();
                let n: u64 = std::str::from_utf8(&current).unwrap().parse().unwrap();
                let next = (n + 1).to_string();
                if store
                    .compare_and_swap(b"n", Some(&current), Some(next.as_bytes()))
                    .unwrap()
                {
                    break;
                }
            }
        }
    });
    assert_eq!(store.get(b"n").unwrap(), Some(b"16000".to_vec()));
}

#[test]
fn set_nx_from_many_threads_has_exactly_one_winner() {
    for (_dir, store) in stores() {
        for round in 0..20 {
            let key = format!("lock-{round}");
            let winners = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let w = Arc::clone(&winners);
            on_threads(&store, move |store, t| {
                if store
                    .set_nx(key.as_bytes(), t.to_string().as_bytes())
                    .unwrap()
                {
                    w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
            assert_eq!(
                winners.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "round {round}"
            );
        }
    }
}

#[test]
fn appends_from_many_threads_all_land() {
    let (_dir, store) = open(SyncPolicy::Never);
    on_threads(&store, |store, t| {
        for _ in 0..500 {
            store.append(b"log", &[b'a' + t as u8]).unwrap();
        }
    });
    let log = store.get(b"log").unwrap().unwrap();
    assert_eq!(log.len(), 500 * THREADS);
    for t in 0..THREADS {
        assert_eq!(log.iter().filter(|&&c| c == b'a' + t as u8).count(), 500);
    }
}
