//! Model test for hashes and sets: random sequences of field and member writes, string
//! overwrites, deletes, TTLs, clock advances, the expiry cycle, transactions, merges,
//! crashes inside merges, torn tails and reopens, against a `BTreeMap` model.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::{Clock, Error, ManualClock, Options, Store, SyncPolicy, Ttl, ValueType};
use proptest::prelude::*;

const T0: u64 = 1_000_000;

#[derive(Clone, Debug)]
enum Op {
    HSet(u8, u8, Vec<u8>),
    HDel(u8, u8),
    HIncr(u8, u8, i64),
    SAdd(u8, u8),
    SRem(u8, u8),
    /// Push at the head (true) or tail.
    Push(u8, u8, bool),
    /// Pop this many from the head (true) or tail.
    Pop(u8, u8, bool),
    /// LINSERT before (true) or after the first element equal to a member.
    Insert(u8, bool, u8, u8),
    LSet(u8, i8, u8),
    LRem(u8, i8, u8),
    LTrim(u8, i8, i8),
    ZAdd(u8, i8, u8),
    ZIncr(u8, i8, u8),
    ZRem(u8, u8),
    /// Pop this many lowest (true) or highest.
    ZPop(u8, u8, bool),
    /// A string overwrites whatever the key held.
    Set(u8, Vec<u8>),
    Delete(u8),
    /// Expire after ms (0 deletes).
    Expire(u8, u64),
    Persist(u8),
    /// Several collection writes as one transaction.
    Transaction(Vec<(u8, u8, bool)>),
    /// List writes as one transaction (0 lpush, 1 rpush, 2 lpop, 3 rpop, 4 lset at the
    /// head, 5 linsert after the first equal element, 6 lrem of the first equal element, 7
    /// lmove from the tail to the head of the same list), each checked against the model
    /// inside it: the transaction reads its own staged list, kept as a shape while it
    /// changes only the ends and walked otherwise.
    ListTransaction(Vec<(u8, u8, u8)>),
    Advance(u64),
    Purge,
    Reopen,
    CrashWithTornTail(Vec<u8>),
    Merge,
    CrashInMerge(usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    List(Vec<Vec<u8>>),
    /// Members in Redis's order (score, then bytes).
    ZSet(Vec<(Vec<u8>, f64)>),
}

fn key(k: u8) -> Vec<u8> {
    vec![b'k', b'0' + k % 4]
}

fn member(m: u8) -> Vec<u8> {
    // The empty member is a member too.
    vec![b'm'; (m % 5) as usize]
}

fn op() -> impl Strategy<Value = Op> {
    let value = proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        6 => (0u8..4, 0u8..5, value.clone()).prop_map(|(k, f, v)| Op::HSet(k, f, v)),
        3 => (0u8..4, 0u8..5).prop_map(|(k, f)| Op::HDel(k, f)),
        2 => (0u8..4, 0u8..5, -3i64..4).prop_map(|(k, f, d)| Op::HIncr(k, f, d)),
        6 => (0u8..4, 0u8..5).prop_map(|(k, m)| Op::SAdd(k, m)),
        3 => (0u8..4, 0u8..5).prop_map(|(k, m)| Op::SRem(k, m)),
        6 => (0u8..4, 0u8..5, any::<bool>()).prop_map(|(k, m, l)| Op::Push(k, m, l)),
        3 => (0u8..4, 0u8..3, any::<bool>()).prop_map(|(k, n, l)| Op::Pop(k, n, l)),
        3 => (0u8..4, any::<bool>(), 0u8..5, 0u8..5).prop_map(|(k, b, p, m)| Op::Insert(k, b, p, m)),
        1 => (0u8..4, -4i8..4, 0u8..5).prop_map(|(k, i, m)| Op::LSet(k, i, m)),
        1 => (0u8..4, -2i8..3, 0u8..5).prop_map(|(k, c, m)| Op::LRem(k, c, m)),
        1 => (0u8..4, -4i8..4, -4i8..4).prop_map(|(k, a, b)| Op::LTrim(k, a, b)),
        5 => (0u8..4, -3i8..4, 0u8..5).prop_map(|(k, sc, m)| Op::ZAdd(k, sc, m)),
        2 => (0u8..4, -3i8..4, 0u8..5).prop_map(|(k, d, m)| Op::ZIncr(k, d, m)),
        2 => (0u8..4, 0u8..5).prop_map(|(k, m)| Op::ZRem(k, m)),
        2 => (0u8..4, 0u8..3, any::<bool>()).prop_map(|(k, n, min)| Op::ZPop(k, n, min)),
        2 => (0u8..4, value).prop_map(|(k, v)| Op::Set(k, v)),
        2 => (0u8..4).prop_map(Op::Delete),
        2 => (0u8..4, 0u64..2000).prop_map(|(k, t)| Op::Expire(k, t)),
        1 => (0u8..4).prop_map(Op::Persist),
        2 => proptest::collection::vec((0u8..4, 0u8..5, any::<bool>()), 1..6)
            .prop_map(Op::Transaction),
        2 => proptest::collection::vec((0u8..4, 0u8..8, 0u8..5), 1..12)
            .prop_map(Op::ListTransaction),
        2 => (0u64..1500).prop_map(Op::Advance),
        1 => Just(Op::Purge),
        1 => Just(Op::Reopen),
        1 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Op::CrashWithTornTail),
        2 => Just(Op::Merge),
        1 => (0usize..40).prop_map(Op::CrashInMerge),
    ]
}

