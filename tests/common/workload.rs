//! A random workload of every kind of write — sets, deletes, counters, TTLs, expire/persist,
//! batches — with its model, for the crash tests (power loss, kill -9). Time is a manual
//! clock that never moves, so no key expires behind the model's back: TTLs lie an hour or
//! more ahead, and "expire now" is an `expire_at` in the past (which deletes at once).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use keg::{Store, WriteBatch};

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

    fn any_key(&mut self) -> Vec<u8> {
        if self.rng.chance(1, 4) {
            self.counter_key()
        } else {
            self.value_key()
        }
    }

    fn value(&mut self) -> Vec<u8> {
        let len = self.rng.below(self.mix.max_value + 1) as usize;
        self.rng.bytes(len)
    }

    /// The next step.
    pub fn step(&mut self) -> Step {
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
        Step::Merge | Step::Sync => {}
    }
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
            let v = store.get(&k).unwrap().expect("listed key has a value");
            let e = store.expires_at(&k).unwrap();
            (k, (v, e))
        })
        .collect()
}

/// The part of `state` whose keys start with `prefix`.
pub fn with_prefix(state: &State, prefix: &[u8]) -> State {
    state
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
