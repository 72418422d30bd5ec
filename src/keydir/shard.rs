//! One shard of the keydir: a hash table of `u32` slots pointing into a byte arena.
//!
//! A `HashMap<Box<[u8]>, Entry>` costs ~120 bytes per 16-byte key (box, allocation header,
//! entry padding, table slack). Here each key costs one arena entry (24 fixed bytes, 8 more
//! when it has an expiry, the key, padding to 8) plus a `u32` slot and a control byte in the
//! table. Entries are updated in place when their size does not change; otherwise the old
//! bytes become garbage, and the arena is compacted when garbage passes half of it.
//!
//! Arena entry layout (little endian, starts 4-byte aligned; slot = byte position / 4, so one
//! shard addresses 16 GiB of arena):
//!
//! ```text
//! offset size field
//!      0    4 segment id
//!      4    4 record offset in the segment
//!      8    4 value length
//!     12    2 key length
//!     14    1 flags: bit 0 = has expiry, bit 1 = tombstone (only while recovering),
//!                  bit 2 = dead (garbage: no table slot points here any more),
//!                  bit 3 = collection header
//!     15    1 zero
//!     16    8 sequence number
//!     24    8 expiry in unix ms         (only when flag bit 0 is set)
//!  24|32    k key
//! ```

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::ops::ControlFlow;

use super::Entry;
use super::table::{Probe, Table};
use crate::format::MAX_KEY_LEN;
use crate::format::le::{u16_at, u32_at, u64_at};

const ALIGN: usize = 4;
const FIXED_LEN: usize = 24;
const EXPIRY_LEN: usize = 8;
const FLAG_HAS_EXPIRY: u8 = 1;
const FLAG_TOMBSTONE: u8 = 2;
const FLAG_DEAD: u8 = 4;
const FLAG_COLLECTION: u8 = 8;
/// Below this much garbage a shard is never compacted: small shards are not worth it.
const MIN_GARBAGE_TO_COMPACT: usize = 64 * 1024;
/// Largest arena a `u32` slot can address.
const MAX_ARENA_BYTES: usize = (u32::MAX as usize) * ALIGN;

/// The shard's arena is full: more than 16 GiB of index in one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArenaFull;

/// Result of [`Shard::upsert_if_newer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upsert {
    /// The key was absent and is now present.
    Inserted,
    /// The key's previous entry (returned) was replaced.
    Replaced(Entry),
    /// The present entry has an equal or higher sequence number and was kept.
    Kept(Entry),
}

#[derive(Default)]
pub(crate) struct Shard {
    table: Table,
    arena: Vec<u8>,
    garbage: usize,
    expiries: Expiries,
}

/// How many entries of a shard expire at each instant: answers "how many are expired at
/// time t" and "when does the next one expire" without visiting entries.
#[derive(Default)]
struct Expiries {
    at: BTreeMap<u64, u32>,
}

/// Approximate heap bytes per distinct expiry instant in `Expiries` (B-tree node share).
const EXPIRY_INSTANT_BYTES: usize = 32;

impl Expiries {
    fn add(&mut self, expiry_ms: u64) {
        if expiry_ms != 0 {
            *self.at.entry(expiry_ms).or_insert(0) += 1;
        }
    }

    fn remove(&mut self, expiry_ms: u64) {
        if expiry_ms == 0 {
            return;
        }
        if let Some(count) = self.at.get_mut(&expiry_ms) {
            *count -= 1;
            if *count == 0 {
                self.at.remove(&expiry_ms);
            }
        }
    }

    fn expired_at(&self, now_ms: u64) -> usize {
        self.at.range(..=now_ms).map(|(_, &n)| n as usize).sum()
    }

    fn earliest(&self) -> Option<u64> {
        self.at.keys().next().copied()
    }
}

pub(super) fn entry_size(key_len: usize, has_expiry: bool) -> usize {
    let unpadded = FIXED_LEN + if has_expiry { EXPIRY_LEN } else { 0 } + key_len;
    unpadded.div_ceil(ALIGN) * ALIGN
}

