//! Format v1 pinned three ways: exact bytes of an encoded record, and committed store
//! directories (written by this version, or built record by record) that must open to known
//! contents. If the format drifts, these fail.
//!
//! `cargo test --test format_fixtures -- --ignored regenerate` rewrites the fixtures; only do
//! that for a deliberate format change (with a new version number).

mod common;

use std::path::{Path, PathBuf};

use keg::format::{FileHeader, FileKind, Record, RecordKind, encode_record};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(name)
}

/// Copies a fixture into a temp dir: opening may repair a torn tail, and the committed
/// files must never change.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn put(seq: u64, key: &'static [u8], value: &'static [u8], cont: bool) -> Record<'static> {
    Record {
        seq,
        expiry_ms: 0,
        kind: RecordKind::Put,
        batch_continues: cont,
        key,
        value,
    }
}

#[test]
fn hint_bytes_are_exactly_as_documented() {
    // CRCs and varints cross-checked with Python's zlib.crc32 (the same IEEE CRC32).
    use keg::format::{Hint, HintEntry, HintWriter};
    let entries = [
        HintEntry {
            seq: 1,
            expiry_ms: 0,
            kind: RecordKind::Put,
            offset: 16,
            value_len: 2,
            key: b"k1",
        },
        HintEntry {
            seq: 3,
            expiry_ms: 1_700_000_000_000,
            kind: RecordKind::Delete,
            offset: 53,
            value_len: 0,
            key: b"k2",
        },
    ];
    let mut writer = HintWriter::new(1);
    for entry in &entries {
        assert!(writer.push(entry));
    }
    let out = writer.finish(88);
    #[rustfmt::skip]
    let expected: [u8; 56] = [
        0x89, 0x4b, 0x45, 0x47, 0x01, 0x00, 0x03, 0x00,  // magic, version 1, kind 3 = hint
        0x01, 0x00, 0x00, 0x00, 0xca, 0xba, 0x30, 0x43,  // segment 1, header CRC
        0x01,                                            // put, no expiry
        0x02,                                            // key length 2
        0x02,                                            // value length 2
        0x02,                                            // seq 1 = 0 + 1 (zigzag 2)
        0x00,                                            // offset 16 = right after the header
        b'k', b'1',
        0x82,                                            // tombstone, an expiry follows
        0x02,                                            // key length 2
        0x00,                                            // value length 0
        0x04,                                            // seq 3 = 1 + 2 (zigzag 4)
        0x00,                                            // offset 53 = 16 + the first record's 37
        0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31,              // expiry 1,700,000,000,000
        b'k', b'2',
        88, 0, 0, 0, 0, 0, 0, 0,                         // data file of 88 bytes
        0x02, 0, 0, 0, 0, 0, 0, 0,                       // 2 entries
        0xdc, 0x4b, 0x7c, 0xc8,                          // CRC of everything before
    ];
    assert_eq!(out, expected, "{out:02x?}");
    let hint = Hint::parse(&out, 1).unwrap();
    assert_eq!(hint.data_len, 88);
    let read: Vec<HintEntry<'_>> = hint.entries().map(Result::unwrap).collect();
    assert_eq!(read, entries);
}

#[test]
fn record_bytes_are_exactly_as_documented() {
    // CRCs cross-checked with Python's zlib.crc32 (the same IEEE CRC32).
    let mut out = Vec::new();
    encode_record(&mut out, &put(1, b"k1", b"v1", false)).unwrap();
    #[rustfmt::skip]
    let expected: [u8; 37] = [
        0xb1, 0x5e, 0x55, 0x0d,                          // CRC of bytes 4..37
        0x34, 0x45, 0x13, 0xb3,                          // header CRC of bytes 8..33
        0x01, 0, 0, 0, 0, 0, 0, 0,                       // seq 1
        0, 0, 0, 0, 0, 0, 0, 0,                          // no expiry
        0x01,                                            // put, not continued
        0x02, 0, 0, 0,                                   // key length 2
        0x02, 0, 0, 0,                                   // value length 2
        b'k', b'1', b'v', b'1',
    ];
    assert_eq!(out, expected, "{out:02x?}");
}

