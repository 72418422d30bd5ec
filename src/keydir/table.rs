//! An open-addressing hash table of `u32` slots, laid out so that one probe touches one
//! cache line, and whose line for a hash can be prefetched.
//!
//! A general-purpose table (hashbrown) keeps its control bytes and its slots in separate
//! arrays, so a lookup misses the cache twice before it even reaches the arena entry, and it
//! cannot say where a key's bucket lives ahead of time. Here a 64-byte [`Group`] holds 12
//! one-byte tags and the 12 slots they describe. The writer prefetches the group of the key
//! it is about to publish before its `write(2)` (see `line_hint`), so the index update after
//! the syscall finds the line in cache.
//!
//! The table only stores slots; equality and rehashing are the caller's, through closures,
//! because keys live in the shard's arena. To grow, the table asks the caller for every
//! live slot with its hash: the shard walks its arena in order for that, which reads
//! memory sequentially instead of once per slot at random.
//!
//! Tags: `EMPTY` (never used since the last rehash), `DELETED` (used, then removed), or a
//! fingerprint of 2..=255 from the hash's top byte. A probe walks groups linearly from the
//! hash's home group and stops at a group with an `EMPTY` tag: a group with an empty tag was
//! never full, so no key can have been pushed past it.

const GROUP_SLOTS: usize = 12;
/// Table bytes per key in a full table: a 64-byte group holds 12 slots (rounded up).
pub(crate) const SLOT_BYTES: usize = size_of::<Group>().div_ceil(GROUP_SLOTS);
const EMPTY: u8 = 0;
const DELETED: u8 = 1;
/// The table is grown (or cleaned of tombstones) past this fill: 7/8.
const MAX_LOAD_NUM: usize = 7;
const MAX_LOAD_DEN: usize = 8;

const LO7: u128 = u128::from_le_bytes([0x7f; 16]);
const HI: u128 = u128::from_le_bytes([0x80; 16]);
const ONES: u128 = u128::from_le_bytes([0x01; 16]);
/// High bits of the 12 tag bytes that are in use (the last 4 are padding).
const VALID: u128 = HI >> 32;

/// One cache line: 12 tags, 4 bytes of padding, 12 slots.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Group {
    tags: [u8; 16],
    slots: [u32; GROUP_SLOTS],
}

const EMPTY_GROUP: Group = Group {
    tags: [EMPTY; 16],
    slots: [0; GROUP_SLOTS],
};

/// For each byte of `x`: its high bit set iff the byte is zero. Exact (no borrows between
/// bytes).
fn zero_bytes(x: u128) -> u128 {
    !(((x & LO7) + LO7) | x) & HI
}

impl Group {
    fn tag_word(&self) -> u128 {
        u128::from_le_bytes(self.tags)
    }

    /// Bit mask (one high bit per byte) of the slots whose tag is `tag`.
    fn matching(&self, tag: u8) -> u128 {
        zero_bytes(self.tag_word() ^ (ONES * u128::from(tag))) & VALID
    }

    fn empties(&self) -> u128 {
        zero_bytes(self.tag_word()) & VALID
    }

    /// Slots that are `EMPTY` or `DELETED` (tag 0 or 1).
    fn free(&self) -> u128 {
        zero_bytes(self.tag_word() & !ONES) & VALID
    }
}

/// Indexes of the bytes flagged in a mask from `Group::matching` and friends.
fn flagged(mut mask: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let index = (mask.trailing_zeros() / 8) as usize;
        mask &= mask - 1;
        Some(index)
    })
}

fn tag_of(hash: u64) -> u8 {
    ((hash >> 56) as u8).max(2)
}

/// A position in the table: group and index within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    group: usize,
    index: usize,
}

/// Where a key is, or where it would go.
pub(crate) enum Probe {
    Found(Position),
    Vacant(Position),
}

#[derive(Default)]
pub(crate) struct Table {
    /// Empty, or a power-of-two number of groups.
    groups: Vec<Group>,
    len: usize,
    deleted: usize,
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn allocation_size(&self) -> usize {
        self.groups.capacity() * size_of::<Group>()
    }

    fn mask(&self) -> usize {
        self.groups.len().wrapping_sub(1)
    }

    fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask()
    }

    fn group(&self, index: usize) -> Option<&Group> {
        self.groups.get(index)
    }

    /// The slot at `pos` (which the caller got from this table and has not removed since).
    pub(crate) fn slot(&self, pos: Position) -> u32 {
        self.group(pos.group)
            .and_then(|g| g.slots.get(pos.index))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn set_slot(&mut self, pos: Position, slot: u32) {
        if let Some(s) = self
            .groups
            .get_mut(pos.group)
            .and_then(|g| g.slots.get_mut(pos.index))
        {
            *s = slot;
        }
    }

    /// Base address and index mask of the groups: the home group of `hash` starts at
    /// `base + (hash & mask) * 64`. For prefetching only (see `prefetch.rs`).
    pub(crate) fn line_hint(&self) -> (usize, usize) {
        if self.groups.is_empty() {
            return (0, 0);
        }
        (self.groups.as_ptr().addr(), self.mask())
    }

    /// Finds the slot for which `eq` holds.
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<Position> {
        let tag = tag_of(hash);
        let mut at = self.home(hash);
        for _ in 0..self.groups.len() {
            let group = self.group(at)?;
            for index in flagged(group.matching(tag)) {
                if eq(group.slots.get(index).copied().unwrap_or(0)) {
                    return Some(Position { group: at, index });
                }
            }
            if group.empties() != 0 {
                return None;
            }
            at = (at + 1) & self.mask();
        }
        None
    }

    /// The slots of `hash`'s home group whose tag matches it: where a lookup of the key
    /// most likely compares keys (for prefetching their entries; a key pushed past its
    /// home group is not among them).
    pub(crate) fn home_candidates(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let group = self.group(self.home(hash));
        let matching = group.map_or(0, |g| g.matching(tag_of(hash)));
        flagged(matching).filter_map(move |index| group.and_then(|g| g.slots.get(index).copied()))
    }

    /// Finds the slot for which `eq` holds, or reserves the position a new slot for this
    /// hash goes to. If the table is full it grows first, refilled by `live`, which must
    /// call its argument once with every slot in the table and that slot's hash. A reserved
    /// position must be filled with `insert_at` before any other call that changes the
    /// table.
    pub(crate) fn probe(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(u32) -> bool,
        live: impl FnOnce(&mut dyn FnMut(u32, u64)),
    ) -> Probe {
        if let Some(found) = self.find(hash, &mut eq) {
            return Probe::Found(found);
        }
        if (self.len + self.deleted + 1) * MAX_LOAD_DEN
            > self.groups.len() * GROUP_SLOTS * MAX_LOAD_NUM
        {
            self.grow(live);
        }
        Probe::Vacant(self.free_position(hash))
    }

    /// The first free (empty or deleted) position on `hash`'s probe path. The table is never
    /// full (load stays below 7/8), so one exists.
    fn free_position(&self, hash: u64) -> Position {
        let mut at = self.home(hash);
        for _ in 0..self.groups.len() {
            if let Some(index) = self.group(at).and_then(|g| flagged(g.free()).next()) {
                return Position { group: at, index };
            }
            at = (at + 1) & self.mask();
        }
        Position { group: 0, index: 0 }
    }

    /// Fills a position reserved by `probe`.
    pub(crate) fn insert_at(&mut self, pos: Position, hash: u64, slot: u32) {
        let Some(group) = self.groups.get_mut(pos.group) else {
            return;
        };
        if let (Some(tag), Some(s)) = (
            group.tags.get_mut(pos.index),
            group.slots.get_mut(pos.index),
        ) {
            if *tag == DELETED {
                self.deleted -= 1;
            }
            *tag = tag_of(hash);
            *s = slot;
            self.len += 1;
        }
    }

    /// Removes the slot at `pos` and returns it.
    pub(crate) fn remove_at(&mut self, pos: Position) -> u32 {
        let Some(group) = self.groups.get_mut(pos.group) else {
            return 0;
        };
        // A group that still has an empty tag was never full: no probe ever passed it, so
        // the tag can become empty again. Otherwise a probe may pass: leave a tombstone.
        let mark = if group.empties() != 0 { EMPTY } else { DELETED };
        let slot = group.slots.get(pos.index).copied().unwrap_or(0);
        if let Some(tag) = group.tags.get_mut(pos.index) {
            *tag = mark;
            self.len -= 1;
            if mark == DELETED {
                self.deleted += 1;
            }
        }
        slot
    }

    /// Every occupied slot, mutably (their hashes must not change).
    pub(crate) fn slots_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        self.groups.iter_mut().flat_map(|g| {
            let occupied = !g.free() & VALID;
            let Group { tags: _, slots } = g;
            slots
                .iter_mut()
                .enumerate()
                .filter(move |(i, _)| occupied & (0x80u128 << (8 * i)) != 0)
                .map(|(_, s)| s)
        })
    }

    /// log2 of the number of groups; `None` for a table that has none yet.
    pub(crate) fn groups_log2(&self) -> Option<u32> {
        (!self.groups.is_empty()).then(|| self.groups.len().trailing_zeros())
    }

    /// Calls `f` with every occupied slot on the probe path that starts at group `home`: a
    /// slot whose hash has this home group is always among them (probes never pass a group
    /// with an empty tag), along with slots of other homes.
    pub(crate) fn for_each_on_probe_path(&self, home: usize, mut f: impl FnMut(u32)) {
        let mut at = home & self.mask();
        for _ in 0..self.groups.len() {
            let Some(group) = self.group(at) else {
                return;
            };
            for index in flagged(!group.free() & VALID) {
                f(group.slots.get(index).copied().unwrap_or(0));
            }
            if group.empties() != 0 {
                return;
            }
            at = (at + 1) & self.mask();
        }
    }

    /// Every occupied slot.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.groups
            .iter()
            .flat_map(|g| flagged(!g.free() & VALID).map(|i| g.slots.get(i).copied().unwrap_or(0)))
    }

    /// Removes every slot for which `keep` returns false.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        for g in 0..self.groups.len() {
            let Some(group) = self.groups.get(g) else {
                break;
            };
            let mut doomed = 0u128;
            for i in flagged(!group.free() & VALID) {
                if !keep(group.slots.get(i).copied().unwrap_or(0)) {
                    doomed |= 0x80 << (8 * i);
                }
            }
            for index in flagged(doomed) {
                self.remove_at(Position { group: g, index });
            }
        }
    }

    /// Rebuilds at the current size or larger, so that the live slots fill at most half of
    /// the maximum load: doubles a full table, only clears tombstones from one that is full
    /// of them.
    fn grow(&mut self, live: impl FnOnce(&mut dyn FnMut(u32, u64))) {
        let mut groups = self.groups.len().max(1);
        while self.len * 2 * MAX_LOAD_DEN > groups * GROUP_SLOTS * MAX_LOAD_NUM {
            groups *= 2;
        }
        self.rebuild(groups, live);
    }

    /// Makes room for `entries` slots in all without growing again, if the table is smaller
    /// than that (an empty table only: `live` is not needed then).
    pub(crate) fn reserve_empty(&mut self, entries: usize) {
        if self.len != 0 {
            return;
        }
        let groups = (entries * MAX_LOAD_DEN / MAX_LOAD_NUM / GROUP_SLOTS + 1).next_power_of_two();
        if groups > self.groups.len() {
            self.groups = vec![EMPTY_GROUP; groups];
            self.deleted = 0;
        }
    }

    /// Shrinks to the smallest size that holds the current length at half load, if that is
    /// at most a quarter of the current size. `live` as for `probe`.
    pub(crate) fn shrink(&mut self, live: impl FnOnce(&mut dyn FnMut(u32, u64))) {
        let needed =
            (self.len * 2 * MAX_LOAD_DEN / MAX_LOAD_NUM / GROUP_SLOTS + 1).next_power_of_two();
        if needed * 4 <= self.groups.len() {
            self.rebuild(needed, live);
        }
    }

    /// Bytes of one group in an index snapshot: the 16 tag bytes, then the 12 slots (u32,
    /// little endian).
    pub(crate) const IMAGE_GROUP_LEN: usize = size_of::<Group>();

    /// Number of groups, occupied slots and tombstones, for an index snapshot.
    pub(crate) fn image_counts(&self) -> (usize, usize, usize) {
        (self.groups.len(), self.len, self.deleted)
    }

    /// Hands every group to `out` as `IMAGE_GROUP_LEN` bytes.
    pub(crate) fn write_image(&self, out: &mut dyn FnMut(&[u8])) {
        let mut bytes = [0u8; Self::IMAGE_GROUP_LEN];
        for group in &self.groups {
            let (tags, slots) = bytes.split_at_mut(16);
            tags.copy_from_slice(&group.tags);
            for (dst, slot) in slots.chunks_exact_mut(4).zip(group.slots) {
                dst.copy_from_slice(&slot.to_le_bytes());
            }
            out(&bytes);
        }
    }

    /// The table `write_image` described, if `groups` is a whole power-of-two number of
    /// groups (or none), the padding tags are empty, `len` and `deleted` agree with the tags
    /// and the load is one this table can have. The slots are the caller's to check.
    pub(crate) fn from_image(image: &[u8], len: usize, deleted: usize) -> Option<Table> {
        if !image.len().is_multiple_of(Self::IMAGE_GROUP_LEN) {
            return None;
        }
        let count = image.len() / Self::IMAGE_GROUP_LEN;
        if count != 0 && !count.is_power_of_two() {
            return None;
        }
        let mut groups = Vec::with_capacity(count);
        let (mut occupied, mut tombstones) = (0, 0);
        for bytes in image.chunks_exact(Self::IMAGE_GROUP_LEN) {
            let mut group = EMPTY_GROUP;
            let (tags, slots) = bytes.split_at(16);
            group.tags.copy_from_slice(tags);
            if group.tags.iter().skip(GROUP_SLOTS).any(|&t| t != EMPTY) {
                return None;
            }
            for (slot, src) in group.slots.iter_mut().zip(slots.chunks_exact(4)) {
                *slot = u32::from_le_bytes(src.try_into().ok()?);
            }
            occupied += (!group.free() & VALID).count_ones() as usize;
            tombstones += (group.free() & !group.empties()).count_ones() as usize;
            groups.push(group);
        }
        // (Compared only once `len` and `deleted` are known to be counts of this image.)
        let counted = occupied == len && tombstones == deleted;
        let fits = counted && (len + deleted) * MAX_LOAD_DEN <= count * GROUP_SLOTS * MAX_LOAD_NUM;
        fits.then_some(Table {
            groups,
            len,
            deleted,
        })
    }

    fn rebuild(&mut self, groups: usize, live: impl FnOnce(&mut dyn FnMut(u32, u64))) {
        self.groups = vec![EMPTY_GROUP; groups];
        self.len = 0;
        self.deleted = 0;
        live(&mut |slot, hash| {
            let pos = self.free_position(hash);
            self.insert_at(pos, hash, slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn a_group_is_one_cache_line() {
        assert_eq!(size_of::<Group>(), 64);
        assert_eq!(align_of::<Group>(), 64);
    }

    #[test]
    fn byte_masks_are_exact() {
        let mut g = EMPTY_GROUP;
        g.tags = [5, 0, 1, 5, 7, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5];
        assert_eq!(flagged(g.matching(5)).collect::<Vec<_>>(), vec![0, 3, 11]);
        assert_eq!(
            flagged(g.empties()).collect::<Vec<_>>(),
            vec![1, 5, 6, 7, 8, 9, 10]
        );
        assert_eq!(
            flagged(g.free()).collect::<Vec<_>>(),
            vec![1, 2, 5, 6, 7, 8, 9, 10]
        );
    }

    /// Keys are u32s stored as their own slots; `h` maps them to deliberately colliding
    /// hashes so long probe runs, tombstones and wrap-around all happen.
    fn h(key: u32) -> u64 {
        u64::from(key % 7) << 56 | u64::from(key % 5)
    }

    proptest! {
        #[test]
        fn matches_a_hashmap(ops in proptest::collection::vec((0u32..300, any::<bool>()), 1..2000)) {
            let mut t = Table::default();
            let mut model = HashMap::new();
            for (key, insert) in ops {
                if insert {
                    let present: Vec<u32> = t.slots().collect();
                    match t.probe(h(key), |s| s == key, |insert| {
                        for s in present {
                            insert(s, h(s));
                        }
                    }) {
                        Probe::Found(pos) => prop_assert_eq!(t.slot(pos), key),
                        Probe::Vacant(pos) => t.insert_at(pos, h(key), key),
                    }
                    model.insert(key, ());
                } else if let Some(pos) = t.find(h(key), |s| s == key) {
                    prop_assert_eq!(t.remove_at(pos), key);
                    prop_assert!(model.remove(&key).is_some());
                } else {
                    prop_assert!(!model.contains_key(&key));
                }
                prop_assert_eq!(t.len(), model.len());
            }
            for key in 0..300 {
                prop_assert_eq!(t.find(h(key), |s| s == key).is_some(), model.contains_key(&key));
                // The candidates a prefetch reads: the key itself when it sits in its home
                // group, and only slots of the same tag.
                let candidates: Vec<u32> = t.home_candidates(h(key)).collect();
                if let Some(pos) = t.find(h(key), |s| s == key) {
                    prop_assert_eq!(pos.group == t.home(h(key)), candidates.contains(&key));
                }
                for s in candidates {
                    prop_assert_eq!(tag_of(h(s)), tag_of(h(key)));
                }
            }
            let mut all: Vec<u32> = t.slots().collect();
            all.sort_unstable();
            let mut want: Vec<u32> = model.keys().copied().collect();
            want.sort_unstable();
            prop_assert_eq!(all, want);
            t.retain(|s| s % 2 == 0);
            let present: Vec<u32> = t.slots().collect();
            t.shrink(|insert| {
                for s in present {
                    insert(s, h(s));
                }
            });
            for key in 0..300 {
                prop_assert_eq!(
                    t.find(h(key), |s| s == key).is_some(),
                    model.contains_key(&key) && key % 2 == 0
                );
            }
        }
    }
}
