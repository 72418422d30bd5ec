//! Hashes and sets on the log: Redis semantics, WRONGTYPE, whole-key operations, restart,
//! merge — and deleted or expired collections never coming back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::{Error, ManualClock, MergePolicy, Options, Store, SyncPolicy, Ttl, ValueType};

const T0: u64 = 1_700_000_000_000;

fn open(dir: &Path, clock: &Arc<ManualClock>) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .clock(Arc::clone(clock) as Arc<dyn keg::Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap()
}

fn setup() -> (tempfile::TempDir, Arc<ManualClock>, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    (dir, clock, store)
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn hash_of(store: &Store, key: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store.hgetall(key).unwrap().into_iter().collect()
}

#[test]
fn hash_commands_follow_redis() {
    let (_dir, _clock, store) = setup();
    assert!(store.hset(b"user:1", b"name", b"Ada").unwrap());
    assert!(!store.hset(b"user:1", b"name", b"Ada L.").unwrap());
    assert_eq!(
        store
            .hset_many(
                b"user:1",
                &[(b"lang", b"en"), (b"age", b"36"), (b"lang", b"fr")]
            )
            .unwrap(),
        2
    );
    assert_eq!(
        store.hget(b"user:1", b"name").unwrap(),
        Some(b"Ada L.".to_vec())
    );
    assert_eq!(
        store.hget(b"user:1", b"lang").unwrap(),
        Some(b"fr".to_vec())
    );
    assert_eq!(store.hget(b"user:1", b"nope").unwrap(), None);
    assert_eq!(store.hget(b"nobody", b"name").unwrap(), None);
    assert_eq!(store.hlen(b"user:1").unwrap(), 3);
    assert_eq!(store.hstrlen(b"user:1", b"name").unwrap(), 6);
    assert!(store.hexists(b"user:1", b"age").unwrap());
    assert!(!store.hsetnx(b"user:1", b"age", b"99").unwrap());
    assert!(store.hsetnx(b"user:1", b"city", b"London").unwrap());
    assert_eq!(
        store.hmget(b"user:1", &[b"age", b"x", b"city"]).unwrap(),
        vec![Some(b"36".to_vec()), None, Some(b"London".to_vec())]
    );
    assert_eq!(
        sorted(store.hkeys(b"user:1").unwrap()),
        vec![
            b"age".to_vec(),
            b"city".to_vec(),
            b"lang".to_vec(),
            b"name".to_vec()
        ]
    );
    assert_eq!(store.hvals(b"user:1").unwrap().len(), 4);
    assert_eq!(store.hincr_by(b"user:1", b"age", 1).unwrap(), 37);
    assert_eq!(store.hincr_by(b"user:1", b"visits", -2).unwrap(), -2);
    assert!(matches!(
        store.hincr_by(b"user:1", b"name", 1),
        Err(Error::NotAnInteger)
    ));
    store
        .hset(b"user:1", b"big", i64::MAX.to_string().as_bytes())
        .unwrap();
    assert!(matches!(
        store.hincr_by(b"user:1", b"big", 1),
        Err(Error::Overflow)
    ));
    assert_eq!(
        store.hincr_by_float(b"user:1", b"score", b"1.5").unwrap(),
        b"1.5"
    );
    assert_eq!(
        store.hincr_by_float(b"user:1", b"score", b"2.5e0").unwrap(),
        b"4"
    );
    assert_eq!(
        store
            .hdel(b"user:1", &[b"big", b"nope", b"visits"])
            .unwrap(),
        2
    );
    assert_eq!(store.value_type(b"user:1").unwrap(), Some(ValueType::Hash));
    // Removing the last field deletes the key, as in Redis.
    let fields = store.hkeys(b"user:1").unwrap();
    let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    assert_eq!(store.hdel(b"user:1", &fields).unwrap(), fields.len());
    assert!(!store.contains(b"user:1"));
    assert_eq!(store.value_type(b"user:1").unwrap(), None);
    assert_eq!(store.hlen(b"user:1").unwrap(), 0);
}

#[test]
fn set_commands_follow_redis() {
    let (_dir, _clock, store) = setup();
    assert_eq!(store.sadd(b"tags", &[b"a", b"b", b"a", b""]).unwrap(), 3);
    assert_eq!(store.sadd(b"tags", &[b"b", b"c"]).unwrap(), 1);
    assert_eq!(store.scard(b"tags").unwrap(), 4);
    assert!(store.sismember(b"tags", b"").unwrap());
    assert!(!store.sismember(b"tags", b"z").unwrap());
    assert_eq!(
        store.smismember(b"tags", &[b"a", b"z", b"c"]).unwrap(),
        vec![true, false, true]
    );
    assert_eq!(
        sorted(store.smembers(b"tags").unwrap()),
        vec![b"".to_vec(), b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(store.srem(b"tags", &[b"a", b"z"]).unwrap(), 1);
    assert_eq!(store.value_type(b"tags").unwrap(), Some(ValueType::Set));
    assert_eq!(store.srem(b"tags", &[b"b", b"c", b""]).unwrap(), 3);
    assert!(!store.contains(b"tags"));
    assert_eq!(store.scard(b"missing").unwrap(), 0);
    assert!(store.smembers(b"missing").unwrap().is_empty());
}

/// One command that changes a member, many other members and then the first member again
/// (an edit looks its changes up one by one while they are few and through an index once
/// they are many).
#[test]
fn a_command_repeating_a_member_after_many_others_counts_it_once() {
    let (_dir, _clock, store) = setup();
    for n in [2usize, 8, 9, 10, 30] {
        let hash = format!("h{n}");
        let names: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
        let mut pairs: Vec<(&[u8], &[u8])> =
            names.iter().map(|f| (f.as_bytes(), &b"old"[..])).collect();
        pairs.push((b"f0", b"new"));
        pairs.push((names[n - 1].as_bytes(), b"last"));
        assert_eq!(
            store.hset_many(hash.as_bytes(), &pairs).unwrap(),
            n,
            "{n} fields"
        );
        assert_eq!(store.hlen(hash.as_bytes()).unwrap(), n);
        assert_eq!(
            store.hget(hash.as_bytes(), b"f0").unwrap().as_deref(),
            Some(&b"new"[..])
        );
        let last = names[n - 1].as_bytes();
        let value = store.hget(hash.as_bytes(), last).unwrap();
        assert_eq!(value.as_deref(), Some(&b"last"[..]), "{n} fields");

        let set = format!("s{n}");
        let mut members: Vec<&[u8]> = names.iter().map(|m| m.as_bytes()).collect();
        members.push(b"f0");
        assert_eq!(
            store.sadd(set.as_bytes(), &members).unwrap(),
            n,
            "{n} members"
        );
        assert_eq!(store.scard(set.as_bytes()).unwrap(), n);
    }
}

#[test]
fn a_type_mismatch_is_wrongtype_and_changes_nothing() {
    let (_dir, _clock, store) = setup();
    store.set(b"s", b"text").unwrap();
    store.hset(b"h", b"f", b"1").unwrap();
    store.sadd(b"z", &[b"m"]).unwrap();
    assert!(matches!(
        store.hset(b"s", b"f", b"v"),
        Err(Error::WrongType)
    ));
    assert!(matches!(store.sadd(b"h", &[b"m"]), Err(Error::WrongType)));
    assert!(matches!(store.hget(b"z", b"m"), Err(Error::WrongType)));
    assert!(matches!(store.get(b"h"), Err(Error::WrongType)));
    assert!(matches!(store.incr(b"h"), Err(Error::WrongType)));
    assert!(matches!(store.append(b"z", b"x"), Err(Error::WrongType)));
    assert!(matches!(store.get_del(b"h"), Err(Error::WrongType)));
    assert_eq!(store.get(b"s").unwrap(), Some(b"text".to_vec()));
    assert_eq!(store.hget(b"h", b"f").unwrap(), Some(b"1".to_vec()));
    assert!(store.sismember(b"z", b"m").unwrap());
    assert_eq!(store.value_type(b"s").unwrap(), Some(ValueType::String));
    assert_eq!(store.len(), 3);
}

#[test]
fn set_and_delete_replace_a_whole_collection_in_one_record() {
    let (_dir, _clock, store) = setup();
    let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..200)
        .map(|i| (format!("f{i}").into_bytes(), vec![b'v'; 50]))
        .collect();
    let pairs: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(f, v)| (f.as_slice(), v.as_slice()))
        .collect();
    store.hset_many(b"h", &pairs).unwrap();
    let seq = store.stats().last_seq;
    store.set(b"h", b"now a string").unwrap();
    assert_eq!(store.stats().last_seq, seq + 1);
    assert_eq!(store.get(b"h").unwrap(), Some(b"now a string".to_vec()));
    assert_eq!(store.stats().elements, 0);
    store.hset_many(b"h2", &pairs).unwrap();
    let seq = store.stats().last_seq;
    assert!(store.delete(b"h2").unwrap());
    assert_eq!(store.stats().last_seq, seq + 1);
    // A new collection under the same key starts empty.
    store.hset(b"h2", b"only", b"1").unwrap();
    assert_eq!(hash_of(&store, b"h2").len(), 1);
}

#[test]
fn one_field_change_appends_one_record_whatever_the_size() {
    let (_dir, _clock, store) = setup();
    let members: Vec<Vec<u8>> = (0..1000).map(|i| format!("m{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
    store.sadd(b"big", &refs).unwrap();
    let before = store.stats();
    store.sadd(b"big", &[b"one more"]).unwrap();
    store.srem(b"big", &[b"m5"]).unwrap();
    let after = store.stats();
    assert_eq!(after.last_seq, before.last_seq + 2);
    assert!(after.disk_bytes - before.disk_bytes < 200);
    assert_eq!(after.elements, 1000);
}

#[test]
fn collections_and_their_ttls_survive_reopen() {
    let (dir, clock, store) = setup();
    store.hset(b"h", b"a", b"1").unwrap();
    store.hset(b"h", b"b", b"2").unwrap();
    store.hdel(b"h", &[b"a"]).unwrap();
    store.sadd(b"s", &[b"x", b"y"]).unwrap();
    assert!(store.expire(b"s", Duration::from_secs(60)).unwrap());
    store.sadd(b"s", &[b"z"]).unwrap();
    store.hset(b"gone", b"f", b"v").unwrap();
    store.delete(b"gone").unwrap();
    store.close().unwrap();

    let store = open(dir.path(), &clock);
    assert_eq!(
        hash_of(&store, b"h"),
        BTreeMap::from([(b"b".to_vec(), b"2".to_vec())])
    );
    assert_eq!(store.scard(b"s").unwrap(), 3);
    assert_eq!(
        store.ttl(b"s").unwrap(),
        Ttl::ExpiresIn(Duration::from_secs(60))
    );
    assert_eq!(store.value_type(b"gone").unwrap(), None);
    let stats = store.stats();
    assert_eq!((stats.collections, stats.elements), (2, 4));
    clock.advance(Duration::from_secs(61));
    assert_eq!(store.scard(b"s").unwrap(), 0);
    assert!(!store.contains(b"s"));
    assert!(store.persist(b"h").is_ok());
}

#[test]
fn expire_and_persist_keep_the_members() {
    let (_dir, clock, store) = setup();
    store.sadd(b"s", &[b"a", b"b"]).unwrap();
    assert!(store.expire(b"s", Duration::from_secs(10)).unwrap());
    assert_eq!(store.scard(b"s").unwrap(), 2);
    assert!(store.persist(b"s").unwrap());
    clock.advance(Duration::from_secs(20));
    assert_eq!(store.scard(b"s").unwrap(), 2);
    assert!(store.expire(b"s", Duration::from_secs(1)).unwrap());
    clock.advance(Duration::from_secs(2));
    // Expired: gone for every read; a new set under the key starts empty.
    assert_eq!(store.value_type(b"s").unwrap(), None);
    store.sadd(b"s", &[b"c"]).unwrap();
    assert_eq!(store.smembers(b"s").unwrap(), vec![b"c".to_vec()]);
    // The expiry cycle reaps an expired collection and its members.
    store.hset(b"h", b"f", b"v").unwrap();
    store.expire(b"h", Duration::from_secs(1)).unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(store.purge_expired().unwrap(), 1);
    assert_eq!(store.stats().collections, 1);
    assert_eq!(store.stats().elements, 1);
}

#[test]
fn merge_keeps_live_members_and_drops_dead_generations() {
    let (dir, clock, store) = setup();
    for round in 0..5 {
        for i in 0..60 {
            store
                .hset(
                    b"h",
                    format!("f{i}").as_bytes(),
                    format!("{round}-{i}").as_bytes(),
                )
                .unwrap();
        }
        store
            .sadd(b"dead", &[format!("m{round}").as_bytes()])
            .unwrap();
    }
    store.delete(b"dead").unwrap();
    store.sadd(b"dead", &[b"fresh"]).unwrap();
    let before = store.stats();
    let report = store.merge().unwrap();
    assert!(report.records_dropped > 0, "{report:?}");
    let after = store.stats();
    assert!(after.disk_bytes < before.disk_bytes);
    let want: BTreeMap<Vec<u8>, Vec<u8>> = (0..60)
        .map(|i| (format!("f{i}").into_bytes(), format!("4-{i}").into_bytes()))
        .collect();
    assert_eq!(hash_of(&store, b"h"), want);
    assert_eq!(store.smembers(b"dead").unwrap(), vec![b"fresh".to_vec()]);
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    assert_eq!(hash_of(&store, b"h"), want);
    assert_eq!(store.smembers(b"dead").unwrap(), vec![b"fresh".to_vec()]);
}

#[test]
fn deleted_members_and_collections_never_come_back_after_merges_and_reopens() {
    let (dir, clock, mut store) = setup();
    let mut model: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for step in 0u32..400 {
        let key = format!("s{}", step % 5).into_bytes();
        let member = format!("m{}", step % 13).into_bytes();
        match step % 7 {
            0..=2 => {
                store.sadd(&key, &[&member]).unwrap();
                model.entry(key).or_default().insert(member);
            }
            3 | 4 => {
                store.srem(&key, &[&member]).unwrap();
                if let Some(set) = model.get_mut(&key) {
                    set.remove(&member);
                    if set.is_empty() {
                        model.remove(&key);
                    }
                }
            }
            5 => {
                store.delete(&key).unwrap();
                model.remove(&key);
            }
            _ => {
                store.merge().unwrap();
                if step % 3 == 0 {
                    store.close().unwrap();
                    store = open(dir.path(), &clock);
                }
            }
        }
        if step % 50 == 49 {
            store.merge().unwrap();
            for key in (0..5).map(|k| format!("s{k}").into_bytes()) {
                let got: BTreeSet<Vec<u8>> = store.smembers(&key).unwrap().into_iter().collect();
                assert_eq!(
                    got,
                    model.get(&key).cloned().unwrap_or_default(),
                    "step {step}"
                );
            }
        }
    }
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    for key in (0..5).map(|k| format!("s{k}").into_bytes()) {
        let got: BTreeSet<Vec<u8>> = store.smembers(&key).unwrap().into_iter().collect();
        assert_eq!(got, model.get(&key).cloned().unwrap_or_default());
    }
}

#[test]
fn collection_operations_inside_a_transaction_are_refused_not_deadlocked() {
    let (_dir, _clock, store) = setup();
    let result = store.transaction(|_tx| store.sadd(b"s", &[b"m"]));
    assert!(matches!(result, Err(Error::InvalidArgument { .. })));
    assert!(!store.contains(b"s"));
}

#[test]
fn element_keys_over_the_key_limit_are_refused() {
    let (_dir, _clock, store) = setup();
    let long = vec![b'k'; 65_530];
    assert!(matches!(
        store.sadd(&long, &[b"member"]),
        Err(Error::KeyTooLarge { .. })
    ));
    assert!(!store.contains(&long));
}

#[test]
fn a_transaction_sees_its_own_collection_writes_and_commits_them_as_one_unit() {
    let (dir, clock, store) = setup();
    store.hset(b"h", b"old", b"1").unwrap();
    let seen = store
        .transaction(|tx| {
            assert_eq!(tx.hset_many(b"h", &[(b"a", b"x"), (b"b", b"y")])?, 2);
            assert_eq!(tx.hlen(b"h")?, 3);
            assert_eq!(tx.hget(b"h", b"a")?, Some(b"x".to_vec()));
            assert_eq!(tx.hdel(b"h", &[b"old"])?, 1);
            assert!(!tx.hexists(b"h", b"old")?);
            // The set is created, emptied and created again in the same transaction.
            tx.sadd(b"s", &[b"1", b"2"])?;
            tx.srem(b"s", &[b"1", b"2"])?;
            assert_eq!(tx.value_type(b"s")?, None);
            tx.sadd(b"s", &[b"3"])?;
            // A string overwrites a collection, and back.
            tx.hset(b"gone", b"f", b"v")?;
            tx.set(b"gone", b"string")?;
            assert!(matches!(tx.hget(b"gone", b"f"), Err(Error::WrongType)));
            assert_eq!(tx.value_type(b"gone")?, Some(ValueType::String));
            let mut members = tx.smembers(b"s")?;
            members.sort();
            Ok((tx.hgetall(b"h")?.len(), members))
        })
        .unwrap();
    assert_eq!(seen, (2, vec![b"3".to_vec()]));
    // Another reader sees all of it now.
    let want = BTreeMap::from([
        (b"a".to_vec(), b"x".to_vec()),
        (b"b".to_vec(), b"y".to_vec()),
    ]);
    assert_eq!(hash_of(&store, b"h"), want);
    assert_eq!(store.smembers(b"s").unwrap(), vec![b"3".to_vec()]);
    assert_eq!(store.get(b"gone").unwrap(), Some(b"string".to_vec()));
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    assert_eq!(hash_of(&store, b"h"), want);
    assert_eq!(store.smembers(b"s").unwrap(), vec![b"3".to_vec()]);
    assert_eq!(store.get(b"gone").unwrap(), Some(b"string".to_vec()));
    assert_eq!(store.stats().elements, 3);
}

#[test]
fn a_failed_transaction_leaves_collections_untouched() {
    let (_dir, _clock, store) = setup();
    store.sadd(b"s", &[b"a"]).unwrap();
    let result: keg::Result<()> = store.transaction(|tx| {
        tx.sadd(b"s", &[b"b"])?;
        tx.hset(b"s", b"f", b"v")?; // WRONGTYPE: the closure fails, nothing commits
        Ok(())
    });
    assert!(matches!(result, Err(Error::WrongType)));
    assert_eq!(store.smembers(b"s").unwrap(), vec![b"a".to_vec()]);
}

/// An element tombstone in a merged segment must stay while an older put of the element
/// survives in a segment the merge left alone.
#[test]
fn an_element_tombstone_outlives_a_merge_that_leaves_the_older_put_behind() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let options = || {
        Options::new()
            .sync_policy(SyncPolicy::Never)
            .max_segment_size(keg::MIN_SEGMENT_SIZE)
            .clock(Arc::clone(&clock) as Arc<dyn keg::Clock>)
            .expiry_cycle_interval(Duration::ZERO)
            .merge_policy(MergePolicy {
                check_interval: Duration::from_millis(5),
                // Only fragmented segments: the one holding the old put stays as it is.
                small_file_threshold: 0,
                ..MergePolicy::default()
            })
    };
    let store = options().open(dir.path()).unwrap();
    let segments = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "data")
            })
            .count()
    };
    // Segment A: the members' puts, then live filler until it is sealed.
    store.sadd(b"s", &[b"m1", b"m2"]).unwrap();
    let mut i = 0;
    while segments() == 1 {
        store
            .set(format!("live-{i}").as_bytes(), &[b'.'; 200])
            .unwrap();
        i += 1;
    }
    // Segment B: the tombstone of m1, then overwrites of one key until it is sealed.
    store.srem(b"s", &[b"m1"]).unwrap();
    let before = segments();
    while segments() == before {
        store.set(b"hot", &[b'x'; 200]).unwrap();
    }
    store.set(b"hot", b"last").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.stats().merges == 0 {
        assert!(std::time::Instant::now() < deadline, "no merge ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(store);
    let store = open(dir.path(), &clock);
    assert_eq!(store.smembers(b"s").unwrap(), vec![b"m2".to_vec()]);
}

#[test]
fn list_commands_follow_redis() {
    let (dir, clock, store) = setup();
    assert_eq!(store.rpush(b"q", &[b"a", b"b"]).unwrap(), 2);
    assert_eq!(store.lpush(b"q", &[b"y", b"z"]).unwrap(), 4);
    assert_eq!(store.lrange(b"q", 0, -1).unwrap(), [b"z", b"y", b"a", b"b"]);
    assert_eq!(store.lindex(b"q", -1).unwrap(), Some(b"b".to_vec()));
    assert_eq!(store.lpushx(b"nolist", &[b"x"]).unwrap(), 0);
    assert!(!store.contains(b"nolist"));
    assert!(matches!(
        store.lset(b"nolist", 0, b"x"),
        Err(Error::NoSuchKey)
    ));
    assert!(matches!(
        store.lset(b"q", 9, b"x"),
        Err(Error::IndexOutOfRange)
    ));
    assert_eq!(store.lpos(b"q", b"a", 1, 0, 0).unwrap(), vec![2]);
    assert_eq!(
        store.lmove(b"q", b"done", false, true).unwrap(),
        Some(b"b".to_vec())
    );
    assert_eq!(store.lrange(b"done", 0, -1).unwrap(), [b"b"]);
    assert_eq!(store.value_type(b"done").unwrap(), Some(ValueType::List));
    assert_eq!(store.lpop(b"q", 5).unwrap(), [b"z", b"y", b"a"]);
    assert!(!store.contains(b"q"));
    // A rotation (source = destination) keeps every element.
    store.rpush(b"r", &[b"1", b"2", b"3"]).unwrap();
    store.lmove(b"r", b"r", true, false).unwrap();
    assert_eq!(store.lrange(b"r", 0, -1).unwrap(), [b"2", b"3", b"1"]);
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    assert_eq!(store.lrange(b"r", 0, -1).unwrap(), [b"2", b"3", b"1"]);
    assert_eq!(store.lrange(b"done", 0, -1).unwrap(), [b"b"]);
}

#[test]
fn linsert_at_one_place_again_and_again_moves_neighbours_and_keeps_order() {
    let (dir, clock, store) = setup();
    store.rpush(b"l", &[b"head", b"tail"]).unwrap();
    let mut want: Vec<Vec<u8>> = vec![b"head".to_vec(), b"tail".to_vec()];
    // Each insert halves the gap before "tail": after 16 there is none left.
    for i in 0..40 {
        let v = format!("v{i}").into_bytes();
        assert_eq!(
            store.linsert(b"l", true, b"tail", &v).unwrap(),
            want.len() as i64 + 1
        );
        let at = want.len() - 1;
        want.insert(at, v);
        assert_eq!(store.lrange(b"l", 0, -1).unwrap(), want, "after insert {i}");
    }
    store.merge().unwrap();
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    assert_eq!(store.lrange(b"l", 0, -1).unwrap(), want);
    assert_eq!(store.llen(b"l").unwrap(), 42);
}

#[test]
fn random_members_are_members_distinct_unless_asked_and_spop_removes_them() {
    let (_dir, _clock, store) = setup();
    let members: Vec<Vec<u8>> = (0..50).map(|i| format!("m{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
    store.sadd(b"s", &refs).unwrap();
    let all: BTreeSet<Vec<u8>> = members.iter().cloned().collect();
    let picked = store.srandmember(b"s", 10, true).unwrap();
    assert_eq!(picked.len(), 10);
    assert_eq!(picked.iter().collect::<BTreeSet<_>>().len(), 10, "distinct");
    assert!(picked.iter().all(|m| all.contains(m)));
    assert_eq!(store.srandmember(b"s", 80, true).unwrap().len(), 50);
    assert_eq!(store.srandmember(b"s", 80, false).unwrap().len(), 80);
    assert_eq!(store.scard(b"s").unwrap(), 50);

    let popped = store.spop(b"s", 20).unwrap();
    assert_eq!(popped.iter().collect::<BTreeSet<_>>().len(), 20);
    let left: BTreeSet<Vec<u8>> = store.smembers(b"s").unwrap().into_iter().collect();
    assert_eq!(left.len(), 30);
    assert!(popped.iter().all(|m| all.contains(m) && !left.contains(m)));
    assert_eq!(store.spop(b"s", 100).unwrap().len(), 30);
    assert!(!store.contains(b"s"));

    store
        .hset_many(b"h", &[(b"a", b"1"), (b"b", b"2")])
        .unwrap();
    let mut fields = store.hrandfield(b"h", 5, true).unwrap();
    fields.sort();
    assert_eq!(
        fields,
        [
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
    assert_eq!(store.hrandfield(b"h", 7, false).unwrap().len(), 7);
}

#[test]
fn set_algebra_and_smove_follow_redis() {
    let (_dir, _clock, store) = setup();
    store.sadd(b"a", &[b"1", b"2", b"3"]).unwrap();
    store.sadd(b"b", &[b"2", b"3", b"4"]).unwrap();
    let sorted_of = |v: Vec<Vec<u8>>| sorted(v);
    assert_eq!(
        sorted_of(store.sinter(&[b"a", b"b"]).unwrap()),
        [b"2", b"3"]
    );
    assert_eq!(
        sorted_of(store.sunion(&[b"a", b"b"]).unwrap()),
        [b"1", b"2", b"3", b"4"]
    );
    assert_eq!(store.sdiff(&[b"a", b"b"]).unwrap(), [b"1"]);
    assert!(store.sinter(&[b"a", b"missing"]).unwrap().is_empty());
    // STORE replaces whatever the destination held, a string included.
    store.set(b"dst", b"string").unwrap();
    assert_eq!(
        store
            .sstore(b"dst", &[b"a", b"b"], keg::SetCombine::Union)
            .unwrap(),
        4
    );
    assert_eq!(store.scard(b"dst").unwrap(), 4);
    assert_eq!(
        store
            .sstore(b"dst", &[b"a", b"a"], keg::SetCombine::Difference)
            .unwrap(),
        0
    );
    assert!(!store.contains(b"dst"));
    assert!(store.smove(b"a", b"c", b"1").unwrap());
    assert!(!store.smove(b"a", b"c", b"1").unwrap());
    assert_eq!(store.smembers(b"c").unwrap(), [b"1"]);
    store.set(b"s", b"x").unwrap();
    assert!(matches!(
        store.smove(b"a", b"s", b"2"),
        Err(Error::WrongType)
    ));
    assert!(
        store.sismember(b"a", b"2").unwrap(),
        "a refused move changes nothing"
    );
    assert!(matches!(store.sinter(&[b"a", b"s"]), Err(Error::WrongType)));
}

/// Hint files count collection elements with the keys; the key index sized from them at
/// open gives the space back (found with a 1M-field hash: 59 MiB of key index for one key).
#[test]
fn a_big_collection_does_not_inflate_the_key_index_at_open() {
    let (dir, clock, store) = setup();
    let fields: Vec<Vec<u8>> = (0..50_000).map(|i| format!("f{i}").into_bytes()).collect();
    for chunk in fields.chunks(1000) {
        let pairs: Vec<(&[u8], &[u8])> = chunk.iter().map(|f| (&f[..], &b"v"[..])).collect();
        store.hset_many(b"h", &pairs).unwrap();
    }
    store.merge().unwrap();
    store.close().unwrap();
    let store = open(dir.path(), &clock);
    assert_eq!(store.hlen(b"h").unwrap(), 50_000);
    let index = store.stats().index_bytes;
    assert!(index < 256 * 1024, "key index of one key: {index} bytes");
}

/// Inside one transaction (a pipeline of SPOPs on the server), random picks come from the
/// set as the transaction left it: never a member it removed or already popped, and the
/// members it added can come out.
#[test]
fn random_picks_in_a_transaction_see_its_own_changes() {
    let (_dir, _clock, store) = setup();
    let initial: Vec<Vec<u8>> = (0..200).map(|i| format!("m{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = initial.iter().map(Vec::as_slice).collect();
    store.sadd(b"s", &refs).unwrap();
    let mut model: BTreeSet<Vec<u8>> = initial.iter().cloned().collect();
    store
        .transaction(|tx| {
            for i in 0..40 {
                let m = format!("m{i}").into_bytes();
                tx.srem(b"s", &[&m])?;
                model.remove(&m);
                let n = format!("n{i}").into_bytes();
                tx.sadd(b"s", &[&n])?;
                model.insert(n);
            }
            for _ in 0..150 {
                let popped = tx.spop(b"s", 1)?;
                assert_eq!(popped.len(), 1);
                assert!(model.remove(&popped[0]), "popped {:?}", popped[0]);
                for m in tx.srandmember(b"s", 3, false)? {
                    assert!(model.contains(&m), "picked {m:?} not in the set");
                }
                let distinct = tx.srandmember(b"s", 4, true)?;
                let unique: BTreeSet<&Vec<u8>> = distinct.iter().collect();
                assert_eq!(unique.len(), distinct.len().min(model.len()));
                assert!(distinct.iter().all(|m| model.contains(m)));
            }
            Ok(())
        })
        .unwrap();
    let members: BTreeSet<Vec<u8>> = store.smembers(b"s").unwrap().into_iter().collect();
    assert_eq!(members, model);
}

/// Found by the `collection_model` fuzz target: SMOVE, LMOVE and RPOPLPUSH from a missing
/// source move nothing whatever the destination holds (Redis 7.0 answers 0 or nil there,
/// not WRONGTYPE), and a move onto the same key leaves a one-element collection as it was,
/// TTL included (it was deleted by the pop and created again, without its TTL).
#[test]
fn moves_from_a_missing_source_or_onto_their_own_key_follow_redis() {
    let (_dir, _clock, store) = setup();
    store.set(b"str", b"x").unwrap();
    assert!(!store.smove(b"missing", b"str", b"m").unwrap());
    assert_eq!(store.lmove(b"missing", b"str", false, true).unwrap(), None);
    assert_eq!(store.value_type(b"str").unwrap(), Some(ValueType::String));
    // A source that exists still needs a destination of its type, and its own type.
    store.sadd(b"s", &[b"m"]).unwrap();
    store.rpush(b"l", &[b"v"]).unwrap();
    assert!(matches!(
        store.smove(b"s", b"str", b"m"),
        Err(Error::WrongType)
    ));
    assert!(matches!(
        store.lmove(b"l", b"str", true, true),
        Err(Error::WrongType)
    ));
    assert!(matches!(
        store.smove(b"str", b"s", b"m"),
        Err(Error::WrongType)
    ));
    assert!(matches!(
        store.lmove(b"str", b"l", true, true),
        Err(Error::WrongType)
    ));
    let ttl = Duration::from_secs(100);
    store.expire(b"s", ttl).unwrap();
    store.expire(b"l", ttl).unwrap();
    assert!(store.smove(b"s", b"s", b"m").unwrap());
    assert!(!store.smove(b"s", b"s", b"nope").unwrap());
    assert_eq!(
        store.lmove(b"l", b"l", true, false).unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(store.smembers(b"s").unwrap(), [b"m"]);
    assert_eq!(store.lrange(b"l", 0, -1).unwrap(), [b"v"]);
    assert_eq!(store.ttl(b"s").unwrap(), Ttl::ExpiresIn(ttl));
    assert_eq!(store.ttl(b"l").unwrap(), Ttl::ExpiresIn(ttl));
}

/// SADD of members already there writes no record (Redis propagates nothing for it), and
/// SADD of a new one still does.
#[test]
fn sadd_of_a_member_already_there_writes_nothing() {
    let (_dir, _clock, store) = setup();
    store.sadd(b"s", &[b"a", b"b"]).unwrap();
    let before = store.stats().last_seq;
    assert_eq!(store.sadd(b"s", &[b"a", b"b"]).unwrap(), 0);
    assert_eq!(
        store.stats().last_seq,
        before,
        "a no-op SADD wrote a record"
    );
    assert_eq!(store.sadd(b"s", &[b"a", b"c"]).unwrap(), 1);
    assert_eq!(store.stats().last_seq, before + 1);
}

/// A repeated-pick random read is bounded in count and in the bytes it copies (see
/// `a_random_read_with_a_huge_repeated_count_is_refused_and_the_server_lives_on` for the
/// crash it prevents), for every type that has one.
#[test]
fn random_reads_with_repetition_are_bounded() {
    let (_dir, _clock, store) = setup();
    store.sadd(b"s", &[b"a"]).unwrap();
    store.hset(b"h", b"f", b"v").unwrap();
    store.zadd(b"z", &[(1.0, b"m".as_slice())]).unwrap();
    let too_many = 1 << 40;
    assert!(matches!(
        store.srandmember(b"s", too_many, false),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        store.hrandfield(b"h", too_many, false),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        store.zrandmember(b"z", too_many, false),
        Err(Error::InvalidArgument { .. })
    ));
    // Distinct picks are bounded by the collection: any count is fine.
    assert_eq!(
        store.srandmember(b"s", too_many, true).unwrap(),
        vec![b"a".to_vec()]
    );
    assert_eq!(
        store.zrandmember(b"z", too_many, true).unwrap(),
        vec![(b"m".to_vec(), 1.0)]
    );
    // 600 picks of a 1 MiB value are more bytes than one read may copy.
    store.hset(b"big", b"f", &vec![7u8; 1 << 20]).unwrap();
    assert!(matches!(
        store.hrandfield(b"big", 600, false),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(store.hrandfield(b"big", 3, false).unwrap().len(), 3);
    // Distinct picks copy no more than the collection holds: not bounded.
    assert_eq!(store.hrandfield(b"big", 600, true).unwrap().len(), 1);
    // Inside a transaction that changed the set, picks come from its own view: bounded the
    // same way.
    store
        .transaction(|tx| {
            tx.sadd(b"s", &[b"b"])?;
            assert!(matches!(
                tx.srandmember(b"s", too_many, false),
                Err(Error::InvalidArgument { .. })
            ));
            assert_eq!(tx.srandmember(b"s", 1000, false)?.len(), 1000);
            assert_eq!(tx.srandmember(b"s", too_many, true)?.len(), 2);
            Ok(())
        })
        .unwrap();
}
