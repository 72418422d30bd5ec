//! The in-memory index of one sorted set: members with scores, ordered as Redis orders
//! them (by score, then by member bytes), with ZSCORE in O(1) and ranks, rank ranges and
//! score or lex ranges in O(log n).
//!
//! Two structures share each member: a member table from member to score (ZSCORE, ZMSCORE,
//! ZADD's lookups) and a [`RankedList`] of `(score, member)` in order. Members are
//! `Arc<[u8]>` so that both hold the same allocation: a `Box<[u8]>` would store every
//! member's bytes twice, which costs more than the `Arc`'s 16 bytes of counts once members
//! are longer than 16 bytes, and cloning an `Arc` lets a caller keep popped or removed
//! members without copying them.
//!
//! The member table is an `IndexMap` with `swap_remove`, not a `HashMap`, because ZSCAN's
//! cursor walks its slots (see `scan_cursor`): slots stay put under ZADD, ZINCRBY and
//! ZREM but for the one member a removal moves, where ranks shift under every insert. It
//! costs an index slot and a stored hash per member: about 42 bytes per member at full
//! load instead of the `HashMap`'s 29 (see [`ZsetIndex::memory_bytes`]).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use foldhash::quality::RandomState;
use indexmap::IndexMap;

use super::memory::{index_map_bytes, shared_bytes_block};
use super::range::{LexRange, Limit, ScoreRange, normalize_range};
use super::ranked_list::{DEFAULT_MAX_CHUNK, Entry, RankedList, compare};
pub(crate) use super::ranked_list::{Entries, Member};

/// A score that cannot be stored: NaN has no place in the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NanScore;

impl fmt::Display for NanScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sorted set score cannot be NaN")
    }
}

impl std::error::Error for NanScore {}

/// Members (byte strings) with `f64` scores, in Redis's order.
pub(crate) struct ZsetIndex {
    /// Keyed per set with a random seed: members come from clients, so the table must
    /// resist chosen collisions. Removals are `swap_remove`s only: ZSCAN's cursor relies
    /// on it.
    scores: IndexMap<Member, f64, RandomState>,
    order: RankedList,
    /// Heap bytes of the members' allocations, kept as they come and go.
    member_bytes: usize,
}

impl Default for ZsetIndex {
    fn default() -> ZsetIndex {
        ZsetIndex::new()
    }
}

