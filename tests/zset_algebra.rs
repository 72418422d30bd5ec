//! Sorted-set algebra (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD) through the
//! library: weights, aggregates and their infinities as Redis 7.0 computes them, sets as
//! inputs, missing keys, WRONGTYPE, and the STORE forms replacing or deleting their
//! destination atomically. `tests/server_vs_redis.rs` compares the commands' replies with
//! a real redis-server.

use std::path::Path;
use std::time::Duration;

use keg::{Error, Options, ScoredMember, Store, SyncPolicy, Ttl, ZAggregate};

fn open(dir: &Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir)
        .unwrap()
}

fn setup() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    (dir, store)
}

fn scored(items: &[(&str, f64)]) -> Vec<ScoredMember> {
    items
        .iter()
        .map(|(m, s)| (m.as_bytes().to_vec(), *s))
        .collect()
}

fn all(store: &Store, key: &[u8]) -> Vec<ScoredMember> {
    store.zrange(key, 0, -1, false).unwrap()
}

/// z1 = {a:1, b:2, c:3}, z2 = {a:0, b:5, d:inf}.
fn two_sets(store: &Store) {
    store
        .zadd(b"z1", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")])
        .unwrap();
    store
        .zadd(b"z2", &[(0.0, b"a"), (5.0, b"b"), (f64::INFINITY, b"d")])
        .unwrap();
}

#[test]
fn union_sums_min_or_max_of_weighted_scores_in_score_order() {
    let (_dir, store) = setup();
    two_sets(&store);
    let keys: [&[u8]; 2] = [b"z1", b"z2"];
    let inf = f64::INFINITY;
    assert_eq!(
        store.zunion(&keys, None, ZAggregate::Sum).unwrap(),
        scored(&[("a", 1.0), ("c", 3.0), ("b", 7.0), ("d", inf)])
    );
    assert_eq!(
        store.zunion(&keys, None, ZAggregate::Min).unwrap(),
        scored(&[("a", 0.0), ("b", 2.0), ("c", 3.0), ("d", inf)])
    );
    assert_eq!(
        store.zunion(&keys, None, ZAggregate::Max).unwrap(),
        scored(&[("a", 1.0), ("c", 3.0), ("b", 5.0), ("d", inf)])
    );
    assert_eq!(
        store
            .zunion(&keys, Some(&[2.0, 0.5]), ZAggregate::Sum)
            .unwrap(),
        scored(&[("a", 2.0), ("c", 6.0), ("b", 6.5), ("d", inf)])
    );
    // Equal scores: by member.
    store.zadd(b"tie", &[(5.0, b"b"), (5.0, b"a")]).unwrap();
    assert_eq!(
        store.zunion(&[b"tie"], None, ZAggregate::Sum).unwrap(),
        scored(&[("a", 5.0), ("b", 5.0)])
    );
}

#[test]
fn intersection_keeps_members_in_every_input() {
    let (_dir, store) = setup();
    two_sets(&store);
    let keys: [&[u8]; 2] = [b"z1", b"z2"];
    assert_eq!(
        store.zinter(&keys, None, ZAggregate::Sum).unwrap(),
        scored(&[("a", 1.0), ("b", 7.0)])
    );
    assert_eq!(
        store.zinter(&keys, None, ZAggregate::Max).unwrap(),
        scored(&[("a", 1.0), ("b", 5.0)])
    );
    assert_eq!(
        store
            .zinter(&keys, Some(&[-1.0, 1.0]), ZAggregate::Min)
            .unwrap(),
        scored(&[("b", -2.0), ("a", -1.0)])
    );
    assert_eq!(store.zintercard(&keys, None).unwrap(), 2);
    assert_eq!(store.zintercard(&keys, Some(1)).unwrap(), 1);
    assert_eq!(store.zintercard(&keys, Some(0)).unwrap(), 0);
}

/// Redis's corners: `inf * 0` is 0 where a member is first met, `inf + -inf` is 0, and a
/// NaN met later leaves MIN and MAX alone but makes SUM 0 (compared with redis-server
/// 7.0.15 by `tests/server_vs_redis.rs`).
#[test]
fn infinities_and_zero_weights_follow_redis() {
    let (_dir, store) = setup();
    let inf = f64::INFINITY;
    store
        .zadd(
            b"zi",
            &[(1.0, b"a"), (inf, b"b"), (-inf, b"c"), (0.0, b"d")],
        )
        .unwrap();
    store
        .zadd(
            b"zj",
            &[(1.0, b"a"), (-inf, b"b"), (inf, b"c"), (2.0, b"d")],
        )
        .unwrap();
    let keys: [&[u8]; 2] = [b"zi", b"zj"];
    assert_eq!(
        store
            .zunion(&[b"zi"], Some(&[0.0]), ZAggregate::Sum)
            .unwrap(),
        scored(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)])
    );
    assert_eq!(
        store.zunion(&keys, None, ZAggregate::Sum).unwrap(),
        scored(&[("b", 0.0), ("c", 0.0), ("a", 2.0), ("d", 2.0)])
    );
    assert_eq!(
        store
            .zinter(&keys, Some(&[0.0, 1.0]), ZAggregate::Sum)
            .unwrap(),
        scored(&[("b", -inf), ("a", 1.0), ("d", 2.0), ("c", inf)])
    );
    assert_eq!(
        store
            .zinter(&keys, Some(&[1.0, 0.0]), ZAggregate::Sum)
            .unwrap(),
        scored(&[("b", 0.0), ("c", 0.0), ("d", 0.0), ("a", 1.0)])
    );
    assert_eq!(
        store
            .zinter(&keys, Some(&[1.0, 0.0]), ZAggregate::Max)
            .unwrap(),
        scored(&[("c", -inf), ("d", 0.0), ("a", 1.0), ("b", inf)])
    );
}

