//! Injected I/O failures (through `Options::io_hook`) in every path that writes or reads:
//! appends, segment rotation, merge outputs, hint files, renames, positioned reads. Each
//! failure is a clear error naming the action; a failed fsync poisons the store; a failed
//! append leaves nothing half-written; and after reopening nothing acknowledged is lost.
//! (`io_fault_every_op.rs` fails each I/O operation of a whole workload in turn.)

mod common;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keg::{
    Error, IoHook, IoOp, JobFailure, MaintenanceJob, MergePolicy, Options, Store, SyncPolicy,
};

/// Fails operations of one kind while armed.
#[derive(Default)]
struct Faults {
    fail_sync: AtomicBool,
    fail_sync_dir: Countdown,
    fail_write: AtomicBool,
    fail_truncate: AtomicBool,
    fail_create: AtomicBool,
    fail_rename: Countdown,
    fail_read: AtomicBool,
    /// Fails the n-th write to a temporary hint file from when it is set.
    fail_hint_write: Countdown,
    /// Flips a byte of every hint file renamed into place (after its fsync: damage the
    /// store did not write).
    damage_renamed_hints: AtomicBool,
    /// Partial write: store this many bytes of the next write, then fail (0 = off).
    torn_write_bytes: AtomicUsize,
    /// When set, only writes to files whose name ends so fail, and only writes at offset 0
    /// if the name is `HEADER`.
    write_target: Mutex<Option<&'static str>>,
}

/// Fails one operation: the `n`-th from when it is set (0: none).
#[derive(Default)]
struct Countdown(AtomicUsize);

impl Countdown {
    fn set(&self, n: usize) {
        self.0.store(n, Ordering::SeqCst);
    }

    /// Counts one operation; true for the one that fails.
    fn hit(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            == Ok(1)
    }
}

/// `write_target` for "the header of a new segment".
const HEADER: &str = "HEADER";

impl Faults {
    fn write_fails(&self, path: &Path, offset: u64) -> bool {
        if !self.fail_write.load(Ordering::SeqCst) {
            return false;
        }
        match *self.write_target.lock().unwrap() {
            None => true,
            Some(HEADER) => offset == 0,
            Some(suffix) => path.to_string_lossy().ends_with(suffix),
        }
    }
}