impl fmt::Debug for ZsetIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZsetIndex")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl ZsetIndex {
    /// An empty set.
    pub(crate) fn new() -> ZsetIndex {
        ZsetIndex::with_chunk_size(DEFAULT_MAX_CHUNK)
    }

    /// An empty set whose order is kept in chunks of at most `max_chunk` entries (tests use
    /// small chunks to exercise splits and merges with few members).
    pub(crate) fn with_chunk_size(max_chunk: usize) -> ZsetIndex {
        ZsetIndex {
            scores: IndexMap::default(),
            order: RankedList::new(max_chunk),
            member_bytes: 0,
        }
    }

    /// Builds a set from many members at once, as recovery does: one sort instead of an
    /// insert per member, O(n log n). A member given twice keeps its last score; NaN scores
    /// are skipped.
    pub(crate) fn from_members<M: AsRef<[u8]>>(
        members: impl IntoIterator<Item = (M, f64)>,
    ) -> ZsetIndex {
        let mut index = ZsetIndex::new();
        let members = members.into_iter();
        // Sized once (a set rebuilt at open arrives whole), and each member hashed once: a
        // repeated member costs an allocation dropped at once, a new one no second lookup.
        index.scores.reserve(members.size_hint().0);
        for (member, score) in members {
            if score.is_nan() {
                continue;
            }
            let member = member.as_ref();
            if index.scores.insert(Arc::from(member), score).is_none() {
                index.member_bytes += shared_bytes_block(member.len());
            }
        }
        let mut entries: Vec<Entry> = index
            .scores
            .iter()
            .map(|(member, &score)| Entry {
                score,
                member: Arc::clone(member),
            })
            .collect();
        entries.sort_unstable_by(|a, b| compare(a.score, &a.member, b.score, &b.member));
        index.order = RankedList::from_sorted(DEFAULT_MAX_CHUNK, entries);
        index
    }

    /// [`ZsetIndex::from_members`] for members already shared and, as a rule, distinct (a
    /// sorted set rebuilt at open: its elements come from the index, each once). Builds the
    /// order from `members` itself, with no second allocation or reference count per member;
    /// a repeated member falls back to `from_members`.
    pub(crate) fn from_distinct_members(mut members: Vec<(Member, f64)>) -> ZsetIndex {
        members.retain(|(_, score)| !score.is_nan());
        let mut index = ZsetIndex::new();
        index.scores.reserve(members.len());
        for (member, score) in &members {
            if index.scores.insert(Arc::clone(member), *score).is_some() {
                return ZsetIndex::from_members(members);
            }
            index.member_bytes += shared_bytes_block(member.len());
        }
        let mut entries: Vec<Entry> = members
            .into_iter()
            .map(|(member, score)| Entry { score, member })
            .collect();
        entries.sort_unstable_by(|a, b| compare(a.score, &a.member, b.score, &b.member));
        index.order = RankedList::from_sorted(DEFAULT_MAX_CHUNK, entries);
        index
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no members.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member` (ZSCORE), O(1).
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Whether `member` is present.
    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        self.scores.contains_key(member)
    }

    /// Adds `member` with `score`, or moves it to `score`; returns its previous score.
    /// A score equal to the current one (`==`, so `-0` equals `0`) changes nothing, as in
    /// Redis, and the stored score keeps its sign. NaN is refused and changes nothing.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) -> Result<Option<f64>, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        if let Some((shared, &old)) = self.scores.get_key_value(member) {
            if old == score {
                return Ok(Some(old));
            }
            let shared = Arc::clone(shared);
            self.order.remove(old, member);
            self.order.insert(Entry {
                score,
                member: shared,
            });
            // In place: the member keeps its slot (ZSCAN's cursor relies on it).
            if let Some(stored) = self.scores.get_mut(member) {
                *stored = score;
            }
            return Ok(Some(old));
        }
        let shared: Member = Arc::from(member);
        self.member_bytes += shared_bytes_block(member.len());
        self.scores.insert(Arc::clone(&shared), score);
        self.order.insert(Entry {
            score,
            member: shared,
        });
        Ok(None)
    }

    /// Removes `member` (ZREM); returns its score.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (shared, score) = self.scores.swap_remove_entry(member)?;
        self.order.remove(score, &shared);
        self.member_bytes -= shared_bytes_block(shared.len());
        Some(score)
    }

    /// The 0-based rank of `member` (ZRANK), counted from the highest score when `reverse`
    /// (ZREVRANK).
    pub(crate) fn rank(&self, member: &[u8], reverse: bool) -> Option<usize> {
        let score = self.score(member)?;
        let rank = self.order.rank_of(score, member)?;
        Some(if reverse { self.len() - 1 - rank } else { rank })
    }

    /// The member and score at `rank` (counted from the highest when `reverse`), as
    /// ZRANDMEMBER needs.
    pub(crate) fn get_by_rank(&self, rank: usize, reverse: bool) -> Option<(&[u8], f64)> {
        let rank = if reverse {
            self.len().checked_sub(rank + 1)?
        } else {
            rank
        };
        self.order.get(rank).map(|e| (&*e.member, e.score))
    }

    /// Every member in order.
    pub(crate) fn iter(&self) -> Entries<'_> {
        self.order.entries(0..self.len(), false)
    }

    /// The member in slot `slot` of the member table, with its score. Slots `0..len()` run
    /// in insertion order, and a removal moves the last member into the freed slot: what
    /// ZSCAN's cursor walks (`scan_cursor`).
    pub(crate) fn in_slot(&self, slot: usize) -> Option<(&[u8], f64)> {
        self.scores
            .get_index(slot)
            .map(|(member, &score)| (&**member, score))
    }

    /// ZRANGE by rank: `start..=stop` with Redis's negative indexes (see
    /// [`normalize_range`]); with `reverse` (ZREVRANGE), ranks count from the highest score
    /// and members come highest first.
    pub(crate) fn range_by_rank(&self, start: i64, stop: i64, reverse: bool) -> Entries<'_> {
        match self.rank_window(start, stop, reverse) {
            Some(ranks) => self.order.entries(ranks, reverse),
            None => Entries::empty(),
        }
    }

    /// ZRANGEBYSCORE: members with scores in `range`, after `limit`; with `reverse`
    /// (ZREVRANGEBYSCORE) highest first, the limit counted from the top.
    pub(crate) fn range_by_score(
        &self,
        range: &ScoreRange,
        reverse: bool,
        limit: Limit,
    ) -> Entries<'_> {
        let ranks = self.score_ranks(range);
        self.order.entries(limited(ranks, reverse, limit), reverse)
    }

    /// ZRANGEBYLEX: members in `range` by their bytes, after `limit`; with `reverse`
    /// (ZREVRANGEBYLEX) highest first. Meaningful when all scores are equal (see
    /// [`LexRange`]).
    pub(crate) fn range_by_lex(
        &self,
        range: &LexRange<'_>,
        reverse: bool,
        limit: Limit,
    ) -> Entries<'_> {
        let ranks = self.lex_ranks(range);
        self.order.entries(limited(ranks, reverse, limit), reverse)
    }

    /// ZCOUNT, O(log n).
    pub(crate) fn count_by_score(&self, range: &ScoreRange) -> usize {
        self.score_ranks(range).len()
    }

    /// ZLEXCOUNT, O(log n).
    pub(crate) fn count_by_lex(&self, range: &LexRange<'_>) -> usize {
        self.lex_ranks(range).len()
    }

    /// ZPOPMIN: removes and returns up to `count` members, lowest first.
    pub(crate) fn pop_min(&mut self, count: usize) -> Vec<(Member, f64)> {
        self.remove_ranks(0..count.min(self.len()))
    }

    /// ZPOPMAX: removes and returns up to `count` members, highest first.
    pub(crate) fn pop_max(&mut self, count: usize) -> Vec<(Member, f64)> {
        let len = self.len();
        let mut popped = self.remove_ranks(len - count.min(len)..len);
        popped.reverse();
        popped
    }

    /// ZREMRANGEBYRANK: removes `start..=stop` (Redis's negative indexes); returns the
    /// removed members in order.
    pub(crate) fn remove_range_by_rank(&mut self, start: i64, stop: i64) -> Vec<(Member, f64)> {
        match self.rank_window(start, stop, false) {
            Some(ranks) => self.remove_ranks(ranks),
            None => Vec::new(),
        }
    }

    /// ZREMRANGEBYSCORE: removes the members with scores in `range`; returns them in order.
    pub(crate) fn remove_range_by_score(&mut self, range: &ScoreRange) -> Vec<(Member, f64)> {
        let ranks = self.score_ranks(range);
        self.remove_ranks(ranks)
    }

    /// ZREMRANGEBYLEX: removes the members in `range`; returns them in order.
    pub(crate) fn remove_range_by_lex(&mut self, range: &LexRange<'_>) -> Vec<(Member, f64)> {
        let ranks = self.lex_ranks(range);
        self.remove_ranks(ranks)
    }

    /// An estimate of the heap bytes this set holds: the member table, the ordered chunks
    /// and the members' allocations (see `memory.rs` for the allocator model). O(n / 512).
    pub(crate) fn memory_bytes(&self) -> usize {
        index_map_bytes(self.scores.capacity(), std::mem::size_of::<(Member, f64)>())
            + self.order.memory_bytes()
            + self.member_bytes
    }

    /// Forward ranks for `start..=stop` counted from the bottom, or from the top when
    /// `reverse`.
    fn rank_window(&self, start: i64, stop: i64, reverse: bool) -> Option<Range<usize>> {
        let len = self.len();
        let (first, last) = normalize_range(start, stop, len)?;
        Some(if reverse {
            len - 1 - last..len - first
        } else {
            first..last + 1
        })
    }

    fn score_ranks(&self, range: &ScoreRange) -> Range<usize> {
        let first = self.order.partition_by_score(|s| !range.above_min(s));
        let end = self.order.partition_by_score(|s| range.below_max(s));
        first..end.max(first)
    }

    fn lex_ranks(&self, range: &LexRange<'_>) -> Range<usize> {
        let first = self.order.partition_point(|e| !range.above_min(&e.member));
        let end = self.order.partition_point(|e| range.below_max(&e.member));
        first..end.max(first)
    }

    fn remove_ranks(&mut self, ranks: Range<usize>) -> Vec<(Member, f64)> {
        let removed = self.order.drain(ranks);
        for entry in &removed {
            if self.scores.swap_remove(&*entry.member).is_some() {
                self.member_bytes -= shared_bytes_block(entry.member.len());
            }
        }
        removed.into_iter().map(|e| (e.member, e.score)).collect()
    }

    /// Checks that both structures agree (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.order.check();
        assert_eq!(self.scores.len(), self.order.len());
        for (member, score) in self.iter() {
            assert_eq!(
                self.scores.get(member).map(|s| s.to_bits()),
                Some(score.to_bits())
            );
        }
        let bytes: usize = self
            .scores
            .keys()
            .map(|m| shared_bytes_block(m.len()))
            .sum();
        assert_eq!(bytes, self.member_bytes);
    }
}

/// The part of a matching range of forward ranks that `limit` keeps, the offset counted
/// from the top when `reverse`.
fn limited(ranks: Range<usize>, reverse: bool, limit: Limit) -> Range<usize> {
    let window = limit.window(ranks.len());
    if reverse {
        ranks.end - window.end..ranks.end - window.start
    } else {
        ranks.start + window.start..ranks.start + window.end
    }
}
