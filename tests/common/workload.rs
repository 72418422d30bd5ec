//! A random workload of every kind of write — sets, deletes, counters, TTLs, expire/persist,
//! batches, and element writes to hashes, sets, lists and sorted sets — with its model, for
//! the crash tests (power loss, kill -9). A collection is modelled as a canonical encoding
//! of its contents (`Coll`), so the whole model stays a map of key to bytes. Time is a manual
//! clock that never moves, so no key expires behind the model's back: TTLs lie an hour or
//! more ahead, and "expire now" is an `expire_at` in the past (which deletes at once).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use keg::{Store, ValueType, WriteBatch};

use super::rng::Rng;

/// The manual clock's time (unix ms).
pub const T0: u64 = 1_700_000_000_000;

/// Each key's value and expiry (unix ms).
pub type State = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

#[derive(Clone)]
pub enum Step {
    Set(Vec<u8>, Vec<u8>),
    SetTtl(Vec<u8>, Vec<u8>, u64),
    Delete(Vec<u8>),
    Incr(Vec<u8>, i64),
    Expire(Vec<u8>, u64),
    /// `expire_at` a time already past: deletes the key.
    ExpireNow(Vec<u8>),
    Persist(Vec<u8>),
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    HSet(Vec<u8>, Vec<u8>, Vec<u8>),
    HDel(Vec<u8>, Vec<u8>),
    SAdd(Vec<u8>, Vec<u8>),
    SRem(Vec<u8>, Vec<u8>),
    RPush(Vec<u8>, Vec<u8>),
    LPop(Vec<u8>),
    ZAdd(Vec<u8>, i64, Vec<u8>),
    ZRem(Vec<u8>, Vec<u8>),
    /// Not an operation on the data: a merge.
    Merge,
    /// Not an operation on the data: `sync()` (what the interval thread does).
    Sync,
}

/// Keys as text, values as their length: a failure message stays readable.
impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
        match self {
            Step::Set(key, v) => write!(f, "Set({}, {} bytes)", k(key), v.len()),
            Step::SetTtl(key, v, s) => write!(f, "SetTtl({}, {} bytes, {s}s)", k(key), v.len()),
            Step::Delete(key) => write!(f, "Delete({})", k(key)),
            Step::Incr(key, d) => write!(f, "Incr({}, {d})", k(key)),
            Step::Expire(key, s) => write!(f, "Expire({}, {s}s)", k(key)),
            Step::ExpireNow(key) => write!(f, "ExpireNow({})", k(key)),
            Step::Persist(key) => write!(f, "Persist({})", k(key)),
            Step::Batch(ops) => {
                let ops: Vec<String> = ops
                    .iter()
                    .map(|(key, v)| match v {
                        Some(v) => format!("set {} {} bytes", k(key), v.len()),
                        None => format!("del {}", k(key)),
                    })
                    .collect();
                write!(f, "Batch[{}]", ops.join(", "))
            }
            Step::HSet(key, field, v) => {
                write!(f, "HSet({}, {}, {} bytes)", k(key), k(field), v.len())
            }
            Step::HDel(key, field) => write!(f, "HDel({}, {})", k(key), k(field)),
            Step::SAdd(key, m) => write!(f, "SAdd({}, {})", k(key), k(m)),
            Step::SRem(key, m) => write!(f, "SRem({}, {})", k(key), k(m)),
            Step::RPush(key, v) => write!(f, "RPush({}, {} bytes)", k(key), v.len()),
            Step::LPop(key) => write!(f, "LPop({})", k(key)),
            Step::ZAdd(key, score, m) => write!(f, "ZAdd({}, {score}, {})", k(key), k(m)),
            Step::ZRem(key, m) => write!(f, "ZRem({}, {})", k(key), k(m)),
            Step::Merge => write!(f, "Merge"),
            Step::Sync => write!(f, "Sync"),
        }
    }
}

impl Step {
    /// Whether the step changes data (and so counts as an operation of the model).
    pub fn is_data(&self) -> bool {
        !matches!(self, Step::Merge | Step::Sync)
    }
}

/// What the generator mixes in besides data operations.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub merges: bool,
    pub syncs: bool,
    /// Longest value; 4 KiB segments hold a handful of 800-byte values, so rotation is
    /// frequent.
    pub max_value: u64,
    /// Element writes to hashes, sets, lists and sorted sets (a third of the steps), and
    /// whole-key operations on them.
    pub collections: bool,
}

/// Generates steps on keys that start with `prefix` (so that several writers can each own
/// their keys and be checked independently).
pub struct Generator {
    rng: Rng,
    prefix: String,
    mix: Mix,
}