impl IoHook for Faults {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        let enospc = || Err(io::Error::from_raw_os_error(28)); // ENOSPC
        let eio = || Err(io::Error::from_raw_os_error(5)); // EIO
        match *op {
            IoOp::SyncFile { .. } if self.fail_sync.load(Ordering::SeqCst) => eio(),
            IoOp::SyncDir { .. } if self.fail_sync_dir.hit() => eio(),
            IoOp::Rename { .. } if self.fail_rename.hit() => enospc(),
            IoOp::Rename { from, .. }
                if self.damage_renamed_hints.load(Ordering::SeqCst)
                    && from.to_string_lossy().ends_with(".hint.tmp") =>
            {
                let mut bytes = std::fs::read(from)?;
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x40;
                std::fs::write(from, bytes)
            }
            IoOp::Read { .. } if self.fail_read.load(Ordering::SeqCst) => eio(),
            IoOp::Write { path, .. }
                if path.to_string_lossy().ends_with(".hint.tmp") && self.fail_hint_write.hit() =>
            {
                enospc()
            }
            IoOp::Write { path, offset, data } if self.write_fails(path, offset) => {
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
    // The reason is in the stats, and the interval fsync is a failing maintenance job.
    let stats = store.stats();
    let reason = stats.poisoned.expect("stats say the store is poisoned");
    assert!(reason.contains("fsync"), "{reason}");
    // The writer may have met the failing fsync first (sealing a segment): the interval
    // thread's next run fails on the poisoned store then.
    wait_for_job(&store, MaintenanceJob::Sync, |f| f.is_some());
    #[cfg(feature = "server")]
    assert_info_persistence(&store, &["aof_last_write_status:err"]);
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

// ---------------------------------------------------------------------------------------
// Reads, rotation, merge outputs, hint files, renames
// ---------------------------------------------------------------------------------------

/// Options with background work off: merges and hint writes happen when the test asks.
fn quiet(faults: &Arc<Faults>, policy: SyncPolicy) -> Options {
    Options::new()
        .sync_policy(policy)
        .max_segment_size(4096)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .io_hook(Arc::clone(faults) as Arc<dyn IoHook>)
}

fn contents(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store
        .keys()
        .into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

/// Overwrites and deletes spread over several 4 KiB segments: a merge has work to do.
fn populate(store: &Store) {
    for round in 0..3u32 {
        for k in 0..30u32 {
            store
                .set(format!("k{k:02}").as_bytes(), &[round as u8; 150])
                .unwrap();
        }
    }
    for k in (0..30u32).step_by(4) {
        store.delete(format!("k{k:02}").as_bytes()).unwrap();
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

fn assert_io_error(err: &Error, action: &str) {
    match err {
        Error::Io { action: a, .. } => assert_eq!(*a, action, "{err}"),
        other => panic!("expected an I/O error while trying to {action}, got {other:?}"),
    }
    assert!(err.to_string().contains(action), "{err}");
}

/// Reopens without faults and checks the contents.
fn assert_reopens_to(dir: &Path, want: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let store = common::open_fast(dir);
    assert_eq!(&contents(&store), want, "contents after reopening");
}

#[test]
fn failed_read_is_a_clear_error_and_the_next_read_works() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never)
        .use_mmap(false)
        .open(dir.path())
        .unwrap();
    store.set(b"k", b"v").unwrap();
    faults.fail_read.store(true, Ordering::SeqCst);
    let err = store.get(b"k").unwrap_err();
    assert_io_error(&err, "read");
    faults.fail_read.store(false, Ordering::SeqCst);
    // A failed read changes nothing: no poison, the value is intact.
    assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    store.set(b"k2", b"v2").unwrap();
}

#[test]
fn enospc_writing_the_header_of_a_new_segment_keeps_the_old_one_active() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Always).open(dir.path()).unwrap();
    *faults.write_target.lock().unwrap() = Some(HEADER);
    faults.fail_write.store(true, Ordering::SeqCst);
    let mut acked = BTreeMap::new();
    let mut failures = 0;
    for i in 0..20u32 {
        let (k, v) = (format!("k{i}").into_bytes(), vec![i as u8; 700]);
        match store.set(&k, &v) {
            Ok(()) => {
                acked.insert(k, v);
            }
            Err(e) => {
                assert_io_error(&e, "write");
                failures += 1;
            }
        }
    }
    assert!(failures > 0, "no rotation was attempted");
    assert_eq!(
        common::segment_files(dir.path()).len(),
        1,
        "no half-made segment"
    );
    faults.fail_write.store(false, Ordering::SeqCst);
    store.set(b"later", b"works").unwrap();
    acked.insert(b"later".to_vec(), b"works".to_vec());
    assert_eq!(contents(&store), acked);
    drop(store);
    assert_reopens_to(dir.path(), &acked);
}

#[test]
fn failed_directory_fsync_for_a_new_segment_is_an_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
    faults.fail_sync_dir.set(1);
    let mut acked = BTreeMap::new();
    let err = loop {
        let i = acked.len() as u32;
        let (k, v) = (format!("k{i}").into_bytes(), vec![i as u8; 700]);
        match store.set(&k, &v) {
            Ok(()) => {
                acked.insert(k, v);
            }
            Err(e) => break e,
        }
        assert!(acked.len() < 50, "never rotated");
    };
    assert_io_error(&err, "fsync directory");
    assert_eq!(
        common::segment_files(dir.path()).len(),
        1,
        "half-made segment left"
    );
    // The next rotation succeeds; nothing was poisoned.
    for i in 0..10u32 {
        let (k, v) = (format!("later{i}").into_bytes(), vec![2u8; 700]);
        store.set(&k, &v).unwrap();
        acked.insert(k, v);
    }
    assert!(common::segment_files(dir.path()).len() > 1);
    drop(store);
    assert_reopens_to(dir.path(), &acked);
}

#[test]
fn failed_fsync_while_sealing_a_segment_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
    faults.fail_sync.store(true, Ordering::SeqCst);
    let mut acked = BTreeMap::new();
    let err = loop {
        let i = acked.len() as u32;
        let (k, v) = (format!("k{i}").into_bytes(), vec![1u8; 700]);
        match store.set(&k, &v) {
            Ok(()) => {
                acked.insert(k, v);
            }
            Err(e) => break e,
        }
        assert!(acked.len() < 50, "never rotated");
    };
    assert_io_error(&err, "fsync");
    faults.fail_sync.store(false, Ordering::SeqCst);
    assert!(matches!(store.set(b"x", b"y"), Err(Error::Poisoned { .. })));
    assert!(matches!(store.merge(), Err(Error::Poisoned { .. })));
    drop(store);
    assert_reopens_to(dir.path(), &acked);
}

