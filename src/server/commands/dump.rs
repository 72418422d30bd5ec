//! DUMP and RESTORE: a key's value as Redis 7.0's serialized form, so that keys move
//! between keg and Redis either way (migration tools copy keys with DUMP then RESTORE).
//!
//! DUMP writes the RDB encodings every Redis since 2.x reads: a string as a string, a list,
//! set or hash as its length then its elements, a sorted set as members with binary
//! scores (`RDB_TYPE_ZSET_2`), then the RDB version and CRC-64. RESTORE reads those and the
//! compact forms Redis writes for small and not-so-small values: listpacks and quicklists
//! (7.0), ziplists (before 7.0), intsets, integer-encoded and LZF-compressed strings.
//! Streams and module types are `Bad data format`, as is anything that does not parse.

use crate::ValueType;
use crate::collections::score::parse_score;
use crate::datatypes::zset::{self, ZAddOptions};
use crate::server::args::is;
use crate::server::error::{self, CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::rdb::{self, read_length, read_plain_length, read_string, take_array};
use crate::server::rdb_compact::{intset, listpack, ziplist};
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// RDB object types (`RDB_TYPE_*`).
mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const SET_LISTPACK: u8 = 20;
}

/// A quicklist node holding one element as is (`QUICKLIST_NODE_CONTAINER_PLAIN`).
const PLAIN_NODE: u64 = 1;

const BAD_PAYLOAD: CmdError = CmdError::fixed("ERR DUMP payload version or checksum are wrong");
const BAD_FORMAT: CmdError = CmdError::fixed("ERR Bad data format");

/// A value as DUMP carries it.
#[derive(Debug, PartialEq)]
enum Value {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// DUMP key: the value's payload, or nil for a missing key.
pub(crate) fn dump(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    match read_value(ks, a.get(1))? {
        Some(value) => out.bulk(&encode(&value)),
        None => out.null(),
    }
    Ok(())
}

fn read_value(ks: &dyn KeySpace, key: &[u8]) -> Result<Option<Value>, CmdError> {
    let c = ks.collections();
    Ok(Some(match c.value_type(key)? {
        None => return Ok(None),
        Some(ValueType::String) => match ks.get(key)? {
            Some(bytes) => Value::String(bytes),
            None => return Ok(None),
        },
        Some(ValueType::List) => Value::List(c.lrange(key, 0, -1)?),
        Some(ValueType::Set) => Value::Set(c.smembers(key)?),
        Some(ValueType::Hash) => Value::Hash(c.hgetall(key)?),
        Some(ValueType::ZSet) => {
            let mut items = Vec::new();
            c.view_with(&mut |v| {
                items = zset::range_by_rank(v, key, 0, -1, false)?;
                Ok(())
            })?;
            Value::ZSet(items)
        }
    }))
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let strings = |t: u8, items: &[Vec<u8>], out: &mut Vec<u8>| {
        out.push(t);
        rdb::write_length(items.len() as u64, out);
        for item in items {
            rdb::write_string(item, out);
        }
    };
    match value {
        Value::String(bytes) => {
            out.push(ty::STRING);
            rdb::write_string(bytes, &mut out);
        }
        Value::List(items) => strings(ty::LIST, items, &mut out),
        Value::Set(items) => strings(ty::SET, items, &mut out),
        Value::Hash(pairs) => {
            out.push(ty::HASH);
            rdb::write_length(pairs.len() as u64, &mut out);
            for (field, value) in pairs {
                rdb::write_string(field, &mut out);
                rdb::write_string(value, &mut out);
            }
        }
        Value::ZSet(items) => {
            out.push(ty::ZSET_2);
            rdb::write_length(items.len() as u64, &mut out);
            for (member, score) in items {
                rdb::write_string(member, &mut out);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
    }
    rdb::seal(&mut out);
    out
}

/// The value a payload holds: `None` if it does not parse (or is a type keg does not
/// store, or an empty collection, which Redis refuses too).
fn decode(body: &[u8]) -> Option<Value> {
    let mut rest = body;
    let [t] = take_array::<1>(&mut rest)?;
    let rest = &mut rest;
    let value = match t {
        ty::STRING => Value::String(read_string(rest)?),
        ty::LIST => Value::List(strings(rest)?),
        ty::SET => Value::Set(strings(rest)?),
        ty::HASH => {
            // The length counts pairs.
            let n = read_plain_length(rest)?;
            if n > rest.len() {
                return None;
            }
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push((read_string(rest)?, read_string(rest)?));
            }
            Value::Hash(fields)
        }
        ty::ZSET | ty::ZSET_2 => {
            let n = read_plain_length(rest)?;
            let mut items = Vec::new();
            for _ in 0..n {
                let member = read_string(rest)?;
                let score = if t == ty::ZSET_2 {
                    f64::from_le_bytes(take_array(rest)?)
                } else {
                    text_score(rest)?
                };
                items.push((member, score));
            }
            Value::ZSet(items)
        }
        ty::LIST_ZIPLIST => Value::List(ziplist(&read_string(rest)?)?),
        ty::SET_INTSET => Value::Set(intset(&read_string(rest)?)?),
        ty::SET_LISTPACK => Value::Set(listpack(&read_string(rest)?)?),
        ty::HASH_ZIPLIST => Value::Hash(pairs(ziplist(&read_string(rest)?)?)?),
        ty::HASH_LISTPACK => Value::Hash(pairs(listpack(&read_string(rest)?)?)?),
        ty::ZSET_ZIPLIST => Value::ZSet(scored(ziplist(&read_string(rest)?)?)?),
        ty::ZSET_LISTPACK => Value::ZSet(scored(listpack(&read_string(rest)?)?)?),
        ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
            let nodes = read_plain_length(rest)?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                if t == ty::LIST_QUICKLIST {
                    items.extend(ziplist(&read_string(rest)?)?);
                    continue;
                }
                let container = read_length(rest)?.ok()?;
                let node = read_string(rest)?;
                if container == PLAIN_NODE {
                    items.push(node);
                } else {
                    items.extend(listpack(&node)?);
                }
            }
            Value::List(items)
        }
        _ => return None,
    };
    let empty = match &value {
        Value::String(_) => false,
        Value::List(v) | Value::Set(v) => v.is_empty(),
        Value::Hash(v) => v.is_empty(),
        Value::ZSet(v) => v.is_empty(),
    };
    (!empty).then_some(value)
}

