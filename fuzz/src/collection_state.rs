//! The model `collection_model` checks the store against: every key's value (a string or
//! one of the four collections) and expiry, and what each operation answers, with Redis
//! 7.0's rules — an emptied collection disappears, an operation on a key of another type
//! fails with WRONGTYPE and changes nothing, an expired key is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::Duration;

use keg::{SetCombine, Ttl, ValueType, ZAddOptions};

use super::collection_ops::{Op, ZSelect};

/// Field → value.
type Fields = BTreeMap<Vec<u8>, Vec<u8>>;
type Members = BTreeSet<Vec<u8>>;
type Elements = Vec<Vec<u8>>;
/// Member → score (the order by score is computed when asked for).
type Scores = BTreeMap<Vec<u8>, f64>;

/// What a key holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(Vec<u8>),
    Hash(Fields),
    Set(Members),
    List(Elements),
    ZSet(Scores),
}

impl Value {
    fn ty(&self) -> ValueType {
        match self {
            Value::Str(_) => ValueType::String,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::List(_) => ValueType::List,
            Value::ZSet(_) => ValueType::ZSet,
        }
    }

    fn empty(ty: ValueType) -> Value {
        match ty {
            ValueType::Hash => Value::Hash(BTreeMap::new()),
            ValueType::Set => Value::Set(BTreeSet::new()),
            ValueType::List => Value::List(Vec::new()),
            ValueType::ZSet => Value::ZSet(BTreeMap::new()),
            _ => Value::Str(Vec::new()),
        }
    }

    fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::ZSet(z) => z.is_empty(),
        }
    }
}

/// A key's value and expiry (unix ms, 0 = none).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) value: Value,
    pub(crate) expiry: u64,
}

/// What an operation answers, in a form both sides produce: unordered results (SMEMBERS,
/// HGETALL, SINTER) sorted; random ones (SPOP, SRANDMEMBER, HRANDFIELD) as returned, for
/// the model to judge.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answer {
    Unit,
    Bool(bool),
    Int(i64),
    Len(usize),
    Bytes(Vec<u8>),
    Value(Option<Vec<u8>>),
    Values(Vec<Vec<u8>>),
    Sorted(Vec<Vec<u8>>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
    Options(Vec<Option<Vec<u8>>>),
    Bools(Vec<bool>),
    Scored(Vec<(Vec<u8>, f64)>),
    Score(Option<f64>),
    Scores(Vec<Option<f64>>),
    Rank(Option<usize>),
    Indexes(Vec<usize>),
    Type(Option<ValueType>),
    Ttl(Ttl),
    All(Vec<Answer>),
    /// A random answer the model rejects, and why (never equal to what the store said).
    Invalid(String),
}

/// The errors an operation may answer with (anything else is a finding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    WrongType,
    NotAnInteger,
    NotAFloat,
    Overflow,
    NoSuchKey,
    IndexOutOfRange,
    InvalidArgument,
}

pub(crate) type Outcome = Result<Answer, Fail>;

/// Beyond this magnitude a float result is not checked digit for digit: the store adds in
/// 64-bit-mantissa long doubles, the model in `f64`.
const EXACT_FLOAT: f64 = (1u64 << 52) as f64;

/// Every key of the model.
#[derive(Clone, Debug, Default)]
pub(crate) struct Model {
    keys: BTreeMap<Vec<u8>, Entry>,
}

