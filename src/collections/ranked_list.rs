//! The ordered half of a sorted set: `(score, member)` entries in Redis's order, with
//! positions (ranks) found and used in O(log n).
//!
//! Why sorted chunks rather than a skiplist or a balanced tree: entries live in sorted
//! `Vec`s of at most `max_chunk` entries, and a Fenwick tree over the chunk lengths turns a
//! chunk index into the rank of its first entry and back. A search is a binary search over
//! the chunks' last entries and then within one chunk; an insert or a removal shifts at
//! most one chunk (24-byte entries: a few kilobytes of `memmove`) and updates the Fenwick
//! tree in O(log chunks); splitting or merging a chunk, once per `max_chunk / 4` updates at
//! the least, rebuilds the tree in O(chunks). So rank, select and every range lookup are
//! O(log n), an update O(log n + max_chunk), and a range of k entries is read in O(k) from
//! contiguous memory. Per entry this costs the 24-byte entry (plus chunk slack) and no
//! pointers of its own, where a skiplist node costs Redis about 40 bytes plus levels, and it
//! needs no `unsafe`.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

use super::fenwick::Fenwick;
use super::memory::heap_block;

/// A member's bytes, shared between a set's hash index and its order.
pub(crate) type Member = Arc<[u8]>;

/// One element of the order.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub score: f64,
    pub member: Member,
}

/// Redis's order: by score, then by member bytes (`memcmp`, a prefix first). Scores are
/// never NaN here; `-0` and `0` compare equal, as they do in C.
pub(super) fn compare(score: f64, member: &[u8], other_score: f64, other: &[u8]) -> Ordering {
    match score.partial_cmp(&other_score) {
        Some(Ordering::Equal) | None => member.cmp(other),
        Some(order) => order,
    }
}

impl Entry {
    fn compare_to(&self, score: f64, member: &[u8]) -> Ordering {
        compare(self.score, &self.member, score, member)
    }
}

/// The chunked, ranked sequence.
#[derive(Debug)]
pub(super) struct RankedList {
    /// Sorted, each nonempty and at most `max_chunk` long, in order.
    chunks: Vec<Vec<Entry>>,
    /// Lengths of `chunks`.
    sizes: Fenwick,
    /// The score of each chunk's last entry: the searches for a chunk read this one
    /// contiguous array, and a chunk's entries only on a tie.
    last_scores: Vec<f64>,
    len: usize,
    max_chunk: usize,
}

/// Entries per chunk. An insert moves half a chunk on average (6 KB here); splits and
/// merges rebuild the Fenwick tree, every few hundred updates. See `docs` in the module.
pub(super) const DEFAULT_MAX_CHUNK: usize = 512;

impl RankedList {
    /// An empty list whose chunks hold at most `max_chunk` entries (at least 4).
    pub(super) fn new(max_chunk: usize) -> RankedList {
        RankedList {
            chunks: Vec::new(),
            sizes: Fenwick::default(),
            last_scores: Vec::new(),
            len: 0,
            max_chunk: max_chunk.max(4),
        }
    }