/// A length, then that many strings.
fn strings(rest: &mut &[u8]) -> Option<Vec<Vec<u8>>> {
    let n = read_plain_length(rest)?;
    // Each string takes at least a byte: a length past the input is damage, not a reason
    // to reserve memory.
    if n > rest.len() {
        return None;
    }
    (0..n).map(|_| read_string(rest)).collect()
}

/// Alternating entries as pairs.
fn pairs(entries: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(entries.len() / 2);
    let mut entries = entries.into_iter();
    while let (Some(a), Some(b)) = (entries.next(), entries.next()) {
        out.push((a, b));
    }
    Some(out)
}

/// Alternating members and scores (as text) as scored members.
fn scored(entries: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, f64)>> {
    pairs(entries)?
        .into_iter()
        .map(|(member, score)| Some((member, parse_score(&score).ok()?)))
        .collect()
}

/// A score written as text (`RDB_TYPE_ZSET`): a length byte (253 NaN, 254 +inf, 255 -inf).
fn text_score(rest: &mut &[u8]) -> Option<f64> {
    let [len] = take_array::<1>(rest)?;
    match len {
        253 => Some(f64::NAN),
        254 => Some(f64::INFINITY),
        255 => Some(f64::NEG_INFINITY),
        n => parse_score(rdb::take(rest, usize::from(n))?).ok(),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
pub(crate) fn restore(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let key = a.get(1);
    let (mut replace, mut absolute) = (false, false);
    let (mut idle, mut freq) = (false, false);
    let mut i = 4;
    while i < a.len() {
        let word = a.get(i);
        let has_value = i + 1 < a.len();
        if is(word, "replace") {
            replace = true;
        } else if is(word, "absttl") {
            absolute = true;
        } else if is(word, "idletime") && has_value && !freq {
            let seconds = crate::numeric::parse_i64(a.get(i + 1)).ok_or(NOT_INTEGER)?;
            if seconds < 0 {
                return Err(CmdError::fixed("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = true;
            i += 1;
        } else if is(word, "freq") && has_value && !idle {
            let frequency = crate::numeric::parse_i64(a.get(i + 1)).ok_or(NOT_INTEGER)?;
            if !(0..=255).contains(&frequency) {
                return Err(CmdError::fixed(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = true;
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    let ttl = crate::numeric::parse_i64(a.get(2)).ok_or(NOT_INTEGER)?;
    if ttl < 0 {
        return Err(CmdError::fixed("ERR Invalid TTL value, must be >= 0"));
    }
    if !replace && ks.contains(key) {
        return Err(CmdError::fixed("BUSYKEY Target key name already exists."));
    }
    let body = rdb::unseal(a.get(3)).ok_or(BAD_PAYLOAD)?;
    let value = decode(body).ok_or(BAD_FORMAT)?;
    let expiry = match (ttl, absolute) {
        (0, _) => None,
        (ms, true) => Some(ms as u64),
        (ms, false) => Some(ks.now_ms().saturating_add(ms as u64)),
    };
    // Whatever could refuse the write is checked before the old value goes.
    fits(shared, key, &value)?;
    let deleted = replace && ks.delete(key)?;
    // A value already expired is not restored (what Redis does: it deletes the key).
    if expiry.is_some_and(|at| at <= ks.now_ms()) {
        if deleted {
            shared.notify(out, class::GENERIC, "del", key);
        }
        out.ok();
        return Ok(());
    }
    write_value(ks, key, value)?;
    if let Some(at) = expiry {
        ks.expire_at(key, at)?;
    }
    shared.notify(out, class::GENERIC, "restore", key);
    out.ok();
    Ok(())
}

/// The store's errors for a value it would refuse (too long, or a member too long for its
/// element key), and Redis's for a NaN score; checked before anything is written.
fn fits(shared: &Shared, key: &[u8], value: &Value) -> Result<(), CmdError> {
    let max_value = shared.store.max_value_size();
    let max_key = shared.store.max_key_size();
    let value_fits = |v: &[u8]| error::value_fits(v.len() as u64, max_value);
    let member_fits = |m: &[u8]| -> Result<(), CmdError> {
        Ok(crate::datatypes::element_keys_fit(
            max_key,
            key.len(),
            m.len(),
        )?)
    };
    match value {
        Value::String(bytes) => value_fits(bytes),
        // A list's members are 8-byte positions.
        Value::List(items) => {
            member_fits(&[0; crate::datatypes::POSITION_MEMBER_LEN])?;
            items.iter().try_for_each(|v| value_fits(v))
        }
        Value::Set(members) => members.iter().try_for_each(|m| member_fits(m)),
        Value::Hash(pairs) => pairs.iter().try_for_each(|(f, v)| {
            member_fits(f)?;
            value_fits(v)
        }),
        Value::ZSet(items) => items.iter().try_for_each(|(m, score)| {
            if score.is_nan() {
                return Err(BAD_FORMAT);
            }
            member_fits(m)
        }),
    }
}

fn refs(items: &[Vec<u8>]) -> Vec<&[u8]> {
    items.iter().map(Vec::as_slice).collect()
}

fn write_value(ks: &dyn KeySpace, key: &[u8], value: Value) -> Result<(), CmdError> {
    let c = ks.collections();
    match value {
        Value::String(bytes) => ks.set(key, &bytes)?,
        Value::List(items) => {
            c.push(key, &refs(&items), false, false)?;
        }
        Value::Set(items) => {
            c.sadd(key, &refs(&items))?;
        }
        Value::Hash(pairs) => {
            let pairs: Vec<(&[u8], &[u8])> = pairs
                .iter()
                .map(|(f, v)| (f.as_slice(), v.as_slice()))
                .collect();
            c.hset_many(key, &pairs)?;
        }
        Value::ZSet(items) => {
            let items: Vec<(f64, &[u8])> = items.iter().map(|(m, s)| (*s, m.as_slice())).collect();
            c.edit_with(key, ValueType::ZSet, &mut |e| {
                zset::add(e, &items, ZAddOptions::default())?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// DUMP payloads of Redis 7.0.15 (listpack list, intset, listpack hash and sorted set).
    const FROM_REDIS: [&[u8]; 4] = [
        b"\x12\x01\x02\x1f\x1f\x00\x00\x00\x07\x00\x81a\x02\x01\x01\xdf\xfb\x02\xc1,\x02\xd0\x00\x02\xf2p\x11\x01\x04\x83bbb\x04\xff\n\x00pU\xcc\x9f\xcfBdP",
        b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\xff\xff\x01\x00\x10'\n\x00n\xbbl5\x01U\x04\xf3",
        b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x0c\x01\xff\n\x00\x016\x94\x81\xd3[\x89t",
        b"\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff\n\x00\xfa\x02\xb4%\xaf\x18\x87c",
    ];

    fn strings(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn payloads_written_by_redis_decode() {
        let decoded: Vec<Option<Value>> = FROM_REDIS
            .iter()
            .map(|p| rdb::unseal(p).and_then(decode))
            .collect();
        assert_eq!(
            decoded,
            vec![
                Some(Value::List(strings(&[
                    "a", "1", "-5", "300", "-4096", "70000", "bbb"
                ]))),
                Some(Value::Set(strings(&["-1", "1", "10000"]))),
                Some(Value::Hash(vec![
                    (b"f".to_vec(), b"v".to_vec()),
                    (b"n".to_vec(), b"12".to_vec())
                ])),
                Some(Value::ZSet(vec![
                    (b"a".to_vec(), 1.5),
                    (b"b".to_vec(), 2.0)
                ])),
            ]
        );
    }

    fn value() -> impl Strategy<Value = Value> {
        let bytes = || prop::collection::vec(any::<u8>(), 0..20);
        prop_oneof![
            bytes().prop_map(Value::String),
            prop::collection::vec(bytes(), 1..8).prop_map(Value::List),
            prop::collection::vec(bytes(), 1..8).prop_map(Value::Set),
            prop::collection::vec((bytes(), bytes()), 1..8).prop_map(Value::Hash),
            prop::collection::vec((bytes(), -1e9f64..1e9), 1..8).prop_map(Value::ZSet),
        ]
    }

    proptest! {
        #[test]
        fn values_round_trip(value in value()) {
            let payload = encode(&value);
            prop_assert_eq!(rdb::unseal(&payload).and_then(decode), Some(value));
        }

        #[test]
        fn any_bytes_decode_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = decode(&bytes);
        }
    }
}