/// Parses `text` as Redis's `string2ll`: optional `-`, no leading zeros, within `i64`.
fn parse_int(text: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(text).ok()?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = s == "0" || (digits.starts_with(|c: char| ('1'..='9').contains(&c)));
    if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses the decimal texts this target stores (the value pool and the model's own
/// results) as a number; `None` for the words, which are not numbers.
fn parse_float(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    s.parse().ok()
}

/// A sum of halves as Redis writes an INCRBYFLOAT result (`-0` as `0`).
fn float_text(v: f64) -> Vec<u8> {
    if v.fract() == 0.0 {
        format!("{}", v as i64).into_bytes()
    } else {
        format!("{v}").into_bytes()
    }
}

/// Redis's rule for `start..=stop` over `len` elements (LRANGE, LTRIM, ZRANGE).
fn normalize_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i128;
    let from_end = |i: i64| {
        if i < 0 {
            len + i128::from(i)
        } else {
            i128::from(i)
        }
    };
    let (start, stop) = (from_end(start).max(0), from_end(stop));
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// Redis's rule for one index (LINDEX, LSET).
fn normalize_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i128;
    let i = if index < 0 {
        len + i128::from(index)
    } else {
        i128::from(index)
    };
    (0..len).contains(&i).then_some(i as usize)
}

fn in_bounds<T: PartialOrd + ?Sized>(x: &T, min: Bound<&T>, max: Bound<&T>) -> bool {
    let above = match min {
        Bound::Unbounded => true,
        Bound::Included(m) => x >= m,
        Bound::Excluded(m) => x > m,
    };
    let below = match max {
        Bound::Unbounded => true,
        Bound::Included(m) => x <= m,
        Bound::Excluded(m) => x < m,
    };
    above && below
}

/// `offset` and `count` of ZRANGEBYSCORE's LIMIT.
fn window<T>(items: Vec<T>, offset: usize, count: Option<usize>) -> Vec<T> {
    items
        .into_iter()
        .skip(offset)
        .take(count.unwrap_or(usize::MAX))
        .collect()
}

/// A sorted set in Redis's order: by score, then by member bytes.
fn ordered(z: &Scores) -> Vec<(Vec<u8>, f64)> {
    let mut all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all
}

/// Whether a lex range means something here: Redis defines it only when every score is
/// equal (otherwise the answer depends on the encoding, and the store's on its index).
fn lex_meaningful(z: &Scores) -> bool {
    let mut scores = z.values();
    scores.next().is_none_or(|first| scores.all(|s| s == first))
}

/// The members `select` picks, in ascending order.
fn zselect(z: &Scores, select: &ZSelect) -> Vec<(Vec<u8>, f64)> {
    let all = ordered(z);
    match select {
        ZSelect::Rank(start, stop) => match normalize_range(*start, *stop, all.len()) {
            Some((a, b)) => all.get(a..=b).unwrap_or_default().to_vec(),
            None => Vec::new(),
        },
        ZSelect::Score(min, max) => all
            .into_iter()
            .filter(|(_, s)| in_bounds(s, min.as_ref(), max.as_ref()))
            .collect(),
        ZSelect::Lex(min, max) => all
            .into_iter()
            .filter(|(m, _)| {
                in_bounds(
                    m.as_slice(),
                    min.as_ref().map(Vec::as_slice),
                    max.as_ref().map(Vec::as_slice),
                )
            })
            .collect(),
    }
}

fn conflicting(o: &ZAddOptions) -> bool {
    (o.only_new && o.only_existing)
        || (o.only_greater && o.only_less)
        || (o.only_new && (o.only_greater || o.only_less))
}

/// Judges `count` random picks from `population` (distinct: at most all of them, none
/// twice; else exactly `count` unless the population is empty).
fn judge_random<T: Ord + Clone + std::fmt::Debug>(
    picked: &[T],
    population: &BTreeSet<T>,
    count: usize,
    distinct: bool,
) -> Option<String> {
    if let Some(stranger) = picked.iter().find(|p| !population.contains(*p)) {
        return Some(format!("{stranger:?} is not there"));
    }
    let want_len = if distinct {
        count.min(population.len())
    } else if population.is_empty() {
        0
    } else {
        count
    };
    if picked.len() != want_len {
        return Some(format!("{} picked, {want_len} wanted", picked.len()));
    }
    let unique: BTreeSet<&T> = picked.iter().collect();
    if distinct && unique.len() != picked.len() {
        return Some("a member picked twice".into());
    }
    None
}

impl Model {
    /// The live entry at `k`.
    fn get(&self, k: &[u8], now: u64) -> Option<&Entry> {
        self.keys.get(k).filter(|e| e.expiry == 0 || e.expiry > now)
    }

    fn value(&self, k: &[u8], now: u64) -> Option<&Value> {
        self.get(k, now).map(|e| &e.value)
    }

    /// The value at `k` if it has type `ty` (`None` if absent); WRONGTYPE otherwise.
    fn read(&self, k: &[u8], now: u64, ty: ValueType) -> Result<Option<&Value>, Fail> {
        match self.value(k, now) {
            Some(v) if v.ty() != ty => Err(Fail::WrongType),
            found => Ok(found),
        }
    }

    /// The value at `k` for a write of type `ty`, created empty (no expiry) if absent.
    fn write(&mut self, k: &[u8], now: u64, ty: ValueType) -> Result<&mut Value, Fail> {
        self.read(k, now, ty)?;
        if self.get(k, now).is_none() {
            let fresh = Entry {
                value: Value::empty(ty),
                expiry: 0,
            };
            self.keys.insert(k.to_vec(), fresh);
        }
        self.keys
            .get_mut(k)
            .map(|e| &mut e.value)
            .ok_or(Fail::WrongType)
    }

    fn hash(&self, k: &[u8], now: u64) -> Result<Option<&Fields>, Fail> {
        Ok(match self.read(k, now, ValueType::Hash)? {
            Some(Value::Hash(h)) => Some(h),
            _ => None,
        })
    }

    fn hash_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Fields, Fail> {
        match self.write(k, now, ValueType::Hash)? {
            Value::Hash(h) => Ok(h),
            _ => Err(Fail::WrongType),
        }
    }

    fn set(&self, k: &[u8], now: u64) -> Result<Option<&Members>, Fail> {
        Ok(match self.read(k, now, ValueType::Set)? {
            Some(Value::Set(s)) => Some(s),
            _ => None,
        })
    }

    fn set_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Members, Fail> {
        match self.write(k, now, ValueType::Set)? {
            Value::Set(s) => Ok(s),
            _ => Err(Fail::WrongType),
        }
    }

    fn list(&self, k: &[u8], now: u64) -> Result<Option<&Elements>, Fail> {
        Ok(match self.read(k, now, ValueType::List)? {
            Some(Value::List(l)) => Some(l),
            _ => None,
        })
    }

    fn list_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Elements, Fail> {
        match self.write(k, now, ValueType::List)? {
            Value::List(l) => Ok(l),
            _ => Err(Fail::WrongType),
        }
    }

    fn zset(&self, k: &[u8], now: u64) -> Result<Option<&Scores>, Fail> {
        Ok(match self.read(k, now, ValueType::ZSet)? {
            Some(Value::ZSet(z)) => Some(z),
            _ => None,
        })
    }

    fn zset_mut(&mut self, k: &[u8], now: u64) -> Result<&mut Scores, Fail> {
        match self.write(k, now, ValueType::ZSet)? {
            Value::ZSet(z) => Ok(z),
            _ => Err(Fail::WrongType),
        }
    }

    /// The live keys and their entries at `now`.
    pub(crate) fn live(&self, now: u64) -> BTreeMap<Vec<u8>, Entry> {
        self.keys
            .iter()
            .filter(|(_, e)| e.expiry == 0 || e.expiry > now)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect()
    }

    /// Forgets expired keys (what `purge_expired` does; nothing visible changes).
    pub(crate) fn purge(&mut self, now: u64) {
        self.keys = self.live(now);
    }

    /// Whether the harness should leave `op` out: a lex range over a sorted set whose
    /// scores differ has no defined answer.
    pub(crate) fn skips(&self, op: &Op, now: u64) -> bool {
        let (Op::ZRemRange(k, ZSelect::Lex(..)) | Op::ZRange(k, ZSelect::Lex(..), ..)) = op else {
            return false;
        };
        matches!(self.zset(k, now), Ok(Some(z)) if !lex_meaningful(z))
    }

    /// Applies `op` at `now` and returns what the store should have answered; `got` is
    /// what it did answer, which the model judges instead of predicting for random picks.
    /// On `Err` the caller discards the model's changes (a failed operation changes
    /// nothing).
    pub(crate) fn apply(&mut self, op: &Op, now: u64, got: &Outcome) -> Outcome {
        let answer = self.apply_inner(op, now, got);
        self.keys.retain(|_, e| !e.value.is_empty_collection());
        answer
    }

    fn apply_inner(&mut self, op: &Op, now: u64, got: &Outcome) -> Outcome {
        match op {
            Op::Set(..)
            | Op::Get(_)
            | Op::Del(_)
            | Op::IncrBy(..)
            | Op::Append(..)
            | Op::Expire(..)
            | Op::Persist(_)
            | Op::Inspect(_) => self.keyspace(op, now),
            Op::HSet(..)
            | Op::HSetNx(..)
            | Op::HDel(..)
            | Op::HIncrBy(..)
            | Op::HIncrByFloat(..)
            | Op::HRead(..)
            | Op::HRandField(..) => self.hash_op(op, now, got),
            Op::SAdd(..)
            | Op::SRem(..)
            | Op::SPop(..)
            | Op::SRead(..)
            | Op::SRandMember(..)
            | Op::SCombine(..)
            | Op::SStore(..)
            | Op::SMove(..) => self.set_op(op, now, got),
            Op::Push(..)
            | Op::Pop(..)
            | Op::LSet(..)
            | Op::LInsert(..)
            | Op::LRem(..)
            | Op::LTrim(..)
            | Op::LMove(..)
            | Op::LRead(..)
            | Op::LPos(..) => self.list_op(op, now),
            Op::ZAdd(..)
            | Op::ZIncr(..)
            | Op::ZRem(..)
            | Op::ZPop(..)
            | Op::ZRemRange(..)
            | Op::ZRange(..)
            | Op::ZRead(..) => self.zset_op(op, now),
        }
    }

    fn keyspace(&mut self, op: &Op, now: u64) -> Outcome {
        Ok(match op {
            Op::Set(k, v) => {
                let entry = Entry {
                    value: Value::Str(v.clone()),
                    expiry: 0,
                };
                self.keys.insert(k.clone(), entry);
                Answer::Unit
            }
            Op::Get(k) => match self.value(k, now) {
                None => Answer::Value(None),
                Some(Value::Str(s)) => Answer::Value(Some(s.clone())),
                Some(_) => return Err(Fail::WrongType),
            },
            Op::Del(k) => {
                let existed = self.get(k, now).is_some();
                self.keys.remove(k);
                Answer::Bool(existed)
            }
            Op::IncrBy(k, d) => {
                let (old, expiry) = match self.get(k, now) {
                    None => (0, 0),
                    Some(Entry {
                        value: Value::Str(s),
                        expiry,
                    }) => (parse_int(s).ok_or(Fail::NotAnInteger)?, *expiry),
                    Some(_) => return Err(Fail::WrongType),
                };
                let new = old.checked_add(*d).ok_or(Fail::Overflow)?;
                let value = Value::Str(new.to_string().into_bytes());
                self.keys.insert(k.clone(), Entry { value, expiry });
                Answer::Int(new)
            }
            Op::Append(k, v) => {
                let (mut s, expiry) = match self.get(k, now) {
                    None => (Vec::new(), 0),
                    Some(Entry {
                        value: Value::Str(s),
                        expiry,
                    }) => (s.clone(), *expiry),
                    Some(_) => return Err(Fail::WrongType),
                };
                s.extend_from_slice(v);
                let len = s.len();
                let value = Value::Str(s);
                self.keys.insert(k.clone(), Entry { value, expiry });
                Answer::Len(len)
            }
            Op::Expire(k, ms) => {
                let existed = self.get(k, now).is_some();
                if existed && *ms == 0 {
                    self.keys.remove(k);
                } else if let Some(e) = self.keys.get_mut(k).filter(|_| existed) {
                    e.expiry = now + ms;
                }
                Answer::Bool(existed)
            }
            Op::Persist(k) => {
                let had = self.get(k, now).is_some_and(|e| e.expiry != 0);
                if let Some(e) = self.keys.get_mut(k).filter(|_| had) {
                    e.expiry = 0;
                }
                Answer::Bool(had)
            }
            Op::Inspect(k) => {
                let entry = self.get(k, now);
                let ttl = match entry {
                    None => Ttl::Missing,
                    Some(Entry { expiry: 0, .. }) => Ttl::NoExpiry,
                    Some(e) => Ttl::ExpiresIn(Duration::from_millis(e.expiry - now)),
                };
                Answer::All(vec![
                    Answer::Type(entry.map(|e| e.value.ty())),
                    Answer::Ttl(ttl),
                    Answer::Bool(entry.is_some()),
                ])
            }
            _ => unreachable!("not a keyspace op: {op:?}"),
        })
    }

    fn hash_op(&mut self, op: &Op, now: u64, got: &Outcome) -> Outcome {
        Ok(match op {
            Op::HSet(k, pairs) => {
                let h = self.hash_mut(k, now)?;
                let added = pairs
                    .iter()
                    .filter(|(f, v)| h.insert(f.clone(), v.clone()).is_none())
                    .count();
                Answer::Len(added)
            }
            Op::HSetNx(k, f, v) => {
                let h = self.hash_mut(k, now)?;
                let new = !h.contains_key(f);
                if new {
                    h.insert(f.clone(), v.clone());
                }
                Answer::Bool(new)
            }
            Op::HDel(k, fields) => {
                if self.hash(k, now)?.is_none() {
                    return Ok(Answer::Len(0));
                }
                let h = self.hash_mut(k, now)?;
                Answer::Len(fields.iter().filter(|f| h.remove(*f).is_some()).count())
            }
            Op::HIncrBy(k, f, d) => {
                let h = self.hash_mut(k, now)?;
                let old = match h.get(f) {
                    Some(v) => parse_int(v).ok_or(Fail::NotAnInteger)?,
                    None => 0,
                };
                let new = old.checked_add(*d).ok_or(Fail::Overflow)?;
                h.insert(f.clone(), new.to_string().into_bytes());
                Answer::Int(new)
            }
            Op::HIncrByFloat(k, f, _, delta) => {
                // The delta is read before the key is looked at, as Redis reads it.
                let delta = delta.ok_or(Fail::NotAFloat)?;
                let h = self.hash_mut(k, now)?;
                let old = match h.get(f) {
                    Some(v) => parse_float(v).ok_or(Fail::NotAFloat)?,
                    None => 0.0,
                };
                let new = old + delta;
                let text = if old.abs() < EXACT_FLOAT && new.abs() < EXACT_FLOAT {
                    float_text(new)
                } else {
                    // Rounded in a long double: accept a result within rounding.
                    match got {
                        Ok(Answer::Bytes(t))
                            if parse_float(t)
                                .is_some_and(|g| (g - new).abs() <= new.abs() * 1e-15 + 1.0) =>
                        {
                            t.clone()
                        }
                        _ => return Ok(Answer::Invalid(format!("about {new}"))),
                    }
                };
                h.insert(f.clone(), text.clone());
                Answer::Bytes(text)
            }
            Op::HRead(k, f, g) => {
                let empty = BTreeMap::new();
                let h = self.hash(k, now)?.unwrap_or(&empty);
                Answer::All(vec![
                    Answer::Value(h.get(f).cloned()),
                    Answer::Options(vec![h.get(f).cloned(), h.get(g).cloned()]),
                    Answer::Bool(h.contains_key(f)),
                    Answer::Len(h.len()),
                    Answer::Len(h.get(f).map_or(0, Vec::len)),
                ])
            }
            Op::HRandField(k, count, distinct) => {
                let empty = BTreeMap::new();
                let h = self.hash(k, now)?.unwrap_or(&empty);
                let mut values: Vec<Vec<u8>> = h.values().cloned().collect();
                values.sort();
                let pairs: BTreeSet<(Vec<u8>, Vec<u8>)> =
                    h.iter().map(|(f, v)| (f.clone(), v.clone())).collect();
                let picked = match got {
                    Ok(Answer::All(parts)) => match parts.last() {
                        Some(Answer::Pairs(p)) => {
                            match judge_random(p, &pairs, *count, *distinct) {
                                None => Answer::Pairs(p.clone()),
                                Some(why) => Answer::Invalid(why),
                            }
                        }
                        _ => Answer::Invalid("no pick".into()),
                    },
                    _ => Answer::Invalid("no pick".into()),
                };
                Answer::All(vec![
                    Answer::Sorted(h.keys().cloned().collect()),
                    Answer::Sorted(values),
                    Answer::Pairs(pairs.into_iter().collect()),
                    picked,
                ])
            }
            _ => unreachable!("not a hash op: {op:?}"),
        })
    }

    /// The combination of the sets at `keys` (a missing key is empty).
    fn combine(&self, how: SetCombine, keys: &[Vec<u8>], now: u64) -> Result<Vec<Vec<u8>>, Fail> {
        let empty = BTreeSet::new();
        let sets = keys
            .iter()
            .map(|k| Ok(self.set(k, now)?.unwrap_or(&empty)))
            .collect::<Result<Vec<_>, Fail>>()?;
        let mut sets = sets.into_iter();
        let mut result = sets.next().cloned().unwrap_or_default();
        for other in sets {
            match how {
                SetCombine::Intersection => result.retain(|m| other.contains(m)),
                SetCombine::Union => result.extend(other.iter().cloned()),
                SetCombine::Difference => result.retain(|m| !other.contains(m)),
            }
        }
        Ok(result.into_iter().collect())
    }

    fn set_op(&mut self, op: &Op, now: u64, got: &Outcome) -> Outcome {
        Ok(match op {
            Op::SAdd(k, members) => {
                let s = self.set_mut(k, now)?;
                Answer::Len(members.iter().filter(|m| s.insert((*m).clone())).count())
            }
            Op::SRem(k, members) => {
                if self.set(k, now)?.is_none() {
                    return Ok(Answer::Len(0));
                }
                let s = self.set_mut(k, now)?;
                Answer::Len(members.iter().filter(|m| s.remove(*m)).count())
            }
            Op::SPop(k, count) => {
                let Some(s) = self.set(k, now)? else {
                    return Ok(Answer::Values(Vec::new()));
                };
                let Ok(Answer::Values(popped)) = got else {
                    return Ok(Answer::Invalid("no pop".into()));
                };
                if let Some(why) = judge_random(popped, s, *count, true) {
                    return Ok(Answer::Invalid(why));
                }
                let s = self.set_mut(k, now)?;
                for m in popped {
                    s.remove(m);
                }
                Answer::Values(popped.clone())
            }
            Op::SRead(k, members) => {
                let empty = BTreeSet::new();
                let s = self.set(k, now)?.unwrap_or(&empty);
                Answer::All(vec![
                    Answer::Bools(members.iter().map(|m| s.contains(m)).collect()),
                    Answer::Bool(members.first().is_some_and(|m| s.contains(m))),
                    Answer::Len(s.len()),
                    Answer::Sorted(s.iter().cloned().collect()),
                ])
            }
            Op::SRandMember(k, count, distinct) => {
                let empty = BTreeSet::new();
                let s = self.set(k, now)?.unwrap_or(&empty);
                match got {
                    Ok(Answer::Values(picked)) => {
                        match judge_random(picked, s, *count, *distinct) {
                            None => Answer::Values(picked.clone()),
                            Some(why) => Answer::Invalid(why),
                        }
                    }
                    _ => Answer::Invalid("no pick".into()),
                }
            }
            Op::SCombine(how, keys) => Answer::Sorted(self.combine(*how, keys, now)?),
            Op::SStore(dest, how, keys) => {
                let members = self.combine(*how, keys, now)?;
                self.keys.remove(dest);
                let len = members.len();
                let entry = Entry {
                    value: Value::Set(members.into_iter().collect()),
                    expiry: 0,
                };
                self.keys.insert(dest.clone(), entry);
                Answer::Len(len)
            }
            Op::SMove(src, dst, m) => {
                // Redis's order: a missing source is 0 whatever the destination holds;
                // then both types; moving to the same set changes nothing.
                let Some(s) = self.set(src, now)? else {
                    return Ok(Answer::Bool(false));
                };
                let present = s.contains(m);
                self.set(dst, now)?;
                if src == dst || !present {
                    return Ok(Answer::Bool(present));
                }
                self.set_mut(src, now)?.remove(m);
                self.set_mut(dst, now)?.insert(m.clone());
                Answer::Bool(true)
            }
            _ => unreachable!("not a set op: {op:?}"),
        })
    }

    fn list_op(&mut self, op: &Op, now: u64) -> Outcome {
        Ok(match op {
            Op::Push(k, values, left, only_existing) => {
                if self.list(k, now)?.is_none() && *only_existing {
                    return Ok(Answer::Len(0));
                }
                let l = self.list_mut(k, now)?;
                for v in values {
                    if *left {
                        l.insert(0, v.clone());
                    } else {
                        l.push(v.clone());
                    }
                }
                Answer::Len(l.len())
            }
            Op::Pop(k, count, left) => {
                if self.list(k, now)?.is_none() {
                    return Ok(Answer::Values(Vec::new()));
                }
                let l = self.list_mut(k, now)?;
                let n = (*count).min(l.len());
                let popped = if *left {
                    l.drain(..n).collect()
                } else {
                    l.drain(l.len() - n..).rev().collect()
                };
                Answer::Values(popped)
            }
            Op::LSet(k, index, v) => {
                let len = self.list(k, now)?.ok_or(Fail::NoSuchKey)?.len();
                let i = normalize_index(*index, len).ok_or(Fail::IndexOutOfRange)?;
                if let Some(slot) = self.list_mut(k, now)?.get_mut(i) {
                    *slot = v.clone();
                }
                Answer::Unit
            }
            Op::LInsert(k, before, pivot, v) => {
                if self.list(k, now)?.is_none() {
                    return Ok(Answer::Int(0));
                }
                let l = self.list_mut(k, now)?;
                match l.iter().position(|x| x == pivot) {
                    None => Answer::Int(-1),
                    Some(i) => {
                        l.insert(if *before { i } else { i + 1 }, v.clone());
                        Answer::Int(l.len() as i64)
                    }
                }
            }
            Op::LRem(k, count, v) => {
                if self.list(k, now)?.is_none() {
                    return Ok(Answer::Len(0));
                }
                let l = self.list_mut(k, now)?;
                let mut at: Vec<usize> = (0..l.len()).filter(|&i| l[i] == *v).collect();
                if *count < 0 {
                    at.reverse();
                }
                if *count != 0 {
                    at.truncate(usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX));
                }
                at.sort_unstable();
                for &i in at.iter().rev() {
                    l.remove(i);
                }
                Answer::Len(at.len())
            }
            Op::LTrim(k, start, stop) => {
                if self.list(k, now)?.is_some() {
                    let l = self.list_mut(k, now)?;
                    *l = match normalize_range(*start, *stop, l.len()) {
                        Some((a, b)) => l.get(a..=b).unwrap_or_default().to_vec(),
                        None => Vec::new(),
                    };
                }
                Answer::Unit
            }
            Op::LMove(src, dst, from_left, to_left) => {
                // Redis's order: a missing source is nil whatever the destination holds;
                // then both types.
                if self.list(src, now)?.is_none() {
                    return Ok(Answer::Value(None));
                }
                self.list(dst, now)?;
                let l = self.list_mut(src, now)?;
                let v = if *from_left {
                    l.remove(0)
                } else {
                    l.pop().unwrap_or_default()
                };
                // The source stays while the value is pushed: a rotation of a one-element
                // list keeps the key (and its TTL), as in Redis.
                let d = self.list_mut(dst, now)?;
                if *to_left {
                    d.insert(0, v.clone());
                } else {
                    d.push(v.clone());
                }
                Answer::Value(Some(v))
            }
            Op::LRead(k, start, stop, index) => {
                let empty = Vec::new();
                let l = self.list(k, now)?.unwrap_or(&empty);
                let range = match normalize_range(*start, *stop, l.len()) {
                    Some((a, b)) => l.get(a..=b).unwrap_or_default().to_vec(),
                    None => Vec::new(),
                };
                let at = normalize_index(*index, l.len())
                    .and_then(|i| l.get(i))
                    .cloned();
                Answer::All(vec![
                    Answer::Values(range),
                    Answer::Value(at),
                    Answer::Len(l.len()),
                ])
            }
            Op::LPos(k, v, rank, count, max_len) => {
                if *rank == 0 {
                    return Err(Fail::InvalidArgument);
                }
                let empty = Vec::new();
                let l = self.list(k, now)?.unwrap_or(&empty);
                let mut order: Vec<usize> = (0..l.len()).collect();
                if *rank < 0 {
                    order.reverse();
                }
                if *max_len != 0 {
                    order.truncate(*max_len);
                }
                let matches = order.into_iter().filter(|&i| l[i] == *v);
                let skip = usize::try_from(rank.unsigned_abs() - 1).unwrap_or(usize::MAX);
                let take = if *count == 0 { usize::MAX } else { *count };
                Answer::Indexes(matches.skip(skip).take(take).collect())
            }
            _ => unreachable!("not a list op: {op:?}"),
        })
    }

    fn zset_op(&mut self, op: &Op, now: u64) -> Outcome {
        Ok(match op {
            Op::ZAdd(k, items, options) => {
                self.zset(k, now)?;
                if conflicting(options) {
                    return Err(Fail::InvalidArgument);
                }
                let z = self.zset_mut(k, now)?;
                let mut counted = 0;
                for (score, m) in items {
                    let (added, changed) = match z.get(m).copied() {
                        Some(_) if options.only_new => (false, false),
                        None if options.only_existing => (false, false),
                        Some(old)
                            if (options.only_greater && *score <= old)
                                || (options.only_less && *score >= old) =>
                        {
                            (false, false)
                        }
                        Some(old) => {
                            z.insert(m.clone(), *score);
                            (false, *score != old)
                        }
                        None => {
                            z.insert(m.clone(), *score);
                            (true, false)
                        }
                    };
                    if added || (options.count_changed && changed) {
                        counted += 1;
                    }
                }
                Answer::Len(counted)
            }
            Op::ZIncr(k, m, delta, options) => {
                self.zset(k, now)?;
                if conflicting(options) {
                    return Err(Fail::InvalidArgument);
                }
                let z = self.zset_mut(k, now)?;
                let new = match z.get(m).copied() {
                    Some(_) if options.only_new => None,
                    None if options.only_existing => None,
                    Some(old) => Some(old + delta).filter(|new| {
                        !((options.only_greater && *new <= old)
                            || (options.only_less && *new >= old))
                    }),
                    None => Some(*delta),
                };
                if let Some(new) = new {
                    z.insert(m.clone(), new);
                }
                Answer::Score(new)
            }
            Op::ZRem(k, members) => {
                if self.zset(k, now)?.is_none() {
                    return Ok(Answer::Len(0));
                }
                let z = self.zset_mut(k, now)?;
                Answer::Len(members.iter().filter(|m| z.remove(*m).is_some()).count())
            }
            Op::ZPop(k, count, max) => {
                let Some(z) = self.zset(k, now)? else {
                    return Ok(Answer::Scored(Vec::new()));
                };
                let mut all = ordered(z);
                if *max {
                    all.reverse();
                }
                all.truncate(*count);
                let z = self.zset_mut(k, now)?;
                for (m, _) in &all {
                    z.remove(m);
                }
                Answer::Scored(all)
            }
            Op::ZRemRange(k, select) => {
                let Some(z) = self.zset(k, now)? else {
                    return Ok(Answer::Len(0));
                };
                let removed = zselect(z, select);
                let z = self.zset_mut(k, now)?;
                for (m, _) in &removed {
                    z.remove(m);
                }
                Answer::Len(removed.len())
            }
            Op::ZRange(k, select, reverse, offset, count) => {
                let empty = BTreeMap::new();
                let z = self.zset(k, now)?.unwrap_or(&empty);
                let range = match select {
                    ZSelect::Rank(start, stop) => {
                        let mut all = ordered(z);
                        if *reverse {
                            all.reverse();
                        }
                        match normalize_range(*start, *stop, all.len()) {
                            Some((a, b)) => all.get(a..=b).unwrap_or_default().to_vec(),
                            None => Vec::new(),
                        }
                    }
                    _ => {
                        let mut matching = zselect(z, select);
                        if *reverse {
                            matching.reverse();
                        }
                        window(matching, *offset, *count)
                    }
                };
                match select {
                    ZSelect::Lex(..) => {
                        let lexcount = zselect(z, select).len();
                        Answer::All(vec![Answer::Scored(range), Answer::Len(lexcount)])
                    }
                    _ => Answer::Scored(range),
                }
            }
            Op::ZRead(k, members, min, max) => {
                let empty = BTreeMap::new();
                let z = self.zset(k, now)?.unwrap_or(&empty);
                let all = ordered(z);
                let first = members.first().cloned().unwrap_or_default();
                let rank = all.iter().position(|(m, _)| *m == first);
                Answer::All(vec![
                    Answer::Score(z.get(&first).copied()),
                    Answer::Scores(members.iter().map(|m| z.get(m).copied()).collect()),
                    Answer::Rank(rank),
                    Answer::Rank(rank.map(|r| all.len() - 1 - r)),
                    Answer::Len(all.len()),
                    Answer::Len(
                        all.iter()
                            .filter(|(_, s)| in_bounds(s, min.as_ref(), max.as_ref()))
                            .count(),
                    ),
                ])
            }
            _ => unreachable!("not a sorted-set op: {op:?}"),
        })
    }
}
