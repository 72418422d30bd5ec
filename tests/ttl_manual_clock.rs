//! Every TTL rule, with a manual clock: time is moved, never waited for.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::{Error, ManualClock, Options, SetOptions, Store, SyncPolicy, Ttl};

const T0: u64 = 1_700_000_000_000;

fn open(dir: &Path, clock: &Arc<ManualClock>) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(Arc::clone(clock) as Arc<dyn keg::Clock>)
        // The cycle is exercised explicitly (purge_expired) or in expiry_cycle.rs.
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir)
        .unwrap()
}

fn setup() -> (tempfile::TempDir, Arc<ManualClock>, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    (dir, clock, store)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn a_key_expires_on_every_read_path_at_its_deadline() {
    let (_dir, clock, store) = setup();
    store.set_with_ttl(b"k", b"v", secs(10)).unwrap();
    store.set(b"forever", b"v").unwrap();
    clock.advance(Duration::from_millis(9_999));
    assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        store.ttl(b"k").unwrap(),
        Ttl::ExpiresIn(Duration::from_millis(1))
    );
    assert_eq!(store.len(), 2);

    clock.advance(Duration::from_millis(1));
    assert_eq!(store.get(b"k").unwrap(), None);
    assert!(!store.contains(b"k"));
    assert_eq!(store.keys(), vec![b"forever".to_vec()]);
    assert_eq!(store.len(), 1);
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::Missing);
    assert_eq!(store.expires_at(b"k").unwrap(), None);
    assert!(
        !store.delete(b"k").unwrap(),
        "an expired key is not deleted: it is gone"
    );
    let stats = store.stats();
    assert_eq!((stats.keys, stats.expired_keys_pending), (1, 1));
}

#[test]
fn ttl_reports_missing_no_expiry_and_remaining_like_redis() {
    let (_dir, _clock, store) = setup();
    assert_eq!(store.ttl(b"nope").unwrap(), Ttl::Missing);
    assert_eq!(store.ttl(b"nope").unwrap().as_redis_seconds(), -2);
    store.set(b"plain", b"v").unwrap();
    assert_eq!(store.ttl(b"plain").unwrap(), Ttl::NoExpiry);
    assert_eq!(store.ttl(b"plain").unwrap().as_redis_millis(), -1);
    store
        .set_with_ttl(b"t", b"v", Duration::from_millis(2500))
        .unwrap();
    let ttl = store.ttl(b"t").unwrap();
    assert_eq!(ttl.as_redis_millis(), 2500);
    assert_eq!(ttl.as_redis_seconds(), 3);
    assert_eq!(store.expires_at(b"t").unwrap(), Some(T0 + 2500));
}

#[test]
fn set_without_keep_ttl_clears_the_ttl_and_keep_ttl_keeps_it() {
    let (_dir, clock, store) = setup();
    store.set_with_ttl(b"k", b"1", secs(10)).unwrap();
    store.set(b"k", b"2").unwrap();
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::NoExpiry);

    store.set_with_ttl(b"k", b"3", secs(10)).unwrap();
    clock.advance(secs(4));
    let out = store
        .set_with(b"k", b"4", SetOptions::new().keep_ttl())
        .unwrap();
    assert!(out.written);
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::ExpiresIn(secs(6)));
    clock.advance(secs(6));
    assert_eq!(store.get(b"k").unwrap(), None);

    // KEEPTTL on an absent key: no TTL.
    store
        .set_with(b"new", b"v", SetOptions::new().keep_ttl())
        .unwrap();
    assert_eq!(store.ttl(b"new").unwrap(), Ttl::NoExpiry);
}

