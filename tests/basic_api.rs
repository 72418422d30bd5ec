//! The public API on one store: set/get/delete/contains/len/keys/stats/close.

mod common;

use keg::{Error, Store};

#[test]
fn set_get_overwrite_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.get(b"a").unwrap(), None);

    store.set(b"a", b"1").unwrap();
    store.set(b"b", b"2").unwrap();
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
    store.set(b"a", b"one").unwrap();
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(store.len(), 2);
    assert!(store.contains(b"b"));

    assert!(store.delete(b"a").unwrap());
    assert!(
        !store.delete(b"a").unwrap(),
        "second delete reports absence"
    );
    assert!(!store.delete(b"never").unwrap());
    assert_eq!(store.get(b"a").unwrap(), None);
    assert!(!store.contains(b"a"));
    assert_eq!(store.len(), 1);

    let mut keys = store.keys();
    keys.sort();
    assert_eq!(keys, vec![b"b".to_vec()]);
    store.close().unwrap();
}

#[test]
fn binary_keys_empty_key_and_empty_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let key: Vec<u8> = (0..=255).collect();
    store.set(&key, b"").unwrap();
    store.set(b"", b"the empty key").unwrap();
    store.set(b"\x00\xff", &[0, 0, 0]).unwrap();
    assert_eq!(store.get(&key).unwrap(), Some(vec![]));
    assert_eq!(store.get(b"").unwrap(), Some(b"the empty key".to_vec()));
    assert_eq!(store.get(b"\x00\xff").unwrap(), Some(vec![0, 0, 0]));
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(&key).unwrap(), Some(vec![]));
    assert_eq!(store.get(b"").unwrap(), Some(b"the empty key".to_vec()));
}

#[test]
fn deleting_an_absent_key_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let before = store.stats().disk_bytes;
    assert!(!store.delete(b"ghost").unwrap());
    assert_eq!(store.stats().disk_bytes, before);
}

#[test]
fn stats_account_live_and_dead_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"k", b"v1").unwrap();
    store.set(b"k", b"v2").unwrap();
    store.set(b"gone", b"x").unwrap();
    store.delete(b"gone").unwrap();
    let s = store.stats();
    assert_eq!(s.keys, 1);
    assert_eq!(s.live_bytes, common::record_len(1, 2));
    assert_eq!(s.last_seq, 4);
    assert_eq!(s.segments.len(), 1);
    assert!(s.segments[0].active);
    let header = keg::format::FILE_HEADER_LEN as u64;
    let expected_disk =
        header + 2 * common::record_len(1, 2) + common::record_len(4, 1) + common::record_len(4, 0);
    assert_eq!(s.disk_bytes, expected_disk);
    assert_eq!(s.dead_bytes, expected_disk - s.live_bytes);
    assert!(s.index_bytes > 0);

    // The same figures are rebuilt by recovery.
    drop(store);
    let reopened = common::open_fast(dir.path()).stats();
    assert_eq!(reopened.keys, s.keys);
    assert_eq!(reopened.live_bytes, s.live_bytes);
    assert_eq!(reopened.disk_bytes, s.disk_bytes);
    assert_eq!(reopened.last_seq, s.last_seq);
}

#[test]
fn closed_store_refuses_everything_through_other_handles() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let other = store.clone();
    store.set(b"k", b"v").unwrap();
    store.close().unwrap();
    assert!(matches!(other.get(b"k"), Err(Error::Closed)));
    assert!(matches!(other.set(b"k", b"v"), Err(Error::Closed)));
    assert!(matches!(other.delete(b"k"), Err(Error::Closed)));
    assert!(matches!(other.sync(), Err(Error::Closed)));
    // The lock was released by close even though a handle is still alive.
    let reopened = common::open_fast(dir.path());
    assert_eq!(reopened.get(b"k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn open_without_create_fails_on_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = common::fast_options()
        .create_if_missing(false)
        .open(&missing)
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
    assert!(!missing.exists());
}

#[test]
fn unknown_files_are_ignored_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    std::fs::write(dir.path().join("12.data"), b"not a segment name").unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"k", b"v").unwrap();
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt")).unwrap(),
        b"mine"
    );
    assert!(dir.path().join("12.data").exists());
}

#[test]
fn store_is_clone_send_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Store>();
    fn error_is_std_error<E: std::error::Error + Send + Sync + 'static>() {}
    error_is_std_error::<Error>();
}
