//! Keys and values over the configured limits are rejected with a clear error and nothing
//! is written.

mod common;

use keg::Error;

#[test]
fn oversized_key_and_value_are_rejected_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_key_size(8)
        .max_value_size(16)
        .open(dir.path())
        .unwrap();
    store.set(b"ok", b"fine").unwrap();
    let before = store.stats();

    let err = store.set(b"123456789", b"v").unwrap_err();
    assert!(
        matches!(err, Error::KeyTooLarge { len: 9, max: 8 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "key is 9 bytes; the limit is 8");

    let err = store.set(b"k", &[0u8; 17]).unwrap_err();
    assert!(
        matches!(err, Error::ValueTooLarge { len: 17, max: 16 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "value is 17 bytes; the limit is 16");

    let err = store.delete(b"123456789").unwrap_err();
    assert!(matches!(err, Error::KeyTooLarge { .. }));

    // Exactly at the limits is fine.
    store.set(b"12345678", &[1u8; 16]).unwrap();

    let after = store.stats();
    assert_eq!(after.last_seq, before.last_seq + 1);
    assert_eq!(
        after.disk_bytes,
        before.disk_bytes + common::record_len(8, 16),
        "rejected writes must not reach the disk"
    );
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.len(), 2);
    assert!(!store.contains(b"k"));
}

#[test]
fn reading_an_oversized_key_is_simply_absent() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_key_size(4)
        .open(dir.path())
        .unwrap();
    assert_eq!(store.get(b"much too long").unwrap(), None);
    assert!(!store.contains(b"much too long"));
}

#[test]
fn invalid_options_fail_open_before_touching_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let err = common::fast_options()
        .max_segment_size(10)
        .open(&path)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOptions { .. }), "{err:?}");
    assert!(err.to_string().contains("max_segment_size"), "{err}");
    assert!(!path.exists());
}
