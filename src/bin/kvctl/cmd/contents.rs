//! What a key holds (string, hash, set, list, sorted set), as kvctl moves it whole: read
//! for `get`, `scan` and `export`, written back by `import`.
//!
//! Hash fields and set members come sorted bytewise (the store keeps them in no particular
//! order), so that the same store always prints and exports the same lines; a list keeps
//! its order, a sorted set its order by score (then member).

use std::borrow::Cow;

use anyhow::Context as _;
use keg::{SetOptions, Store, ValueType};

use crate::context::shown;
use crate::status::{Failure, Status};

/// The contents of one key.
#[derive(Debug, Clone, PartialEq)]
pub enum Contents {
    /// A byte string.
    String(Vec<u8>),
    /// A hash: (field, value) pairs, sorted by field.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A set's members, sorted.
    Set(Vec<Vec<u8>>),
    /// A list's values, head first.
    List(Vec<Vec<u8>>),
    /// A sorted set's members and scores, lowest score first.
    ZSet(Vec<(Vec<u8>, f64)>),
}

impl Contents {
    /// Redis's name for the type (what `kvctl type` prints).
    pub fn type_name(&self) -> &'static str {
        self.value_type().redis_name()
    }

    /// The lines `get` prints, each as its parts (which it separates with tabs): the value
    /// of a string, a field and its value per hash field, a member per set member, a value
    /// per list element, a member and its score per sorted-set member.
    pub fn lines(&self) -> Vec<Vec<Cow<'_, [u8]>>> {
        match self {
            Contents::String(value) => vec![vec![Cow::from(value.as_slice())]],
            Contents::Hash(fields) => fields
                .iter()
                .map(|(field, value)| {
                    vec![Cow::from(field.as_slice()), Cow::from(value.as_slice())]
                })
                .collect(),
            Contents::Set(items) | Contents::List(items) => items
                .iter()
                .map(|item| vec![Cow::from(item.as_slice())])
                .collect(),
            Contents::ZSet(members) => members
                .iter()
                .map(|(member, score)| {
                    vec![
                        Cow::from(member.as_slice()),
                        Cow::from(score_text(*score).into_bytes()),
                    ]
                })
                .collect(),
        }
    }

    fn value_type(&self) -> ValueType {
        match self {
            Contents::String(_) => ValueType::String,
            Contents::Hash(_) => ValueType::Hash,
            Contents::Set(_) => ValueType::Set,
            Contents::List(_) => ValueType::List,
            Contents::ZSet(_) => ValueType::ZSet,
        }
    }
}

/// A score as `get` prints it: the shortest decimal that reads back as the same `f64`
/// (`1.5`, `3`, `0.1`; `1e300` and `2.5e-10` with an exponent), `inf` and `-inf` as Redis
/// writes them.
pub fn score_text(score: f64) -> String {
    let magnitude = score.abs();
    if score.is_finite() && magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{score:e}")
    } else {
        score.to_string()
    }
}

/// The contents of `key`, `None` if it is absent or expired.
pub fn read(store: &Store, key: &[u8]) -> anyhow::Result<Option<Contents>> {
    let Some(ty) = store
        .value_type(key)
        .with_context(|| format!("type {}", shown(key)))?
    else {
        return Ok(None);
    };
    // A key that expires between the type and the read reads as missing or empty: gone.
    let contents = match ty {
        ValueType::String => store
            .get(key)
            .with_context(|| format!("get {}", shown(key)))?
            .map(Contents::String),
        ValueType::Hash => {
            let mut fields = store
                .hgetall(key)
                .with_context(|| format!("hgetall {}", shown(key)))?;
            fields.sort_unstable();
            (!fields.is_empty()).then_some(Contents::Hash(fields))
        }
        ValueType::Set => {
            let mut members = store
                .smembers(key)
                .with_context(|| format!("smembers {}", shown(key)))?;
            members.sort_unstable();
            (!members.is_empty()).then_some(Contents::Set(members))
        }
        ValueType::List => {
            let values = store
                .lrange(key, 0, -1)
                .with_context(|| format!("lrange {}", shown(key)))?;
            (!values.is_empty()).then_some(Contents::List(values))
        }
        ValueType::ZSet => {
            let members = store
                .zrange(key, 0, -1, false)
                .with_context(|| format!("zrange {}", shown(key)))?;
            (!members.is_empty()).then_some(Contents::ZSet(members))
        }
        // keg grows types (sorted sets are next): until kvctl learns one, reading a key of
        // it is a clear error naming the key and the type, never a guess or a silent skip.
        #[allow(
            unreachable_patterns,
            reason = "for a type added to keg::ValueType before kvctl reads it"
        )]
        other => {
            return Err(unknown_type(key, other));
        }
    };
    Ok(contents)
}

