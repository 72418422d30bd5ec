//! Damage inside a sealed segment, found after open (bit rot in a record the store does not
//! read again), must not cost the live records after it: a merge must not delete that
//! input, and no hint file may describe it (a hint cut short at the damage would leave the
//! records after it out of the index at the next open, silently).

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

use keg::{MergePolicy, Options, SyncPolicy};

fn options() -> Options {
    with_policy(MergePolicy {
        check_interval: Duration::ZERO,
        ..MergePolicy::default()
    })
}

fn with_policy(policy: MergePolicy) -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(16 * 1024)
        .merge_policy(policy)
        .expiry_cycle_interval(Duration::ZERO)
}

/// A merge policy under which a requested merge finds nothing worth rewriting, so
/// `Store::merge` only writes the missing hint files.
fn hints_only() -> Options {
    with_policy(MergePolicy {
        check_interval: Duration::ZERO,
        fragmentation_trigger: 100,
        fragmentation_threshold: 100,
        dead_bytes_trigger: u64::MAX,
        dead_bytes_threshold: u64::MAX,
        small_file_threshold: 0,
        ..MergePolicy::default()
    })
}

fn key(i: u32) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn value(i: u32, round: u32) -> Vec<u8> {
    format!("{round}:{i}:").repeat(10).into_bytes()
}

/// Writes 600 keys over several 16 KiB segments and damages the value of the first record
/// in the file: key 0's. With `overwritten`, key 0 is written again first, so the damaged
/// record is dead; otherwise it is key 0's live record.
fn damaged_store(dir: &std::path::Path, options: Options, overwritten: bool) -> keg::Store {
    let store = options.open(dir).unwrap();
    for i in 0..100 {
        store.set(&key(i), &value(i, 0)).unwrap();
    }
    if overwritten {
        store.set(&key(0), &value(0, 1)).unwrap();
    }
    for i in 100..600 {
        store.set(&key(i), &value(i, 0)).unwrap();
    }
    let first = common::segment_files(dir)[0].clone();
    let offset = keg::format::FILE_HEADER_LEN as u64 + 33 + key(0).len() as u64 + 3;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(b"\xff").unwrap();
    file.sync_all().unwrap();
    store
}

/// Every key from 1 on reads back with its value.
fn assert_rest_live(store: &keg::Store, when: &str) {
    for i in 1..600 {
        let got = store.get(&key(i));
        assert_eq!(got.unwrap().unwrap(), value(i, 0), "key {i} {when}");
    }
}

#[test]
fn a_merge_refuses_an_input_damaged_before_live_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = damaged_store(dir.path(), options(), true);
    // Seen failing before the fix: the merge stopped reading at the damage, deleted the
    // input, and the keys after it pointed at a segment that no longer existed.
    match store.merge() {
        Err(keg::Error::Corrupted { file, offset, .. }) => {
            assert_eq!(file, common::segment_files(dir.path())[0]);
            assert!(offset > 0, "offset {offset}");
        }
        other => panic!("expected the damage to be reported, got {other:?}"),
    }
    assert_eq!(store.get(&key(0)).unwrap().unwrap(), value(0, 1));
    assert_rest_live(&store, "after the refused merge");
    assert_eq!(
        common::segment_files(dir.path()).len(),
        store.stats().segments.len()
    );
    assert_eq!(store.stats().damaged_segments, vec![1]);
    // The server's INFO persistence section shows what `stats()` does.
    #[cfg(feature = "server")]
    {
        let info = common::info_persistence(&store);
        assert!(info.contains("damaged_segments:1\r\n"), "{info}");
    }
}

#[test]
fn no_hint_is_written_for_a_damaged_segment() {
    let dir = tempfile::tempdir().unwrap();
    // Key 0's live record is damaged: the segment has nothing to reclaim, so the merge
    // leaves it alone and only hint files are written.
    let store = damaged_store(dir.path(), hints_only(), false);
    // Seen failing before the fix: the hint listed the records before the damage only, and
    // the reopen below used it, without the keys after the damage.
    let merged = store.merge();
    assert!(
        matches!(merged, Err(keg::Error::Corrupted { .. })),
        "expected the damage to be reported, got {merged:?}"
    );
    let first = common::segment_files(dir.path())[0].clone();
    assert!(
        !first.with_extension("hint").exists(),
        "a hint was written for {first:?}"
    );
    // The other sealed segments got theirs.
    let hints = common::hint_files(dir.path()).len();
    assert!(hints >= 2, "{hints} hint files ({merged:?})");
    assert!(matches!(
        store.get(&key(0)),
        Err(keg::Error::Corrupted { .. })
    ));
    assert_rest_live(&store, "in the running store");
    drop(store);
    // Without a hint, the reopen scans the segment and reports the damage, as it would have
    // before any hint existed.
    match hints_only().open(dir.path()) {
        Err(keg::Error::Corrupted { file, .. }) => assert_eq!(file, first),
        Err(other) => panic!("expected Corrupted, got {other:?}"),
        Ok(_) => panic!("the damaged segment was not scanned at the reopen"),
    }
}
