//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use keg::{Options, Store, SyncPolicy};

/// Options for tests: no fsync (tests check logic, not the disk), small segments.
pub fn fast_options() -> Options {
    Options::new().sync_policy(SyncPolicy::Never)
}

pub fn open_fast(dir: &Path) -> Store {
    fast_options().open(dir).expect("open store")
}

/// Segment files of `dir`, ascending.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    files.sort();
    files
}

pub fn newest_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().expect("a segment")
}

/// Encoded length of a record with these key and value lengths.
pub fn record_len(key_len: usize, value_len: usize) -> u64 {
    keg::format::record_len(key_len, value_len) as u64
}