#[test]
fn nx_xx_and_get_options() {
    let (_dir, clock, store) = setup();
    let nx = SetOptions::new().only_if_absent();
    let xx = SetOptions::new().only_if_present();
    assert!(!store.set_with(b"k", b"x", xx).unwrap().written);
    assert_eq!(store.get(b"k").unwrap(), None);
    assert!(store.set_with(b"k", b"1", nx).unwrap().written);
    assert!(!store.set_with(b"k", b"2", nx).unwrap().written);
    assert_eq!(store.get(b"k").unwrap(), Some(b"1".to_vec()));
    assert!(store.set_with(b"k", b"3", xx).unwrap().written);

    // GET returns the previous value whether or not the write happened.
    let out = store.set_with(b"k", b"4", nx.get_previous()).unwrap();
    assert_eq!((out.written, out.previous), (false, Some(b"3".to_vec())));
    let out = store
        .set_with(b"k", b"5", SetOptions::new().get_previous())
        .unwrap();
    assert_eq!((out.written, out.previous), (true, Some(b"3".to_vec())));
    let out = store
        .set_with(b"fresh", b"v", SetOptions::new().get_previous())
        .unwrap();
    assert_eq!((out.written, out.previous), (true, None));

    // An expired key is absent for NX and XX.
    store.set_with_ttl(b"e", b"old", secs(1)).unwrap();
    clock.advance(secs(1));
    assert!(!store.set_with(b"e", b"x", xx).unwrap().written);
    assert!(store.set_with(b"e", b"new", nx).unwrap().written);
    assert_eq!(store.get(b"e").unwrap(), Some(b"new".to_vec()));
}

#[test]
fn an_expiry_in_the_past_deletes_the_key() {
    let (_dir, _clock, store) = setup();
    store.set(b"k", b"v").unwrap();
    let out = store
        .set_with(
            b"k",
            b"w",
            SetOptions::new().expire_at(T0 - 1).get_previous(),
        )
        .unwrap();
    assert_eq!((out.written, out.previous), (true, Some(b"v".to_vec())));
    assert_eq!(store.get(b"k").unwrap(), None);
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::Missing);

    store.set(b"k", b"v").unwrap();
    assert!(store.expire_at(b"k", T0).unwrap(), "now counts as past");
    assert_eq!(store.get(b"k").unwrap(), None);
    store.set(b"k", b"v").unwrap();
    assert!(store.expire(b"k", Duration::ZERO).unwrap());
    assert_eq!(store.get(b"k").unwrap(), None);
    assert_eq!(store.stats().keys, 0);
}

#[test]
fn expire_expire_at_and_persist() {
    let (_dir, clock, store) = setup();
    assert!(!store.expire(b"absent", secs(5)).unwrap());
    assert!(!store.persist(b"absent").unwrap());
    store.set(b"k", b"value").unwrap();
    assert!(!store.persist(b"k").unwrap(), "nothing to persist");
    assert!(store.expire(b"k", secs(5)).unwrap());
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::ExpiresIn(secs(5)));
    assert!(store.expire_at(b"k", T0 + 60_000).unwrap());
    assert_eq!(store.expires_at(b"k").unwrap(), Some(T0 + 60_000));
    assert!(store.persist(b"k").unwrap());
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::NoExpiry);
    clock.advance(secs(1_000));
    assert_eq!(
        store.get(b"k").unwrap(),
        Some(b"value".to_vec()),
        "value kept throughout"
    );
}

