//! Data written before a close (or a drop without close) is all there after reopening,
//! under every sync policy.

mod common;

use std::time::Duration;

use keg::{Options, SyncPolicy};

#[test]
fn reopen_keeps_sets_overwrites_and_deletes_under_every_policy() {
    for policy in [
        SyncPolicy::Always,
        SyncPolicy::Interval(Duration::from_millis(5)),
        SyncPolicy::Never,
    ] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Options::new().sync_policy(policy).open(dir.path()).unwrap();
            for i in 0..200u32 {
                store
                    .set(format!("k{i}").as_bytes(), &i.to_le_bytes())
                    .unwrap();
            }
            for i in (0..200u32).step_by(3) {
                store.set(format!("k{i}").as_bytes(), b"over").unwrap();
            }
            for i in (0..200u32).step_by(5) {
                store.delete(format!("k{i}").as_bytes()).unwrap();
            }
            if policy == SyncPolicy::Never {
                drop(store); // no explicit close: drop closes too
            } else {
                store.close().unwrap();
            }
        }
        let store = Options::new().sync_policy(policy).open(dir.path()).unwrap();
        for i in 0..200u32 {
            let got = store.get(format!("k{i}").as_bytes()).unwrap();
            let want = if i % 5 == 0 {
                None
            } else if i % 3 == 0 {
                Some(b"over".to_vec())
            } else {
                Some(i.to_le_bytes().to_vec())
            };
            assert_eq!(got, want, "key k{i} under {policy:?}");
        }
        assert_eq!(store.len(), 200 - 40);
    }
}

#[test]
fn sequence_numbers_continue_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"1").unwrap();
    store.set(b"a", b"2").unwrap();
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.stats().last_seq, 2);
    store.set(b"a", b"3").unwrap();
    assert_eq!(store.stats().last_seq, 3);
    drop(store);
    // If the new write had reused an old sequence number, "2" could win here.
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"a").unwrap(), Some(b"3".to_vec()));
}
