//! Merge rewrites live records, gives disk back, keeps contents, and writes hint files.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use keg::{MergePolicy, Options, Store, SyncPolicy};

fn options() -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(16 * 1024)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .expiry_cycle_interval(Duration::ZERO)
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

fn hint_files(dir: &Path) -> usize {
    common::hint_files(dir).len()
}

/// 200 keys overwritten 10 times, a fifth deleted.
fn churn(store: &Store) {
    for round in 0..10u32 {
        for k in 0..200u32 {
            store
                .set(
                    format!("key-{k:04}").as_bytes(),
                    format!("{round}:{k}").repeat(8).as_bytes(),
                )
                .unwrap();
        }
    }
    for k in (0..200u32).step_by(5) {
        store.delete(format!("key-{k:04}").as_bytes()).unwrap();
    }
}

#[test]
fn merge_keeps_contents_and_gives_disk_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    let before = contents(&store);
    let disk_before = store.stats().disk_bytes;

    let report = store.merge().unwrap();
    assert!(!report.merged.is_empty(), "{report:?}");
    assert!(report.bytes_reclaimed() > 0);
    assert!(report.records_dropped > 0);
    assert_eq!(contents(&store), before);
    let stats = store.stats();
    assert!(
        stats.disk_bytes < disk_before / 3,
        "{} of {disk_before}",
        stats.disk_bytes
    );
    assert_eq!(stats.merges, 1);
    assert!(stats.bytes_reclaimed > 0);
    assert!(hint_files(dir.path()) >= report.written.len());
    for id in &report.merged {
        assert!(
            !dir.path().join(format!("{id:010}.data")).exists(),
            "input {id} deleted"
        );
    }

    drop(store);
    let store = options().open(dir.path()).unwrap();
    assert_eq!(contents(&store), before);
}

#[test]
fn merging_again_converges() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    // Each merge also takes the segment that was active during the one before, and a
    // tombstone goes only once nothing older is left in any other file: a few rounds.
    let mut rounds = 0;
    loop {
        rounds += 1;
        let report = store.merge().unwrap();
        if report.bytes_reclaimed() <= 64 {
            break;
        }
        assert!(rounds < 5, "merges keep reclaiming: {report:?}");
    }
    let stats = store.stats();
    assert!(
        stats.disk_bytes <= stats.live_bytes + stats.live_bytes / 5,
        "disk {} not within 1.2 x live {}",
        stats.disk_bytes,
        stats.live_bytes
    );
}

#[test]
fn writes_during_and_after_a_merge_win() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..2000u32 {
                store
                    .set(format!("key-{:04}", i % 200).as_bytes(), b"new")
                    .unwrap();
            }
        })
    };
    store.merge().unwrap();
    writer.join().unwrap();
    for k in 0..200u32 {
        assert_eq!(
            store.get(format!("key-{k:04}").as_bytes()).unwrap(),
            Some(b"new".to_vec())
        );
    }
    drop(store);
    let store = options().open(dir.path()).unwrap();
    assert_eq!(store.len(), 200);
    for k in 0..200u32 {
        assert_eq!(
            store.get(format!("key-{k:04}").as_bytes()).unwrap(),
            Some(b"new".to_vec())
        );
    }
}

#[test]
fn hint_files_make_open_skip_the_data_and_a_bad_hint_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    store.merge().unwrap();
    let before = contents(&store);
    drop(store);
    assert!(hint_files(dir.path()) > 0);

    let hints = common::hint_files(dir.path());
    // Damage each hint a different way: flipped bit, truncated, emptied, deleted.
    for (i, hint) in hints.iter().enumerate() {
        let mut bytes = std::fs::read(hint).unwrap();
        let middle = bytes.len() / 2;
        match i % 4 {
            0 => bytes[middle] ^= 0x10,
            1 => bytes.truncate(bytes.len() - 7),
            2 => bytes.clear(),
            _ => {
                std::fs::remove_file(hint).unwrap();
                continue;
            }
        }
        std::fs::write(hint, bytes).unwrap();
    }
    let store = options().open(dir.path()).unwrap();
    assert_eq!(contents(&store), before);
}

#[test]
fn a_hint_for_a_data_file_of_another_length_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    store.merge().unwrap();
    let before = contents(&store);
    drop(store);
    // Make a sealed data file longer than its hint says (garbage a crash cannot leave in
    // a sealed file): the hint must not be used, and the scan reports the problem.
    let hint = common::hint_files(dir.path()).remove(0);
    let data = hint.with_extension("data");
    let valid = std::fs::read(&data).unwrap();
    let mut extended = valid.clone();
    extended.extend_from_slice(&valid[16..]); // valid records again, at other offsets
    std::fs::write(&data, &extended).unwrap();
    let store = options().open(dir.path()).unwrap();
    // Same records, duplicated with the same sequence numbers: same contents.
    assert_eq!(contents(&store), before);
}

/// A hint whose checksum holds but whose entries go wrong only at the end (written by a
/// bug, or damage the checksum missed) is found bad while it is being loaded, after its
/// earlier entries went into the index. Open must start again without it: nothing the
/// hint said may stay in the index.
#[test]
fn a_hint_found_bad_halfway_through_loading_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    churn(&store);
    store.merge().unwrap();
    let before = contents(&store);
    drop(store);

    let hints = common::hint_files(dir.path());
    let path = &hints[0];
    let id: u32 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let bytes = std::fs::read(path).unwrap();
    let hint = keg::format::Hint::parse(&bytes, id).unwrap();
    let entries: Vec<_> = hint.entries().map(Result::unwrap).collect();
    let mut writer = keg::format::HintWriter::new(id);
    // First, a key the store never held, at a real record's place with a sequence number
    // newer than anything: if it stayed in the index it would be listed and read.
    let ghost = keg::format::HintEntry {
        key: b"ghost-key",
        seq: 1 << 40,
        ..entries[0]
    };
    writer.push(&ghost);
    for entry in &entries[..entries.len() - 1] {
        writer.push(entry);
    }
    // Last, an entry whose record would end past the data file.
    let last = entries[entries.len() - 1];
    writer.push(&keg::format::HintEntry {
        value_len: u32::try_from(hint.data_len).unwrap(),
        ..last
    });
    std::fs::write(path, writer.finish(hint.data_len)).unwrap();

    let store = options().open(dir.path()).unwrap();
    assert!(!store.contains(b"ghost-key"));
    assert_eq!(contents(&store), before);
}

#[test]
fn sealed_segments_get_hint_files_and_open_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    for k in 0..2000u32 {
        store.set(&k.to_le_bytes(), &[7u8; 50]).unwrap();
    }
    assert_eq!(hint_files(dir.path()), 0);
    store.merge().unwrap();
    let segments = common::segment_files(dir.path()).len();
    assert_eq!(
        hint_files(dir.path()),
        segments - 1,
        "every sealed segment has a hint"
    );
    let before = contents(&store);
    drop(store);
    let store = options().open(dir.path()).unwrap();
    assert_eq!(contents(&store), before);
}
