//! The collection operations as methods of [`Store`] and [`Transaction`]: one definition,
//! two receivers. A `Store` reads the committed collections without locking and runs each
//! write as a one-operation transaction; a `Transaction` reads and writes through what it
//! staged.

use super::view::{CollectionView, Committed};
use super::write::Edit;
use super::{ValueType, hash, list, set};
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

            /// Pushes `values` at the head of the list at `key`, one after the other (so
            /// the last ends up first), creating the list; returns its new length (LPUSH).
            /// `Error::WrongType` if the key holds another type.
            pub fn lpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::List, |e| list::push(e, values, true))
            }

            /// Pushes `values` at the tail; returns the new length (RPUSH).
            pub fn rpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::List, |e| list::push(e, values, false))
            }

            /// LPUSH only if the list exists; returns its length (0 if it does not: LPUSHX).
            pub fn lpushx(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::List, |e| {
                    if e.len_before() == 0 {
                        Ok(0)
                    } else {
                        list::push(e, values, true)
                    }
                })
            }

            /// RPUSH only if the list exists (RPUSHX).
            pub fn rpushx(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::List, |e| {
                    if e.len_before() == 0 {
                        Ok(0)
                    } else {
                        list::push(e, values, false)
                    }
                })
            }

            /// Removes and returns up to `count` values from the head, deleting the key when
            /// the list becomes empty (LPOP with a count).
            pub fn lpop(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
                self.edit_collection(key, ValueType::List, |e| list::pop(e, count, true))
            }

            /// Removes and returns up to `count` values from the tail (RPOP with a count).
            pub fn rpop(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
                self.edit_collection(key, ValueType::List, |e| list::pop(e, count, false))
            }

            /// Number of elements; 0 for a missing key (LLEN).
            pub fn llen(&self, key: &[u8]) -> Result<usize> {
                self.read_collections_view(|v| list::len(v, key))
            }

            /// The element at `index`, negative counting from the tail (LINDEX).
            pub fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
                self.read_collections_view(|v| list::index(v, key, index))
            }

            /// The elements `start..=stop`, with Redis's negative indexes and clamping
            /// (LRANGE).
            pub fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| list::range(v, key, start, stop))
            }

            /// Sets the element at `index` (LSET): `Error::NoSuchKey` for a missing list,
            /// `Error::IndexOutOfRange` outside it.
            pub fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
                self.edit_collection(key, ValueType::List, |e| list::set(e, index, value))
            }

            /// Removes elements equal to `value`: the first `count` from the head (count >
            /// 0), from the tail (count < 0), or all (0); returns how many (LREM).
            pub fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
                self.edit_collection(key, ValueType::List, |e| list::remove(e, count, value))
            }

            /// Keeps only the elements `start..=stop` (LTRIM).
            pub fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
                self.edit_collection(key, ValueType::List, |e| list::trim(e, start, stop))
            }

            /// Inserts `value` before (or after) the first element equal to `pivot`; returns
            /// the new length, -1 without such an element, 0 for a missing list (LINSERT).
            pub fn linsert(
                &self,
                key: &[u8],
                before: bool,
                pivot: &[u8],
                value: &[u8],
            ) -> Result<i64> {
                self.edit_collection(key, ValueType::List, |e| {
                    list::insert(e, before, pivot, value)
                })
            }

            /// Indexes of elements equal to `value` (LPOS): from the `rank`-th match
            /// (negative searches from the tail; 0 is `Error::InvalidArgument`), at most
            /// `count` (0 = all), looking at no more than `max_len` elements (0 = all).
            pub fn lpos(
                &self,
                key: &[u8],
                value: &[u8],
                rank: i64,
                count: usize,
                max_len: usize,
            ) -> Result<Vec<usize>> {
                self.read_collections_view(|v| {
                    list::positions_of(v, key, value, rank, count, max_len)
                })
            }
        }
    };
}