/// The arena bytes of the entry in `slot`: its fixed fields, expiry and key (no padding).
/// Slots are only ever created by `append`, so the range is always in bounds; an empty
/// slice (never produced) would read as an entry with an empty key.
fn entry_bytes(arena: &[u8], slot: u32) -> &[u8] {
    let pos = slot as usize * ALIGN;
    let Some(fixed) = arena.get(pos..pos + FIXED_LEN) else {
        return &[];
    };
    let key_len = u16_at(fixed, 12) as usize;
    let has_expiry = fixed.get(14).is_some_and(|f| f & FLAG_HAS_EXPIRY != 0);
    let len = FIXED_LEN + if has_expiry { EXPIRY_LEN } else { 0 } + key_len;
    arena.get(pos..pos + len).unwrap_or(&[])
}

/// Flags the entry in `slot` as garbage, so that walks of the arena skip it.
fn mark_dead(arena: &mut [u8], slot: u32) {
    if let Some(flags) = arena.get_mut(slot as usize * ALIGN + 14) {
        *flags |= FLAG_DEAD;
    }
}

/// Calls `f` with the slot and key of every live entry, in arena order (a sequential read).
fn for_each_live(arena: &[u8], mut f: impl FnMut(u32, &[u8])) {
    walk_live(arena, |slot, key| {
        f(slot, key);
        ControlFlow::Continue(())
    });
}

/// `for_each_live` until `f` breaks.
fn walk_live(arena: &[u8], mut f: impl FnMut(u32, &[u8]) -> ControlFlow<()>) {
    let mut pos = 0;
    while let Some(fixed) = arena.get(pos..pos + FIXED_LEN) {
        let key_len = u16_at(fixed, 12) as usize;
        let flags = fixed.get(14).copied().unwrap_or(0);
        if flags & FLAG_DEAD == 0 {
            // Arena positions are below 16 GiB, so pos / ALIGN fits in u32.
            let slot = u32::try_from(pos / ALIGN).unwrap_or(u32::MAX);
            if f(slot, key_of(entry_bytes(arena, slot))).is_break() {
                return;
            }
        }
        pos += entry_size(key_len, flags & FLAG_HAS_EXPIRY != 0);
    }
}

fn key_of(bytes: &[u8]) -> &[u8] {
    let key_len = u16_at(bytes, 12) as usize;
    bytes
        .get(bytes.len().saturating_sub(key_len)..)
        .unwrap_or(&[])
}

fn decode_entry(bytes: &[u8]) -> Entry {
    let flags = bytes.get(14).copied().unwrap_or(0);
    Entry {
        file_id: u32_at(bytes, 0),
        offset: u32_at(bytes, 4),
        value_len: u32_at(bytes, 8),
        seq: u64_at(bytes, 16),
        expiry_ms: if flags & FLAG_HAS_EXPIRY != 0 {
            u64_at(bytes, FIXED_LEN)
        } else {
            0
        },
        tombstone: flags & FLAG_TOMBSTONE != 0,
        collection: flags & FLAG_COLLECTION != 0,
    }
}

