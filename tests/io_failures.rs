//! Injected I/O failures (through `Options::io_hook`): a failed fsync poisons the store,
//! a failed append leaves nothing half-written, and nothing acknowledged is lost.

mod common;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use keg::{Error, IoHook, IoOp, Options, SyncPolicy};

/// Fails operations of one kind while armed.
#[derive(Default)]
struct Faults {
    fail_sync: AtomicBool,
    fail_write: AtomicBool,
    fail_truncate: AtomicBool,
    fail_create: AtomicBool,
    /// Partial write: store this many bytes of the next write, then fail (0 = off).
    torn_write_bytes: AtomicUsize,
}

impl IoHook for Faults {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        let enospc = || Err(io::Error::from_raw_os_error(28)); // ENOSPC
        match *op {
            IoOp::SyncFile { .. } if self.fail_sync.load(Ordering::SeqCst) => {
                Err(io::Error::from_raw_os_error(5)) // EIO
            }
            IoOp::Write { path, offset, data } if self.fail_write.load(Ordering::SeqCst) => {
                let torn = self.torn_write_bytes.swap(0, Ordering::SeqCst);
                if torn > 0 {
                    // What a short write before ENOSPC leaves on disk.
                    use std::os::unix::fs::FileExt;
                    let f = std::fs::OpenOptions::new().write(true).open(path)?;
                    f.write_all_at(&data[..torn.min(data.len())], offset)?;
                }
                enospc()
            }
            IoOp::SetLen { .. } if self.fail_truncate.load(Ordering::SeqCst) => enospc(),
            IoOp::CreateFile { .. } if self.fail_create.load(Ordering::SeqCst) => enospc(),
            _ => Ok(()),
        }
    }
}

fn open_with(dir: &std::path::Path, faults: &Arc<Faults>, policy: SyncPolicy) -> keg::Store {
    Options::new()
        .sync_policy(policy)
        .max_segment_size(4096)
        .io_hook(Arc::clone(faults) as Arc<dyn IoHook>)
        .open(dir)
        .unwrap()
}

#[test]
fn failed_fsync_poisons_the_store_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = open_with(dir.path(), &faults, SyncPolicy::Always);
    store.set(b"before", b"ok").unwrap();

    faults.fail_sync.store(true, Ordering::SeqCst);
    let err = store.set(b"during", b"unacknowledged").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                action: "fsync",
                ..
            }
        ),
        "{err:?}"
    );
    faults.fail_sync.store(false, Ordering::SeqCst);

    // Even with fsync working again, the store refuses writes: the page cache cannot be
    // trusted after a failed fsync.
    for attempt in [
        store.set(b"after", b"x"),
        store.delete(b"before").map(|_| ()),
        store.sync(),
    ] {
        match attempt {
            Err(Error::Poisoned { reason }) => assert!(reason.contains("fsync"), "{reason}"),
            other => panic!("expected Poisoned, got {other:?}"),
        }
    }
    let message = store.set(b"after", b"x").unwrap_err().to_string();
    assert!(message.contains("reopen"), "{message}");
    // Reads still work.
    assert_eq!(store.get(b"before").unwrap(), Some(b"ok".to_vec()));
    drop(store);

    // Reopening recovers: everything acknowledged is there.
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"before").unwrap(), Some(b"ok".to_vec()));
    store.set(b"after", b"works").unwrap();
}

#[test]
fn failed_fsync_under_interval_poisons_writes() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = open_with(
        dir.path(),
        &faults,
        SyncPolicy::Interval(std::time::Duration::from_millis(1)),
    );
    faults.fail_sync.store(true, Ordering::SeqCst);
    store.set(b"k", b"v").unwrap(); // acknowledged after write(2); the sync thread fails later
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match store.set(b"k", b"v") {
            Err(Error::Poisoned { .. }) => break,
            Ok(()) => assert!(std::time::Instant::now() < deadline, "never poisoned"),
            // The writer itself may hit the failing fsync when it seals a full segment.
            Err(Error::Io {
                action: "fsync", ..
            }) => {}
            Err(other) => panic!("{other:?}"),
        }
        std::thread::yield_now();
    }
}

#[test]
fn failed_append_writes_nothing_and_the_store_continues() {
    for torn in [0usize, 1, 20, 40] {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let store = open_with(dir.path(), &faults, SyncPolicy::Never);
        store.set(b"a", b"1").unwrap();
        let len_before = std::fs::metadata(common::newest_segment(dir.path()))
            .unwrap()
            .len();

        faults.torn_write_bytes.store(torn, Ordering::SeqCst);
        faults.fail_write.store(true, Ordering::SeqCst);
        let err = store.set(b"b", b"lost").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "write",
                    ..
                }
            ),
            "{err:?}"
        );
        faults.fail_write.store(false, Ordering::SeqCst);

        assert_eq!(
            store.get(b"b").unwrap(),
            None,
            "a failed set is not visible"
        );
        assert_eq!(
            std::fs::metadata(common::newest_segment(dir.path()))
                .unwrap()
                .len(),
            len_before,
            "the partial record ({torn} bytes) was cut back"
        );
        // Not poisoned: the end of the file is known again.
        store.set(b"c", b"3").unwrap();
        drop(store);
        let store = common::open_fast(dir.path());
        assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.get(b"b").unwrap(), None);
        assert_eq!(store.get(b"c").unwrap(), Some(b"3".to_vec()));
        assert_eq!(store.stats().torn_bytes_truncated, 0);
    }
}

#[test]
fn failed_append_whose_cut_back_also_fails_poisons() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = open_with(dir.path(), &faults, SyncPolicy::Never);
    store.set(b"a", b"1").unwrap();
    faults.torn_write_bytes.store(10, Ordering::SeqCst);
    faults.fail_write.store(true, Ordering::SeqCst);
    faults.fail_truncate.store(true, Ordering::SeqCst);
    assert!(store.set(b"b", b"2").is_err());
    faults.fail_write.store(false, Ordering::SeqCst);
    faults.fail_truncate.store(false, Ordering::SeqCst);
    assert!(matches!(store.set(b"c", b"3"), Err(Error::Poisoned { .. })));
    drop(store);
    // The partial record is a torn tail: recovery cuts it and keeps everything before.
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.len(), 1);
    assert_eq!(store.stats().torn_bytes_truncated, 10);
}

#[test]
fn failed_segment_creation_keeps_the_old_segment_active() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = open_with(dir.path(), &faults, SyncPolicy::Never);
    let value = [7u8; 1000];
    faults.fail_create.store(true, Ordering::SeqCst);
    let mut failures = 0;
    for i in 0..10u32 {
        if store.set(&i.to_le_bytes(), &value).is_err() {
            failures += 1;
        }
    }
    assert!(failures > 0, "rotation never needed");
    assert_eq!(common::segment_files(dir.path()).len(), 1);
    faults.fail_create.store(false, Ordering::SeqCst);
    store.set(b"later", &value).unwrap();
    assert_eq!(common::segment_files(dir.path()).len(), 2);
    let present = store.len();
    drop(store);
    assert_eq!(common::open_fast(dir.path()).len(), present);
}