/// Each key's value and expiry (unix ms, 0 = never).
#[derive(Default)]
struct Model {
    keys: BTreeMap<Vec<u8>, (Value, u64)>,
}

impl Model {
    fn get(&self, k: &[u8], now: u64) -> Option<&(Value, u64)> {
        self.keys.get(k).filter(|(_, e)| *e == 0 || *e > now)
    }

    /// The hash at `k` for a write: `Err` if `k` holds another type; an expired key counts
    /// as absent.
    fn hash_mut(&mut self, k: &[u8], now: u64) -> Result<&mut BTreeMap<Vec<u8>, Vec<u8>>, ()> {
        if self.get(k, now).is_none() {
            self.keys
                .insert(k.to_vec(), (Value::Hash(BTreeMap::new()), 0));
        }
        match self.keys.get_mut(k) {
            Some((Value::Hash(h), _)) => Ok(h),
            _ => Err(()),
        }
    }

    fn set_mut(&mut self, k: &[u8], now: u64) -> Result<&mut BTreeSet<Vec<u8>>, ()> {
        if self.get(k, now).is_none() {
            self.keys
                .insert(k.to_vec(), (Value::Set(BTreeSet::new()), 0));
        }
        match self.keys.get_mut(k) {
            Some((Value::Set(s), _)) => Ok(s),
            _ => Err(()),
        }
    }

    fn list_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Vec<Vec<u8>>, ()> {
        if self.get(k, now).is_none() {
            self.keys.insert(k.to_vec(), (Value::List(Vec::new()), 0));
        }
        match self.keys.get_mut(k) {
            Some((Value::List(l), _)) => Ok(l),
            _ => Err(()),
        }
    }

    fn zset_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Vec<(Vec<u8>, f64)>, ()> {
        if self.get(k, now).is_none() {
            self.keys.insert(k.to_vec(), (Value::ZSet(Vec::new()), 0));
        }
        match self.keys.get_mut(k) {
            Some((Value::ZSet(z), _)) => Ok(z),
            _ => Err(()),
        }
    }

    /// Whether `k` holds a list or nothing (else a write is WRONGTYPE).
    fn list_or_absent(&self, k: &[u8], now: u64) -> bool {
        matches!(self.get(k, now), None | Some((Value::List(_), _)))
    }

    /// Removes an emptied collection, as Redis does.
    fn drop_if_empty(&mut self, k: &[u8]) {
        let empty = match self.keys.get(k) {
            Some((Value::Hash(h), _)) => h.is_empty(),
            Some((Value::Set(s), _)) => s.is_empty(),
            Some((Value::List(l), _)) => l.is_empty(),
            Some((Value::ZSet(z), _)) => z.is_empty(),
            _ => false,
        };
        if empty {
            self.keys.remove(k);
        }
    }

    fn ttl(&self, k: &[u8], now: u64) -> Ttl {
        match self.get(k, now) {
            None => Ttl::Missing,
            Some((_, 0)) => Ttl::NoExpiry,
            Some((_, e)) => Ttl::ExpiresIn(Duration::from_millis(e - now)),
        }
    }
}