    /// Builds the list from entries already in order (no duplicates), in O(n).
    pub(super) fn from_sorted(max_chunk: usize, entries: Vec<Entry>) -> RankedList {
        let mut list = RankedList::new(max_chunk);
        list.len = entries.len();
        // Chunks about three-quarters full, all of one size (no tiny last chunk): room to
        // grow before the first splits.
        let target = (list.max_chunk * 3 / 4).max(1);
        let count = list.len.div_ceil(target);
        let mut rest = entries.into_iter();
        for i in 0..count {
            // Spread the remainder: chunk i takes its share of len / count, rounded.
            let take = (i + 1) * list.len / count - i * list.len / count;
            let mut chunk = Vec::with_capacity(list.max_chunk);
            chunk.extend(rest.by_ref().take(take));
            list.chunks.push(chunk);
        }
        list.rebuild_summaries();
        list
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn min_chunk(&self) -> usize {
        (self.max_chunk / 4).max(1)
    }

    /// Recomputes the chunk lengths and last scores, after chunks were split, merged or
    /// dropped: O(chunks).
    fn rebuild_summaries(&mut self) {
        self.sizes.rebuild(self.chunks.iter().map(Vec::len));
        self.last_scores.clear();
        self.last_scores
            .extend(self.chunks.iter().filter_map(|c| c.last().map(|e| e.score)));
    }

    /// Refreshes the last score of chunk `index` after its end changed.
    fn refresh_last_score(&mut self, index: usize) {
        let last = self
            .chunks
            .get(index)
            .and_then(|c| c.last())
            .map(|e| e.score);
        if let (Some(slot), Some(score)) = (self.last_scores.get_mut(index), last) {
            *slot = score;
        }
    }

    /// The index of the first chunk whose last entry is not below `(score, member)`; the
    /// chunk count when every entry is below.
    fn chunk_for_key(&self, score: f64, member: &[u8]) -> usize {
        let (mut low, mut high) = (0, self.last_scores.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let last_score = self.last_scores.get(mid).copied().unwrap_or(f64::INFINITY);
            let below = match last_score.partial_cmp(&score) {
                Some(Ordering::Less) => true,
                Some(Ordering::Greater) => false,
                // A tie on score: the members decide.
                _ => self
                    .chunks
                    .get(mid)
                    .and_then(|c| c.last())
                    .is_some_and(|e| e.member.as_ref() < member),
            };
            if below {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// The rank of the first entry whose score fails `before`; `before` must hold for a
    /// prefix of the scores in order and fail after it. Reads one chunk's entries.
    pub(super) fn partition_by_score(&self, before: impl Fn(f64) -> bool) -> usize {
        let chunk = self.last_scores.partition_point(|&s| before(s));
        match self.chunks.get(chunk) {
            None => self.len,
            Some(entries) => {
                self.sizes.prefix(chunk) + entries.partition_point(|e| before(e.score))
            }
        }
    }

    /// The rank of the first entry for which `before` is false; `before` must be true for a
    /// prefix of the order and false after it.
    pub(super) fn partition_point(&self, before: impl Fn(&Entry) -> bool) -> usize {
        let chunk = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&before));
        match self.chunks.get(chunk) {
            None => self.len,
            Some(entries) => self.sizes.prefix(chunk) + entries.partition_point(&before),
        }
    }

    /// The chunk where `(score, member)` is or would go, and the position in it; `found`
    /// when it is there. `None` only when the list is empty.
    fn locate_key(&self, score: f64, member: &[u8]) -> Option<(usize, usize, bool)> {
        let after = self.chunk_for_key(score, member);
        // Past the last chunk's end: the key belongs at the end of the last chunk.
        let chunk_index = after.min(self.chunks.len().checked_sub(1)?);
        let chunk = self.chunks.get(chunk_index)?;
        Some(
            match chunk.binary_search_by(|e| e.compare_to(score, member)) {
                Ok(pos) => (chunk_index, pos, true),
                Err(pos) => (chunk_index, pos, false),
            },
        )
    }

    /// The rank of the entry `(score, member)`, if present.
    pub(super) fn rank_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        match self.locate_key(score, member)? {
            (chunk, pos, true) => Some(self.sizes.prefix(chunk) + pos),
            _ => None,
        }
    }

    /// The entry at `rank`.
    pub(super) fn get(&self, rank: usize) -> Option<&Entry> {
        let (chunk, pos) = self.sizes.find(rank);
        self.chunks.get(chunk)?.get(pos)
    }

    /// Inserts an entry whose `(score, member)` is not present.
    pub(super) fn insert(&mut self, entry: Entry) {
        let Some((mut chunk_index, mut pos, _)) = self.locate_key(entry.score, &entry.member)
        else {
            let mut chunk = Vec::with_capacity(4);
            chunk.push(entry);
            self.chunks.push(chunk);
            self.len = 1;
            self.rebuild_summaries();
            return;
        };
        let full = self
            .chunks
            .get(chunk_index)
            .is_some_and(|c| c.len() >= self.max_chunk);
        if full {
            // Split before inserting, so no chunk ever outgrows its allocation of
            // `max_chunk` entries (a push past it would double the capacity).
            let Some(chunk) = self.chunks.get_mut(chunk_index) else {
                return;
            };
            let upper = split_upper_half(chunk, self.max_chunk);
            let lower_len = chunk.len();
            self.chunks.insert(chunk_index + 1, upper);
            if pos > lower_len {
                chunk_index += 1;
                pos -= lower_len;
            }
        }
        let mut new_last = false;
        if let Some(chunk) = self.chunks.get_mut(chunk_index) {
            new_last = pos >= chunk.len();
            chunk.insert(pos.min(chunk.len()), entry);
            self.len += 1;
        }
        if full {
            self.rebuild_summaries();
        } else {
            self.sizes.increment(chunk_index);
            if new_last {
                self.refresh_last_score(chunk_index);
            }
        }
    }

    /// Removes the entry `(score, member)`, if present.
    pub(super) fn remove(&mut self, score: f64, member: &[u8]) -> Option<Entry> {
        let (chunk_index, pos, true) = self.locate_key(score, member)? else {
            return None;
        };
        let chunk = self.chunks.get_mut(chunk_index)?;
        if pos >= chunk.len() {
            return None;
        }
        let entry = chunk.remove(pos);
        self.len -= 1;
        let was_last = pos == chunk.len();
        let small = chunk.len() < self.min_chunk();
        if small {
            self.rebalance(chunk_index);
            self.rebuild_summaries();
        } else {
            self.sizes.decrement(chunk_index);
            if was_last {
                self.refresh_last_score(chunk_index);
            }
        }
        Some(entry)
    }

    /// Removes the entries at ranks `ranks`, returned in order.
    pub(super) fn drain(&mut self, ranks: Range<usize>) -> Vec<Entry> {
        let end = ranks.end.min(self.len);
        if ranks.start >= end {
            return Vec::new();
        }
        let (first_chunk, first_pos) = self.sizes.find(ranks.start);
        let (last_chunk, last_pos) = self.sizes.find(end - 1);
        let mut out = Vec::with_capacity(end - ranks.start);
        // Chunks whose contents changed but which are still there, and how many entries
        // each lost; whole chunks dropped change the structure.
        let mut touched = [(first_chunk, 0), (first_chunk + 1, 0)];
        let mut dropped_chunks = false;
        if first_chunk == last_chunk {
            if let Some(chunk) = self.chunks.get_mut(first_chunk) {
                let stop = (last_pos + 1).min(chunk.len());
                out.extend(chunk.drain(first_pos.min(stop)..stop));
            }
            touched[0].1 = out.len();
        } else {
            if let Some(chunk) = self.chunks.get_mut(first_chunk) {
                out.extend(chunk.drain(first_pos.min(chunk.len())..));
            }
            touched[0].1 = out.len();
            let middle = first_chunk + 1..last_chunk.min(self.chunks.len());
            dropped_chunks = !middle.is_empty();
            for chunk in self.chunks.drain(middle) {
                out.extend(chunk);
            }
            if let Some(chunk) = self.chunks.get_mut(first_chunk + 1) {
                let stop = (last_pos + 1).min(chunk.len());
                out.extend(chunk.drain(..stop));
                touched[1].1 = stop;
            }
        }
        self.len -= out.len();

        let min = self.min_chunk();
        let lone = self.chunks.len() == 1;
        let too_small = |list: &RankedList, i: usize| {
            list.chunks
                .get(i)
                .is_some_and(|c| c.is_empty() || (c.len() < min && !lone))
        };
        let restructure = dropped_chunks || touched.iter().any(|&(i, _)| too_small(self, i));
        if restructure {
            // Right first: rebalancing the left chunk may merge the right one into it.
            self.rebalance(first_chunk + 1);
            self.rebalance(first_chunk);
            self.rebuild_summaries();
        } else {
            // The common case (ZPOPMIN, small ranges): O(log chunks), not O(chunks).
            for (index, removed) in touched {
                if removed > 0 {
                    self.sizes.subtract(index, removed);
                    self.refresh_last_score(index);
                }
            }
        }
        out
    }

    /// Restores the chunk invariants at `index` after removals: an empty chunk goes; a
    /// chunk under a quarter full merges with a neighbour (and the result splits in two
    /// when that overfills it). The caller rebuilds `sizes`.
    fn rebalance(&mut self, index: usize) {
        let Some(len) = self.chunks.get(index).map(Vec::len) else {
            return;
        };
        if len == 0 {
            self.chunks.remove(index);
            return;
        }
        if len >= self.min_chunk() {
            return;
        }
        let left = if index + 1 < self.chunks.len() {
            index
        } else if index > 0 {
            index - 1
        } else {
            return;
        };
        let mut right = self
            .chunks
            .get_mut(left + 1)
            .map(std::mem::take)
            .unwrap_or_default();
        let Some(merged) = self.chunks.get_mut(left) else {
            return;
        };
        merged.append(&mut right);
        let upper =
            (merged.len() > self.max_chunk).then(|| split_upper_half(merged, self.max_chunk));
        // Appending may have doubled the allocation past a chunk's size.
        if merged.capacity() > self.max_chunk {
            merged.shrink_to(self.max_chunk);
        }
        match upper {
            Some(upper) => {
                if let Some(slot) = self.chunks.get_mut(left + 1) {
                    *slot = upper;
                }
            }
            None => {
                self.chunks.remove(left + 1);
            }
        }
    }

    /// The entries at `ranks`, ascending, or descending from the top of the range when
    /// `reverse`.
    pub(super) fn entries(&self, ranks: Range<usize>, reverse: bool) -> Entries<'_> {
        let end = ranks.end.min(self.len);
        let remaining = end.saturating_sub(ranks.start);
        let (chunk, pos) = match (remaining, reverse) {
            (0, _) => (0, 0),
            (_, false) => self.sizes.find(ranks.start),
            (_, true) => self.sizes.find(end - 1),
        };
        Entries {
            chunks: &self.chunks,
            chunk,
            pos,
            remaining,
            reverse,
        }
    }