impl Generator {
    pub fn new(seed: u64, prefix: &str, mix: Mix) -> Generator {
        Generator {
            rng: Rng::new(seed),
            prefix: prefix.to_owned(),
            mix,
        }
    }

    fn value_key(&mut self) -> Vec<u8> {
        format!("{}k{:02}", self.prefix, self.rng.below(20)).into_bytes()
    }

    fn counter_key(&mut self) -> Vec<u8> {
        format!("{}n{}", self.prefix, self.rng.below(4)).into_bytes()
    }

    /// A collection key: `h`, `s`, `l` or `z` names its type.
    fn collection_key(&mut self, kind: char) -> Vec<u8> {
        format!("{}{kind}{}", self.prefix, self.rng.below(3)).into_bytes()
    }

    fn member(&mut self) -> Vec<u8> {
        format!("m{}", self.rng.below(6)).into_bytes()
    }

    fn any_key(&mut self) -> Vec<u8> {
        match self.rng.below(8) {
            0..=1 => self.counter_key(),
            2 if self.mix.collections => {
                let kind = ['h', 's', 'l', 'z'][self.rng.below(4) as usize];
                self.collection_key(kind)
            }
            _ => self.value_key(),
        }
    }

    fn value(&mut self) -> Vec<u8> {
        let len = self.rng.below(self.mix.max_value + 1) as usize;
        self.rng.bytes(len)
    }

    /// The next step.
    pub fn step(&mut self) -> Step {
        if self.mix.collections && self.rng.chance(1, 3) {
            return self.collection_step();
        }
        match self.rng.below(20) {
            0..=5 => Step::Set(self.value_key(), self.value()),
            6..=7 => {
                let ttl = 3600 + self.rng.below(3600);
                Step::SetTtl(self.value_key(), self.value(), ttl)
            }
            8..=9 => Step::Delete(self.any_key()),
            10..=12 => Step::Incr(self.counter_key(), self.rng.below(200) as i64 - 100),
            13 => Step::Expire(self.any_key(), 3600 + self.rng.below(3600)),
            14 => Step::ExpireNow(self.any_key()),
            15 => Step::Persist(self.any_key()),
            16..=17 => {
                let ops = (0..1 + self.rng.below(5))
                    .map(|_| {
                        let key = self.value_key();
                        let value = (!self.rng.chance(1, 4)).then(|| self.value());
                        (key, value)
                    })
                    .collect();
                Step::Batch(ops)
            }
            18 if self.mix.merges => Step::Merge,
            19 if self.mix.syncs => Step::Sync,
            _ => Step::Set(self.value_key(), self.value()),
        }
    }

    fn collection_step(&mut self) -> Step {
        match self.rng.below(8) {
            0 => {
                let (key, field) = (self.collection_key('h'), self.member());
                Step::HSet(key, field, self.value())
            }
            1 => Step::HDel(self.collection_key('h'), self.member()),
            2 => Step::SAdd(self.collection_key('s'), self.member()),
            3 => Step::SRem(self.collection_key('s'), self.member()),
            4 => {
                let key = self.collection_key('l');
                Step::RPush(key, self.value())
            }
            5 => Step::LPop(self.collection_key('l')),
            6 => {
                let key = self.collection_key('z');
                Step::ZAdd(key, self.rng.below(100) as i64 - 50, self.member())
            }
            _ => Step::ZRem(self.collection_key('z'), self.member()),
        }
    }

    /// The next `len` steps.
    pub fn steps(&mut self, len: usize) -> Vec<Step> {
        (0..len).map(|_| self.step()).collect()
    }
}

/// What `step` does to the model.
pub fn apply(state: &mut State, step: &Step) {
    match step {
        Step::Set(k, v) => {
            state.insert(k.clone(), (v.clone(), None));
        }
        Step::SetTtl(k, v, secs) => {
            state.insert(k.clone(), (v.clone(), Some(T0 + secs * 1000)));
        }
        Step::Delete(k) | Step::ExpireNow(k) => {
            state.remove(k);
        }
        Step::Incr(k, d) => {
            let (old, expiry) = state.get(k).map_or((0, None), |(v, e)| {
                let n: i64 = std::str::from_utf8(v).unwrap().parse().unwrap();
                (n, *e)
            });
            state.insert(k.clone(), ((old + d).to_string().into_bytes(), expiry));
        }
        Step::Expire(k, secs) => {
            if let Some(entry) = state.get_mut(k) {
                entry.1 = Some(T0 + secs * 1000);
            }
        }
        Step::Persist(k) => {
            if let Some(entry) = state.get_mut(k) {
                entry.1 = None;
            }
        }
        Step::Batch(ops) => {
            for (k, v) in ops {
                match v {
                    Some(v) => state.insert(k.clone(), (v.clone(), None)),
                    None => state.remove(k),
                };
            }
        }
        Step::HSet(..)
        | Step::HDel(..)
        | Step::SAdd(..)
        | Step::SRem(..)
        | Step::RPush(..)
        | Step::LPop(..)
        | Step::ZAdd(..)
        | Step::ZRem(..) => {
            collection_step(state, step);
        }
        Step::Merge | Step::Sync => {}
    }
}

