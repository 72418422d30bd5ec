//! The keydir: the in-memory index from every live key to the newest record of that key.
//!
//! It is split into shards, each behind its own `RwLock`, so that readers of different keys
//! do not contend on one lock word and a writer blocks only the readers of one shard, for
//! the duration of one hash-table update. No I/O happens here.

mod image;
mod prefetch;
mod shard;
mod table;

use std::hash::BuildHasher;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::quality::FixedState;

use crate::format::record_len;
pub(crate) use image::ImageSource;
use prefetch::LineHint;
pub(crate) use prefetch::prefetch_address;
use shard::Shard;
pub(crate) use shard::{ArenaFull, Upsert};

/// Number of shards; a power of two.
const SHARDS: usize = 64;
/// The shard is chosen by hash bits that neither the table's group index (low bits) nor its
/// tag (top 8 bits) uses, so keys within a shard stay evenly spread.
const SHARD_SHIFT: u32 = 40;

/// Where the newest record of a key lives, and what the index needs to know about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Segment holding the record.
    pub file_id: u32,
    /// Byte offset of the record in that segment.
    pub offset: u32,
    /// Length of the record's value.
    pub value_len: u32,
    /// The record's sequence number.
    pub seq: u64,
    /// Absolute expiry in unix ms; 0 = none.
    pub expiry_ms: u64,
    /// A tombstone: only present while recovery resolves which record of a key is newest.
    pub tombstone: bool,
    /// The record is a collection's header (`RecordKind::Collection`), not a string.
    pub collection: bool,
}

impl Entry {
    /// Bytes the record occupies on disk, given its key length.
    pub(crate) fn record_len(&self, key_len: usize) -> u64 {
        record_len(key_len, self.value_len as usize) as u64
    }
}

/// Bytes of index memory a key of `key_len` bytes takes as laid out: its arena entry and its
/// share of a full table (MEMORY USAGE counts this per record; the store's average per key,
/// `Stats::index_bytes_per_key`, also carries the tables' free slots).
pub(crate) fn entry_cost(key_len: usize, has_expiry: bool) -> usize {
    shard::entry_size(key_len, has_expiry) + table::SLOT_BYTES
}

/// A key's hash in one index, from `Keydir::prefetch_hashed`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyHash(u64);

pub(crate) struct Keydir {
    shards: Box<[RwLock<Shard>]>,
    /// Per shard, where its table lines are (for lock-free prefetching).
    hints: Box<[LineHint]>,
    /// The hash seed: random per index, kept in an index snapshot (a table is laid out by
    /// hash, so it can only be loaded back with the seed it was built with).
    seed: u64,
    build: FixedState,
}

impl Default for Keydir {
    /// An empty index with a random seed (so that nobody can choose keys that collide).
    fn default() -> Self {
        use std::hash::BuildHasher as _;
        let seed = std::collections::hash_map::RandomState::new().hash_one(SHARDS);
        Keydir::from_shards(seed, (0..SHARDS).map(|_| Shard::default()).collect())
    }
}

impl Keydir {
    fn from_shards(seed: u64, shards: Vec<Shard>) -> Keydir {
        let hints: Box<[LineHint]> = shards.iter().map(|_| LineHint::default()).collect();
        for (shard, hint) in shards.iter().zip(hints.iter()) {
            let (base, mask) = shard.line_hint();
            hint.publish(base, mask);
        }
        Keydir {
            shards: shards.into_iter().map(RwLock::new).collect(),
            hints,
            seed,
            build: FixedState::with_seed(seed),
        }
    }

    fn locate(&self, key: &[u8]) -> (u64, &RwLock<Shard>) {
        let (hash, index) = self.index_of(key);
        #[allow(clippy::indexing_slicing, reason = "index is masked to SHARDS - 1")]
        (hash, &self.shards[index])
    }

    fn index_of(&self, key: &[u8]) -> (u64, usize) {
        let hash = self.build.hash_one(key);
        (hash, Self::shard_of(hash))
    }

    fn shard_of(hash: u64) -> usize {
        (hash >> SHARD_SHIFT) as usize & (SHARDS - 1)
    }

    /// Runs `f` on the shard of `key` under its write lock, then republishes the shard's
    /// line hint (the table may have been reallocated).
    fn modify<R>(&self, key: &[u8], f: impl FnOnce(&mut Shard, u64) -> R) -> R {
        self.modify_hashed(self.build.hash_one(key), f)
    }

    /// `modify` for a key whose hash is known.
    fn modify_hashed<R>(&self, hash: u64, f: impl FnOnce(&mut Shard, u64) -> R) -> R {
        let index = Self::shard_of(hash);
        #[allow(clippy::indexing_slicing, reason = "index is masked to SHARDS - 1")]
        let (shard, hint) = (&self.shards[index], &self.hints[index]);
        let mut shard = Self::write(shard);
        let result = f(&mut shard, hash);
        let (base, mask) = shard.line_hint();
        hint.publish(base, mask);
        result
    }

