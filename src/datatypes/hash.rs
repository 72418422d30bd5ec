//! Hashes: a key holding fields with values (Redis's HSET, HGET, HDEL, ...).

use super::ValueType;
use super::write::read_element;
use crate::error::{Error, Result};
use crate::numeric::{LongDouble, parse_i64};
use crate::store::Store;

impl Store {
    /// Sets `field` of the hash at `key` to `value` (creating the hash). Returns true if
    /// the field is new (Redis HSET's count for one field). `Error::WrongType` if the key
    /// holds another type.
    pub fn hset(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        Ok(self.hset_many(key, &[(field, value)])? == 1)
    }

    /// Sets several fields at once (one atomic write); returns how many were new.
    pub fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize> {
        self.engine().edit_collection(key, ValueType::Hash, |edit| {
            let mut added = 0;
            for (field, value) in fields {
                if edit.put(field, value.to_vec())? {
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    /// Sets `field` only if the hash lacks it; true if it was set (Redis HSETNX).
    pub fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        self.engine().edit_collection(key, ValueType::Hash, |edit| {
            if edit.contains(field) {
                return Ok(false);
            }
            edit.put(field, value.to_vec())
        })
    }

    /// The value of `field` in the hash at `key`.
    pub fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        let engine = self.engine();
        engine.read_collection(key, ValueType::Hash, |c| match c {
            Some(c) => read_element(engine, key, c.generation, field),
            None => Ok(None),
        })
    }

    /// The values of `fields` (Redis HMGET), `None` for each missing one.
    pub fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let engine = self.engine();
        engine.read_collection(key, ValueType::Hash, |c| match c {
            Some(c) => fields
                .iter()
                .map(|f| read_element(engine, key, c.generation, f))
                .collect(),
            None => Ok(vec![None; fields.len()]),
        })
    }

    /// Removes `fields` from the hash (deleting the key when it becomes empty); returns
    /// how many were there.
    pub fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        self.engine().edit_collection(key, ValueType::Hash, |edit| {
            Ok(fields.iter().filter(|f| edit.remove(f)).count())
        })
    }

    /// Whether the hash has `field`.
    pub fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        self.engine().read_collection(key, ValueType::Hash, |c| {
            Ok(c.is_some_and(|c| c.members.contains(field)))
        })
    }

    /// Number of fields (0 for a missing key).
    pub fn hlen(&self, key: &[u8]) -> Result<usize> {
        self.engine().read_collection(key, ValueType::Hash, |c| {
            Ok(c.map_or(0, |c| c.members.len()))
        })
    }

    /// Length of `field`'s value (0 if missing; Redis HSTRLEN).
    pub fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize> {
        Ok(self.hget(key, field)?.map_or(0, |v| v.len()))
    }

    /// The hash's fields, in no particular order.
    pub fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.engine().read_collection(key, ValueType::Hash, |c| {
            Ok(c.map_or_else(Vec::new, |c| c.members.iter().map(|m| m.to_vec()).collect()))
        })
    }

    /// The hash's fields and values, in no particular order.
    pub fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let engine = self.engine();
        engine.read_collection(key, ValueType::Hash, |c| {
            let Some(c) = c else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(c.members.len());
            for field in &c.members {
                if let Some(value) = read_element(engine, key, c.generation, field)? {
                    out.push((field.to_vec(), value));
                }
            }
            Ok(out)
        })
    }

    /// The hash's values, in no particular order.
    pub fn hvals(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        Ok(self.hgetall(key)?.into_iter().map(|(_, v)| v).collect())
    }

    /// Adds `delta` to the integer in `field` (a missing field counts as 0); Redis's
    /// HINCRBY, with INCR's rules: `Error::NotAnInteger` and `Error::Overflow` change
    /// nothing.
    pub fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        self.engine().edit_collection(key, ValueType::Hash, |edit| {
            let old = match edit.get(field)? {
                Some(v) => parse_i64(&v).ok_or(Error::NotAnInteger)?,
                None => 0,
            };
            let new = old.checked_add(delta).ok_or(Error::Overflow)?;
            edit.put(field, new.to_string().into_bytes())?;
            Ok(new)
        })
    }

    /// Adds `delta` (a decimal text, as Redis takes it) to the number in `field`; returns
    /// the new value as Redis formats it (HINCRBYFLOAT).
    pub fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
        let delta = LongDouble::parse(delta).ok_or(Error::NotAFloat)?;
        self.engine().edit_collection(key, ValueType::Hash, |edit| {
            let old = match edit.get(field)? {
                Some(v) => LongDouble::parse(&v).ok_or(Error::NotAFloat)?,
                None => LongDouble::ZERO,
            };
            let new = old.add(delta).map_err(|_| Error::NanOrInfinity)?;
            let text = new.to_redis_text().into_bytes();
            edit.put(field, text.clone())?;
            Ok(text)
        })
    }
}
