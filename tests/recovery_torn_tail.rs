//! Each shape of torn write at the tail of the newest segment reopens to the last good
//! state, the tail is cut off, and the store keeps working.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use keg::{Error, RecoveryMode, Store};

const KEYS: usize = 10;

fn value_of(i: usize) -> Vec<u8> {
    format!("value-{i}-").repeat(10).into_bytes()
}

/// Writes k0..k9 and returns the byte offset where the last record (k9) starts and the
/// file length.
fn build(dir: &Path) -> (u64, u64) {
    let store = common::open_fast(dir);
    for i in 0..KEYS {
        store.set(format!("k{i}").as_bytes(), &value_of(i)).unwrap();
    }
    store.close().unwrap();
    let len = std::fs::metadata(common::newest_segment(dir))
        .unwrap()
        .len();
    let last = common::record_len(2, value_of(KEYS - 1).len());
    (len - last, len)
}

fn check_contents(store: &Store, keys: usize) {
    check_contents_plus(store, keys, 0);
}

/// Like `check_contents`, with `extra` keys written after recovery.
fn check_contents_plus(store: &Store, keys: usize, extra: usize) {
    for i in 0..KEYS {
        let got = store.get(format!("k{i}").as_bytes()).unwrap();
        if i < keys {
            assert_eq!(got, Some(value_of(i)), "k{i}");
        } else {
            assert_eq!(got, None, "k{i} must be gone");
        }
    }
    assert_eq!(store.len(), keys + extra);
}

/// Reopens, checks the contents, checks the file was cut to `valid_len`, then writes and
/// reopens again to show the cut left a clean end to append to.
fn reopen_and_check(dir: &Path, keys: usize, valid_len: u64, file_len_before: u64) {
    let store = common::open_fast(dir);
    check_contents(&store, keys);
    assert_eq!(
        store.stats().torn_bytes_truncated,
        file_len_before - valid_len
    );
    assert_eq!(
        std::fs::metadata(common::newest_segment(dir))
            .unwrap()
            .len(),
        valid_len
    );
    store.set(b"after", b"recovery").unwrap();
    drop(store);
    let store = common::open_fast(dir);
    check_contents_plus(&store, keys, 1);
    assert_eq!(store.get(b"after").unwrap(), Some(b"recovery".to_vec()));
    assert_eq!(store.stats().torn_bytes_truncated, 0);
}

fn cut(dir: &Path, len: u64) {
    let f = OpenOptions::new()
        .write(true)
        .open(common::newest_segment(dir))
        .unwrap();
    f.set_len(len).unwrap();
}

fn append(dir: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(common::newest_segment(dir))
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn cut_inside_the_header_of_the_last_record() {
    for into in 1..keg::format::RECORD_HEADER_LEN as u64 {
        let dir = tempfile::tempdir().unwrap();
        let (last, _) = build(dir.path());
        cut(dir.path(), last + into);
        reopen_and_check(dir.path(), KEYS - 1, last, last + into);
    }
}

#[test]
fn cut_inside_the_key_of_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let (last, _) = build(dir.path());
    let into = keg::format::RECORD_HEADER_LEN as u64 + 1; // keys are 2 bytes: "k9"
    cut(dir.path(), last + into);
    reopen_and_check(dir.path(), KEYS - 1, last, last + into);
}

#[test]
fn cut_at_every_offset_inside_the_value_of_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let (last, len) = build(dir.path());
    let pristine = std::fs::read(common::newest_segment(dir.path())).unwrap();
    let value_start = last + keg::format::RECORD_HEADER_LEN as u64 + 2;
    for end in value_start..len {
        std::fs::write(
            common::newest_segment(dir.path()),
            &pristine[..end as usize],
        )
        .unwrap();
        let store = common::open_fast(dir.path());
        check_contents(&store, KEYS - 1);
        assert_eq!(store.stats().torn_bytes_truncated, end - last);
    }
}

#[test]
fn garbage_appended_after_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_, len) = build(dir.path());
    let garbage: Vec<u8> = (0..777u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    append(dir.path(), &garbage);
    reopen_and_check(dir.path(), KEYS, len, len + garbage.len() as u64);
}

#[test]
fn zero_filled_tail_after_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_, len) = build(dir.path());
    append(dir.path(), &vec![0u8; 64 * 1024]);
    reopen_and_check(dir.path(), KEYS, len, len + 64 * 1024);
}

#[test]
fn zero_filled_last_record() {
    // A power loss can leave a record's length in the file but not its bytes.
    let dir = tempfile::tempdir().unwrap();
    let (last, len) = build(dir.path());
    let mut bytes = std::fs::read(common::newest_segment(dir.path())).unwrap();
    bytes[last as usize..].fill(0);
    std::fs::write(common::newest_segment(dir.path()), &bytes).unwrap();
    reopen_and_check(dir.path(), KEYS - 1, last, len);
}

#[test]
fn damaged_body_of_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let (last, len) = build(dir.path());
    let mut bytes = std::fs::read(common::newest_segment(dir.path())).unwrap();
    bytes[len as usize - 1] ^= 0x55;
    std::fs::write(common::newest_segment(dir.path()), &bytes).unwrap();
    reopen_and_check(dir.path(), KEYS - 1, last, len);
}

#[test]
fn segment_with_a_torn_file_header_is_restarted() {
    // A crash between creating a segment and writing its header.
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = build(dir.path());
    let next = dir.path().join("0000000002.data");
    for torn in [&[][..], &[0x89, b'K', b'E'][..], &[0u8; 16][..]] {
        std::fs::write(&next, torn).unwrap();
        let store = common::open_fast(dir.path());
        check_contents(&store, KEYS);
        store.set(b"new", b"segment").unwrap();
        drop(store);
        let store = common::open_fast(dir.path());
        assert_eq!(store.get(b"new").unwrap(), Some(b"segment".to_vec()));
        store.delete(b"new").unwrap();
    }
}

#[test]
fn absolute_consistency_refuses_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (last, _) = build(dir.path());
    cut(dir.path(), last + 5);
    let err = common::fast_options()
        .recovery_mode(RecoveryMode::AbsoluteConsistency)
        .open(dir.path())
        .unwrap_err();
    match err {
        Error::Corrupted { file, offset, .. } => {
            assert_eq!(file, common::newest_segment(dir.path()));
            assert_eq!(offset, last);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // Nothing was truncated by the refused open.
    assert_eq!(
        std::fs::metadata(common::newest_segment(dir.path()))
            .unwrap()
            .len(),
        last + 5
    );
}
