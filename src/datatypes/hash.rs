//! Hashes: a key holding fields with values (Redis's HSET, HGET, HDEL, ...). Each
//! operation is written once, over a [`CollectionView`] (reads) or an [`Edit`] (writes);
//! `api.rs` makes them methods of `Store` and `Transaction`.

use super::ValueType;
use super::view::CollectionView;
use super::write::Edit;
use crate::error::{Error, Result};
use crate::numeric::{LongDouble, parse_i64};

const HASH: ValueType = ValueType::Hash;

pub(crate) fn hset_many(edit: &mut Edit<'_, '_, '_>, fields: &[(&[u8], &[u8])]) -> Result<usize> {
    let mut added = 0;
    for (field, value) in fields {
        if edit.put(field, value.to_vec())? {
            added += 1;
        }
    }
    Ok(added)
}

pub(crate) fn hsetnx(edit: &mut Edit<'_, '_, '_>, field: &[u8], value: &[u8]) -> Result<bool> {
    if edit.contains(field) {
        return Ok(false);
    }
    edit.put(field, value.to_vec())
}

pub(crate) fn hdel(edit: &mut Edit<'_, '_, '_>, fields: &[&[u8]]) -> Result<usize> {
    Ok(fields.iter().filter(|f| edit.remove(f)).count())
}

pub(crate) fn hincr_by(edit: &mut Edit<'_, '_, '_>, field: &[u8], delta: i64) -> Result<i64> {
    let old = match edit.get(field)? {
        Some(v) => parse_i64(&v).ok_or(Error::NotAnInteger)?,
        None => 0,
    };
    let new = old.checked_add(delta).ok_or(Error::Overflow)?;
    edit.put(field, new.to_string().into_bytes())?;
    Ok(new)
}

pub(crate) fn hincr_by_float(
    edit: &mut Edit<'_, '_, '_>,
    field: &[u8],
    delta: LongDouble,
) -> Result<Vec<u8>> {
    let old = match edit.get(field)? {
        Some(v) => LongDouble::parse(&v).ok_or(Error::NotAFloat)?,
        None => LongDouble::ZERO,
    };
    let new = old.add(delta).map_err(|_| Error::NanOrInfinity)?;
    let text = new.to_redis_text().into_bytes();
    edit.put(field, text.clone())?;
    Ok(text)
}

pub(crate) fn hget(v: &dyn CollectionView, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
    match v.collection(key, HASH)? {
        Some(found) => v.value(key, found.generation, field),
        None => Ok(None),
    }
}

pub(crate) fn hmget(
    v: &dyn CollectionView,
    key: &[u8],
    fields: &[&[u8]],
) -> Result<Vec<Option<Vec<u8>>>> {
    match v.collection(key, HASH)? {
        Some(found) => fields
            .iter()
            .map(|f| v.value(key, found.generation, f))
            .collect(),
        None => Ok(vec![None; fields.len()]),
    }
}

pub(crate) fn hexists(v: &dyn CollectionView, key: &[u8], field: &[u8]) -> Result<bool> {
    Ok(v.collection(key, HASH)?
        .is_some_and(|found| v.contains(key, found.generation, field)))
}

pub(crate) fn hlen(v: &dyn CollectionView, key: &[u8]) -> Result<usize> {
    Ok(v.collection(key, HASH)?.map_or(0, |found| found.len))
}

pub(crate) fn hkeys(v: &dyn CollectionView, key: &[u8]) -> Result<Vec<Vec<u8>>> {
    Ok(v.collection(key, HASH)?
        .map_or_else(Vec::new, |found| v.members(key, found.generation)))
}

pub(crate) fn hgetall(v: &dyn CollectionView, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let Some(found) = v.collection(key, HASH)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(found.len);
    for field in v.members(key, found.generation) {
        if let Some(value) = v.value(key, found.generation, &field)? {
            out.push((field, value));
        }
    }
    Ok(out)
}

/// HRANDFIELD: `count` random fields with their values, distinct (at most all of them) or
/// with repetition.
pub(crate) fn random(
    v: &dyn CollectionView,
    key: &[u8],
    count: usize,
    distinct: bool,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let Some(found) = v.collection(key, HASH)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(count.min(found.len));
    for field in v.random_members(key, found.generation, count, distinct) {
        if let Some(value) = v.value(key, found.generation, &field)? {
            out.push((field, value));
        }
    }
    Ok(out)
}
