//! The collection operations as methods of [`Store`] and [`Transaction`]: one definition,
//! two receivers. A `Store` reads the committed collections without locking and runs each
//! write as a one-operation transaction; a `Transaction` reads and writes through what it
//! staged.

use super::view::{CollectionView, Committed};
use super::write::Edit;
use std::ops::Bound;

use super::scan::{self, CollectionPage};
use super::zset::{self, ScoredMember, ZAddOptions};
use super::zset_algebra::{self, ZAggregate};
use super::{ValueType, hash, list, set};
use crate::collections::range::Limit;
use crate::error::{Error, Result};
use crate::numeric::LongDouble;
use crate::store::{Store, Transaction};

impl Store {
    fn read_collections_view<T>(
        &self,
        f: impl FnOnce(&dyn CollectionView) -> Result<T>,
    ) -> Result<T> {
        // A collection read touches several records (header, members, elements): it sees
        // each commit whole, as Redis runs each command alone.
        let engine = self.engine();
        engine.read_together(|| f(&Committed(engine)))
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

            /// One page of a scan over the hash's fields and values (HSCAN): start with
            /// cursor 0 and pass each page's `cursor` back until it is 0. Every field present
            /// for the whole scan is returned at least once; fields added or removed meanwhile
            /// may or may not be. At most `count` fields a page, except that a hash of up to
            /// 128 fields comes whole; see [`CollectionPage`].
            pub fn hscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<(Vec<u8>, Vec<u8>)>> {
                self.read_collections_view(|v| scan::hscan(v, key, cursor, count))
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

            /// One page of a scan over the set's members (SSCAN), with the cursor and the
            /// guarantee of [`Store::hscan`] (see [`CollectionPage`]).
            pub fn sscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<Vec<u8>>> {
                self.read_collections_view(|v| scan::sscan(v, key, cursor, count))
            }

            /// Removes and returns up to `count` random members (SPOP).
            pub fn spop(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
                self.edit_collection(key, ValueType::Set, |e| set::pop(e, count))
            }

            /// `count` random members without removing them: distinct ones (at most all
            /// of them), or with repetition when `distinct` is false (SRANDMEMBER with a
            /// negative count). With repetition a read takes at most 1,048,576 picks and
            /// copies at most 512 MiB; more is
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
            pub fn srandmember(
                &self,
                key: &[u8],
                count: usize,
                distinct: bool,
            ) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| set::random(v, key, count, distinct))
            }

            /// `count` random fields with their values (HRANDFIELD), distinct or with
            /// repetition as for [`Store::srandmember`].
            pub fn hrandfield(
                &self,
                key: &[u8],
                count: usize,
                distinct: bool,
            ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
                self.read_collections_view(|v| hash::random(v, key, count, distinct))
            }

            /// `count` random members with their scores (ZRANDMEMBER), distinct or with
            /// repetition as for [`Store::srandmember`].
            pub fn zrandmember(
                &self,
                key: &[u8],
                count: usize,
                distinct: bool,
            ) -> Result<Vec<ScoredMember>> {
                self.read_collections_view(|v| zset::random(v, key, count, distinct))
            }