#[test]
fn invalid_ttls_are_rejected_and_change_nothing() {
    let (_dir, _clock, store) = setup();
    store.set(b"k", b"v").unwrap();
    let before = store.stats().last_seq;
    for result in [
        store.set_with_ttl(b"k", b"w", Duration::ZERO),
        store.set_with_ttl(b"k", b"w", Duration::MAX),
        store
            .set_with(b"k", b"w", SetOptions::new().expire_at(u64::MAX))
            .map(|_| ()),
        store.expire_at(b"k", u64::MAX).map(|_| ()),
    ] {
        match result {
            Err(Error::InvalidArgument { reason }) => {
                assert!(reason.contains("invalid expire time"), "{reason}");
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }
    assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::NoExpiry);
    assert_eq!(store.stats().last_seq, before, "nothing written");
}

#[test]
fn ttls_survive_reopen_as_absolute_times() {
    let (dir, clock, store) = setup();
    store.set_with_ttl(b"short", b"v", secs(10)).unwrap();
    store.set_with_ttl(b"long", b"v", secs(100)).unwrap();
    store.set(b"plain", b"v").unwrap();
    drop(store);
    clock.advance(secs(50));
    let store = open(dir.path(), &clock);
    assert_eq!(store.get(b"short").unwrap(), None);
    assert_eq!(store.ttl(b"long").unwrap(), Ttl::ExpiresIn(secs(50)));
    assert_eq!(store.ttl(b"plain").unwrap(), Ttl::NoExpiry);
    assert_eq!(store.len(), 2);
}

#[test]
fn a_backwards_clock_jump_shows_what_the_new_time_implies_but_never_revives_a_deleted_key() {
    let (dir, clock, store) = setup();
    store.set_with_ttl(b"lazy", b"v", secs(10)).unwrap();
    store.set_with_ttl(b"purged", b"v", secs(10)).unwrap();
    store.set_with_ttl(b"later", b"v", secs(100)).unwrap();
    clock.advance(secs(20));
    assert_eq!(store.get(b"lazy").unwrap(), None);

    // The expiry cycle deletes "purged" (and "lazy") with tombstones.
    store.purge_expired().unwrap();
    // A key re-set after expiring is a new key.
    store.set_with_ttl(b"lazy", b"again", secs(10)).unwrap();

    // The wall clock jumps back to before every expiry.
    clock.set(T0 + 5_000);
    assert_eq!(
        store.get(b"purged").unwrap(),
        None,
        "deleted keys stay deleted"
    );
    assert_eq!(store.get(b"lazy").unwrap(), Some(b"again".to_vec()));
    assert_eq!(store.ttl(b"later").unwrap(), Ttl::ExpiresIn(secs(95)));
    assert_eq!(store.ttl(b"lazy").unwrap(), Ttl::ExpiresIn(secs(25)));
    drop(store);

    let store = open(dir.path(), &clock);
    assert_eq!(store.get(b"purged").unwrap(), None, "…also after a reopen");
    assert_eq!(store.get(b"lazy").unwrap(), Some(b"again".to_vec()));
    assert_eq!(store.len(), 2);
}

#[test]
fn an_expired_key_not_yet_purged_reappears_if_the_clock_goes_back_before_its_expiry() {
    let (_dir, clock, store) = setup();
    store.set_with_ttl(b"k", b"v", secs(10)).unwrap();
    clock.advance(secs(11));
    assert_eq!(store.get(b"k").unwrap(), None);
    clock.set(T0 + 1_000);
    assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(store.ttl(b"k").unwrap(), Ttl::ExpiresIn(secs(9)));
}

#[test]
fn purge_deletes_expired_keys_and_frees_their_entries() {
    let (dir, clock, store) = setup();
    for i in 0..1000u32 {
        let key = format!("k{i}");
        if i % 2 == 0 {
            store.set_with_ttl(key.as_bytes(), b"v", secs(5)).unwrap();
        } else {
            store.set(key.as_bytes(), b"v").unwrap();
        }
    }
    clock.advance(secs(5));
    assert_eq!(store.stats().expired_keys_pending, 500);
    assert_eq!(store.purge_expired().unwrap(), 500);
    let stats = store.stats();
    assert_eq!(
        (
            stats.keys,
            stats.expired_keys_pending,
            stats.expired_keys_deleted
        ),
        (500, 0, 500)
    );
    assert_eq!(store.purge_expired().unwrap(), 0);
    drop(store);
    let store = open(dir.path(), &clock);
    assert_eq!(
        store.stats().expired_keys_pending,
        0,
        "tombstones were written"
    );
    assert_eq!(store.len(), 500);
}
