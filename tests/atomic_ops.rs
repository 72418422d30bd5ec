//! Semantics of the atomic operations, one rule per assertion, Redis's wherever Redis has
//! the operation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use keg::{Error, ManualClock, Options, SyncPolicy, Ttl, WriteBatch};

fn open() -> (tempfile::TempDir, keg::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    (dir, store)
}

#[test]
fn incr_counts_from_zero_and_stores_decimal_text() {
    let (_dir, store) = open();
    assert_eq!(store.incr(b"n").unwrap(), 1);
    assert_eq!(store.incr_by(b"n", 41).unwrap(), 42);
    assert_eq!(store.decr(b"n").unwrap(), 41);
    assert_eq!(store.decr_by(b"n", 50).unwrap(), -9);
    assert_eq!(store.get(b"n").unwrap(), Some(b"-9".to_vec()));
    store.set(b"m", b"9223372036854775806").unwrap();
    assert_eq!(store.incr(b"m").unwrap(), i64::MAX);
}

#[test]
fn incr_on_a_non_integer_or_overflow_is_its_own_error_and_changes_nothing() {
    let (_dir, store) = open();
    for bad in [
        &b"abc"[..],
        b"1.5",
        b" 1",
        b"1 ",
        b"+1",
        b"007",
        b"-0",
        b"",
        b"99999999999999999999",
    ] {
        store.set(b"k", bad).unwrap();
        assert!(
            matches!(store.incr(b"k"), Err(Error::NotAnInteger)),
            "{bad:?}"
        );
        assert_eq!(store.get(b"k").unwrap(), Some(bad.to_vec()));
    }
    store.set(b"max", b"9223372036854775807").unwrap();
    assert!(matches!(store.incr(b"max"), Err(Error::Overflow)));
    store.set(b"min", b"-9223372036854775808").unwrap();
    assert!(matches!(store.decr(b"min"), Err(Error::Overflow)));
    assert!(matches!(
        store.decr_by(b"zero", i64::MIN),
        Err(Error::Overflow)
    ));
    assert_eq!(
        store.get(b"max").unwrap(),
        Some(b"9223372036854775807".to_vec())
    );
    assert!(!store.contains(b"zero"), "a failed decr_by creates nothing");
    assert_eq!(
        Error::NotAnInteger.to_string(),
        "value is not an integer or out of range"
    );
    assert_eq!(
        Error::Overflow.to_string(),
        "increment or decrement would overflow"
    );
}

#[test]
fn counters_keep_their_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(clock.clone())
        .open(dir.path())
        .unwrap();
    store
        .set_with_ttl(b"rate", b"0", Duration::from_secs(60))
        .unwrap();
    clock.advance(Duration::from_secs(10));
    assert_eq!(store.incr(b"rate").unwrap(), 1);
    assert_eq!(store.incr_by_float(b"rate", 0.5).unwrap(), 1.5);
    assert_eq!(store.append(b"rate", b"0").unwrap(), 4);
    assert_eq!(
        store.ttl(b"rate").unwrap(),
        Ttl::ExpiresIn(Duration::from_secs(50))
    );
    clock.advance(Duration::from_secs(50));
    assert_eq!(
        store.incr(b"rate").unwrap(),
        1,
        "expired: counts from zero again"
    );
    assert_eq!(store.ttl(b"rate").unwrap(), Ttl::NoExpiry);
}

#[test]
fn incr_by_float_stores_what_redis_stores() {
    let (_dir, store) = open();
    store.set(b"f", b"10.50").unwrap();
    assert_eq!(store.incr_by_float(b"f", 0.1).unwrap(), 10.6);
    assert_eq!(store.get(b"f").unwrap(), Some(b"10.6".to_vec()));
    assert_eq!(store.incr_by_float_text(b"f", b"-5").unwrap(), b"5.6");
    store.set(b"e", b"5.0e3").unwrap();
    assert_eq!(store.incr_by_float_text(b"e", b"2.0e2").unwrap(), b"5200");
    assert_eq!(store.incr_by_float_text(b"s", b"0.1").unwrap(), b"0.1");
    assert_eq!(store.incr_by_float_text(b"s", b"0.2").unwrap(), b"0.3");
    store.set(b"x", b"123456.789").unwrap();
    assert_eq!(
        store.incr_by_float_text(b"x", b"0.001").unwrap(),
        b"123456.78999999999999915",
        "x87 long double, as Redis on x86-64"
    );
}