            /// The members in every one of the sets at `keys` (SINTER); a missing key is an
            /// empty set.
            pub fn sinter(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| set::combine(v, keys, SetCombine::Intersection))
            }

            /// The members in any of the sets at `keys` (SUNION).
            pub fn sunion(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| set::combine(v, keys, SetCombine::Union))
            }

            /// The members of the first set in none of the others (SDIFF).
            pub fn sdiff(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
                self.read_collections_view(|v| set::combine(v, keys, SetCombine::Difference))
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

            /// `lrange` lending each value to `f` instead of collecting them (the server
            /// writes them straight into its reply): see [`list::range_each`].
            pub(crate) fn lrange_each(
                &self,
                key: &[u8],
                start: i64,
                stop: i64,
                f: &mut dyn FnMut(list::RangeItem<'_>),
            ) -> Result<(usize, usize)> {
                self.read_collections_view(|v| list::range_each(v, key, start, stop, f))
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
                let mut existed = false;
                self.edit_collection(key, ValueType::List, |e| {
                    existed = e.len_before() > 0;
                    list::trim(e, start, stop)
                })?;
                if existed {
                    // Trimmed or not, it counts as a write for the server's WATCH, as in
                    // Redis.
                    self.engine().touch_watched_key(key);
                }
                Ok(())
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

            /// Adds members with their scores to the sorted set at `key`, or updates their
            /// scores; returns how many were added (ZADD). A NaN score is refused.
            pub fn zadd(&self, key: &[u8], items: &[(f64, &[u8])]) -> Result<usize> {
                self.zadd_with(key, items, ZAddOptions::default())
            }

            /// ZADD with its NX, XX, GT, LT and CH conditions.
            pub fn zadd_with(
                &self,
                key: &[u8],
                items: &[(f64, &[u8])],
                options: ZAddOptions,
            ) -> Result<usize> {
                self.edit_collection(key, ValueType::ZSet, |e| zset::add(e, items, options))
            }

            /// Adds `delta` to `member`'s score (a missing member starts at 0); returns the
            /// new score (ZINCRBY).
            pub fn zincr_by(&self, key: &[u8], member: &[u8], delta: f64) -> Result<f64> {
                self.zadd_incr(key, member, delta, ZAddOptions::default())
                    .map(|s| s.unwrap_or(delta))
            }

            /// ZADD INCR with conditions: the new score, `None` if a condition refused it.
            pub fn zadd_incr(
                &self,
                key: &[u8],
                member: &[u8],
                delta: f64,
                options: ZAddOptions,
            ) -> Result<Option<f64>> {
                self.edit_collection(key, ValueType::ZSet, |e| {
                    zset::incr(e, member, delta, options)
                })
            }

            /// Removes `members`; returns how many were there (ZREM).
            pub fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
                self.edit_collection(key, ValueType::ZSet, |e| zset::remove(e, members))
            }

            /// `member`'s score (ZSCORE).
            pub fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
                self.read_collections_view(|v| zset::score(v, key, member))
            }

            /// The scores of `members` (ZMSCORE).
            pub fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
                self.read_collections_view(|v| zset::scores(v, key, members))
            }

            /// Number of members (ZCARD).
            pub fn zcard(&self, key: &[u8]) -> Result<usize> {
                self.read_collections_view(|v| zset::card(v, key))
            }

            /// Members with scores between `min` and `max` (ZCOUNT).
            pub fn zcount(&self, key: &[u8], min: Bound<f64>, max: Bound<f64>) -> Result<usize> {
                let range = zset::score_range(min, max);
                self.read_collections_view(|v| zset::count(v, key, &range))
            }

            /// Members between `min` and `max` by their bytes (ZLEXCOUNT; meaningful when
            /// every score is equal).
            pub fn zlexcount(
                &self,
                key: &[u8],
                min: Bound<&[u8]>,
                max: Bound<&[u8]>,
            ) -> Result<usize> {
                let range = zset::lex_range(min, max);
                self.read_collections_view(|v| zset::lex_count(v, key, &range))
            }

            /// `member`'s rank, 0 for the lowest score, or the highest with `reverse`
            /// (ZRANK, ZREVRANK).
            pub fn zrank(&self, key: &[u8], member: &[u8], reverse: bool) -> Result<Option<usize>> {
                self.read_collections_view(|v| zset::rank(v, key, member, reverse))
            }

            /// Members with ranks `start..=stop` (Redis's negative indexes), lowest score
            /// first, or highest first with `reverse` (ZRANGE, ZREVRANGE).
            pub fn zrange(
                &self,
                key: &[u8],
                start: i64,
                stop: i64,
                reverse: bool,
            ) -> Result<Vec<ScoredMember>> {
                self.read_collections_view(|v| zset::range_by_rank(v, key, start, stop, reverse))
            }

            /// Members with scores between `min` and `max`, skipping `offset` and returning
            /// at most `count` (ZRANGEBYSCORE, ZREVRANGEBYSCORE with `reverse`).
            pub fn zrange_by_score(
                &self,
                key: &[u8],
                min: Bound<f64>,
                max: Bound<f64>,
                reverse: bool,
                offset: usize,
                count: Option<usize>,
            ) -> Result<Vec<ScoredMember>> {
                let range = zset::score_range(min, max);
                let limit = Limit { offset, count };
                self.read_collections_view(|v| zset::range_by_score(v, key, &range, reverse, limit))
            }

            /// Members between `min` and `max` by their bytes (ZRANGEBYLEX).
            pub fn zrange_by_lex(
                &self,
                key: &[u8],
                min: Bound<&[u8]>,
                max: Bound<&[u8]>,
                reverse: bool,
                offset: usize,
                count: Option<usize>,
            ) -> Result<Vec<ScoredMember>> {
                let range = zset::lex_range(min, max);
                let limit = Limit { offset, count };
                self.read_collections_view(|v| zset::range_by_lex(v, key, &range, reverse, limit))
            }

            /// One page of a scan over the sorted set's members and scores (ZSCAN), with the
            /// cursor and the guarantee of [`Store::hscan`] (see [`CollectionPage`]): a
            /// member whose score changes during the scan is still returned, with one of
            /// its scores. A set of up to 128 members comes whole, in score order.
            pub fn zscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<ScoredMember>> {
                self.read_collections_view(|v| scan::zscan(v, key, cursor, count))
            }

            /// Removes and returns up to `count` members with the lowest scores (ZPOPMIN).
            pub fn zpop_min(&self, key: &[u8], count: usize) -> Result<Vec<ScoredMember>> {
                self.edit_collection(key, ValueType::ZSet, |e| Ok(zset::pop(e, count, false)))
            }

            /// Removes and returns up to `count` members with the highest scores (ZPOPMAX).
            pub fn zpop_max(&self, key: &[u8], count: usize) -> Result<Vec<ScoredMember>> {
                self.edit_collection(key, ValueType::ZSet, |e| Ok(zset::pop(e, count, true)))
            }

            /// Removes the members with ranks `start..=stop` (ZREMRANGEBYRANK).
            pub fn zrem_range_by_rank(&self, key: &[u8], start: i64, stop: i64) -> Result<usize> {
                self.edit_collection(key, ValueType::ZSet, |e| {
                    Ok(zset::remove_by_rank(e, start, stop))
                })
            }

            /// Removes the members with scores between `min` and `max` (ZREMRANGEBYSCORE).
            pub fn zrem_range_by_score(
                &self,
                key: &[u8],
                min: Bound<f64>,
                max: Bound<f64>,
            ) -> Result<usize> {
                let range = zset::score_range(min, max);
                self.edit_collection(key, ValueType::ZSet, |e| {
                    Ok(zset::remove_by_score(e, &range))
                })
            }

            /// The union of the sorted sets at `keys` (ZUNION): every member of any of them,
            /// its score in each multiplied by that key's weight (`weights`, one per key;
            /// all 1 when `None`) and combined by `aggregate`; ordered by score, then member.
            /// A plain set counts as a sorted set whose members score 1, a missing key as
            /// empty; any other type is `Error::WrongType`. A weighted score that is NaN
            /// (`inf` times 0) counts as 0, and a SUM of `inf` and `-inf` is 0, as in Redis.
            /// `Error::InvalidArgument` if `weights` has another length than `keys` or holds
            /// a NaN.
            pub fn zunion(
                &self,
                keys: &[&[u8]],
                weights: Option<&[f64]>,
                aggregate: ZAggregate,
            ) -> Result<Vec<ScoredMember>> {
                self.read_collections_view(|v| {
                    zset_algebra::combine(v, keys, SetCombine::Union, weights, aggregate)
                })
            }

            /// The intersection of the sorted sets at `keys` (ZINTER): the members in all of
            /// them, scored as by [`Store::zunion`]. A missing key makes it empty.
            pub fn zinter(
                &self,
                keys: &[&[u8]],
                weights: Option<&[f64]>,
                aggregate: ZAggregate,
            ) -> Result<Vec<ScoredMember>> {
                self.read_collections_view(|v| {
                    zset_algebra::combine(v, keys, SetCombine::Intersection, weights, aggregate)
                })
            }

            /// The members of the first sorted set at `keys` in none of the others, with
            /// their scores in the first (ZDIFF); inputs as for [`Store::zunion`].
            pub fn zdiff(&self, keys: &[&[u8]]) -> Result<Vec<ScoredMember>> {
                self.read_collections_view(|v| {
                    zset_algebra::combine(v, keys, SetCombine::Difference, None, ZAggregate::Sum)
                })
            }

            /// The size of [`Store::zinter`]'s result, capped at `limit`
            /// (ZINTERCARD; Redis's LIMIT 0 is `None`).
            pub fn zintercard(&self, keys: &[&[u8]], limit: Option<usize>) -> Result<usize> {
                self.read_collections_view(|v| zset_algebra::intersection_len(v, keys, limit))
            }

            /// Removes the members between `min` and `max` by their bytes (ZREMRANGEBYLEX).
            pub fn zrem_range_by_lex(
                &self,
                key: &[u8],
                min: Bound<&[u8]>,
                max: Bound<&[u8]>,
            ) -> Result<usize> {
                let range = zset::lex_range(min, max);
                self.edit_collection(key, ValueType::ZSet, |e| Ok(zset::remove_by_lex(e, &range)))
            }
        }
    };
}