/// A collection's contents, as the model keeps them (encoded in the state's value bytes).
#[derive(Clone, Debug, PartialEq)]
pub enum Coll {
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(std::collections::BTreeSet<Vec<u8>>),
    List(Vec<Vec<u8>>),
    /// Member → score (the workload's scores are integers).
    ZSet(BTreeMap<Vec<u8>, i64>),
}

impl Coll {
    fn is_empty(&self) -> bool {
        match self {
            Coll::Hash(h) => h.is_empty(),
            Coll::Set(s) => s.is_empty(),
            Coll::List(l) => l.is_empty(),
            Coll::ZSet(z) => z.is_empty(),
        }
    }

    /// A canonical encoding, marked so that it never equals a string value of the workload.
    pub fn encode(&self) -> Vec<u8> {
        format!("\u{0}coll:{self:?}").into_bytes()
    }
}

/// Applies a collection step to the model; returns the answer the store must give.
fn collection_step(state: &mut State, step: &Step) -> String {
    // Decoding an encoding is not needed: the model keeps the structure beside the state.
    with_colls(|colls| {
        let key = match step {
            Step::HSet(k, ..)
            | Step::HDel(k, _)
            | Step::SAdd(k, _)
            | Step::SRem(k, _)
            | Step::RPush(k, _)
            | Step::LPop(k)
            | Step::ZAdd(k, ..)
            | Step::ZRem(k, _) => k.clone(),
            _ => return String::new(),
        };
        // The state is the truth: a collection deleted or expired there is gone here too.
        let mut coll = match state.get(&key) {
            Some((v, _)) => colls.get(v).cloned(),
            None => None,
        };
        let expiry = state.get(&key).and_then(|(_, e)| *e);
        let answer = match step {
            Step::HSet(_, f, v) => {
                let h = match coll.get_or_insert_with(|| Coll::Hash(BTreeMap::new())) {
                    Coll::Hash(h) => h,
                    _ => unreachable!("hash keys hold hashes"),
                };
                h.insert(f.clone(), v.clone()).is_none().to_string()
            }
            Step::HDel(_, f) => match &mut coll {
                Some(Coll::Hash(h)) => usize::from(h.remove(f).is_some()).to_string(),
                _ => "0".into(),
            },
            Step::SAdd(_, m) => {
                let s = match coll.get_or_insert_with(|| Coll::Set(Default::default())) {
                    Coll::Set(s) => s,
                    _ => unreachable!("set keys hold sets"),
                };
                usize::from(s.insert(m.clone())).to_string()
            }
            Step::SRem(_, m) => match &mut coll {
                Some(Coll::Set(s)) => usize::from(s.remove(m)).to_string(),
                _ => "0".into(),
            },
            Step::RPush(_, v) => {
                let l = match coll.get_or_insert_with(|| Coll::List(Vec::new())) {
                    Coll::List(l) => l,
                    _ => unreachable!("list keys hold lists"),
                };
                l.push(v.clone());
                l.len().to_string()
            }
            Step::LPop(_) => match &mut coll {
                Some(Coll::List(l)) if !l.is_empty() => format!("{:?}", vec![l.remove(0)]),
                _ => format!("{:?}", Vec::<Vec<u8>>::new()),
            },
            Step::ZAdd(_, score, m) => {
                let z = match coll.get_or_insert_with(|| Coll::ZSet(BTreeMap::new())) {
                    Coll::ZSet(z) => z,
                    _ => unreachable!("zset keys hold sorted sets"),
                };
                usize::from(z.insert(m.clone(), *score).is_none()).to_string()
            }
            Step::ZRem(_, m) => match &mut coll {
                Some(Coll::ZSet(z)) => usize::from(z.remove(m).is_some()).to_string(),
                _ => "0".into(),
            },
            _ => String::new(),
        };
        match coll.filter(|c| !c.is_empty()) {
            Some(c) => {
                let encoded = c.encode();
                colls.insert(encoded.clone(), c);
                // A collection created now has no expiry; an existing one keeps its own.
                let expiry = if state.contains_key(&key) {
                    expiry
                } else {
                    None
                };
                state.insert(key, (encoded, expiry));
            }
            None => {
                state.remove(&key);
            }
        }
        answer
    })
}

/// Encoded collection → its structure (the model's way back from bytes to contents).
static COLLS: std::sync::Mutex<Option<std::collections::HashMap<Vec<u8>, Coll>>> =
    std::sync::Mutex::new(None);

