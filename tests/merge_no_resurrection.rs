//! A merge may drop a tombstone only when no older record of its key can survive anywhere
//! on disk. Two ways a file can be on disk without being part of the store, each found
//! while building the crash suites and frozen here:
//!
//! - a segment retired by an earlier merge whose file is not deleted yet, because a reader
//!   still holds it;
//! - the output of a merge whose publication failed after its data file was renamed into
//!   place.
//!
//! In both, a later merge dropped the tombstone of a key whose old put was in that file;
//! after a crash (or any reopen, for the second) the key came back.

mod common;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use keg::{IoHook, IoOp, MergePolicy, Options, Store, SyncPolicy};

/// Blocks the first positioned read after `arm` until `release`, so that a reader holds
/// the segment it reads from.
#[derive(Default)]
struct StallRead {
    armed: AtomicBool,
    state: Mutex<(bool, bool)>, // (a reader is stalled, released)
    changed: Condvar,
}

impl StallRead {
    fn wait_until_stalled(&self) {
        let mut state = self.state.lock().unwrap();
        while !state.0 {
            state = self.changed.wait(state).unwrap();
        }
    }

    fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

impl IoHook for StallRead {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        if matches!(op, IoOp::Read { .. }) && self.armed.swap(false, Ordering::SeqCst) {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            self.changed.notify_all();
            while !state.1 {
                state = self.changed.wait(state).unwrap();
            }
        }
        Ok(())
    }
}

/// Fails the `n`-th rename from arming on (1-based), once.
#[derive(Default)]
struct FailRename {
    countdown: AtomicUsize,
}

impl IoHook for FailRename {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        if matches!(op, IoOp::Rename { .. })
            && self
                .countdown
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                == Ok(1)
        {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC
        }
        Ok(())
    }
}

fn options(hook: Arc<dyn IoHook>) -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .use_mmap(false)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .io_hook(hook)
}

/// Writes filler until the active segment rotates (a new segment file appears).
fn rotate(store: &Store, tag: &str) {
    let segments = || common::segment_files(store.path()).len();
    let before = segments();
    let mut i = 0;
    while segments() == before {
        store
            .set(format!("{tag}-{i}").as_bytes(), &[b'.'; 500])
            .unwrap();
        i += 1;
    }
}

/// Overwrites the filler `rotate` wrote under these tags with short values.
fn overwrite_fillers(store: &Store, tags: &[&str]) {
    for key in store.keys() {
        if tags
            .iter()
            .any(|t| key.starts_with(format!("{t}-").as_bytes()))
        {
            store.set(&key, b"short").unwrap();
        }
    }
}

/// Opens a copy of the directory as it is now: what a kill -9 at this moment leaves.
fn reopen_copy_of(dir: &Path, into: &Path) -> Store {
    std::fs::create_dir_all(into).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), into.join(entry.file_name())).unwrap();
    }
    common::open_fast(into)
}

#[test]
fn a_tombstone_outlives_a_retired_segment_that_a_reader_still_holds() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let stall = Arc::new(StallRead::default());
    let store = options(Arc::clone(&stall) as Arc<dyn IoHook>)
        .open(&dir)
        .unwrap();

    // Segment A: the victim's put and a key a reader will be reading when A is retired.
    store.set(b"victim", b"old").unwrap();
    store.set(b"held", b"A's live record").unwrap();
    rotate(&store, "a");

    // A reader stalls inside its read of "held", holding the segments of the moment.
    stall.armed.store(true, Ordering::SeqCst);
    let reader = {
        let store = store.clone();
        std::thread::spawn(move || store.get(b"held").unwrap())
    };
    stall.wait_until_stalled();

    // Then the victim is deleted, in a segment the reader does not hold, and everything
    // else older than the tombstone is overwritten.
    rotate(&store, "b");
    store.delete(b"victim").unwrap();
    overwrite_fillers(&store, &["a", "b"]);
    rotate(&store, "c");
    // Merge 1 rewrites A (its file stays: the reader holds it) and the tombstone's segment;
    // the tombstone is copied, since A is still there.
    store.merge().unwrap();
    // Merge 2: the tombstone's new home gets dead bytes and is merged again. It now holds
    // the oldest records of the store: A is no longer part of it, although A's file, with
    // the victim's put, is still on disk.
    store.set(b"held", b"overwritten").unwrap();
    rotate(&store, "d");
    store.merge().unwrap();

    let copy = reopen_copy_of(&dir, &base.path().join("killed"));
    assert_eq!(
        copy.get(b"victim").unwrap(),
        None,
        "a deleted key came back after a crash"
    );
    drop(copy);
    stall.release();
    assert_eq!(reader.join().unwrap(), Some(b"A's live record".to_vec()));
    drop(store);
    assert_eq!(common::open_fast(&dir).get(b"victim").unwrap(), None);
}

#[test]
fn a_tombstone_outlives_the_output_of_a_merge_whose_publication_failed() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(FailRename::default());
    let store = options(Arc::clone(&fail) as Arc<dyn IoHook>)
        .open(dir.path())
        .unwrap();

    store.set(b"victim", b"old").unwrap();
    rotate(&store, "a");
    for i in 0..4 {
        store.set(format!("a-{i}").as_bytes(), b"dead now").unwrap();
    }
    rotate(&store, "b");
    // The first merge fails renaming its first hint file (its data file is renamed already):
    // an output holding a copy of the victim's put is left in the directory.
    fail.countdown.store(2, Ordering::SeqCst);
    let err = store.merge().unwrap_err();
    assert!(err.to_string().contains("rename"), "{err}");

    // Whatever the store does after a failed publication, a delete, merges and a reopen
    // must not bring the victim back.
    let store = match store.delete(b"victim") {
        Ok(_) => store,
        Err(keg::Error::Poisoned { .. }) => {
            drop(store);
            let store = options(Arc::clone(&fail) as Arc<dyn IoHook>)
                .open(dir.path())
                .unwrap();
            assert!(store.delete(b"victim").unwrap());
            store
        }
        Err(other) => panic!("{other}"),
    };
    for round in 0..4 {
        for i in 0..8 {
            store
                .set(format!("a-{i}").as_bytes(), format!("{round}").as_bytes())
                .unwrap();
        }
        rotate(&store, &format!("r{round}"));
        store.merge().unwrap();
        assert_eq!(store.get(b"victim").unwrap(), None);
    }
    drop(store);
    assert_eq!(
        common::open_fast(dir.path()).get(b"victim").unwrap(),
        None,
        "a deleted key came back after a reopen"
    );
}
