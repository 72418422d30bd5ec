//! A write batch is all-or-nothing across crashes: cut the log at every byte offset inside
//! a written batch, reopen, and find either the whole batch or none of it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use keg::WriteBatch;

type Contents = BTreeMap<Vec<u8>, Vec<u8>>;

fn contents(dir: &Path) -> Contents {
    let store = common::open_fast(dir);
    store
        .keys()
        .into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

#[test]
fn every_cut_inside_a_batch_reopens_to_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"before").unwrap();
    store.set(b"doomed", b"before").unwrap();
    store.set(b"counter", b"1").unwrap();
    drop(store);
    let before = contents(dir.path());
    let segment = common::newest_segment(dir.path());
    let batch_start = std::fs::metadata(&segment).unwrap().len();

    let store = common::open_fast(dir.path());
    let mut batch = WriteBatch::new();
    batch
        .set(b"a", b"after")
        .delete(b"doomed")
        .set(b"new", &[7u8; 40])
        .set_with_ttl(b"ttl", b"v", Duration::from_secs(3600))
        .set(b"counter", b"2");
    store.write(&batch).unwrap();
    drop(store);
    let after = contents(dir.path());
    assert_ne!(before, after);
    let pristine = std::fs::read(&segment).unwrap();
    let batch_end = pristine.len() as u64;
    assert!(batch_end - batch_start > 100, "the batch spans many bytes");

    for cut in batch_start..=batch_end {
        std::fs::write(&segment, &pristine[..cut as usize]).unwrap();
        let got = contents(dir.path());
        if cut == batch_end {
            assert_eq!(got, after, "complete batch at cut {cut}");
        } else {
            assert_eq!(got, before, "partial batch applied at cut {cut}");
        }
    }
}

#[test]
fn a_damaged_last_record_drops_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"x", b"0").unwrap();
    let mut batch = WriteBatch::new();
    batch.set(b"x", b"1").set(b"y", b"1").set(b"z", b"1");
    store.write(&batch).unwrap();
    drop(store);
    let segment = common::newest_segment(dir.path());
    let mut bytes = std::fs::read(&segment).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // the last record's value: a torn write of a power loss
    std::fs::write(&segment, &bytes).unwrap();
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"x").unwrap(), Some(b"0".to_vec()));
    assert!(!store.contains(b"y") && !store.contains(b"z"));
}