#[test]
fn failed_fsync_of_an_explicit_sync_under_never_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
    store.set(b"a", b"1").unwrap();
    faults.fail_sync.store(true, Ordering::SeqCst);
    assert_io_error(&store.sync().unwrap_err(), "fsync");
    faults.fail_sync.store(false, Ordering::SeqCst);
    assert!(matches!(store.sync(), Err(Error::Poisoned { .. })));
    assert!(matches!(store.set(b"b", b"2"), Err(Error::Poisoned { .. })));
    drop(store);
    let want = BTreeMap::from([(b"a".to_vec(), b"1".to_vec())]);
    assert_reopens_to(dir.path(), &want);
}

/// ENOSPC (or EIO) at each step of writing a merge's outputs: the merge fails with a clear
/// error, removes its temporary files, and the store goes on unchanged.
#[test]
fn failures_writing_merge_outputs_leave_the_store_unchanged() {
    for (target, arm) in [
        (".data.tmp", "write"),
        (".hint.tmp", "write"),
        ("", "fsync"),
        ("", "create file"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
        populate(&store);
        let before = contents(&store);
        match arm {
            "write" => {
                *faults.write_target.lock().unwrap() = Some(target);
                faults.fail_write.store(true, Ordering::SeqCst);
            }
            "fsync" => faults.fail_sync.store(true, Ordering::SeqCst),
            _ => faults.fail_create.store(true, Ordering::SeqCst),
        }
        let err = store.merge().unwrap_err();
        assert_io_error(&err, arm);
        // A merge asked for counts as the merge job's run (BGREWRITEAOF's has no caller
        // to return its error to).
        let failing = store.stats().failing_jobs;
        assert_eq!(failing.len(), 1, "{failing:?}");
        assert_eq!(failing[0].job, MaintenanceJob::Merge);
        assert_eq!(failing[0].error, err.to_string());
        faults.fail_write.store(false, Ordering::SeqCst);
        faults.fail_sync.store(false, Ordering::SeqCst);
        faults.fail_create.store(false, Ordering::SeqCst);
        assert!(
            temp_files(dir.path()).is_empty(),
            "{target} {arm}: temporary files left"
        );
        assert_eq!(contents(&store), before, "{target} {arm}");
        // The store goes on: writes, and a merge that now succeeds.
        store.set(b"after", b"failure").unwrap();
        let report = store.merge().unwrap();
        assert!(!report.merged.is_empty(), "{target} {arm}");
        assert_eq!(store.stats().failing_jobs, []);
        let mut want = before.clone();
        want.insert(b"after".to_vec(), b"failure".to_vec());
        assert_eq!(contents(&store), want);
        drop(store);
        assert_reopens_to(dir.path(), &want);
    }
}

/// A failed rename of a hint file (written for a segment sealed by rotation): a clear error,
/// the temporary file removed, the store unchanged, and the hint written by a later merge.
#[test]
fn failed_rename_of_a_hint_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
    for i in 0..40u32 {
        store.set(&i.to_le_bytes(), &[7u8; 300]).unwrap();
    }
    let before = contents(&store);
    faults.fail_rename.set(1);
    // Nothing to merge (no dead bytes, segments too big to fold), so merge() only writes
    // hint files.
    let err = store.merge().unwrap_err();
    assert_io_error(&err, "rename");
    assert!(temp_files(dir.path()).is_empty());
    assert_eq!(contents(&store), before);
    store.merge().unwrap();
    let hints = common::hint_files(dir.path()).len();
    assert!(hints > 0, "hints written once renames work");
    drop(store);
    assert_reopens_to(dir.path(), &before);
}

