//! Hashes: a key holding fields with values (Redis's HSET, HGET, HDEL, ...). Each
//! operation is written once, over a [`CollectionView`] (reads) or an [`Edit`] (writes);
//! `api.rs` makes them methods of `Store` and `Transaction`.

use super::ValueType;
use super::members::PickBytes;
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
        Some(found) => {
            let mut values = Vec::with_capacity(fields.len());
            v.values_each(key, found.generation, fields, &mut |value| {
                values.push(value.map(<[u8]>::to_vec));
            })?;
            Ok(values)
        }
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
    let fields = v.members(key, found.generation);
    let names: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let mut values = Vec::with_capacity(fields.len());
    v.values_each(key, found.generation, &names, &mut |value| {
        values.push(value.map(<[u8]>::to_vec));
    })?;
    // A field removed by another writer since the names were taken is left out.
    Ok(fields
        .into_iter()
        .zip(values)
        .filter_map(|(field, value)| Some((field, value?)))
        .collect())
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
    // The fields are counted as they are drawn; their values here, as they are read.
    let mut bytes = PickBytes::new(distinct);
    for field in v.random_members(key, found.generation, count, distinct)? {
        if let Some(value) = v.value(key, found.generation, &field)? {
            bytes.add(value.len())?;
            out.push((field, value));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    fn text(value: Option<Vec<u8>>) -> String {
        value.map_or_else(|| "nil".into(), |v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn hmget_of_several_batches_answers_every_field_in_order() {
        let (_dir, store) = crate::datatypes::scratch_store();
        let pairs: Vec<(String, String)> = (0..150)
            .map(|i| (format!("f{i}"), format!("v{i}")))
            .collect();
        let refs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(f, v)| (f.as_bytes(), v.as_bytes()))
            .collect();
        store.hset_many(b"h", &refs).unwrap();
        // Asked for out of order, with fields that never were and one that vanished from
        // the index (another writer's HDEL) in the middle of the second batch.
        crate::datatypes::forget_member_element(&store, b"h", b"f90");
        let asked: Vec<String> = (0..200).rev().map(|i| format!("f{i}")).collect();
        let asked_refs: Vec<&[u8]> = asked.iter().map(|f| f.as_bytes()).collect();
        let got: Vec<String> = store
            .hmget(b"h", &asked_refs)
            .unwrap()
            .into_iter()
            .map(text)
            .collect();
        let expected: Vec<String> = (0..200)
            .rev()
            .map(|i| {
                if i < 150 && i != 90 {
                    format!("v{i}")
                } else {
                    "nil".into()
                }
            })
            .collect();
        assert_eq!(got, expected);
        let mut all = store.hgetall(b"h").unwrap();
        all.sort();
        assert_eq!(all.len(), 149, "the vanished field is left out");
        assert!(all.iter().all(|(f, v)| f[1..] == v[1..] && f != b"f90"));
    }

    #[test]
    fn hmget_and_hgetall_in_a_transaction_see_staged_and_committed_fields() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store
            .hset_many(b"h", &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
            .unwrap();
        store
            .transaction(|tx| {
                tx.hset(b"h", b"d", b"4")?;
                tx.hdel(b"h", &[b"b"])?;
                tx.hset(b"h", b"c", b"30")?;
                let got: Vec<String> = tx
                    .hmget(b"h", &[b"a", b"b", b"c", b"d", b"e"])?
                    .into_iter()
                    .map(text)
                    .collect();
                assert_eq!(got, ["1", "nil", "30", "4", "nil"]);
                let mut all = tx.hgetall(b"h")?;
                all.sort();
                assert_eq!(
                    all,
                    [
                        (b"a".to_vec(), b"1".to_vec()),
                        (b"c".to_vec(), b"30".to_vec()),
                        (b"d".to_vec(), b"4".to_vec())
                    ]
                );
                Ok(())
            })
            .unwrap();
    }
}