#[test]
fn file_header_bytes_are_exactly_as_documented() {
    let header = FileHeader {
        kind: FileKind::Data,
        segment_id: 1,
    }
    .encode();
    #[rustfmt::skip]
    let expected: [u8; 16] = [
        0x89, b'K', b'E', b'G',   // magic
        0x01, 0x00,               // version 1
        0x01,                     // data segment
        0x00,                     // reserved
        0x01, 0, 0, 0,            // segment id 1
        0xc1, 0x1b, 0xf8, 0x0e,   // CRC of bytes 0..12
    ];
    assert_eq!(header, expected, "{header:02x?}");
}

/// The contents both fixtures must open to.
fn written_contents() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut kv = vec![
        (b"".to_vec(), b"empty key".to_vec()),
        (b"empty value".to_vec(), b"".to_vec()),
        (vec![0, 255, 10, 13], vec![1, 2, 3]),
        (b"overwritten".to_vec(), b"second".to_vec()),
    ];
    for i in 0..40u32 {
        if i % 4 != 0 {
            kv.push((
                format!("bulk:{i:03}").into_bytes(),
                vec![b'a' + (i % 26) as u8; 150],
            ));
        }
    }
    kv.sort();
    kv
}

#[test]
fn store_written_by_v1_opens_to_known_contents() {
    let dir = copy_of("written");
    assert!(
        common::segment_files(dir.path()).len() >= 2,
        "fixture spans segments"
    );
    let store = common::fast_options()
        .max_segment_size(4096)
        .open(dir.path())
        .unwrap();
    let mut got: Vec<(Vec<u8>, Vec<u8>)> = store
        .keys()
        .into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect();
    got.sort();
    assert_eq!(got, written_contents());
    assert_eq!(store.stats().torn_bytes_truncated, 0);
}

#[test]
fn hand_built_segment_with_batches_and_a_torn_batch_opens_to_known_contents() {
    let dir = copy_of("batches");
    let store = common::open_fast(dir.path());
    let mut keys = store.keys();
    keys.sort();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get(b"b").unwrap(), Some(b"batch".to_vec()));
    assert_eq!(store.get(b"c").unwrap(), Some(b"batch".to_vec()));
    assert_eq!(
        store.get(b"torn").unwrap(),
        None,
        "unfinished batch must not apply"
    );
    assert_eq!(store.stats().last_seq, 5);
    // The unfinished batch (2 records) was cut off.
    assert_eq!(
        store.stats().torn_bytes_truncated,
        common::record_len(4, 1) + common::record_len(1, 1)
    );
}

#[test]
#[ignore = "rewrites the committed fixtures; run only for a deliberate format change"]
fn regenerate() {
    let written = fixture("written");
    let _ = std::fs::remove_dir_all(&written);
    {
        let store = common::fast_options()
            .max_segment_size(4096)
            .open(&written)
            .unwrap();
        store.set(b"overwritten", b"first").unwrap();
        for i in 0..40u32 {
            store
                .set(
                    format!("bulk:{i:03}").as_bytes(),
                    &[b'a' + (i % 26) as u8; 150],
                )
                .unwrap();
        }
        for i in (0..40u32).step_by(4) {
            store.delete(format!("bulk:{i:03}").as_bytes()).unwrap();
        }
        store.set(b"", b"empty key").unwrap();
        store.set(b"empty value", b"").unwrap();
        store.set(&[0, 255, 10, 13], &[1, 2, 3]).unwrap();
        store.set(b"overwritten", b"second").unwrap();
        store.close().unwrap();
    }
    std::fs::remove_file(written.join(keg::LOCK_FILE)).unwrap();

    let batches = fixture("batches");
    let _ = std::fs::remove_dir_all(&batches);
    std::fs::create_dir_all(&batches).unwrap();
    let mut bytes = FileHeader {
        kind: FileKind::Data,
        segment_id: 1,
    }
    .encode()
    .to_vec();
    for r in [
        put(1, b"a", b"1", false),
        put(2, b"b", b"1", false),
        // A complete batch of three: overwrite b, add c, delete nothing.
        put(3, b"b", b"batch", true),
        put(4, b"c", b"batch", true),
        Record {
            kind: RecordKind::Delete,
            ..put(5, b"zzz", b"", false)
        },
        // An unfinished batch at the tail: a crash before its last record.
        put(6, b"torn", b"x", true),
        put(7, b"a", b"x", true),
    ] {
        encode_record(&mut bytes, &r).unwrap();
    }
    std::fs::write(batches.join("0000000001.data"), bytes).unwrap();
}