/// A hint bigger than one chunk (`keg::format::HINT_CHUNK`) is written as it is built: a
/// failure at its second chunk, whether the hint is a rotated segment's or a merge
/// output's, leaves no temporary file and changes nothing; once writes work, the hint is
/// whole and the next open reads it.
#[test]
fn a_hint_written_in_chunks_fails_cleanly_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(2 << 20)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .io_hook(Arc::clone(&faults) as Arc<dyn IoHook>)
        .open(dir.path())
        .unwrap();
    // ~37k records of 57 bytes fill the first 2 MiB segment: its hint takes ~0.8 MB.
    for i in 0..40_000u64 {
        store
            .set(format!("key-{i:012}").as_bytes(), &i.to_le_bytes())
            .unwrap();
    }
    let before = contents(&store);
    // No dead bytes: merge() writes the sealed segment's hint only.
    faults.fail_hint_write.set(2);
    assert_io_error(&store.merge().unwrap_err(), "write");
    assert!(temp_files(dir.path()).is_empty());
    assert!(common::hint_files(dir.path()).is_empty());
    store.merge().unwrap();
    let hints = common::hint_files(dir.path());
    assert_eq!(hints.len(), 1);
    let bytes = std::fs::read(&hints[0]).unwrap();
    assert!(
        bytes.len() > 2 * keg::format::HINT_CHUNK,
        "{} bytes",
        bytes.len()
    );
    let hint = keg::format::Hint::parse(&bytes, 1).unwrap();
    let entries = hint.entries().count();
    assert!(entries > 30_000, "{entries} entries");

    // Overwrite every key of that segment: the merge that follows copies the live ones
    // into an output whose streamed hint fails at its second chunk, then succeeds.
    for i in (0..40_000u64).step_by(2) {
        store
            .set(format!("key-{i:012}").as_bytes(), b"new")
            .unwrap();
    }
    let before_merge = contents(&store);
    faults.fail_hint_write.set(2);
    assert_io_error(&store.merge().unwrap_err(), "write");
    assert!(temp_files(dir.path()).is_empty());
    assert_eq!(contents(&store), before_merge);
    let report = store.merge().unwrap();
    assert!(report.merged.contains(&1), "{report:?}");
    assert_ne!(before, before_merge);
    drop(store);
    assert_reopens_to(dir.path(), &before_merge);
}

/// Publishing a merge moves the index onto the outputs' records as their hint files list
/// them: a hint damaged after it was written (here between its fsync and its rename) fails
/// the merge before any input is retired. Every read still works, later merges too, and
/// the reopened store holds the same contents.
#[test]
fn a_merge_whose_output_hint_reads_back_damaged_retires_no_input() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
    populate(&store);
    let before = contents(&store);
    let segments_before = common::segment_files(dir.path());
    faults.damage_renamed_hints.store(true, Ordering::SeqCst);
    let err = store.merge().unwrap_err();
    assert!(matches!(err, Error::Corrupted { .. }), "{err:?}");
    faults.damage_renamed_hints.store(false, Ordering::SeqCst);
    for segment in &segments_before {
        assert!(segment.exists(), "input {} retired", segment.display());
    }
    assert_eq!(contents(&store), before);
    store.merge().unwrap();
    assert_eq!(contents(&store), before);
    drop(store);
    assert_reopens_to(dir.path(), &before);
}

/// A failed rename or directory fsync at each point of publishing a merge (the rotation's
/// new segment, the data and hint renames, the directory fsync after them): a clear error,
/// nothing lost, and after reopening the same contents.
#[test]
fn failed_rename_or_directory_fsync_while_publishing_a_merge_loses_nothing() {
    for (arm, nth) in [
        ("rename", 1),
        ("rename", 2),
        ("rename", 3),
        ("fsync directory", 1),
        ("fsync directory", 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let store = quiet(&faults, SyncPolicy::Never).open(dir.path()).unwrap();
        populate(&store);
        let before = contents(&store);
        match arm {
            "rename" => faults.fail_rename.set(nth),
            _ => faults.fail_sync_dir.set(nth),
        }
        let err = store.merge().unwrap_err();
        assert_io_error(&err, arm);
        assert_eq!(contents(&store), before, "{arm} {nth}");
        let mut want = before.clone();
        store.set(b"after", b"x").unwrap();
        want.insert(b"after".to_vec(), b"x".to_vec());
        store.merge().unwrap();
        assert_eq!(
            contents(&store),
            want,
            "{arm} {nth}: merge after the failure"
        );
        drop(store);
        assert_reopens_to(dir.path(), &want);
    }
}

// ---------------------------------------------------------------------------------------
// Background jobs: their failures show in the stats (and INFO)
// ---------------------------------------------------------------------------------------

/// Options whose background merge (and hint writing) runs every 5 ms.
fn merging_often(faults: &Arc<Faults>) -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(4096)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::from_millis(5),
            ..MergePolicy::default()
        })
        .io_hook(Arc::clone(faults) as Arc<dyn IoHook>)
}