/// Writes `entry`'s fields (and `key`, when given) into `out`, which is exactly
/// `entry_size(key.len(), entry.expiry_ms != 0)` bytes.
fn encode_entry(out: &mut [u8], key_len: u16, entry: &Entry, key: Option<&[u8]>) {
    let has_expiry = entry.expiry_ms != 0;
    let mut flags = 0u8;
    if has_expiry {
        flags |= FLAG_HAS_EXPIRY;
    }
    if entry.tombstone {
        flags |= FLAG_TOMBSTONE;
    }
    if entry.collection {
        flags |= FLAG_COLLECTION;
    }
    let mut fixed = [0u8; FIXED_LEN];
    fixed[0..4].copy_from_slice(&entry.file_id.to_le_bytes());
    fixed[4..8].copy_from_slice(&entry.offset.to_le_bytes());
    fixed[8..12].copy_from_slice(&entry.value_len.to_le_bytes());
    fixed[12..14].copy_from_slice(&key_len.to_le_bytes());
    fixed[14] = flags;
    fixed[16..24].copy_from_slice(&entry.seq.to_le_bytes());
    let (head, rest) = out.split_at_mut(FIXED_LEN.min(out.len()));
    head.copy_from_slice(fixed.get(..head.len()).unwrap_or(&[]));
    let rest = if has_expiry {
        let (expiry, rest) = rest.split_at_mut(EXPIRY_LEN.min(rest.len()));
        expiry.copy_from_slice(
            entry
                .expiry_ms
                .to_le_bytes()
                .get(..expiry.len())
                .unwrap_or(&[]),
        );
        rest
    } else {
        rest
    };
    if let Some(key) = key {
        let n = key.len().min(rest.len());
        if let (Some(dst), Some(src)) = (rest.get_mut(..n), key.get(..n)) {
            dst.copy_from_slice(src);
        }
    }
}

impl Shard {
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Entries that have not expired at `now_ms`.
    pub(crate) fn live_len(&self, now_ms: u64) -> usize {
        self.table.len() - self.expiries.expired_at(now_ms)
    }

    /// When the first entry with an expiry expires, if any has one.
    pub(crate) fn earliest_expiry(&self) -> Option<u64> {
        self.expiries.earliest()
    }