    /// Heap bytes held by the chunks and the Fenwick tree (not by members).
    pub(super) fn memory_bytes(&self) -> usize {
        let chunk_table = heap_block(self.chunks.capacity() * std::mem::size_of::<Vec<Entry>>());
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| heap_block(c.capacity() * std::mem::size_of::<Entry>()))
            .sum();
        let last_scores = heap_block(self.last_scores.capacity() * std::mem::size_of::<f64>());
        chunk_table + chunks + heap_block(self.sizes.capacity_bytes()) + last_scores
    }

    /// Checks every invariant (tests only): order, chunk sizes, lengths, prefix sums.
    #[cfg(test)]
    pub(super) fn check(&self) {
        let mut previous: Option<&Entry> = None;
        let mut total = 0;
        for (i, chunk) in self.chunks.iter().enumerate() {
            assert!(!chunk.is_empty(), "empty chunk {i}");
            assert!(chunk.len() <= self.max_chunk, "chunk {i} too long");
            // Vec doubles as it grows, up to the power of two at or above max_chunk.
            let cap = self.max_chunk.next_power_of_two().max(4);
            assert!(
                chunk.capacity() <= cap,
                "chunk {i} over-allocated: {} for {} of {}",
                chunk.capacity(),
                chunk.len(),
                self.max_chunk
            );
            assert_eq!(self.sizes.prefix(i), total, "prefix before chunk {i}");
            let last = chunk.last().map(|e| e.score.to_bits());
            assert_eq!(
                self.last_scores.get(i).map(|s| s.to_bits()),
                last,
                "last score of chunk {i}"
            );
            for e in chunk {
                if let Some(p) = previous {
                    assert!(p.compare_to(e.score, &e.member).is_lt(), "out of order");
                }
                previous = Some(e);
            }
            total += chunk.len();
        }
        assert_eq!(total, self.len);
        assert_eq!(self.last_scores.len(), self.chunks.len());
    }
}

