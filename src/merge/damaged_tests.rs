//! A damaged sealed segment, found by a background merge, is left out of later background
//! merges and hint writing (which would otherwise fail on it every time, and merge nothing
//! else), while `Store::merge` still tries it and reports it.

use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

use crate::{Error, MergePolicy, Options, SyncPolicy};

fn key(i: u32) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn value(i: u32, round: u32) -> Vec<u8> {
    format!("{round}:{i}:").repeat(10).into_bytes()
}

#[test]
fn background_merges_leave_a_damaged_segment_out_and_go_on_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(16 * 1024)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir.path())
        .unwrap();
    // 600 keys over several segments, all written twice: every sealed segment of the first
    // round is dead and worth merging.
    for round in 0..2 {
        for i in 0..600 {
            store.set(&key(i), &value(i, round)).unwrap();
        }
    }
    let first = crate::segment::data_path(dir.path(), 1);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap();
    file.seek(SeekFrom::Start(crate::format::FILE_HEADER_LEN as u64 + 40))
        .unwrap();
    file.write_all(b"\xff").unwrap();
    drop(file);

    let engine = store.engine();
    let first_try = engine.run_merge(false, &mut |_, _| {});
    assert!(
        matches!(&first_try, Err(Error::Corrupted { file, .. }) if *file == first),
        "{first_try:?}"
    );
    assert_eq!(store.stats().damaged_segments, vec![1]);
    // Seen failing without the memory of damaged segments: the same error again, nothing
    // merged.
    let report = engine.run_merge(false, &mut |_, _| {}).unwrap();
    assert!(!report.merged.is_empty(), "{report:?}");
    assert!(!report.merged.contains(&1), "{report:?}");
    assert!(first.exists());
    assert!(engine.write_missing_hints(usize::MAX, false).is_ok());
    assert!(!first.with_extension("hint").exists());
    // Asked for, a merge still tries the damaged segment and reports it.
    assert!(matches!(store.merge(), Err(Error::Corrupted { .. })));
    for i in 0..600 {
        assert_eq!(store.get(&key(i)).unwrap().unwrap(), value(i, 1), "key {i}");
    }
}
