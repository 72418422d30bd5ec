//! check, dump and online backup.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use keg::{Error, format::RecordKind};

#[test]
fn check_reports_clean_torn_and_corrupt_stores() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_segment_size(4096)
        .open(dir.path())
        .unwrap();
    for i in 0..100u32 {
        store.set(&i.to_le_bytes(), &[3u8; 100]).unwrap();
    }
    assert!(matches!(keg::check(dir.path()), Err(Error::Locked { .. })));
    drop(store);

    let report = keg::check(dir.path()).unwrap();
    assert!(report.is_clean() && report.is_consistent());
    assert_eq!(report.segments.iter().map(|s| s.records).sum::<u64>(), 100);

    // A torn tail: consistent, not clean.
    let newest = common::newest_segment(dir.path());
    let len = std::fs::metadata(&newest).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&newest)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let report = keg::check(dir.path()).unwrap();
    assert!(report.is_consistent() && !report.is_clean());
    let problem = report.segments.last().unwrap().problem.clone().unwrap();
    assert!(problem.torn_tail);

    // Corruption in a sealed segment: not consistent, located.
    let first = common::segment_files(dir.path())[0].clone();
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&first, bytes).unwrap();
    let report = keg::check(dir.path()).unwrap();
    assert!(!report.is_consistent());
    let bad = &report.segments[0];
    assert_eq!(bad.path, first);
    let problem = bad.problem.clone().unwrap();
    assert!(!problem.torn_tail);
    assert_eq!(problem.offset, keg::format::FILE_HEADER_LEN as u64);

    let missing = dir.path().join("nope");
    assert!(matches!(keg::check(&missing), Err(Error::Io { .. })));
    assert!(!missing.exists(), "check never creates a store");
}

#[test]
fn dump_lists_records_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"1").unwrap();
    store.delete(b"a").unwrap();
    let mut batch = keg::WriteBatch::new();
    batch.set(b"b", b"22").set(b"c", b"333");
    store.write(&batch).unwrap();
    let mut seen = Vec::new();
    // Lock-free: works while the store is open.
    keg::dump(dir.path(), |r| {
        seen.push((r.seq, r.kind, r.key.clone(), r.value_len, r.batch_continues))
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            (1, RecordKind::Put, b"a".to_vec(), 1, false),
            (2, RecordKind::Delete, b"a".to_vec(), 0, false),
            (3, RecordKind::Put, b"b".to_vec(), 2, true),
            (4, RecordKind::Put, b"c".to_vec(), 3, false),
        ]
    );
}

#[test]
fn backup_of_a_busy_store_is_a_consistent_working_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_segment_size(64 * 1024)
        .open(dir.path())
        .unwrap();
    for i in 0..5000u32 {
        store
            .set(format!("before-{i}").as_bytes(), &[1u8; 64])
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                store.set(format!("during-{i}").as_bytes(), b"x").unwrap();
                i += 1;
            }
        })
    };
    let dest = tempfile::tempdir().unwrap();
    let report = store.backup(dest.path().join("copy")).unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(report.segments > 1);

    let copy = common::open_fast(&dest.path().join("copy"));
    assert_eq!(copy.stats().last_seq, report.last_seq);
    for i in 0..5000u32 {
        assert_eq!(
            copy.get(format!("before-{i}").as_bytes()).unwrap(),
            Some(vec![1u8; 64])
        );
    }
    // Exactly the writes up to last_seq: every "during" key in the copy was written before
    // the cut, so the copy's keys are a prefix of what the store got.
    assert_eq!(copy.len() as u64, report.last_seq);

    // Not into a non-empty directory.
    let err = store.backup(dest.path().join("copy")).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
}