    /// Up to `limit` keys whose entries have expired at `now_ms`.
    pub(crate) fn expired_keys(&self, now_ms: u64, limit: usize) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        if self.earliest_expiry().is_none_or(|t| t > now_ms) {
            return keys;
        }
        for slot in self.table.slots() {
            if keys.len() >= limit {
                break;
            }
            let bytes = entry_bytes(&self.arena, slot);
            let entry = decode_entry(bytes);
            if entry.expiry_ms != 0 && entry.expiry_ms <= now_ms {
                keys.push(key_of(bytes).to_vec());
            }
        }
        keys
    }

    /// Appends to `out` the keys unexpired at `now_ms` whose scan position (see
    /// `Keydir::scan_range`) lies in `[lo, hi)`.
    pub(crate) fn scan_range<S: BuildHasher>(
        &self,
        build: &S,
        lo: u64,
        hi: u128,
        now_ms: u64,
        out: &mut Vec<Vec<u8>>,
    ) {
        let Some(bits) = self.table.groups_log2() else {
            return;
        };
        // A key's home group is the low `bits` bits of its hash, which are the top `bits`
        // bits of its scan position reversed: positions in [lo, hi) have homes whose
        // reversed indexes run from lo's top bits to (hi - 1)'s.
        let shift = 64 - bits;
        let last = u64::try_from(hi.saturating_sub(1)).unwrap_or(u64::MAX);
        let (first_prefix, last_prefix) = if bits == 0 {
            (0, 0)
        } else {
            (lo >> shift, last >> shift)
        };
        let mask = (1u64 << bits).wrapping_sub(1);
        for prefix in first_prefix..=last_prefix {
            let home = if bits == 0 {
                0
            } else {
                (prefix << shift).reverse_bits()
            };
            self.table.for_each_on_probe_path(home as usize, |slot| {
                let bytes = entry_bytes(&self.arena, slot);
                let key = key_of(bytes);
                let hash = build.hash_one(key);
                // Each key is taken only on its own home's path, so once.
                if hash & mask != home {
                    return;
                }
                let position = hash.reverse_bits();
                if position < lo || u128::from(position) >= hi {
                    return;
                }
                if !crate::ttl::is_expired(decode_entry(bytes).expiry_ms, now_ms) {
                    out.push(key.to_vec());
                }
            });
        }
    }

    /// Sizes an empty shard for `entries` entries holding `key_bytes` of keys in all.
    pub(crate) fn reserve(&mut self, entries: usize, key_bytes: usize) {
        if self.table.len() != 0 {
            return;
        }
        self.table.reserve_empty(entries);
        self.arena.reserve(
            entries
                .saturating_mul(FIXED_LEN + ALIGN)
                .saturating_add(key_bytes),
        );
    }

    /// Bytes of memory this shard holds: arena capacity, the table's allocation and the
    /// expiry bookkeeping (estimated).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.arena.capacity()
            + self.table.allocation_size()
            + self.expiries.at.len() * EXPIRY_INSTANT_BYTES
    }

    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<Entry> {
        let arena = &self.arena;
        self.table
            .find(hash, |slot| key_of(entry_bytes(arena, slot)) == key)
            .map(|pos| decode_entry(entry_bytes(arena, self.table.slot(pos))))
    }

    /// Prefetches the arena entries a lookup of `hash` will compare its key with (its
    /// table line should be in cache already: see `Keydir::prefetch_entries`).
    pub(crate) fn prefetch_entries(&self, hash: u64) {
        let base = self.arena.as_ptr().addr();
        for slot in self.table.home_candidates(hash) {
            super::prefetch::prefetch_address(base.wrapping_add(slot as usize * ALIGN));
        }
    }

    /// Where the table's lines are; see `prefetch::LineHint`.
    pub(crate) fn line_hint(&self) -> (usize, usize) {
        self.table.line_hint()
    }

    /// Inserts or replaces `key`'s entry unless the present entry has a sequence number at
    /// least as high (recovery reads records in no particular order of sequence).
    pub(crate) fn upsert_if_newer<S: BuildHasher>(
        &mut self,
        build: &S,
        hash: u64,
        key: &[u8],
        entry: Entry,
    ) -> Result<Upsert, ArenaFull> {
        self.upsert_inner(build, hash, key, entry, true)
    }

    /// Inserts or replaces `key`'s entry, returning the previous one.
    pub(crate) fn upsert<S: BuildHasher>(
        &mut self,
        build: &S,
        hash: u64,
        key: &[u8],
        entry: Entry,
    ) -> Result<Option<Entry>, ArenaFull> {
        match self.upsert_inner(build, hash, key, entry, false)? {
            Upsert::Inserted => Ok(None),
            Upsert::Replaced(old) | Upsert::Kept(old) => Ok(Some(old)),
        }
    }

    fn upsert_inner<S: BuildHasher>(
        &mut self,
        build: &S,
        hash: u64,
        key: &[u8],
        entry: Entry,
        only_if_newer: bool,
    ) -> Result<Upsert, ArenaFull> {
        let Ok(key_len) = u16::try_from(key.len()) else {
            // The format caps keys at MAX_KEY_LEN = u16::MAX; callers validate before this.
            debug_assert!(key.len() <= MAX_KEY_LEN);
            return Err(ArenaFull);
        };
        let Shard {
            table,
            arena,
            garbage,
            expiries,
        } = self;
        let new_size = entry_size(key.len(), entry.expiry_ms != 0);
        let found = table.probe(
            hash,
            |slot| key_of(entry_bytes(arena, slot)) == key,
            |insert| for_each_live(arena, |slot, key| insert(slot, build.hash_one(key))),
        );
        match found {
            Probe::Found(pos) => {
                let slot = table.slot(pos);
                let old = decode_entry(entry_bytes(arena, slot));
                if only_if_newer && old.seq >= entry.seq {
                    return Ok(Upsert::Kept(old));
                }
                let old_size = entry_size(key.len(), old.expiry_ms != 0);
                if old_size == new_size {
                    let at = slot as usize * ALIGN;
                    if let Some(dst) = arena.get_mut(at..at + new_size) {
                        encode_entry(dst, key_len, &entry, Some(key));
                    }
                } else {
                    let new_slot = append(arena, key_len, &entry, key)?;
                    table.set_slot(pos, new_slot);
                    mark_dead(arena, slot);
                    *garbage += old_size;
                }
                expiries.remove(old.expiry_ms);
                expiries.add(entry.expiry_ms);
                Ok(Upsert::Replaced(old))
            }
            Probe::Vacant(pos) => {
                let slot = append(arena, key_len, &entry, key)?;
                table.insert_at(pos, hash, slot);
                expiries.add(entry.expiry_ms);
                Ok(Upsert::Inserted)
            }
        }
        .inspect(|_| self.maybe_compact(build))
    }

    /// Moves `key`'s entry to `new` (same record, another place: merge), only if the entry
    /// is still `expected` — a write since would have changed it, and wins.
    pub(crate) fn relocate_if(
        &mut self,
        hash: u64,
        key: &[u8],
        expected: &Entry,
        new: &Entry,
    ) -> bool {
        let Shard { table, arena, .. } = self;
        let Some(pos) = table.find(hash, |slot| key_of(entry_bytes(arena, slot)) == key) else {
            return false;
        };
        let slot = table.slot(pos);
        let old = decode_entry(entry_bytes(arena, slot));
        if old != *expected || old.expiry_ms != new.expiry_ms || old.tombstone != new.tombstone {
            return false;
        }
        let size = entry_size(key.len(), old.expiry_ms != 0);
        let at = slot as usize * ALIGN;
        let Ok(key_len) = u16::try_from(key.len()) else {
            return false;
        };
        match arena.get_mut(at..at + size) {
            Some(dst) => {
                encode_entry(dst, key_len, new, None);
                true
            }
            None => false,
        }
    }

    /// Removes `key`'s entry only if it is still `expected`.
    pub(crate) fn remove_if<S: BuildHasher>(
        &mut self,
        build: &S,
        hash: u64,
        key: &[u8],
        expected: &Entry,
    ) -> bool {
        if self.get(hash, key).as_ref() != Some(expected) {
            return false;
        }
        self.remove(build, hash, key).is_some()
    }

    pub(crate) fn remove<S: BuildHasher>(
        &mut self,
        build: &S,
        hash: u64,
        key: &[u8],
    ) -> Option<Entry> {
        let Shard {
            table,
            arena,
            garbage,
            expiries,
        } = self;
        let pos = table.find(hash, |slot| key_of(entry_bytes(arena, slot)) == key)?;
        let slot = table.remove_at(pos);
        let old = decode_entry(entry_bytes(arena, slot));
        mark_dead(arena, slot);
        expiries.remove(old.expiry_ms);
        *garbage += entry_size(key.len(), old.expiry_ms != 0);
        self.maybe_compact(build);
        Some(old)
    }

    /// Removes every entry for which `keep` returns false.
    pub(crate) fn retain<S: BuildHasher>(
        &mut self,
        build: &S,
        mut keep: impl FnMut(&[u8], &Entry) -> bool,
    ) {
        let Shard {
            table,
            arena,
            garbage,
            expiries,
        } = self;
        table.retain(|slot| {
            let bytes = entry_bytes(arena, slot);
            let entry = decode_entry(bytes);
            let key = key_of(bytes);
            let kept = keep(key, &entry);
            if !kept {
                *garbage += entry_size(key.len(), entry.expiry_ms != 0);
                expiries.remove(entry.expiry_ms);
                mark_dead(arena, slot);
            }
            kept
        });
        self.maybe_compact(build);
    }

    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8], &Entry)) {
        for slot in self.table.slots() {
            let bytes = entry_bytes(&self.arena, slot);
            f(key_of(bytes), &decode_entry(bytes));
        }
    }

    fn maybe_compact<S: BuildHasher>(&mut self, build: &S) {
        if self.garbage >= MIN_GARBAGE_TO_COMPACT && self.garbage * 2 > self.arena.len() {
            self.compact(build);
        }
    }

    /// Copies the live entries into an arena of their size and shrinks the table to them.
    pub(crate) fn shrink_to_fit<S: BuildHasher>(&mut self, build: &S) {
        self.compact(build);
    }

    /// Copies live entries into a fresh arena. Slots are rewritten in place: a key's hash
    /// does not change when its entry moves, so the table needs no rehash.
    fn compact<S: BuildHasher>(&mut self, build: &S) {
        let live_bytes = self.arena.len().saturating_sub(self.garbage);
        let mut fresh = Vec::with_capacity(live_bytes);
        for slot in self.table.slots_mut() {
            let bytes = entry_bytes(&self.arena, *slot);
            let padded = bytes.len().div_ceil(ALIGN) * ALIGN;
            // `fresh` is smaller than the old arena, so the new slot always fits in u32.
            let new_slot = u32::try_from(fresh.len() / ALIGN).unwrap_or(u32::MAX);
            fresh.extend_from_slice(bytes);
            fresh.resize(fresh.len() + (padded - bytes.len()), 0);
            *slot = new_slot;
        }
        self.arena = fresh;
        self.garbage = 0;
        // After mass deletion the table may be mostly empty groups; give them back.
        let Shard { table, arena, .. } = self;
        table.shrink(|insert| for_each_live(arena, |slot, key| insert(slot, build.hash_one(key))));
    }
}