fn open(dir: &Path, clock: &Arc<ManualClock>, crash: &Arc<common::Crash>) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(4096)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(keg::MergePolicy {
            check_interval: Duration::ZERO,
            ..keg::MergePolicy::default()
        })
        .io_hook(Arc::clone(crash) as Arc<dyn keg::IoHook>)
        .open(dir)
        .unwrap()
}

fn read_value(store: &Store, k: &[u8]) -> Option<Value> {
    match store.value_type(k).unwrap()? {
        ValueType::String => Some(Value::Str(store.get(k).unwrap()?)),
        ValueType::Hash => Some(Value::Hash(store.hgetall(k).unwrap().into_iter().collect())),
        ValueType::Set => Some(Value::Set(store.smembers(k).unwrap().into_iter().collect())),
        ValueType::List => {
            let all = store.lrange(k, 0, -1).unwrap();
            assert_eq!(store.llen(k).unwrap(), all.len());
            Some(Value::List(all))
        }
        ValueType::ZSet => {
            let all = store.zrange(k, 0, -1, false).unwrap();
            assert_eq!(store.zcard(k).unwrap(), all.len());
            for (rank, (m, s)) in all.iter().enumerate() {
                assert_eq!(store.zscore(k, m).unwrap(), Some(*s));
                assert_eq!(store.zrank(k, m, false).unwrap(), Some(rank));
            }
            Some(Value::ZSet(all))
        }
        other => panic!("unexpected type {other:?}"),
    }
}

fn check_all(store: &Store, model: &Model, now: u64) -> Result<(), TestCaseError> {
    let live: Vec<&Vec<u8>> = model
        .keys
        .iter()
        .filter(|(_, (_, e))| *e == 0 || *e > now)
        .map(|(k, _)| k)
        .collect();
    prop_assert_eq!(store.len(), live.len());
    let mut elements = 0;
    for k in (0..4).map(key) {
        let want = model.get(&k, now).map(|(v, _)| v.clone());
        elements += match &want {
            Some(Value::Hash(h)) => h.len(),
            Some(Value::Set(s)) => s.len(),
            Some(Value::List(l)) => l.len(),
            Some(Value::ZSet(z)) => z.len(),
            _ => 0,
        };
        prop_assert_eq!(read_value(store, &k), want, "key {:?}", k);
        prop_assert_eq!(store.ttl(&k).unwrap(), model.ttl(&k, now));
    }
    // Expired collections keep their members in memory until reaped.
    prop_assert!(store.stats().elements >= elements as u64);
    Ok(())
}