fn with_colls<T>(f: impl FnOnce(&mut std::collections::HashMap<Vec<u8>, Coll>) -> T) -> T {
    let mut guard = COLLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.get_or_insert_with(Default::default))
}

/// Runs `step` on the store. Returns the store's answer in a form the model can check
/// (`expected_answer`), or the store's error.
pub fn perform(store: &Store, step: &Step) -> keg::Result<String> {
    Ok(match step {
        Step::Set(k, v) => {
            store.set(k, v)?;
            String::new()
        }
        Step::SetTtl(k, v, secs) => {
            store.set_with_ttl(k, v, Duration::from_secs(*secs))?;
            String::new()
        }
        Step::Delete(k) => store.delete(k)?.to_string(),
        Step::Incr(k, d) => store.incr_by(k, *d)?.to_string(),
        Step::Expire(k, secs) => store.expire(k, Duration::from_secs(*secs))?.to_string(),
        Step::ExpireNow(k) => store.expire_at(k, T0 - 1)?.to_string(),
        Step::Persist(k) => store.persist(k)?.to_string(),
        Step::Batch(ops) => {
            let mut batch = WriteBatch::new();
            for (k, v) in ops {
                match v {
                    Some(v) => batch.set(k, v),
                    None => batch.delete(k),
                };
            }
            store.write(&batch)?;
            String::new()
        }
        Step::HSet(k, f, v) => store.hset(k, f, v)?.to_string(),
        Step::HDel(k, f) => store.hdel(k, &[f])?.to_string(),
        Step::SAdd(k, m) => store.sadd(k, &[m])?.to_string(),
        Step::SRem(k, m) => store.srem(k, &[m])?.to_string(),
        Step::RPush(k, v) => store.rpush(k, &[v])?.to_string(),
        Step::LPop(k) => format!("{:?}", store.lpop(k, 1)?),
        Step::ZAdd(k, score, m) => store.zadd(k, &[(*score as f64, m)])?.to_string(),
        Step::ZRem(k, m) => store.zrem(k, &[m])?.to_string(),
        Step::Merge => {
            store.merge()?;
            String::new()
        }
        Step::Sync => {
            store.sync()?;
            String::new()
        }
    })
}

/// The answer `perform` must give for `step` on a store in state `before`.
pub fn expected_answer(before: &State, step: &Step) -> String {
    match step {
        Step::Delete(k) | Step::Expire(k, _) | Step::ExpireNow(k) => {
            before.contains_key(k).to_string()
        }
        Step::Persist(k) => before.get(k).is_some_and(|(_, e)| e.is_some()).to_string(),
        Step::Incr(k, _) => {
            let mut after = before.clone();
            apply(&mut after, step);
            String::from_utf8(after[k].0.clone()).unwrap()
        }
        Step::HSet(..)
        | Step::HDel(..)
        | Step::SAdd(..)
        | Step::SRem(..)
        | Step::RPush(..)
        | Step::LPop(..)
        | Step::ZAdd(..)
        | Step::ZRem(..) => collection_step(&mut before.clone(), step),
        _ => String::new(),
    }
}

/// Everything a store holds, with expiry times.
pub fn contents(store: &Store) -> State {
    contents_with_prefix(store, b"")
}

/// The keys starting with `prefix`, with values and expiry times.
pub fn contents_with_prefix(store: &Store, prefix: &[u8]) -> State {
    store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with(prefix))
        .map(|k| {
            let v = read_value(store, &k);
            let e = store.expires_at(&k).unwrap();
            (k, (v, e))
        })
        .collect()
}

/// A key's value as the model writes it: a string's bytes, a collection's encoding.
fn read_value(store: &Store, k: &[u8]) -> Vec<u8> {
    let coll = match store.value_type(k).unwrap().expect("listed key has a type") {
        ValueType::String => return store.get(k).unwrap().expect("listed key has a value"),
        ValueType::Hash => Coll::Hash(store.hgetall(k).unwrap().into_iter().collect()),
        ValueType::Set => Coll::Set(store.smembers(k).unwrap().into_iter().collect()),
        ValueType::List => Coll::List(store.lrange(k, 0, -1).unwrap()),
        ValueType::ZSet => Coll::ZSet(
            store
                .zrange(k, 0, -1, false)
                .unwrap()
                .into_iter()
                .map(|(m, s)| (m, s as i64))
                .collect(),
        ),
        other => panic!("unexpected type {other:?}"),
    };
    let encoded = coll.encode();
    with_colls(|c| c.insert(encoded.clone(), coll));
    encoded
}

/// The part of `state` whose keys start with `prefix`.
pub fn with_prefix(state: &State, prefix: &[u8]) -> State {
    state
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