/// A shard as an index snapshot stores it: its table, its arena as it is (garbage
/// included), and how much of the arena is garbage.
pub(crate) struct ShardImage<'a> {
    pub table: &'a Table,
    pub arena: &'a [u8],
    pub garbage: usize,
}

impl Shard {
    /// The first `n` live keys in arena order, with their entries.
    pub(crate) fn sample(&self, n: usize) -> Vec<(Vec<u8>, Entry)> {
        let mut out = Vec::with_capacity(n);
        walk_live(&self.arena, |slot, key| {
            if out.len() >= n {
                return ControlFlow::Break(());
            }
            out.push((key.to_vec(), decode_entry(entry_bytes(&self.arena, slot))));
            ControlFlow::Continue(())
        });
        out
    }

    pub(crate) fn image(&self) -> ShardImage<'_> {
        ShardImage {
            table: &self.table,
            arena: &self.arena,
            garbage: self.garbage,
        }
    }

    /// The shard an image describes, if it holds together: walking the arena entry by
    /// entry ends exactly at its end, every entry has a key the format allows and no
    /// tombstone, `accept` takes every live entry (given its key length), the live entries
    /// and the dead ones' bytes are what `table` and `garbage` say, and every slot of the
    /// table points at the start of a different live entry. Expiry counts are rebuilt from
    /// the entries. Whether each key sits where its hash puts it is not checked (that would
    /// hash every key): a slot in the wrong place only makes its key unfindable.
    pub(crate) fn from_image(
        table: Table,
        arena: Vec<u8>,
        garbage: usize,
        accept: &mut dyn FnMut(&Entry, usize) -> bool,
    ) -> Option<Shard> {
        // One bit per ALIGN bytes of arena: set where a live entry starts, cleared when a
        // slot claims it.
        let mut starts = vec![0u64; (arena.len() / ALIGN).div_ceil(64)];
        let mut expiries = Expiries::default();
        let (mut pos, mut live, mut dead_bytes) = (0usize, 0usize, 0usize);
        while pos < arena.len() {
            let fixed = arena.get(pos..pos + FIXED_LEN)?;
            let key_len = u16_at(fixed, 12) as usize;
            let flags = fixed.get(14).copied().unwrap_or(0);
            let size = entry_size(key_len, flags & FLAG_HAS_EXPIRY != 0);
            if pos + size > arena.len() || key_len > MAX_KEY_LEN {
                return None;
            }
            if flags & FLAG_DEAD != 0 {
                dead_bytes += size;
            } else {
                let entry = decode_entry(entry_bytes(&arena, u32::try_from(pos / ALIGN).ok()?));
                if entry.tombstone || !accept(&entry, key_len) {
                    return None;
                }
                expiries.add(entry.expiry_ms);
                let bit = pos / ALIGN;
                *starts.get_mut(bit / 64)? |= 1 << (bit % 64);
                live += 1;
            }
            pos += size;
        }
        for slot in table.slots() {
            let bit = slot as usize;
            let word = starts.get_mut(bit / 64)?;
            if *word & (1 << (bit % 64)) == 0 {
                return None;
            }
            *word &= !(1 << (bit % 64));
        }
        (live == table.len() && dead_bytes == garbage).then_some(Shard {
            table,
            arena,
            garbage,
            expiries,
        })
    }
}