/// The contents of `key` and its expiry (unix ms), `None` if it is absent or expired.
///
/// The expiry is read first: a key that expires in between then reads as missing, where
/// the other order could pair its contents with "no expiry" and bring it back for good on
/// import.
pub fn read_with_expiry(
    store: &Store,
    key: &[u8],
) -> anyhow::Result<Option<(Contents, Option<u64>)>> {
    let expires_at = store
        .expires_at(key)
        .with_context(|| format!("expiry of {}", shown(key)))?;
    Ok(read(store, key)?.map(|contents| (contents, expires_at)))
}

/// The error for a key of a type this kvctl cannot read.
fn unknown_type(key: &[u8], ty: ValueType) -> anyhow::Error {
    Failure {
        status: Status::StoreError,
        message: format!(
            "{} holds a {}, which this kvctl cannot read yet",
            shown(key),
            ty.redis_name()
        ),
    }
    .into()
}

/// Whether [`write`] wrote the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// `only_if_absent` was asked and the key exists (of any type): left as it was.
    KeptExisting,
}

/// Sets `key` to `contents` with the given expiry (unix ms), replacing whatever the key
/// held, or — with `only_if_absent` — only if the key does not exist. A collection is
/// written in one transaction (the old key's removal, every member or value and the
/// expiry), so it lands whole or not at all.
pub fn write(
    store: &Store,
    key: &[u8],
    contents: &Contents,
    expires_at_ms: Option<u64>,
    only_if_absent: bool,
) -> keg::Result<Written> {
    if let Contents::String(value) = contents {
        let mut options = SetOptions::new();
        if let Some(at) = expires_at_ms {
            options = options.expire_at(at);
        }
        if only_if_absent {
            options = options.only_if_absent();
        }
        let outcome = store.set_with(key, value, options)?;
        return Ok(if outcome.written {
            Written::Yes
        } else {
            Written::KeptExisting
        });
    }
    store.transaction(|tx| {
        if only_if_absent && tx.contains(key) {
            return Ok(Written::KeptExisting);
        }
        tx.delete(key)?;
        match contents {
            Contents::Hash(fields) => {
                let pairs: Vec<(&[u8], &[u8])> = fields
                    .iter()
                    .map(|(field, value)| (field.as_slice(), value.as_slice()))
                    .collect();
                tx.hset_many(key, &pairs)?;
            }
            Contents::Set(members) => {
                let members: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
                tx.sadd(key, &members)?;
            }
            Contents::List(values) => {
                let values: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
                tx.rpush(key, &values)?;
            }
            Contents::ZSet(members) => {
                let items: Vec<(f64, &[u8])> = members
                    .iter()
                    .map(|(member, score)| (*score, member.as_slice()))
                    .collect();
                tx.zadd(key, &items)?;
            }
            Contents::String(value) => tx.set(key, value)?,
        }
        if let Some(at) = expires_at_ms {
            tx.expire_at(key, at)?;
        }
        Ok(Written::Yes)
    })
}