#[test]
fn incr_by_float_errors_change_nothing() {
    let (_dir, store) = open();
    store.set(b"text", b"abc").unwrap();
    assert!(matches!(
        store.incr_by_float(b"text", 1.0),
        Err(Error::NotAFloat)
    ));
    assert!(matches!(
        store.incr_by_float(b"n", f64::NAN),
        Err(Error::NotAFloat)
    ));
    assert!(matches!(
        store.incr_by_float_text(b"n", b"nan"),
        Err(Error::NotAFloat)
    ));
    assert!(matches!(
        store.incr_by_float_text(b"n", b"1e5000"),
        Err(Error::NotAFloat)
    ));
    assert!(matches!(
        store.incr_by_float(b"n", f64::INFINITY),
        Err(Error::NanOrInfinity)
    ));
    store.set(b"big", b"1e4932").unwrap();
    assert!(matches!(
        store.incr_by_float_text(b"big", b"1e4932"),
        Err(Error::NanOrInfinity)
    ));
    assert_eq!(store.get(b"text").unwrap(), Some(b"abc".to_vec()));
    assert_eq!(store.get(b"big").unwrap(), Some(b"1e4932".to_vec()));
    assert!(!store.contains(b"n"));
    // A collection is the wrong type whatever the increment, as in Redis, which looks
    // at the key before the increment (it said NotAFloat for a bad increment).
    store.sadd(b"set", &[b"a"]).unwrap();
    for delta in [&b"abc"[..], b"1"] {
        assert!(matches!(
            store.incr_by_float_text(b"set", delta),
            Err(Error::WrongType)
        ));
    }
    assert!(matches!(
        store.incr_by_float(b"set", f64::NAN),
        Err(Error::WrongType)
    ));
    let in_transaction = store.transaction(|tx| Ok(tx.incr_by_float_text(b"set", b"abc")));
    assert!(matches!(in_transaction, Ok(Err(Error::WrongType))));
}

#[test]
fn append_get_set_and_get_del() {
    let (_dir, store) = open();
    assert_eq!(store.append(b"a", b"Hello").unwrap(), 5);
    assert_eq!(store.append(b"a", b", world").unwrap(), 12);
    assert_eq!(store.get(b"a").unwrap(), Some(b"Hello, world".to_vec()));
    assert_eq!(
        store.get_set(b"a", b"new").unwrap(),
        Some(b"Hello, world".to_vec())
    );
    assert_eq!(store.get_set(b"b", b"first").unwrap(), None);
    assert_eq!(store.get_del(b"a").unwrap(), Some(b"new".to_vec()));
    assert_eq!(store.get_del(b"a").unwrap(), None);
    assert!(!store.contains(b"a"));
}

#[test]
fn append_past_the_value_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_value_size(8)
        .open(dir.path())
        .unwrap();
    store.set(b"a", b"12345").unwrap();
    assert!(matches!(
        store.append(b"a", b"6789"),
        Err(Error::ValueTooLarge { len: 9, max: 8 })
    ));
    assert_eq!(store.get(b"a").unwrap(), Some(b"12345".to_vec()));
}

#[test]
fn set_nx_and_set_xx() {
    let (_dir, store) = open();
    assert!(!store.set_xx(b"k", b"x").unwrap());
    assert!(store.set_nx(b"k", b"1").unwrap());
    assert!(!store.set_nx(b"k", b"2").unwrap());
    assert!(store.set_xx(b"k", b"3").unwrap());
    assert_eq!(store.get(b"k").unwrap(), Some(b"3".to_vec()));
}

#[test]
fn compare_and_swap_covers_create_replace_and_delete() {
    let (_dir, store) = open();
    assert!(
        !store
            .compare_and_swap(b"k", Some(b"x"), Some(b"y"))
            .unwrap()
    );
    assert!(store.compare_and_swap(b"k", None, Some(b"v1")).unwrap());
    assert!(
        !store.compare_and_swap(b"k", None, Some(b"v2")).unwrap(),
        "not absent"
    );
    assert!(
        !store
            .compare_and_swap(b"k", Some(b"wrong"), Some(b"v2"))
            .unwrap()
    );
    assert_eq!(store.get(b"k").unwrap(), Some(b"v1".to_vec()));
    assert!(
        store
            .compare_and_swap(b"k", Some(b"v1"), Some(b"v2"))
            .unwrap()
    );
    assert!(store.compare_and_swap(b"k", Some(b"v2"), None).unwrap());
    assert!(!store.contains(b"k"));
    assert!(
        store.compare_and_swap(b"k", None, None).unwrap(),
        "absent stays absent"
    );
    assert!(!store.contains(b"k"));
}

#[test]
fn write_batches_apply_in_order() {
    let (dir, store) = open();
    store.set(b"old", b"x").unwrap();
    let mut batch = WriteBatch::new();
    batch
        .set(b"a", b"1")
        .set(b"a", b"2")
        .delete(b"old")
        .set(b"b", b"3")
        .delete(b"b")
        .delete(b"never")
        .set_with_ttl(b"t", b"v", Duration::from_secs(3600));
    assert_eq!(batch.len(), 7);
    store.write(&batch).unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert!(!store.contains(b"old") && !store.contains(b"b"));
    assert!(matches!(store.ttl(b"t").unwrap(), Ttl::ExpiresIn(_)));
    store.write(&WriteBatch::new()).unwrap();
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(store.len(), 2);
}

#[test]
fn an_invalid_operation_fails_the_whole_batch_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_key_size(4)
        .open(dir.path())
        .unwrap();
    let before = store.stats().last_seq;
    let mut batch = WriteBatch::new();
    batch.set(b"ok", b"1").set(b"too-long", b"2");
    assert!(matches!(
        store.write(&batch),
        Err(Error::KeyTooLarge { .. })
    ));
    let mut batch = WriteBatch::new();
    batch
        .set(b"ok", b"1")
        .set_with_ttl(b"t", b"2", Duration::ZERO);
    assert!(matches!(
        store.write(&batch),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(store.stats().last_seq, before);
    assert!(!store.contains(b"ok"));
}