/// Appends an entry to the arena and returns its slot.
fn append(arena: &mut Vec<u8>, key_len: u16, entry: &Entry, key: &[u8]) -> Result<u32, ArenaFull> {
    let size = entry_size(key.len(), entry.expiry_ms != 0);
    let pos = arena.len();
    if pos + size > MAX_ARENA_BYTES {
        return Err(ArenaFull);
    }
    let slot = u32::try_from(pos / ALIGN).map_err(|_| ArenaFull)?;
    if pos + size > arena.capacity() {
        // Grow by an eighth rather than doubling: the slack of a doubled Vec alone would
        // cost up to the whole entry size again per key.
        arena.reserve_exact(size.max(pos / 8).max(4096));
    }
    arena.resize(pos + size, 0);
    if let Some(dst) = arena.get_mut(pos..pos + size) {
        encode_entry(dst, key_len, entry, Some(key));
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn entry(seq: u64, expiry_ms: u64) -> Entry {
        Entry {
            file_id: seq as u32,
            offset: (seq * 3) as u32,
            value_len: (seq * 7) as u32,
            seq,
            expiry_ms,
            tombstone: false,
            collection: false,
        }
    }

    #[test]
    fn sixteen_byte_key_without_expiry_costs_forty_arena_bytes() {
        assert_eq!(entry_size(16, false), 40);
        assert_eq!(entry_size(16, true), 48);
        assert_eq!(entry_size(0, false), 24);
        assert_eq!(entry_size(5, false), 32);
    }

    #[test]
    fn insert_get_replace_remove() {
        let b = foldhash::quality::RandomState::default();
        let mut s = Shard::default();
        let h = b.hash_one(b"k");
        assert_eq!(s.upsert(&b, h, b"k", entry(1, 0)), Ok(None));
        assert_eq!(s.get(h, b"k"), Some(entry(1, 0)));
        // Same size: updated in place.
        assert_eq!(s.upsert(&b, h, b"k", entry(2, 0)), Ok(Some(entry(1, 0))));
        assert_eq!(s.garbage, 0);
        // Gains an expiry: moves, old bytes become garbage.
        assert_eq!(s.upsert(&b, h, b"k", entry(3, 99)), Ok(Some(entry(2, 0))));
        assert_eq!(s.get(h, b"k"), Some(entry(3, 99)));
        assert_eq!(s.garbage, 28);
        assert_eq!(s.remove(&b, h, b"k"), Some(entry(3, 99)));
        assert_eq!(s.get(h, b"k"), None);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn upsert_if_newer_keeps_higher_sequence() {
        let b = foldhash::quality::RandomState::default();
        let mut s = Shard::default();
        let h = b.hash_one(b"k");
        assert_eq!(
            s.upsert_if_newer(&b, h, b"k", entry(5, 0)),
            Ok(Upsert::Inserted)
        );
        assert_eq!(
            s.upsert_if_newer(&b, h, b"k", entry(4, 0)),
            Ok(Upsert::Kept(entry(5, 0)))
        );
        assert_eq!(
            s.upsert_if_newer(&b, h, b"k", entry(5, 0)),
            Ok(Upsert::Kept(entry(5, 0)))
        );
        assert_eq!(
            s.upsert_if_newer(&b, h, b"k", entry(6, 0)),
            Ok(Upsert::Replaced(entry(5, 0)))
        );
    }

    #[test]
    fn relocate_and_remove_only_when_the_entry_is_unchanged() {
        let b = foldhash::quality::RandomState::default();
        let mut s = Shard::default();
        let h = b.hash_one(b"k");
        s.upsert(&b, h, b"k", entry(5, 0)).unwrap();
        let moved = Entry {
            file_id: 77,
            offset: 16,
            ..entry(5, 0)
        };
        assert!(!s.relocate_if(h, b"k", &entry(4, 0), &moved));
        assert!(s.relocate_if(h, b"k", &entry(5, 0), &moved));
        assert_eq!(s.get(h, b"k"), Some(moved));
        assert!(!s.remove_if(&b, h, b"k", &entry(5, 0)), "it moved");
        assert!(s.remove_if(&b, h, b"k", &moved));
        assert_eq!(s.get(h, b"k"), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Upsert(u8, u64, bool),
        Remove(u8),
        RetainEven,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..40, 1u64..1000, any::<bool>()).prop_map(|(k, s, e)| Op::Upsert(k, s, e)),
            3 => (0u8..40).prop_map(Op::Remove),
            1 => Just(Op::RetainEven),
        ]
    }

    fn key(k: u8) -> Vec<u8> {
        // Lengths vary (0..=k) so entries of many sizes share the arena.
        vec![k; k as usize % 23].into_iter().chain([k]).collect()
    }

    proptest! {
        #[test]
        fn matches_hashmap_model(ops in proptest::collection::vec(op(), 1..400)) {
            let b = foldhash::quality::RandomState::default();
            let mut s = Shard::default();
            let mut model: HashMap<Vec<u8>, Entry> = HashMap::new();
            for op in ops {
                match op {
                    Op::Upsert(k, seq, exp) => {
                        let k = key(k);
                        let e = entry(seq, if exp { seq + 1 } else { 0 });
                        let got = s.upsert(&b, b.hash_one(&k), &k, e).unwrap();
                        prop_assert_eq!(got, model.insert(k, e));
                    }
                    Op::Remove(k) => {
                        let k = key(k);
                        prop_assert_eq!(s.remove(&b, b.hash_one(&k), &k), model.remove(&k));
                    }
                    Op::RetainEven => {
                        s.retain(&b, |_, e| e.seq % 2 == 0);
                        model.retain(|_, e| e.seq % 2 == 0);
                    }
                }
                // Force compaction often so slot rewriting is exercised.
                if s.garbage > 0 && s.garbage * 2 > s.arena.len() {
                    s.compact(&b);
                }
                prop_assert_eq!(s.len(), model.len());
            }
            for (k, e) in &model {
                prop_assert_eq!(s.get(b.hash_one(k), k), Some(*e));
            }
            let mut seen = 0;
            s.for_each(|k, e| {
                seen += 1;
                assert_eq!(model.get(k), Some(e));
            });
            prop_assert_eq!(seen, model.len());
            // Expiry bookkeeping agrees with the entries (model expiries are seq + 1).
            for now in [0u64, 100, 500, 2000] {
                let unexpired = model.values().filter(|e| e.expiry_ms == 0 || e.expiry_ms > now).count();
                prop_assert_eq!(s.live_len(now), unexpired);
            }
            let earliest = model.values().map(|e| e.expiry_ms).filter(|&e| e != 0).min();
            prop_assert_eq!(s.earliest_expiry(), earliest);
            // The arena walk that refills a growing table sees exactly the live entries.
            let mut walked: Vec<Vec<u8>> = Vec::new();
            for_each_live(&s.arena, |_, k| walked.push(k.to_vec()));
            walked.sort();
            let mut live: Vec<Vec<u8>> = model.keys().cloned().collect();
            live.sort();
            prop_assert_eq!(walked, live);
        }
    }
}
