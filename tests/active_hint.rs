//! A clean close writes a hint file for a big active segment, so the next open reads it
//! without scanning; the hint is used only while the segment is exactly as it was at close
//! (an append, a crash or a torn tail since then makes open scan it, and drop the stale
//! hint).

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use keg::{Error, MergePolicy, Options, Store, SyncPolicy};

fn open(dir: &Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .merge_policy(MergePolicy {
            check_interval: std::time::Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap()
}

fn key(i: u32) -> Vec<u8> {
    format!("key:{i:06}").into_bytes()
}

/// A store whose one (active) segment holds about 2 MiB, closed cleanly.
fn big_active_segment(dir: &Path) {
    let store = open(dir);
    for i in 0..10_000 {
        store.set(&key(i), &[b'v'; 200]).unwrap();
    }
    store.close().unwrap();
    assert_eq!(common::segment_files(dir).len(), 1);
}

fn active_hint(dir: &Path) -> PathBuf {
    common::newest_segment(dir).with_extension("hint")
}

#[test]
fn a_clean_close_writes_a_hint_for_the_active_segment_and_open_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    big_active_segment(dir.path());
    assert!(active_hint(dir.path()).exists());
    assert!(keg::check(dir.path()).unwrap().is_clean());

    // Damage the value of the first record: a scan would refuse the store (valid records
    // follow the bad one), so an open that succeeds did not scan.
    let data = common::newest_segment(dir.path());
    let mut bytes = std::fs::read(&data).unwrap();
    let first_value = 16 + 33 + key(0).len();
    bytes[first_value] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let store = open(dir.path());
    assert_eq!(store.len(), 10_000);
    assert!(matches!(store.get(&key(0)), Err(Error::Corrupted { .. })));
    assert_eq!(store.get(&key(1)).unwrap(), Some(vec![b'v'; 200]));
}

#[test]
fn reopening_without_writes_keeps_the_hint_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    big_active_segment(dir.path());
    let inode = std::fs::metadata(active_hint(dir.path())).unwrap().ino();
    open(dir.path()).close().unwrap();
    assert_eq!(
        std::fs::metadata(active_hint(dir.path())).unwrap().ino(),
        inode,
        "the hint was rewritten although nothing changed"
    );
    // After a write, the next close writes it again.
    let store = open(dir.path());
    store.set(b"one more", b"v").unwrap();
    store.close().unwrap();
    assert_ne!(
        std::fs::metadata(active_hint(dir.path())).unwrap().ino(),
        inode
    );
    let store = open(dir.path());
    assert_eq!(store.get(b"one more").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn writes_after_the_hint_survive_a_crash_and_the_stale_hint_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    big_active_segment(dir.path());
    let store = open(dir.path());
    store.set(&key(0), b"changed").unwrap();
    store.delete(&key(1)).unwrap();
    store.set(b"new", b"n").unwrap();
    // The crash: the files as the OS has them while the store is still open.
    let crashed = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "data" || e == "hint") {
            std::fs::copy(&path, crashed.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    drop(store);
    assert!(active_hint(crashed.path()).exists());
    let store = open(crashed.path());
    assert_eq!(store.get(&key(0)).unwrap(), Some(b"changed".to_vec()));
    assert_eq!(store.get(&key(1)).unwrap(), None);
    assert_eq!(store.get(b"new").unwrap(), Some(b"n".to_vec()));
    assert_eq!(store.len(), 10_000);
    assert!(
        !active_hint(crashed.path()).exists(),
        "the stale hint is deleted at open"
    );
}

#[test]
fn a_torn_tail_after_the_hint_is_cut_off_as_usual() {
    let dir = tempfile::tempdir().unwrap();
    big_active_segment(dir.path());
    let data = common::newest_segment(dir.path());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&data)
        .unwrap();
    std::io::Write::write_all(&mut file, &[0xab; 20]).unwrap();
    drop(file);
    let store = open(dir.path());
    assert_eq!(store.stats().torn_bytes_truncated, 20);
    assert_eq!(store.len(), 10_000);
    assert_eq!(store.get(&key(9_999)).unwrap(), Some(vec![b'v'; 200]));
}

#[test]
fn a_small_active_segment_gets_no_hint() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.set(b"k", b"v").unwrap();
    store.close().unwrap();
    assert!(!active_hint(dir.path()).exists());
}