impl Store {
    pub(crate) fn copy_collection(&self, source: &[u8], destination: &[u8]) -> Result<()> {
        self.transaction(|tx| tx.copy_collection(source, destination))
    }

    /// Pops a value from one end of the list at `source` and pushes it at one end of the
    /// list at `destination`, atomically (LMOVE; RPOPLPUSH is `lmove(s, d, false, true)`).
    /// `None` if `source` is missing, whatever `destination` holds (as in Redis);
    /// otherwise `Error::WrongType` if either key holds another type. With `source` as
    /// `destination` the list rotates (a one-element list, TTL included, stays as it is).
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

impl Store {
    /// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: replaces whatever `destination` holds with
    /// the combination of the sets at `keys` (deleted when empty), atomically; returns its
    /// size.
    pub fn sstore(&self, destination: &[u8], keys: &[&[u8]], how: SetCombine) -> Result<usize> {
        self.transaction(|tx| tx.sstore(destination, keys, how))
    }

    /// Moves `member` from the set at `source` to the set at `destination`, atomically;
    /// true if it was in `source` (SMOVE). False if `source` is missing, whatever
    /// `destination` holds (as in Redis); otherwise `Error::WrongType` if either key holds
    /// another type. A move onto `source` itself changes nothing.
    pub fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool> {
        self.transaction(|tx| tx.smove(source, destination, member))
    }
}

impl Store {
    /// ZUNIONSTORE: replaces whatever `destination` holds with [`Store::zunion`]'s result
    /// (deleting it when empty), atomically; returns its size. `destination` may be one of
    /// `keys`.
    pub fn zunion_store(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        self.transaction(|tx| tx.zunion_store(destination, keys, weights, aggregate))
    }