/// Moves the upper half of `chunk` into a new chunk allocated for `max_chunk` entries (it
/// is about to grow; growing from half size by doubling could overshoot `max_chunk`).
fn split_upper_half(chunk: &mut Vec<Entry>, max_chunk: usize) -> Vec<Entry> {
    let mut upper = Vec::with_capacity(max_chunk);
    upper.extend(chunk.drain(chunk.len() / 2..));
    upper
}

/// Entries of a range in order: `(member, score)`. Knows its length.
#[derive(Clone, Debug)]
pub(crate) struct Entries<'a> {
    chunks: &'a [Vec<Entry>],
    chunk: usize,
    pos: usize,
    remaining: usize,
    reverse: bool,
}

impl<'a> Entries<'a> {
    /// An empty iterator.
    pub(super) fn empty() -> Entries<'a> {
        Entries {
            chunks: &[],
            chunk: 0,
            pos: 0,
            remaining: 0,
            reverse: false,
        }
    }

    fn advance(&mut self) {
        if self.reverse {
            if self.pos > 0 {
                self.pos -= 1;
            } else if self.chunk > 0 {
                self.chunk -= 1;
                self.pos = self
                    .chunks
                    .get(self.chunk)
                    .map_or(0, |c| c.len().saturating_sub(1));
            } else {
                self.remaining = 0;
            }
        } else {
            self.pos += 1;
            if self
                .chunks
                .get(self.chunk)
                .is_none_or(|c| self.pos >= c.len())
            {
                self.chunk += 1;
                self.pos = 0;
            }
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.remaining == 0 {
            return None;
        }
        let chunks: &'a [Vec<Entry>] = self.chunks;
        let Some(entry) = chunks.get(self.chunk).and_then(|c| c.get(self.pos)) else {
            self.remaining = 0;
            return None;
        };
        self.remaining -= 1;
        self.advance();
        Some((&entry.member, entry.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Entries<'_> {}

impl std::iter::FusedIterator for Entries<'_> {}