/// Waits (at most 10 s) until `job`'s entry in `stats().failing_jobs` satisfies `done`
/// (`None`: the job is not failing).
fn wait_for_job(store: &Store, job: MaintenanceJob, done: impl Fn(Option<&JobFailure>) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = store.stats();
        let failure = stats.failing_jobs.iter().find(|f| f.job == job);
        if done(failure) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{job:?}: waited in vain; failing jobs: {:?}",
            stats.failing_jobs
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A background merge that keeps failing (a full disk while writing its output) is seen in
/// `stats().failing_jobs` with its error and how many runs failed in a row, changes
/// nothing, and leaves the list once a merge succeeds.
#[test]
fn a_failing_background_merge_shows_in_the_stats_until_a_merge_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    *faults.write_target.lock().unwrap() = Some(".data.tmp");
    faults.fail_write.store(true, Ordering::SeqCst);
    let store = merging_often(&faults).open(dir.path()).unwrap();
    populate(&store);
    let before = contents(&store);
    wait_for_job(&store, MaintenanceJob::Merge, |f| {
        f.is_some_and(|f| f.failures_in_a_row >= 2)
    });
    let stats = store.stats();
    let failure = &stats.failing_jobs[0];
    assert_eq!(failure.job, MaintenanceJob::Merge);
    assert!(failure.error.contains("write"), "{}", failure.error);
    assert!(failure.at_unix_ms > 0);
    assert_eq!(stats.merges, 0);
    assert_eq!(
        stats.poisoned, None,
        "a failed merge does not poison the store"
    );
    assert_eq!(contents(&store), before);
    #[cfg(feature = "server")]
    assert_info_persistence(
        &store,
        &[
            "aof_last_bgrewrite_status:err",
            "failing_jobs:1",
            "last_job_error:merge: write",
        ],
    );

    faults.fail_write.store(false, Ordering::SeqCst);
    wait_for_job(&store, MaintenanceJob::Merge, |f| f.is_none());
    assert!(store.stats().merges >= 1);
    assert_eq!(contents(&store), before);
    #[cfg(feature = "server")]
    assert_info_persistence(&store, &["aof_last_bgrewrite_status:ok", "failing_jobs:0"]);
    #[cfg(feature = "server")]
    {
        let info = common::info_persistence(&store);
        assert!(info.lines().any(|l| l == "last_job_error:"), "{info}");
    }
}

/// Hint writing in the background fails on its own (nothing to merge): the hints job is
/// the failing one, and it recovers as soon as the writes go through.
#[test]
fn failing_background_hint_writes_show_in_the_stats() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    *faults.write_target.lock().unwrap() = Some(".hint.tmp");
    faults.fail_write.store(true, Ordering::SeqCst);
    let store = merging_often(&faults).open(dir.path()).unwrap();
    // Distinct keys only: sealed segments without dead bytes, too big to fold in.
    for i in 0..40u32 {
        store.set(&i.to_le_bytes(), &[7u8; 300]).unwrap();
    }
    wait_for_job(&store, MaintenanceJob::Hints, |f| f.is_some());
    let stats = store.stats();
    assert_eq!(stats.failing_jobs.len(), 1, "{:?}", stats.failing_jobs);
    assert!(common::hint_files(dir.path()).is_empty());
    faults.fail_write.store(false, Ordering::SeqCst);
    wait_for_job(&store, MaintenanceJob::Hints, |f| f.is_none());
    assert!(!common::hint_files(dir.path()).is_empty());
}

/// The expiry cycle deletes expired keys by appending tombstones; when those appends fail,
/// the expiry job is the failing one, and the keys stay invisible meanwhile.
#[test]
fn a_failing_expiry_cycle_shows_in_the_stats() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .expiry_cycle_interval(Duration::from_millis(5))
        .io_hook(Arc::clone(&faults) as Arc<dyn IoHook>)
        .open(dir.path())
        .unwrap();
    store
        .set_with_ttl(b"soon", b"gone", Duration::from_millis(1))
        .unwrap();
    faults.fail_write.store(true, Ordering::SeqCst);
    wait_for_job(&store, MaintenanceJob::Expiry, |f| f.is_some());
    assert_eq!(store.get(b"soon").unwrap(), None);
    faults.fail_write.store(false, Ordering::SeqCst);
    wait_for_job(&store, MaintenanceJob::Expiry, |f| f.is_none());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.stats().expired_keys_deleted == 0 {
        assert!(std::time::Instant::now() < deadline, "never deleted");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The server's INFO persistence section has a line starting with each of `starts`.
#[cfg(feature = "server")]
fn assert_info_persistence(store: &Store, starts: &[&str]) {
    let info = common::info_persistence(store);
    for start in starts {
        assert!(
            info.lines().any(|l| l.starts_with(start)),
            "{start}: {info}"
        );
    }
}