/// Applies `result` of a store write the model expects to succeed (`Ok`) or to be refused
/// as WRONGTYPE (`Err`).
fn expect<T: std::fmt::Debug>(
    model_ok: bool,
    result: keg::Result<T>,
) -> Result<Option<T>, TestCaseError> {
    match (model_ok, result) {
        (true, Ok(v)) => Ok(Some(v)),
        (false, Err(Error::WrongType)) => Ok(None),
        (ok, got) => Err(TestCaseError::fail(format!(
            "model expected {}, store gave {got:?}",
            if ok { "success" } else { "WRONGTYPE" }
        ))),
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let crash = Arc::new(common::Crash::default());
    let mut store = open(dir.path(), &clock, &crash);
    let mut model = Model::default();
    for op in ops {
        let now = clock.now_ms();
        match op {
            Op::HSet(k, f, v) => {
                let (k, f) = (key(k), member(f));
                let want = model
                    .hash_mut(&k, now)
                    .map(|h| h.insert(f.clone(), v.clone()).is_none());
                if let Some(added) = expect(want.is_ok(), store.hset(&k, &f, &v))? {
                    prop_assert_eq!(Ok(added), want);
                }
            }
            Op::HDel(k, f) => {
                let (k, f) = (key(k), member(f));
                let want = match model.get(&k, now) {
                    None => Ok(0),
                    Some((Value::Hash(_), _)) => {
                        let removed = model
                            .hash_mut(&k, now)
                            .map(|h| usize::from(h.remove(&f).is_some()));
                        model.drop_if_empty(&k);
                        removed
                    }
                    Some(_) => Err(()),
                };
                if let Some(n) = expect(want.is_ok(), store.hdel(&k, &[&f]))? {
                    prop_assert_eq!(Ok(n), want);
                }
            }
            Op::HIncr(k, f, d) => {
                let (k, f) = (key(k), member(f));
                let current = match model.get(&k, now) {
                    None => Ok(None),
                    Some((Value::Hash(h), _)) => Ok(h.get(&f).cloned()),
                    Some(_) => Err(()),
                };
                let result = store.hincr_by(&k, &f, d);
                match current {
                    Err(()) => prop_assert!(matches!(result, Err(Error::WrongType))),
                    Ok(old) => {
                        let parsed = match &old {
                            None => Some(0i64),
                            Some(v) => std::str::from_utf8(v)
                                .ok()
                                .filter(|s| {
                                    *s == "0"
                                        || (!s.starts_with('0')
                                            && !s.starts_with("-0")
                                            && !s.starts_with('+'))
                                })
                                .and_then(|s| s.parse::<i64>().ok()),
                        };
                        match (parsed, result) {
                            (Some(old), Ok(new)) => {
                                prop_assert_eq!(new, old + d);
                                model
                                    .hash_mut(&k, now)
                                    .unwrap()
                                    .insert(f, new.to_string().into_bytes());
                            }
                            (None, Err(Error::NotAnInteger)) => {}
                            (want, got) => {
                                prop_assert!(false, "hincr: model {want:?}, store {got:?}")
                            }
                        }
                    }
                }
            }
            Op::SAdd(k, m) => {
                let (k, m) = (key(k), member(m));
                let want = model
                    .set_mut(&k, now)
                    .map(|s| usize::from(s.insert(m.clone())));
                if let Some(n) = expect(want.is_ok(), store.sadd(&k, &[&m]))? {
                    prop_assert_eq!(Ok(n), want);
                }
            }
            Op::SRem(k, m) => {
                let (k, m) = (key(k), member(m));
                let want = match model.get(&k, now) {
                    None => Ok(0),
                    Some((Value::Set(_), _)) => {
                        let removed = model.set_mut(&k, now).map(|s| usize::from(s.remove(&m)));
                        model.drop_if_empty(&k);
                        removed
                    }
                    Some(_) => Err(()),
                };
                if let Some(n) = expect(want.is_ok(), store.srem(&k, &[&m]))? {
                    prop_assert_eq!(Ok(n), want);
                }
            }
            Op::Push(k, m, left) => {
                let (k, m) = (key(k), member(m));
                let ok = model.list_or_absent(&k, now);
                let result = if left {
                    store.lpush(&k, &[&m])
                } else {
                    store.rpush(&k, &[&m])
                };
                if let Some(len) = expect(ok, result)? {
                    let list = model.list_mut(&k, now).unwrap();
                    if left {
                        list.insert(0, m);
                    } else {
                        list.push(m);
                    }
                    prop_assert_eq!(len, list.len());
                }
            }
            Op::Pop(k, n, left) => {
                let k = key(k);
                let ok = model.list_or_absent(&k, now);
                let result = if left {
                    store.lpop(&k, n.into())
                } else {
                    store.rpop(&k, n.into())
                };
                if let Some(popped) = expect(ok, result)? {
                    let mut want = Vec::new();
                    if model.get(&k, now).is_some() {
                        let list = model.list_mut(&k, now).unwrap();
                        for _ in 0..n {
                            let v = if left {
                                (!list.is_empty()).then(|| list.remove(0))
                            } else {
                                list.pop()
                            };
                            want.extend(v);
                        }
                        model.drop_if_empty(&k);
                    }
                    prop_assert_eq!(popped, want);
                }
            }
            Op::Insert(k, before, p, m) => {
                let (k, p, m) = (key(k), member(p), member(m));
                let ok = model.list_or_absent(&k, now);
                if let Some(got) = expect(ok, store.linsert(&k, before, &p, &m))? {
                    let want = match model.get(&k, now) {
                        None => 0,
                        Some(_) => {
                            let list = model.list_mut(&k, now).unwrap();
                            match list.iter().position(|v| *v == p) {
                                None => -1,
                                Some(i) => {
                                    list.insert(if before { i } else { i + 1 }, m);
                                    list.len() as i64
                                }
                            }
                        }
                    };
                    prop_assert_eq!(got, want);
                }
            }
            Op::LSet(k, i, m) => {
                let (k, m) = (key(k), member(m));
                let ok = model.list_or_absent(&k, now);
                let result = store.lset(&k, i.into(), &m);
                match (ok, model.get(&k, now).is_some(), result) {
                    (false, _, Err(Error::WrongType)) => {}
                    (true, false, Err(Error::NoSuchKey)) => {}
                    (true, true, result) => {
                        let list = model.list_mut(&k, now).unwrap();
                        let len = list.len() as i64;
                        let idx = if i < 0 {
                            len + i64::from(i)
                        } else {
                            i64::from(i)
                        };
                        if (0..len).contains(&idx) {
                            prop_assert!(result.is_ok(), "lset: {:?}", result);
                            list[idx as usize] = m;
                        } else {
                            prop_assert!(matches!(result, Err(Error::IndexOutOfRange)));
                        }
                    }
                    (ok, exists, got) => prop_assert!(false, "lset: {ok} {exists} {got:?}"),
                }
            }
            Op::LRem(k, c, m) => {
                let (k, m) = (key(k), member(m));
                let ok = model.list_or_absent(&k, now);
                if let Some(n) = expect(ok, store.lrem(&k, c.into(), &m))? {
                    let mut removed = 0;
                    if model.get(&k, now).is_some() {
                        let list = model.list_mut(&k, now).unwrap();
                        let limit = if c == 0 {
                            usize::MAX
                        } else {
                            c.unsigned_abs() as usize
                        };
                        let mut indexes: Vec<usize> =
                            (0..list.len()).filter(|&i| list[i] == m).collect();
                        if c < 0 {
                            indexes.reverse();
                        }
                        indexes.truncate(limit);
                        indexes.sort_unstable();
                        for i in indexes.into_iter().rev() {
                            list.remove(i);
                            removed += 1;
                        }
                        model.drop_if_empty(&k);
                    }
                    prop_assert_eq!(n, removed);
                }
            }
            Op::LTrim(k, a, b) => {
                let k = key(k);
                let ok = model.list_or_absent(&k, now);
                if expect(ok, store.ltrim(&k, a.into(), b.into()))?.is_some()
                    && model.get(&k, now).is_some()
                {
                    let list = model.list_mut(&k, now).unwrap();
                    let len = list.len() as i64;
                    let norm = |i: i8| {
                        if i < 0 {
                            len + i64::from(i)
                        } else {
                            i64::from(i)
                        }
                    };
                    let (start, stop) = (norm(a).max(0), norm(b).min(len - 1));
                    *list = if start > stop || start >= len {
                        Vec::new()
                    } else {
                        list[start as usize..=stop as usize].to_vec()
                    };
                    model.drop_if_empty(&k);
                }
            }
            Op::ZAdd(k, sc, m) | Op::ZIncr(k, sc, m) => {
                let incr = matches!(op, Op::ZIncr(..));
                let (k, m, sc) = (key(k), member(m), f64::from(sc));
                let ok = matches!(model.get(&k, now), None | Some((Value::ZSet(_), _)));
                let result = if incr {
                    store.zincr_by(&k, &m, sc).map(|s| s as usize)
                } else {
                    store.zadd(&k, &[(sc, &m)])
                };
                if let Some(got) = expect(ok, result)? {
                    let z = model.zset_mut(&k, now).unwrap();
                    let old = z.iter().position(|(x, _)| *x == m).map(|i| z.remove(i));
                    let new = match (&old, incr) {
                        (Some((_, s)), true) => s + sc,
                        _ => sc,
                    };
                    z.push((m, new));
                    z.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                    if !incr {
                        prop_assert_eq!(got, usize::from(old.is_none()));
                    }
                }
            }
            Op::ZRem(k, m) => {
                let (k, m) = (key(k), member(m));
                let ok = matches!(model.get(&k, now), None | Some((Value::ZSet(_), _)));
                if let Some(n) = expect(ok, store.zrem(&k, &[&m]))? {
                    let mut removed = 0;
                    if model.get(&k, now).is_some() {
                        let z = model.zset_mut(&k, now).unwrap();
                        let before = z.len();
                        z.retain(|(x, _)| *x != m);
                        removed = before - z.len();
                        model.drop_if_empty(&k);
                    }
                    prop_assert_eq!(n, removed);
                }
            }
            Op::ZPop(k, n, min) => {
                let k = key(k);
                let ok = matches!(model.get(&k, now), None | Some((Value::ZSet(_), _)));
                let result = if min {
                    store.zpop_min(&k, n.into())
                } else {
                    store.zpop_max(&k, n.into())
                };
                if let Some(popped) = expect(ok, result)? {
                    let mut want = Vec::new();
                    if model.get(&k, now).is_some() {
                        let z = model.zset_mut(&k, now).unwrap();
                        for _ in 0..n {
                            let next = if min {
                                (!z.is_empty()).then(|| z.remove(0))
                            } else {
                                z.pop()
                            };
                            want.extend(next);
                        }
                        model.drop_if_empty(&k);
                    }
                    prop_assert_eq!(popped, want);
                }
            }
            Op::Set(k, v) => {
                store.set(&key(k), &v).unwrap();
                model.keys.insert(key(k), (Value::Str(v), 0));
            }
            Op::Delete(k) => {
                let existed = model.get(&key(k), now).is_some();
                prop_assert_eq!(store.delete(&key(k)).unwrap(), existed);
                if existed {
                    model.keys.remove(&key(k));
                }
            }
            Op::Expire(k, t) => {
                let present = model.get(&key(k), now).cloned();
                prop_assert_eq!(
                    store.expire(&key(k), Duration::from_millis(t)).unwrap(),
                    present.is_some()
                );
                if let Some((v, _)) = present {
                    if t == 0 {
                        model.keys.remove(&key(k));
                    } else {
                        model.keys.insert(key(k), (v, now + t));
                    }
                }
            }
            Op::Persist(k) => {
                let present = model.get(&key(k), now).cloned();
                let had_ttl = present.as_ref().is_some_and(|(_, e)| *e != 0);
                prop_assert_eq!(store.persist(&key(k)).unwrap(), had_ttl);
                if let (Some((v, _)), true) = (present, had_ttl) {
                    model.keys.insert(key(k), (v, 0));
                }
            }
            Op::Transaction(writes) => {
                // Each write adds (true) or removes (false) a set member; a write to a key
                // of another type fails the whole transaction, which then changes nothing.
                let mut next = Model {
                    keys: model.keys.clone(),
                };
                let mut ok = true;
                for &(k, m, add) in &writes {
                    let (k, m) = (key(k), member(m));
                    if add {
                        ok &= next.set_mut(&k, now).map(|s| s.insert(m)).is_ok();
                    } else {
                        match next.get(&k, now) {
                            None => {}
                            Some((Value::Set(_), _)) => {
                                next.set_mut(&k, now).unwrap().remove(&m);
                                next.drop_if_empty(&k);
                            }
                            Some(_) => ok = false,
                        }
                    }
                    if !ok {
                        break;
                    }
                }
                let result = store.transaction(|tx| {
                    for &(k, m, add) in &writes {
                        if add {
                            tx.sadd(&key(k), &[&member(m)])?;
                        } else {
                            tx.srem(&key(k), &[&member(m)])?;
                        }
                    }
                    Ok(())
                });
                prop_assert_eq!(result.is_ok(), ok, "transaction: {:?}", result);
                if ok {
                    model = next;
                }
            }
            Op::ListTransaction(steps) => {
                let mut next = Model {
                    keys: model.keys.clone(),
                };
                let result = store.transaction(|tx| {
                    for &(k, kind, m) in &steps {
                        let (k, m) = (key(k), member(m));
                        if !next.list_or_absent(&k, now) {
                            tx.lpush(&k, &[&m])?; // WRONGTYPE ends the transaction
                            unreachable!("a push onto another type succeeded");
                        }
                        match kind {
                            0 | 1 => {
                                let list = next.list_mut(&k, now).unwrap();
                                if kind == 0 {
                                    list.insert(0, m.clone());
                                } else {
                                    list.push(m.clone());
                                }
                                let want = list.len();
                                let got = if kind == 0 {
                                    tx.lpush(&k, &[&m])?
                                } else {
                                    tx.rpush(&k, &[&m])?
                                };
                                assert_eq!(got, want);
                            }
                            4..=7 => {
                                let present = next.get(&k, now).is_some();
                                let got = match kind {
                                    4 => tx.lset(&k, 0, &m).map(|()| 0).or_else(|e| match e {
                                        Error::NoSuchKey => Ok(-1),
                                        e => Err(e),
                                    })?,
                                    5 => tx.linsert(&k, false, &m, b"ins")?,
                                    6 => i64::try_from(tx.lrem(&k, 1, &m)?).unwrap(),
                                    _ => i64::from(tx.lmove(&k, &k, false, true)?.is_some()),
                                };
                                let want = if !present {
                                    match kind {
                                        4 => -1,
                                        _ => 0,
                                    }
                                } else {
                                    let list = next.list_mut(&k, now).unwrap();
                                    match kind {
                                        4 => {
                                            list[0] = m.clone();
                                            0
                                        }
                                        5 => match list.iter().position(|v| *v == m) {
                                            Some(at) => {
                                                list.insert(at + 1, b"ins".to_vec());
                                                i64::try_from(list.len()).unwrap()
                                            }
                                            None => -1,
                                        },
                                        6 => match list.iter().position(|v| *v == m) {
                                            Some(at) => {
                                                list.remove(at);
                                                1
                                            }
                                            None => 0,
                                        },
                                        _ => {
                                            let last = list.pop().unwrap();
                                            list.insert(0, last);
                                            1
                                        }
                                    }
                                };
                                next.drop_if_empty(&k);
                                assert_eq!(got, want, "list step {kind}");
                            }
                            _ => {
                                let want: Vec<Vec<u8>> = if next.get(&k, now).is_some() {
                                    let list = next.list_mut(&k, now).unwrap();
                                    let v = if kind == 2 {
                                        (!list.is_empty()).then(|| list.remove(0))
                                    } else {
                                        list.pop()
                                    };
                                    next.drop_if_empty(&k);
                                    v.into_iter().collect()
                                } else {
                                    Vec::new()
                                };
                                let got = if kind == 2 {
                                    tx.lpop(&k, 1)?
                                } else {
                                    tx.rpop(&k, 1)?
                                };
                                assert_eq!(got, want);
                            }
                        }
                        let want = match next.get(&k, now) {
                            Some((Value::List(l), _)) => l.clone(),
                            _ => Vec::new(),
                        };
                        assert_eq!(tx.lrange(&k, 0, -1)?, want);
                        assert_eq!(tx.lindex(&k, -1)?, want.last().cloned());
                    }
                    Ok(())
                });
                match result {
                    Ok(()) => model = next,
                    Err(Error::WrongType) => {}
                    Err(e) => prop_assert!(false, "list transaction: {e}"),
                }
            }
            Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
            Op::Purge => {
                store.purge_expired().unwrap();
                model.keys.retain(|_, (_, e)| *e == 0 || *e > now);
                check_all(&store, &model, now)?;
            }
            Op::Reopen => {
                store.close().unwrap();
                store = open(dir.path(), &clock, &crash);
                check_all(&store, &model, now)?;
            }
            Op::Merge => {
                store.merge().unwrap();
                check_all(&store, &model, now)?;
            }
            Op::CrashInMerge(after) => {
                crash.arm(after);
                let _ = store.merge();
                drop(store);
                crash.disarm();
                store = open(dir.path(), &clock, &crash);
                check_all(&store, &model, now)?;
            }
            Op::CrashWithTornTail(junk) => {
                drop(store);
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(common::newest_segment(dir.path()))
                    .unwrap();
                let torn = &junk[..junk.len().min(keg::format::RECORD_HEADER_LEN - 1)];
                f.write_all(torn).unwrap();
                drop(f);
                store = open(dir.path(), &clock, &crash);
                check_all(&store, &model, now)?;
            }
        }
    }
    let now = clock.now_ms();
    check_all(&store, &model, now)?;
    store.merge().unwrap();
    check_all(&store, &model, now)?;
    drop(store);
    check_all(&open(dir.path(), &clock, &crash), &model, now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn collections_match_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops)?;
    }
}
