//! Damage that a crash cannot explain — in a sealed segment, or in the middle of the newest
//! one — fails `open` with `Error::Corrupted` naming the file and offset, and changes
//! nothing on disk.

mod common;

use std::path::{Path, PathBuf};

use keg::Error;

/// Opens with 4 KiB segments, expecting `Error::Corrupted`.
fn corruption_of(dir: &Path) -> (PathBuf, u64, String) {
    match open_small(dir) {
        Ok(_) => panic!("open succeeded on a corrupted store"),
        Err(Error::Corrupted {
            file,
            offset,
            reason,
        }) => (file, offset, reason),
        Err(other) => panic!("expected Corrupted, got {other:?}"),
    }
}

fn open_small(dir: &Path) -> keg::Result<keg::Store> {
    common::fast_options().max_segment_size(4096).open(dir)
}

/// Builds a store spread over several 4 KiB segments; returns the offset of the third
/// record of the first segment (records there are `record_len(6, 100)` bytes each).
fn build(dir: &Path) -> u64 {
    let store = open_small(dir).unwrap();
    for i in 0..200u32 {
        store
            .set(format!("k{i:05}").as_bytes(), &[b'v'; 100])
            .unwrap();
    }
    drop(store);
    assert!(common::segment_files(dir).len() >= 3);
    keg::format::FILE_HEADER_LEN as u64 + 2 * common::record_len(6, 100)
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn bit_flip_in_a_sealed_segment_value_is_reported_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let third = build(dir.path());
    let first = common::segment_files(dir.path())[0].clone();
    flip(&first, third + 40); // inside the value
    let before = std::fs::read(&first).unwrap();
    let (file, offset, reason) = corruption_of(dir.path());
    assert_eq!(file, first);
    assert_eq!(offset, third);
    assert!(reason.contains("checksum"), "{reason}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        before,
        "open must not modify"
    );
}

#[test]
fn damaged_length_field_in_a_sealed_segment_is_not_mistaken_for_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let third = build(dir.path());
    let first = common::segment_files(dir.path())[0].clone();
    flip(&first, third + 29 + 2); // high byte of the value length
    let (file, offset, reason) = corruption_of(dir.path());
    assert_eq!((file, offset), (first, third));
    assert!(reason.contains("header"), "{reason}");
}

#[test]
fn truncated_sealed_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let first = common::segment_files(dir.path())[0].clone();
    let len = std::fs::metadata(&first).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let (file, _, reason) = corruption_of(dir.path());
    assert_eq!(file, first);
    assert!(reason.contains("truncated"), "{reason}");
}

#[test]
fn damage_in_the_middle_of_the_newest_segment_is_corruption_not_a_tail() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    for i in 0..20u32 {
        store
            .set(format!("k{i:05}").as_bytes(), &[b'v'; 100])
            .unwrap();
    }
    drop(store);
    let newest = common::newest_segment(dir.path());
    let third = keg::format::FILE_HEADER_LEN as u64 + 2 * common::record_len(6, 100);
    for offset_in_record in [0u64, 9, 26, 40] {
        flip(&newest, third + offset_in_record);
        let before = std::fs::read(&newest).unwrap();
        let (file, offset, _) = corruption_of(dir.path());
        assert_eq!((file, offset), (newest.clone(), third));
        assert_eq!(std::fs::read(&newest).unwrap(), before, "nothing truncated");
        flip(&newest, third + offset_in_record);
    }
    // Undamaged again: opens with everything.
    assert_eq!(common::open_fast(dir.path()).len(), 20);
}

#[test]
fn damaged_file_header_of_a_sealed_segment_is_corruption_at_offset_zero() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let first = common::segment_files(dir.path())[0].clone();
    flip(&first, 9); // segment id
    let (file, offset, _) = corruption_of(dir.path());
    assert_eq!((file, offset), (first, 0));
}

#[test]
fn future_format_version_is_named() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let first = common::segment_files(dir.path())[0].clone();
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[4] = 9;
    std::fs::write(&first, bytes).unwrap();
    match open_small(dir.path()) {
        Err(Error::UnsupportedVersion { file, version }) => {
            assert_eq!((file, version), (first, 9));
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

/// Found by the `open_segment_image` fuzz target: a checksummed record with sequence number
/// u64::MAX made open overflow computing the next one (in release builds the next write then
/// reused an old sequence number and lost on reopen). Sequence numbers above the format's
/// MAX_SEQ are now out of range: corruption, never a torn tail.
#[test]
fn record_with_sequence_number_above_the_format_limit_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"1").unwrap();
    store.set(b"k1", b"old").unwrap();
    drop(store);
    let newest = common::newest_segment(dir.path());
    let mut bytes = std::fs::read(&newest).unwrap();
    let last = bytes.len() - common::record_len(2, 3) as usize;
    // Rewrite the last record's sequence number to u64::MAX with valid checksums, as a
    // crafted file could.
    bytes[last + 8..last + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    let header_crc = crc32fast_hash(&bytes[last + 8..last + 33]);
    bytes[last + 4..last + 8].copy_from_slice(&header_crc.to_le_bytes());
    let crc = crc32fast_hash(&bytes[last + 4..]);
    bytes[last..last + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&newest, &bytes).unwrap();
    let before = std::fs::read(&newest).unwrap();
    let (file, offset, reason) = corruption_of(dir.path());
    assert_eq!((file, offset), (newest.clone(), last as u64));
    assert!(reason.contains("sequence number"), "{reason}");
    assert_eq!(std::fs::read(&newest).unwrap(), before, "nothing truncated");
}

/// CRC32 (IEEE), as the format uses; computed here without reaching into keg's internals.
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