    /// ZINTERSTORE: as [`Store::zunion_store`], with [`Store::zinter`]'s result.
    pub fn zinter_store(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        self.transaction(|tx| tx.zinter_store(destination, keys, weights, aggregate))
    }

    /// ZDIFFSTORE: as [`Store::zunion_store`], with [`Store::zdiff`]'s result.
    pub fn zdiff_store(&self, destination: &[u8], keys: &[&[u8]]) -> Result<usize> {
        self.transaction(|tx| tx.zdiff_store(destination, keys))
    }

    pub(crate) fn zstore(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        how: SetCombine,
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        self.transaction(|tx| tx.zstore(destination, keys, how, weights, aggregate))
    }
}

impl Transaction<'_> {
    /// [`Store::zunion_store`] inside this transaction.
    pub fn zunion_store(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        self.zstore(destination, keys, SetCombine::Union, weights, aggregate)
    }

    /// [`Store::zinter_store`] inside this transaction.
    pub fn zinter_store(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        self.zstore(
            destination,
            keys,
            SetCombine::Intersection,
            weights,
            aggregate,
        )
    }

    /// [`Store::zdiff_store`] inside this transaction.
    pub fn zdiff_store(&self, destination: &[u8], keys: &[&[u8]]) -> Result<usize> {
        self.zstore(
            destination,
            keys,
            SetCombine::Difference,
            None,
            ZAggregate::Sum,
        )
    }

    /// The STORE forms: the result is read in full before `destination` is replaced, so
    /// `destination` may be among `keys`.
    pub(crate) fn zstore(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        how: SetCombine,
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize> {
        let members = self
            .read_collections_view(|v| zset_algebra::combine(v, keys, how, weights, aggregate))?;
        self.element_keys_fit(destination, members.iter().map(|(m, _)| m.len()))?;
        self.delete(destination)?;
        self.edit_collection(destination, ValueType::ZSet, |e| {
            zset_algebra::store(e, &members)
        })
    }
}

/// How [`Store::sstore`] combines sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCombine {
    /// SINTERSTORE.
    Intersection,
    /// SUNIONSTORE.
    Union,
    /// SDIFFSTORE: the first set minus the others.
    Difference,
}