#[test]
fn sets_score_one_and_missing_keys_are_empty() {
    let (_dir, store) = setup();
    two_sets(&store);
    store.sadd(b"s", &[b"a", b"x"]).unwrap();
    assert_eq!(
        store.zunion(&[b"z1", b"s"], None, ZAggregate::Sum).unwrap(),
        scored(&[("x", 1.0), ("a", 2.0), ("b", 2.0), ("c", 3.0)])
    );
    assert_eq!(
        store
            .zinter(&[b"s", b"z1"], Some(&[10.0, 1.0]), ZAggregate::Sum)
            .unwrap(),
        scored(&[("a", 11.0)])
    );
    assert_eq!(store.zdiff(&[b"s", b"z1"]).unwrap(), scored(&[("x", 1.0)]));
    assert_eq!(
        store.zdiff(&[b"z1", b"s"]).unwrap(),
        scored(&[("b", 2.0), ("c", 3.0)])
    );
    assert_eq!(
        store
            .zunion(&[b"nokey", b"z1"], None, ZAggregate::Sum)
            .unwrap(),
        all(&store, b"z1")
    );
    assert!(
        store
            .zinter(&[b"z1", b"nokey"], None, ZAggregate::Sum)
            .unwrap()
            .is_empty()
    );
    assert!(store.zdiff(&[b"nokey", b"z1"]).unwrap().is_empty());
    assert_eq!(store.zdiff(&[b"z1", b"nokey"]).unwrap(), all(&store, b"z1"));
    assert_eq!(store.zintercard(&[b"z1", b"nokey"], None).unwrap(), 0);
    assert!(store.zunion(&[], None, ZAggregate::Sum).unwrap().is_empty());
}

#[test]
fn difference_takes_the_first_inputs_scores() {
    let (_dir, store) = setup();
    two_sets(&store);
    assert_eq!(store.zdiff(&[b"z1", b"z2"]).unwrap(), scored(&[("c", 3.0)]));
    assert!(store.zdiff(&[b"z1", b"z1"]).unwrap().is_empty());
}

