//! `keg::repair` on stores damaged in particular ways: what it keeps, what it drops, what
//! it refuses. (`corruption_any_file.rs` repairs damage at many offsets of every file.)

mod common;

use std::path::Path;

use keg::{Error, WriteBatch};

fn open_small(dir: &Path) -> keg::Store {
    common::fast_options()
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .open(dir)
        .unwrap()
}

fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x04;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_batch_cut_by_damage_is_dropped_whole_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"before", b"1").unwrap();
    store.set(b"a", b"old a").unwrap();
    let batch_at = std::fs::metadata(common::newest_segment(dir.path()))
        .unwrap()
        .len();
    let mut batch = WriteBatch::new();
    batch
        .set(b"a", b"new a")
        .set(b"b", b"new b")
        .delete(b"before")
        .set(b"c", b"new c");
    store.write(&batch).unwrap();
    store.set(b"after", b"2").unwrap();
    drop(store);
    // Damage the body of the batch's second record ("b").
    let second = batch_at + common::record_len(1, 5);
    flip(&common::newest_segment(dir.path()), second as usize + 36);
    assert!(common::fast_options().open(dir.path()).is_err());

    let report = keg::repair(dir.path()).unwrap();
    let dropped: Vec<(u64, u64)> = report
        .dropped
        .iter()
        .map(|d| (d.offset, d.records))
        .collect();
    // The record before the damage, the damaged one, and the two after it.
    assert_eq!(
        dropped,
        [
            (batch_at, 1),
            (second, 0),
            (second + common::record_len(1, 5), 2)
        ]
    );
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"a").unwrap(), Some(b"old a".to_vec()));
    assert_eq!(store.get(b"b").unwrap(), None);
    assert_eq!(store.get(b"c").unwrap(), None);
    assert_eq!(store.get(b"before").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get(b"after").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn a_damaged_sealed_segment_is_rewritten_its_hint_set_aside_and_older_values_return() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_small(dir.path());
    for round in 0..3u8 {
        for k in 0..20u8 {
            store.set(&[b'k', k], &[round; 100]).unwrap();
        }
        if round == 0 {
            store.merge().unwrap();
        }
    }
    store.merge().unwrap(); // every sealed segment gets a hint file
    drop(store);
    // The newest record of some key, in a segment with a hint file.
    let mut newest = std::collections::BTreeMap::new();
    keg::dump(dir.path(), |r| {
        let slot = newest
            .entry(r.key.clone())
            .or_insert((0, r.path.clone(), 0));
        if r.seq > slot.0 {
            *slot = (r.seq, r.path.clone(), r.offset);
        }
    })
    .unwrap();
    let (key, (_, victim, offset)) = newest
        .into_iter()
        .find(|(_, (_, path, _))| path.with_extension("hint").exists())
        .expect("a live record in a segment with a hint");
    let hint = victim.with_extension("hint");
    flip(&victim, offset as usize + 40);
    // Opened from its hint, the store reports the damage when the record is read.
    let store = open_small(dir.path());
    let damaged: Vec<u8> = (0..20u8)
        .filter(|&k| matches!(store.get(&[b'k', k]), Err(Error::Corrupted { .. })))
        .collect();
    assert_eq!(damaged, [key[1]]);
    drop(store);

    let report = keg::repair(dir.path()).unwrap();
    assert_eq!(report.rewritten, std::slice::from_ref(&victim));
    assert_eq!(report.hints_set_aside, std::slice::from_ref(&hint));
    let kept = report.lost_and_found.unwrap();
    assert!(kept.join(hint.file_name().unwrap()).exists());
    assert!(keg::check(dir.path()).unwrap().is_clean());
    let store = open_small(dir.path());
    for k in 0..20u8 {
        // Every key readable; the damaged one holds whatever older record survives, if any.
        let value = store.get(&[b'k', k]).unwrap();
        assert!(value.is_none_or(|v| v.len() == 100), "k{k}");
    }
}

/// A rewritten segment can keep its length and last bytes (damage in its middle), so the
/// index snapshot no longer describes the store: repair sets it aside with the hints.
#[test]
fn a_rewrite_by_repair_sets_the_index_snapshot_aside() {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        common::fast_options()
            .max_segment_size(keg::MIN_SEGMENT_SIZE)
            .index_snapshot_min_bytes(0)
    };
    let store = options().open(dir.path()).unwrap();
    for k in 0..100u8 {
        store.set(&[b'k', k], &[k; 100]).unwrap();
    }
    drop(store);
    let snapshot = dir.path().join("index.snapshot");
    assert!(snapshot.exists());
    // Damage the value of the oldest segment's first record.
    let victim = common::segment_files(dir.path())[0].clone();
    flip(&victim, 16 + 33 + 2 + 10);

    let report = keg::repair(dir.path()).unwrap();
    assert_eq!(report.rewritten, std::slice::from_ref(&victim));
    assert!(report.hints_set_aside.contains(&snapshot));
    assert!(!snapshot.exists());
    let store = options().open(dir.path()).unwrap();
    assert!(!store.stats().opened_from_index_snapshot);
    assert_eq!(store.get(&[b'k', 0]).unwrap(), None);
    assert_eq!(store.get(&[b'k', 99]).unwrap(), Some(vec![99; 100]));
}

#[test]
fn an_empty_sealed_segment_and_a_wrong_header_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_small(dir.path());
    for k in 0..60u8 {
        store.set(&[k], &[k; 150]).unwrap();
    }
    drop(store);
    let segments = common::segment_files(dir.path());
    assert!(segments.len() >= 3);
    std::fs::write(&segments[0], b"").unwrap();
    flip(&segments[1], 9); // the segment id in the header
    assert!(common::fast_options().open(dir.path()).is_err());
    let report = keg::repair(dir.path()).unwrap();
    assert_eq!(report.rewritten, segments[..2]);
    let store = common::open_fast(dir.path());
    // The first segment's records are gone; the second's are all kept.
    let present = (0..60u8).filter(|&k| store.contains(&[k])).count();
    assert_eq!(present as u64, report.records_kept);
    assert!(present > 30);
}

#[test]
fn repair_of_an_open_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"k", b"v").unwrap();
    assert!(matches!(keg::repair(dir.path()), Err(Error::Locked { .. })));
    drop(store);
    let report = keg::repair(dir.path()).unwrap();
    assert!(!report.changed());
    assert_eq!(report.records_kept, 1);
    assert!(!dir.path().join(keg::LOST_AND_FOUND).exists());
}
