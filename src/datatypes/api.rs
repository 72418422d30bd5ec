//! The collection operations as methods of [`Store`] and [`Transaction`]: one definition,
//! two receivers. A `Store` reads the committed collections without locking and runs each
//! write as a one-operation transaction; a `Transaction` reads and writes through what it
//! staged.

use super::view::{CollectionView, Committed};
use super::write::Edit;
use super::{ValueType, hash, set};
use crate::error::{Error, Result};
use crate::numeric::LongDouble;
use crate::store::{Store, Transaction};

impl Store {
    fn read_collections_view<T>(
        &self,
        f: impl FnOnce(&dyn CollectionView) -> Result<T>,
    ) -> Result<T> {
        f(&Committed(self.engine()))
    }

    fn edit_collection<T>(
        &self,
        key: &[u8],
        ty: ValueType,
        f: impl FnOnce(&mut Edit<'_, '_, '_>) -> Result<T>,
    ) -> Result<T> {
        self.transaction(|tx| tx.edit_collection(key, ty, f))
    }

    /// What `key` holds (Redis's TYPE), `None` if it is absent or expired.
    pub fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        self.engine().value_type(key)
    }
}

macro_rules! collection_api {
    ($receiver:ty) => {
        impl $receiver {
            /// Sets `field` of the hash at `key` to `value`, creating the hash; true if the
            /// field is new. `Error::WrongType` if the key holds another type.
            pub fn hset(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
                self.hset_many(key, &[(field, value)])
                    .map(|added| added == 1)
            }

            /// Sets several fields at once (one atomic write); returns how many were new
            /// (Redis HSET).
            pub fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize> {
                self.edit_collection(key, ValueType::Hash, |e| hash::hset_many(e, fields))
            }

            /// Sets `field` only if the hash lacks it; true if it was set (HSETNX).
            pub fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
                self.edit_collection(key, ValueType::Hash, |e| hash::hsetnx(e, field, value))
            }

            /// Removes `fields` from the hash, deleting the key when it becomes empty;
            /// returns how many were there (HDEL).
            pub fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::Hash, |e| hash::hdel(e, fields))
            }

            /// Adds `delta` to the integer in `field` (missing counts as 0), with INCR's
            /// rules: `Error::NotAnInteger` and `Error::Overflow` change nothing (HINCRBY).
            pub fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
                self.edit_collection(key, ValueType::Hash, |e| hash::hincr_by(e, field, delta))
            }

            /// Adds `delta` (decimal text, as Redis takes it) to the number in `field`;
            /// returns the new value as Redis prints it (HINCRBYFLOAT).
            pub fn hincr_by_float(
                &self,
                key: &[u8],
                field: &[u8],
                delta: &[u8],
            ) -> Result<Vec<u8>> {
                let delta = LongDouble::parse(delta).ok_or(Error::NotAFloat)?;
                self.edit_collection(key, ValueType::Hash, |e| {
                    hash::hincr_by_float(e, field, delta)
                })
            }

            /// The value of `field` in the hash at `key` (HGET).
            pub fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
                self.read_collections_view(|v| hash::hget(v, key, field))
            }

            /// The values of `fields`, `None` for each missing one (HMGET).
            pub fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
                self.read_collections_view(|v| hash::hmget(v, key, fields))
            }

            /// Whether the hash has `field` (HEXISTS).
            pub fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
                self.read_collections_view(|v| hash::hexists(v, key, field))
            }

            /// Number of fields; 0 for a missing key (HLEN).
            pub fn hlen(&self, key: &[u8]) -> Result<usize> {
                self.read_collections_view(|v| hash::hlen(v, key))
            }

            /// Length of `field`'s value; 0 if missing (HSTRLEN).
            pub fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<usize> {
                Ok(self.hget(key, field)?.map_or(0, |v| v.len()))
            }

            /// The hash's fields, in no particular order (HKEYS).
            pub fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| hash::hkeys(v, key))
            }

            /// The hash's values, in no particular order (HVALS).
            pub fn hvals(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                Ok(self.hgetall(key)?.into_iter().map(|(_, v)| v).collect())
            }

            /// The hash's fields and values, in no particular order (HGETALL).
            pub fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
                self.read_collections_view(|v| hash::hgetall(v, key))
            }

            /// Adds `members` to the set at `key`, creating it (one atomic write); returns
            /// how many were new (SADD). `Error::WrongType` if the key holds another type.
            pub fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::Set, |e| set::sadd(e, members))
            }

            /// Removes `members`, deleting the key when the set becomes empty; returns how
            /// many were there (SREM).
            pub fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::Set, |e| set::srem(e, members))
            }

            /// Whether `member` is in the set (SISMEMBER).
            pub fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
                Ok(self.smismember(key, &[member])?.first() == Some(&true))
            }

            /// For each of `members`, whether it is in the set (SMISMEMBER).
            pub fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
                self.read_collections_view(|v| set::smismember(v, key, members))
            }

            /// Number of members; 0 for a missing key (SCARD).
            pub fn scard(&self, key: &[u8]) -> Result<usize> {
                self.read_collections_view(|v| set::scard(v, key))
            }

            /// The set's members, in no particular order (SMEMBERS).
            pub fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| set::smembers(v, key))
            }
        }
    };
}

collection_api!(Store);
collection_api!(Transaction<'_>);

/// The collection operations as a trait object, for code that serves both receivers (the
/// server's commands run against the store or a transaction).
pub(crate) trait CollectionOps {
    fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>>;
    fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize>;
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool>;
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize>;
    fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64>;
    fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> Result<Vec<u8>>;
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>>;
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool>;
    fn hlen(&self, key: &[u8]) -> Result<usize>;
    fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>>;
    fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>>;
    fn scard(&self, key: &[u8]) -> Result<usize>;
    fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>>;
}

macro_rules! collection_ops {
    ($receiver:ty) => {
        impl CollectionOps for $receiver {
            fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
                <$receiver>::value_type(self, key)
            }
            fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize> {
                <$receiver>::hset_many(self, key, fields)
            }
            fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
                <$receiver>::hsetnx(self, key, field, value)
            }
            fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
                <$receiver>::hdel(self, key, fields)
            }
            fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
                <$receiver>::hincr_by(self, key, field, delta)
            }
            fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
                <$receiver>::hincr_by_float(self, key, field, delta)
            }
            fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
                <$receiver>::hmget(self, key, fields)
            }
            fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
                <$receiver>::hexists(self, key, field)
            }
            fn hlen(&self, key: &[u8]) -> Result<usize> {
                <$receiver>::hlen(self, key)
            }
            fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                <$receiver>::hkeys(self, key)
            }
            fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
                <$receiver>::hgetall(self, key)
            }
            fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
                <$receiver>::sadd(self, key, members)
            }
            fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
                <$receiver>::srem(self, key, members)
            }
            fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
                <$receiver>::smismember(self, key, members)
            }
            fn scard(&self, key: &[u8]) -> Result<usize> {
                <$receiver>::scard(self, key)
            }
            fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                <$receiver>::smembers(self, key)
            }
        }
    };
}

collection_ops!(Store);
collection_ops!(Transaction<'_>);