#[test]
fn other_types_are_wrongtype_and_bad_weights_are_refused() {
    let (_dir, store) = setup();
    two_sets(&store);
    store.set(b"str", b"x").unwrap();
    store.rpush(b"list", &[b"a"]).unwrap();
    store.hset(b"hash", b"f", b"v").unwrap();
    for bad in [&b"str"[..], b"list", b"hash"] {
        let keys = [&b"z1"[..], bad];
        assert!(matches!(
            store.zunion(&keys, None, ZAggregate::Sum),
            Err(Error::WrongType)
        ));
        // Even where the result would be empty before reaching the key.
        assert!(matches!(
            store.zinter(&[b"nokey", bad], None, ZAggregate::Sum),
            Err(Error::WrongType)
        ));
        assert!(matches!(store.zdiff(&keys), Err(Error::WrongType)));
        assert!(matches!(
            store.zintercard(&keys, None),
            Err(Error::WrongType)
        ));
        assert!(matches!(
            store.zunion_store(b"dst", &keys, None, ZAggregate::Sum),
            Err(Error::WrongType)
        ));
    }
    assert!(!store.contains(b"dst"), "a refused STORE writes nothing");
    assert!(matches!(
        store.zunion(&[b"z1", b"z2"], Some(&[1.0]), ZAggregate::Sum),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        store.zinter(&[b"z1"], Some(&[f64::NAN]), ZAggregate::Sum),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn store_forms_replace_the_destination_and_delete_it_when_empty() {
    let (_dir, store) = setup();
    two_sets(&store);
    let keys: [&[u8]; 2] = [b"z1", b"z2"];
    // A string destination with a TTL is replaced whole: type, members and TTL.
    store.set(b"dst", b"old").unwrap();
    store.expire(b"dst", Duration::from_secs(100)).unwrap();
    assert_eq!(
        store
            .zunion_store(b"dst", &keys, Some(&[1.0, 2.0]), ZAggregate::Max)
            .unwrap(),
        4
    );
    assert_eq!(
        all(&store, b"dst"),
        scored(&[("a", 1.0), ("c", 3.0), ("b", 10.0), ("d", f64::INFINITY)])
    );
    assert_eq!(store.ttl(b"dst").unwrap(), Ttl::NoExpiry);
    // A sorted set destination loses the members the result lacks.
    assert_eq!(
        store
            .zinter_store(b"dst", &keys, None, ZAggregate::Sum)
            .unwrap(),
        2
    );
    assert_eq!(all(&store, b"dst"), scored(&[("a", 1.0), ("b", 7.0)]));
    assert_eq!(store.zdiff_store(b"dst", &keys).unwrap(), 1);
    assert_eq!(all(&store, b"dst"), scored(&[("c", 3.0)]));
    // An empty result deletes the destination.
    assert_eq!(store.zdiff_store(b"dst", &[b"z1", b"z1"]).unwrap(), 0);
    assert!(!store.contains(b"dst"));
    store.set(b"dst", b"old").unwrap();
    assert_eq!(
        store
            .zinter_store(b"dst", &[b"z1", b"nokey"], None, ZAggregate::Sum)
            .unwrap(),
        0
    );
    assert!(!store.contains(b"dst"));
    // -0 is stored as 0, as ZADD stores it.
    store
        .zunion_store(b"neg", &[b"z1"], Some(&[-0.0]), ZAggregate::Sum)
        .unwrap();
    assert!(
        all(&store, b"neg")
            .iter()
            .all(|(_, s)| s.is_sign_positive())
    );
}

#[test]
fn the_destination_may_be_a_source() {
    let (_dir, store) = setup();
    two_sets(&store);
    assert_eq!(
        store
            .zinter_store(b"z1", &[b"z1", b"z2"], None, ZAggregate::Sum)
            .unwrap(),
        2
    );
    assert_eq!(all(&store, b"z1"), scored(&[("a", 1.0), ("b", 7.0)]));
    assert_eq!(
        store
            .zunion_store(b"z2", &[b"z2", b"z2"], None, ZAggregate::Sum)
            .unwrap(),
        3
    );
    assert_eq!(
        all(&store, b"z2"),
        scored(&[("a", 0.0), ("b", 10.0), ("d", f64::INFINITY)])
    );
    assert_eq!(store.zdiff_store(b"z2", &[b"z2", b"z2"]).unwrap(), 0);
    assert!(!store.contains(b"z2"));
}

#[test]
fn a_transaction_combines_what_it_staged_and_the_result_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        two_sets(&store);
        let n = store
            .transaction(|tx| {
                tx.zadd(b"z1", &[(100.0, b"d")])?;
                tx.zrem(b"z2", &[b"a"])?;
                assert_eq!(
                    tx.zinter(&[b"z1", b"z2"], None, ZAggregate::Sum)?,
                    scored(&[("b", 7.0), ("d", f64::INFINITY)])
                );
                tx.zunion_store(b"dst", &[b"z1", b"z2"], None, ZAggregate::Min)
            })
            .unwrap();
        assert_eq!(n, 4);
    }
    let store = open(dir.path());
    assert_eq!(
        all(&store, b"dst"),
        scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 100.0)])
    );
}