impl Store {
    /// Pops a value from one end of the list at `source` and pushes it at one end of the
    /// list at `destination`, atomically (LMOVE; RPOPLPUSH is `lmove(s, d, false, true)`).
    /// `None` if `source` is missing.
    pub fn lmove(
        &self,
        source: &[u8],
        destination: &[u8],
        from_left: bool,
        to_left: bool,
    ) -> Result<Option<Vec<u8>>> {
        self.transaction(|tx| tx.lmove(source, destination, from_left, to_left))
    }
}

impl Transaction<'_> {
    /// LMOVE inside this transaction (see [`Store::lmove`]).
    pub fn lmove(
        &self,
        source: &[u8],
        destination: &[u8],
        from_left: bool,
        to_left: bool,
    ) -> Result<Option<Vec<u8>>> {
        // Refuse a destination of another type before popping, as Redis does.
        if !matches!(self.value_type(destination)?, None | Some(ValueType::List)) {
            return Err(Error::WrongType);
        }
        let Some(value) = self
            .edit_collection(source, ValueType::List, |e| list::pop(e, 1, from_left))?
            .pop()
        else {
            return Ok(None);
        };
        self.edit_collection(destination, ValueType::List, |e| {
            list::push(e, &[&value], to_left)
        })?;
        Ok(Some(value))
    }
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
    fn push(&self, key: &[u8], values: &[&[u8]], left: bool, only_existing: bool) -> Result<usize>;
    fn pop(&self, key: &[u8], count: usize, left: bool) -> Result<Vec<Vec<u8>>>;
    fn llen(&self, key: &[u8]) -> Result<usize>;
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>>;
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>>;
    fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()>;
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize>;
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()>;
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64>;
    fn lpos(
        &self,
        key: &[u8],
        value: &[u8],
        rank: i64,
        count: usize,
        max_len: usize,
    ) -> Result<Vec<usize>>;
    fn lmove(
        &self,
        source: &[u8],
        destination: &[u8],
        from_left: bool,
        to_left: bool,
    ) -> Result<Option<Vec<u8>>>;
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
            fn push(
                &self,
                key: &[u8],
                values: &[&[u8]],
                left: bool,
                only_existing: bool,
            ) -> Result<usize> {
                match (left, only_existing) {
                    (true, false) => <$receiver>::lpush(self, key, values),
                    (false, false) => <$receiver>::rpush(self, key, values),
                    (true, true) => <$receiver>::lpushx(self, key, values),
                    (false, true) => <$receiver>::rpushx(self, key, values),
                }
            }
            fn pop(&self, key: &[u8], count: usize, left: bool) -> Result<Vec<Vec<u8>>> {
                if left {
                    <$receiver>::lpop(self, key, count)
                } else {
                    <$receiver>::rpop(self, key, count)
                }
            }
            fn llen(&self, key: &[u8]) -> Result<usize> {
                <$receiver>::llen(self, key)
            }
            fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
                <$receiver>::lindex(self, key, index)
            }
            fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
                <$receiver>::lrange(self, key, start, stop)
            }
            fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
                <$receiver>::lset(self, key, index, value)
            }
            fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
                <$receiver>::lrem(self, key, count, value)
            }
            fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
                <$receiver>::ltrim(self, key, start, stop)
            }
            fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], value: &[u8]) -> Result<i64> {
                <$receiver>::linsert(self, key, before, pivot, value)
            }
            fn lpos(
                &self,
                key: &[u8],
                value: &[u8],
                rank: i64,
                count: usize,
                max_len: usize,
            ) -> Result<Vec<usize>> {
                <$receiver>::lpos(self, key, value, rank, count, max_len)
            }
            fn lmove(
                &self,
                source: &[u8],
                destination: &[u8],
                from_left: bool,
                to_left: bool,
            ) -> Result<Option<Vec<u8>>> {
                <$receiver>::lmove(self, source, destination, from_left, to_left)
            }
        }
    };
}

collection_ops!(Store);
collection_ops!(Transaction<'_>);