impl Transaction<'_> {
    /// [`Store::sstore`] inside this transaction.
    pub fn sstore(&self, destination: &[u8], keys: &[&[u8]], how: SetCombine) -> Result<usize> {
        let members = self.read_collections_view(|v| set::combine(v, keys, how))?;
        self.element_keys_fit(destination, members.iter().map(Vec::len))?;
        self.delete(destination)?;
        self.edit_collection(destination, ValueType::Set, |e| {
            set::store_members(e, &members)
        })
    }

    /// The store's error if members of these lengths cannot be stored under `destination`
    /// (see `element_keys_fit`); an empty collection always fits.
    fn element_keys_fit(
        &self,
        destination: &[u8],
        member_lens: impl Iterator<Item = usize>,
    ) -> Result<()> {
        match member_lens.max() {
            Some(longest) => super::element_keys_fit(
                self.engine().options.max_key_size,
                destination.len(),
                longest,
            ),
            None => Ok(()),
        }
    }

    /// [`Store::smove`] inside this transaction.
    pub fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool> {
        // Redis's order: a missing source moves nothing, whatever the destination holds;
        // then both keys must be sets before anything changes.
        if !self.both_of_type(source, destination, ValueType::Set)? {
            return Ok(false);
        }
        if source == destination {
            // Nothing moves. Removing and adding again would delete a one-member set,
            // and its TTL with it, before creating it anew.
            return self.sismember(source, member);
        }
        if self.srem(source, &[member])? == 0 {
            return Ok(false);
        }
        self.sadd(destination, &[member])?;
        Ok(true)
    }

    /// Replaces whatever `destination` holds with a copy of the collection at `source`
    /// (every element, same type; no expiry). Used by RENAME: element keys name their
    /// collection's key, so a collection moves element by element.
    pub(crate) fn copy_collection(&self, source: &[u8], destination: &[u8]) -> Result<()> {
        let Some(ty) = self.value_type(source)?.filter(|t| *t != ValueType::String) else {
            return Err(Error::WrongType);
        };
        let elements = self.read_collections_view(|v| {
            let Some(found) = v.collection(source, ty)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(found.len);
            for member in v.members(source, found.generation) {
                if let Some(value) = v.value(source, found.generation, &member)? {
                    out.push((member, value));
                }
            }
            Ok(out)
        })?;
        self.element_keys_fit(destination, elements.iter().map(|(m, _)| m.len()))?;
        self.delete(destination)?;
        self.edit_collection(destination, ty, |e| {
            for (member, value) in elements {
                e.put(&member, value)?;
            }
            Ok(())
        })
    }

    /// LMOVE inside this transaction (see [`Store::lmove`]).
    pub fn lmove(
        &self,
        source: &[u8],
        destination: &[u8],
        from_left: bool,
        to_left: bool,
    ) -> Result<Option<Vec<u8>>> {
        // Redis's order: a missing source is nil, whatever the destination holds; then
        // both keys must be lists before anything is popped.
        if !self.both_of_type(source, destination, ValueType::List)? {
            return Ok(None);
        }
        if source == destination && self.llen(source)? == 1 {
            // Rotating one element changes nothing. Popping it would delete the list, and
            // its TTL with it, before the push created it anew. It still counts as a write
            // for the server's WATCH, as in Redis.
            self.engine().touch_watched_key(source);
            return self.lindex(source, 0);
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

    /// The check SMOVE and LMOVE make first: false if `source` is missing; WRONGTYPE if
    /// `source`, or `destination` when present, is not of type `ty`.
    fn both_of_type(&self, source: &[u8], destination: &[u8], ty: ValueType) -> Result<bool> {
        match self.value_type(source)? {
            None => return Ok(false),
            Some(t) if t != ty => return Err(Error::WrongType),
            Some(_) => {}
        }
        match self.value_type(destination)? {
            Some(t) if t != ty => Err(Error::WrongType),
            _ => Ok(true),
        }
    }
}

collection_api!(Store);
collection_api!(Transaction<'_>);

/// The collection operations as a trait object, for code that serves both receivers (the
/// server's commands run against the store or a transaction).
pub(crate) trait CollectionOps {
    /// Runs `f` on the collections as this receiver sees them (the server's sorted-set
    /// commands call the `zset` functions directly).
    fn view_with(&self, f: &mut dyn FnMut(&dyn CollectionView) -> Result<()>) -> Result<()>;
    /// Runs `f` as one collection operation on `key` (see `Edit`).
    fn edit_with(
        &self,
        key: &[u8],
        ty: ValueType,
        f: &mut dyn FnMut(&mut Edit<'_, '_, '_>) -> Result<()>,
    ) -> Result<()>;
    fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>>;
    fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize>;
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool>;
    fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64>;
    fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> Result<Vec<u8>>;
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>>;
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool>;
    fn hlen(&self, key: &[u8]) -> Result<usize>;
    fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>>;
    fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize>;
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>>;
    fn scard(&self, key: &[u8]) -> Result<usize>;
    fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>>;
    fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        count: usize,
    ) -> Result<CollectionPage<(Vec<u8>, Vec<u8>)>>;
    fn sscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<CollectionPage<Vec<u8>>>;
    fn zscan(&self, key: &[u8], cursor: u64, count: usize) -> Result<CollectionPage<ScoredMember>>;
    fn push(&self, key: &[u8], values: &[&[u8]], left: bool, only_existing: bool) -> Result<usize>;
    fn llen(&self, key: &[u8]) -> Result<usize>;
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>>;
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>>;
    fn lrange_each(
        &self,
        key: &[u8],
        start: i64,
        stop: i64,
        f: &mut dyn FnMut(list::RangeItem<'_>),
    ) -> Result<(usize, usize)>;
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
    fn copy_collection(&self, source: &[u8], destination: &[u8]) -> Result<()>;
    fn sstore(&self, destination: &[u8], keys: &[&[u8]], how: SetCombine) -> Result<usize>;
    /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE (see `Transaction::zstore`).
    fn zstore(
        &self,
        destination: &[u8],
        keys: &[&[u8]],
        how: SetCombine,
        weights: Option<&[f64]>,
        aggregate: ZAggregate,
    ) -> Result<usize>;
    fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool>;
}

macro_rules! collection_ops {
    ($receiver:ty) => {
        impl CollectionOps for $receiver {
            fn sstore(&self, destination: &[u8], keys: &[&[u8]], how: SetCombine) -> Result<usize> {
                <$receiver>::sstore(self, destination, keys, how)
            }
            fn zstore(
                &self,
                destination: &[u8],
                keys: &[&[u8]],
                how: SetCombine,
                weights: Option<&[f64]>,
                aggregate: ZAggregate,
            ) -> Result<usize> {
                <$receiver>::zstore(self, destination, keys, how, weights, aggregate)
            }
            fn smove(&self, source: &[u8], destination: &[u8], member: &[u8]) -> Result<bool> {
                <$receiver>::smove(self, source, destination, member)
            }
            fn view_with(
                &self,
                f: &mut dyn FnMut(&dyn CollectionView) -> Result<()>,
            ) -> Result<()> {
                self.read_collections_view(|v| f(v))
            }
            fn edit_with(
                &self,
                key: &[u8],
                ty: ValueType,
                f: &mut dyn FnMut(&mut Edit<'_, '_, '_>) -> Result<()>,
            ) -> Result<()> {
                self.edit_collection(key, ty, |e| f(e))
            }
            fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
                <$receiver>::value_type(self, key)
            }
            fn hset_many(&self, key: &[u8], fields: &[(&[u8], &[u8])]) -> Result<usize> {
                <$receiver>::hset_many(self, key, fields)
            }
            fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
                <$receiver>::hsetnx(self, key, field, value)
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
            fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
                <$receiver>::smismember(self, key, members)
            }
            fn scard(&self, key: &[u8]) -> Result<usize> {
                <$receiver>::scard(self, key)
            }
            fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
                <$receiver>::smembers(self, key)
            }
            fn hscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<(Vec<u8>, Vec<u8>)>> {
                <$receiver>::hscan(self, key, cursor, count)
            }
            fn sscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<Vec<u8>>> {
                <$receiver>::sscan(self, key, cursor, count)
            }
            fn zscan(
                &self,
                key: &[u8],
                cursor: u64,
                count: usize,
            ) -> Result<CollectionPage<ScoredMember>> {
                <$receiver>::zscan(self, key, cursor, count)
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
            fn llen(&self, key: &[u8]) -> Result<usize> {
                <$receiver>::llen(self, key)
            }
            fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
                <$receiver>::lindex(self, key, index)
            }
            fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
                <$receiver>::lrange(self, key, start, stop)
            }
            fn lrange_each(
                &self,
                key: &[u8],
                start: i64,
                stop: i64,
                f: &mut dyn FnMut(list::RangeItem<'_>),
            ) -> Result<(usize, usize)> {
                <$receiver>::lrange_each(self, key, start, stop, f)
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
            fn copy_collection(&self, source: &[u8], destination: &[u8]) -> Result<()> {
                <$receiver>::copy_collection(self, source, destination)
            }
        }
    };
}

collection_ops!(Store);
collection_ops!(Transaction<'_>);