    fn read(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
        // No code panics while holding a shard lock, and a shard is consistent after every
        // method, so a poisoned lock still guards a valid shard.
        shard.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
        shard.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Entry> {
        let (hash, shard) = self.locate(key);
        Self::read(shard).get(hash, key)
    }

    /// `get` for a key whose hash came from `prefetch_hashed` of the same key on this index
    /// (a range read prefetches every key's line first, then looks them up).
    pub(crate) fn get_hashed(&self, key: &[u8], KeyHash(hash): KeyHash) -> Option<Entry> {
        debug_assert_eq!(self.build.hash_one(key), hash);
        #[allow(clippy::indexing_slicing, reason = "index is masked to SHARDS - 1")]
        let shard = &self.shards[Self::shard_of(hash)];
        Self::read(shard).get(hash, key)
    }

    /// Second step of a lookup ahead of time, after `prefetch_hashed` had time to bring the
    /// key's table line in: prefetches the entries whose keys the lookup will compare.
    /// Lookups in a loop are bound by these two dependent misses each; fetching both for
    /// many keys before looking any of them up overlaps them.
    pub(crate) fn prefetch_entries(&self, KeyHash(hash): KeyHash) {
        #[allow(clippy::indexing_slicing, reason = "index is masked to SHARDS - 1")]
        let shard = &self.shards[Self::shard_of(hash)];
        Self::read(shard).prefetch_entries(hash);
    }

    /// Hints that `key` is about to be updated: its table line is fetched into cache while
    /// the caller does other work (the writer's `write(2)`).
    pub(crate) fn prefetch(&self, key: &[u8]) {
        let _ = self.prefetch_hashed(key);
    }

    pub(crate) fn upsert(&self, key: &[u8], entry: Entry) -> Result<Option<Entry>, ArenaFull> {
        self.modify(key, |shard, hash| {
            shard.upsert(&self.build, hash, key, entry)
        })
    }

    /// `prefetch`, returning the key's hash in this index for `upsert_owned_if_newer` (so
    /// a key prefetched ahead of its insert is hashed once).
    #[must_use = "use `prefetch` when the hash is not needed"]
    pub(crate) fn prefetch_hashed(&self, key: &[u8]) -> KeyHash {
        let (hash, index) = self.index_of(key);
        if let Some(hint) = self.hints.get(index) {
            hint.prefetch(hash);
        }
        KeyHash(hash)
    }

    /// Inserts or replaces `key`'s entry unless the present one has a sequence number at
    /// least as high. `hash` must come from `prefetch_hashed` of the same key on this index.
    /// For the index's only owner (recovery, before the store is shared): it takes no lock
    /// (index building at open is one insert per record, and an uncontended lock still
    /// costs two atomic operations).
    pub(crate) fn upsert_owned_if_newer(
        &mut self,
        key: &[u8],
        KeyHash(hash): KeyHash,
        entry: Entry,
    ) -> Result<Upsert, ArenaFull> {
        debug_assert_eq!(self.build.hash_one(key), hash);
        let index = Self::shard_of(hash);
        // Never taken: the index is masked to SHARDS - 1.
        let (Some(shard), Some(hint)) = (self.shards.get_mut(index), self.hints.get(index)) else {
            return Err(ArenaFull);
        };
        let shard = shard.get_mut().unwrap_or_else(PoisonError::into_inner);
        let result = shard.upsert_if_newer(&self.build, hash, key, entry);
        let (base, mask) = shard.line_hint();
        hint.publish(base, mask);
        result
    }

    /// Moves `key`'s entry from `expected` to `new` if it is still `expected`.
    pub(crate) fn relocate_if(&self, key: &[u8], expected: &Entry, new: &Entry) -> bool {
        let (hash, shard) = self.locate(key);
        Self::write(shard).relocate_if(hash, key, expected, new)
    }

    /// Removes `key`'s entry if it is still `expected`.
    pub(crate) fn remove_if(&self, key: &[u8], expected: &Entry) -> bool {
        self.modify(key, |shard, hash| {
            shard.remove_if(&self.build, hash, key, expected)
        })
    }

    pub(crate) fn remove(&self, key: &[u8]) -> Option<Entry> {
        self.modify(key, |shard, hash| shard.remove(&self.build, hash, key))
    }

    /// Removes every entry for which `keep` returns false.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&[u8], &Entry) -> bool) {
        for (shard, hint) in self.shards.iter().zip(self.hints.iter()) {
            let mut shard = Self::write(shard);
            shard.retain(&self.build, &mut keep);
            let (base, mask) = shard.line_hint();
            hint.publish(base, mask);
        }
    }

