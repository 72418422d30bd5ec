//! `keg::check` verifies hint files against their data files: a whole, matching hint is
//! clean; a damaged or lying one is reported (recoverable: open ignores it and scans the
//! data file, returning the right values).

mod common;

use std::path::{Path, PathBuf};

use keg::format::{Hint, HintEntry, HintWriter};
use keg::{MergePolicy, Options, Store, SyncPolicy};

fn open(dir: &Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(4096)
        .merge_policy(MergePolicy {
            check_interval: std::time::Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap()
}

/// A closed store whose sealed segments all have hint files; returns them.
fn store_with_hints(dir: &Path) -> Vec<PathBuf> {
    let store = open(dir);
    for i in 0..300u32 {
        store
            .set(format!("key:{}", i % 120).as_bytes(), &[b'v'; 40])
            .unwrap();
        if i % 7 == 0 {
            store.delete(format!("key:{}", i % 50).as_bytes()).unwrap();
        }
    }
    store.merge().unwrap();
    store.close().unwrap();
    let mut hints: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hint"))
        .collect();
    hints.sort();
    assert!(hints.len() >= 2, "the merge wrote hint files");
    hints
}

fn contents(dir: &Path) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let store = open(dir);
    let mut keys = store.keys();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap();
            (k, v)
        })
        .collect()
}

#[test]
fn matching_hint_files_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    store_with_hints(dir.path());
    let report = keg::check(dir.path()).unwrap();
    assert!(report.is_clean(), "{report:#?}");
    let checked: Vec<_> = report
        .segments
        .iter()
        .filter_map(|s| s.hint.as_ref())
        .collect();
    assert!(checked.len() >= 2);
    for s in &report.segments {
        if let Some(h) = &s.hint {
            assert_eq!(h.entries, s.records, "{}", h.path.display());
        }
    }
}

#[test]
fn a_damaged_hint_is_reported_and_open_still_returns_the_right_values() {
    let dir = tempfile::tempdir().unwrap();
    let hints = store_with_hints(dir.path());
    let expected = contents(dir.path());
    let hint = &hints[0];
    let mut bytes = std::fs::read(hint).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(hint, &bytes).unwrap();

    let report = keg::check(dir.path()).unwrap();
    assert!(!report.is_clean());
    assert!(report.is_consistent(), "a bad hint loses nothing");
    let bad = report
        .segments
        .iter()
        .find_map(|s| s.hint.as_ref().filter(|h| h.problem.is_some()))
        .unwrap();
    assert_eq!(&bad.path, hint);
    assert!(bad.problem.as_ref().unwrap().contains("damaged"), "{bad:?}");
    assert_eq!(contents(dir.path()), expected);
}

#[test]
fn a_whole_hint_that_disagrees_with_its_data_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let hints = store_with_hints(dir.path());
    let hint_path = &hints[0];
    let id: u32 = hint_path
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Rewrite the hint with a valid checksum but one sequence number changed.
    let bytes = std::fs::read(hint_path).unwrap();
    let hint = Hint::parse(&bytes, id).unwrap();
    let mut writer = HintWriter::new(id);
    for (i, entry) in hint.entries().enumerate() {
        let entry = entry.unwrap();
        let seq = if i == 0 { entry.seq + 1000 } else { entry.seq };
        writer.push(&HintEntry { seq, ..entry });
    }
    std::fs::write(hint_path, writer.finish(hint.data_len)).unwrap();

    let report = keg::check(dir.path()).unwrap();
    let bad = report
        .segments
        .iter()
        .find_map(|s| s.hint.as_ref().filter(|h| h.problem.is_some()))
        .unwrap();
    assert!(
        bad.problem.as_ref().unwrap().contains("does not match"),
        "{bad:?}"
    );

    // The same hint, complete but for a data file of another length.
    let bytes = std::fs::read(&hints[1]).unwrap();
    let id1: u32 = hints[1]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let hint = Hint::parse(&bytes, id1).unwrap();
    let mut writer = HintWriter::new(id1);
    for entry in hint.entries() {
        writer.push(&entry.unwrap());
    }
    std::fs::write(&hints[1], writer.finish(hint.data_len + 1)).unwrap();
    let report = keg::check(dir.path()).unwrap();
    let problems: Vec<String> = report
        .segments
        .iter()
        .filter_map(|s| s.hint.as_ref().and_then(|h| h.problem.clone()))
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("describes a data file")),
        "{problems:?}"
    );
}
