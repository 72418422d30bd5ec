//! Many threads writing and reading disjoint and shared keys: no lost writes, and a read
//! never sees a torn or mixed value.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use keg::{Options, Store, SyncPolicy};

const THREADS: usize = 8;
const WRITES: usize = 500;

/// A value that proves its own integrity: the writer id and sequence repeated to `len`.
fn value(writer: usize, n: usize, len: usize) -> Vec<u8> {
    let unit = format!("{writer:02}:{n:06};");
    unit.repeat(len / unit.len() + 1).into_bytes()[..len].to_vec()
}

fn is_whole(v: &[u8]) -> bool {
    let unit = &v[..10.min(v.len())];
    v.chunks(10).all(|c| c == &unit[..c.len()])
}

fn run(store: Store) {
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) || reads == 0 {
                    for shared in 0..4 {
                        if let Some(v) = store.get(format!("shared-{shared}").as_bytes()).unwrap() {
                            assert!(is_whole(&v), "torn value {:?}", String::from_utf8_lossy(&v));
                        }
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();

    let writers: Vec<_> = (0..THREADS)
        .map(|w| {
            let store = store.clone();
            thread::spawn(move || {
                for n in 0..WRITES {
                    store
                        .set(format!("own-{w}-{n}").as_bytes(), &value(w, n, 64))
                        .unwrap();
                    let len = 10 + (n * 37) % 3000;
                    store
                        .set(format!("shared-{}", n % 4).as_bytes(), &value(w, n, len))
                        .unwrap();
                    if n % 10 == 0 {
                        assert!(
                            store
                                .delete(format!("own-{w}-{}", n / 2).as_bytes())
                                .is_ok()
                        );
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }

    let check = |store: &Store| {
        for w in 0..THREADS {
            let deleted: std::collections::HashSet<usize> =
                (0..WRITES).filter(|n| n % 10 == 0).map(|n| n / 2).collect();
            for n in 0..WRITES {
                let got = store.get(format!("own-{w}-{n}").as_bytes()).unwrap();
                if deleted.contains(&n) {
                    assert_eq!(got, None, "own-{w}-{n}");
                } else {
                    assert_eq!(got, Some(value(w, n, 64)), "own-{w}-{n}");
                }
            }
        }
        for shared in 0..4 {
            let v = store
                .get(format!("shared-{shared}").as_bytes())
                .unwrap()
                .unwrap();
            assert!(is_whole(&v));
        }
    };
    check(&store);
    let dir = store.path().to_path_buf();
    drop(store);
    check(&common::open_fast(&dir));
}

#[test]
fn threads_write_and_read_without_losses_or_torn_values() {
    let dir = tempfile::tempdir().unwrap();
    run(common::fast_options()
        .max_segment_size(64 * 1024)
        .open(dir.path())
        .unwrap());
}

#[test]
fn same_with_pread_instead_of_mmap() {
    let dir = tempfile::tempdir().unwrap();
    run(common::fast_options()
        .max_segment_size(64 * 1024)
        .use_mmap(false)
        .open(dir.path())
        .unwrap());
}

#[test]
fn group_commit_shares_fsyncs_between_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Options::new()
        .sync_policy(SyncPolicy::Always)
        .open(dir.path())
        .unwrap();
    let per_thread = 50;
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                for i in 0..per_thread {
                    store
                        .set(format!("{t}-{i}").as_bytes(), b"durable")
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let writes = 16 * per_thread as u64;
    let fsyncs = store.stats().fsyncs;
    assert!(fsyncs >= 1);
    // Every write was fsynced before it returned, yet the writers shared fsyncs. With 16
    // writers queued behind each fsync, far fewer fsyncs than writes are needed.
    assert!(
        fsyncs < writes / 2,
        "{fsyncs} fsyncs for {writes} writes: no group commit"
    );
    assert_eq!(store.len(), writes as usize);
}

#[test]
fn concurrent_deletes_of_one_key_report_exactly_one_deletion() {
    // Combined appends decide each delete against the jobs before it in the same batch.
    for policy in [SyncPolicy::Always, SyncPolicy::Never] {
        let dir = tempfile::tempdir().unwrap();
        let store = Options::new().sync_policy(policy).open(dir.path()).unwrap();
        for round in 0..20u32 {
            let key = format!("contested-{round}");
            store.set(key.as_bytes(), b"v").unwrap();
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let deleted: usize = (0..8)
                .map(|_| {
                    let (store, key, barrier) = (store.clone(), key.clone(), Arc::clone(&barrier));
                    thread::spawn(move || {
                        barrier.wait();
                        store.delete(key.as_bytes()).unwrap()
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum();
            assert_eq!(deleted, 1, "round {round} under {policy:?}");
            assert!(!store.contains(key.as_bytes()));
        }
        let dir_path = store.path().to_path_buf();
        drop(store);
        assert!(common::open_fast(&dir_path).is_empty());
    }
}

/// A collection read from another thread sees each write whole: `hgetall` once could see
/// one field of an `hset_many` updated and the other not, and `lrange` one of two pushed
/// elements, because a commit pointed the index at its records one at a time.
#[test]
fn a_collection_read_sees_each_write_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store
        .hset_many(b"h", &[(b"f1", b"0"), (b"f2", b"0")])
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), Arc::clone(&done));
        thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Acquire) && reads < 200_000 {
                let fields = store.hgetall(b"h").unwrap();
                assert_eq!(fields.len(), 2);
                assert_eq!(fields[0].1, fields[1].1, "{fields:?}");
                let list = store.lrange(b"l", 0, -1).unwrap();
                assert!(list.len().is_multiple_of(2), "{list:?}");
                reads += 1;
            }
        })
    };
    for n in 1..=2_000 {
        let n = n.to_string();
        store
            .hset_many(b"h", &[(b"f1", n.as_bytes()), (b"f2", n.as_bytes())])
            .unwrap();
        store.rpush(b"l", &[b"x", b"y"]).unwrap();
        assert_eq!(store.lpop(b"l", 2).unwrap().len(), 2);
    }
    done.store(true, Ordering::Release);
    reader.join().unwrap();
}