    /// Calls `f` for every entry, one shard at a time (a shard's readers are not blocked;
    /// writes to other shards may happen between shards).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8], &Entry)) {
        for shard in self.shards.iter() {
            Self::read(shard).for_each(&mut f);
        }
    }

    /// Appends to `out` the keys unexpired at `now_ms` whose *scan position* lies in
    /// `[lo, hi)`. A key's scan position is its hash with the bits reversed: fixed for the
    /// key while the store is open, whatever the tables' sizes, so consecutive ranges
    /// visit every key present throughout exactly once. (Reversed, so that a range of
    /// positions is a set of home groups in every shard, found without a full walk.)
    pub(crate) fn scan_range(&self, lo: u64, hi: u128, now_ms: u64, out: &mut Vec<Vec<u8>>) {
        for shard in self.shards.iter() {
            Self::read(shard).scan_range(&self.build, lo, hi, now_ms, out);
        }
    }

    /// `key`'s scan position (see `scan_range`), whether or not it is in the index.
    pub(crate) fn scan_position(&self, key: &[u8]) -> u64 {
        self.build.hash_one(key).reverse_bits()
    }

    /// Sizes an empty index for about `entries` keys of `key_bytes` bytes in all (a little
    /// more per shard than the average, as keys spread unevenly).
    pub(crate) fn reserve(&self, entries: u64, key_bytes: u64) {
        if entries == 0 {
            return;
        }
        let per_shard = usize::try_from(entries / SHARDS as u64 * 105 / 100 + 16).unwrap_or(0);
        let keys_per_shard = usize::try_from(key_bytes / SHARDS as u64 * 105 / 100).unwrap_or(0);
        for (shard, hint) in self.shards.iter().zip(self.hints.iter()) {
            let mut shard = Self::write(shard);
            shard.reserve(per_shard, keys_per_shard);
            let (base, mask) = shard.line_hint();
            hint.publish(base, mask);
        }
    }

    /// Gives back table and arena space reserved beyond what the entries need (after
    /// `reserve` guessed too high: hint files count collection elements too).
    pub(crate) fn shrink_to_fit(&self) {
        for (shard, hint) in self.shards.iter().zip(self.hints.iter()) {
            let mut shard = Self::write(shard);
            shard.shrink_to_fit(&self.build);
            let (base, mask) = shard.line_hint();
            hint.publish(base, mask);
        }
    }

    /// Entries, expired ones included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| Self::read(s).len()).sum()
    }

    /// Entries that have not expired at `now_ms`.
    pub(crate) fn live_len(&self, now_ms: u64) -> usize {
        self.shards
            .iter()
            .map(|s| Self::read(s).live_len(now_ms))
            .sum()
    }

    /// Up to `limit` keys that have expired at `now_ms`, from shard `start` onwards (and
    /// round to the shards before it), and the shard to start from next time.
    pub(crate) fn expired_keys(
        &self,
        now_ms: u64,
        start: usize,
        limit: usize,
    ) -> (Vec<Vec<u8>>, usize) {
        let mut keys = Vec::new();
        for i in 0..SHARDS {
            let index = (start + i) % SHARDS;
            let Some(shard) = self.shards.get(index) else {
                continue;
            };
            keys.extend(Self::read(shard).expired_keys(now_ms, limit - keys.len()));
            if keys.len() >= limit {
                return (keys, index);
            }
        }
        (keys, start)
    }

    /// Heap bytes held by the index.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| Self::read(s).memory_bytes())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> Entry {
        Entry {
            file_id: 1,
            offset: 16,
            value_len: 100,
            seq,
            expiry_ms: 0,
            tombstone: false,
            collection: false,
        }
    }

    #[test]
    fn spreads_keys_over_shards_and_counts_them() {
        let kd = Keydir::default();
        for i in 0..10_000u32 {
            kd.upsert(&i.to_le_bytes(), entry(u64::from(i))).unwrap();
        }
        assert_eq!(kd.len(), 10_000);
        let busiest = kd
            .shards
            .iter()
            .map(|s| Keydir::read(s).len())
            .max()
            .unwrap();
        assert!(
            busiest < 10_000 / SHARDS * 2,
            "shards unbalanced: {busiest}"
        );
        for i in 0..10_000u32 {
            assert_eq!(kd.get(&i.to_le_bytes()).map(|e| e.seq), Some(u64::from(i)));
        }
        kd.retain(|_, e| e.seq % 2 == 0);
        assert_eq!(kd.len(), 5_000);
    }

    #[test]
    fn memory_per_key_meets_target_at_one_million_keys() {
        // Target from the engine issue: at most key length + 40 bytes per key.
        let kd = Keydir::default();
        let n = 1_000_000u64;
        for i in 0..n {
            let key = format!("key:{i:012}");
            assert_eq!(key.len(), 16);
            kd.upsert(key.as_bytes(), entry(i)).unwrap();
        }
        let per_key = kd.memory_bytes() as f64 / n as f64;
        assert!(
            per_key <= 16.0 + 40.0,
            "keydir uses {per_key:.1} bytes per key"
        );
    }
}
