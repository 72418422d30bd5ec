//! A collection's members in memory: a set of names for hashes and sets, the ordered
//! positions of a list.

use std::cell::Cell;
use std::collections::{HashSet, VecDeque};

use indexmap::IndexSet;

use crate::collections::zset_index::ZsetIndex;
use crate::error::{Error, Result};

/// Heap bytes of a boxed byte string: glibc's chunk for it (8 bytes of header, 16-byte
/// granularity, 32 bytes at least).
fn boxed_bytes(len: usize) -> usize {
    ((len + 8).div_ceil(16) * 16).max(32)
}

/// A list element's member is its position, big-endian, so that byte order is list order.
pub(crate) fn position_member(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

/// A sorted-set element's value: its score, as the bits of an `f64`, little-endian.
pub(crate) fn score_value(score: f64) -> [u8; 8] {
    score.to_le_bytes()
}

/// The score a sorted-set element's value holds (`None` for other bytes, or NaN).
pub(crate) fn value_score(value: &[u8]) -> Option<f64> {
    let score = f64::from_le_bytes(value.try_into().ok()?);
    (!score.is_nan()).then_some(score)
}

/// Where a list element's record is — its segment id and offset, packed as
/// `segment << 32 | offset` — so that LRANGE reads it without an element-index lookup.
/// [`NO_RECORD`] where it is not known. A record at a known place is read only after its
/// checksum, key and kind are verified, and otherwise through the element index.
pub(crate) type RecordAt = u64;

/// A list element whose record's place is not known.
pub(crate) const NO_RECORD: RecordAt = u64::MAX;

/// The packed place of a record (segment ids never reach `u32::MAX`, so a place is never
/// [`NO_RECORD`]).
pub(crate) fn record_at(file_id: u32, offset: u32) -> RecordAt {
    (u64::from(file_id) << 32) | u64::from(offset)
}

/// The segment id and offset of a known place.
pub(crate) fn record_place(at: RecordAt) -> Option<(u32, u32)> {
    (at != NO_RECORD).then_some(((at >> 32) as u32, at as u32))
}

/// A list's positions, ascending, and beside each the place of its element's record.
#[derive(Debug, Default)]
pub(crate) struct ListPositions {
    positions: VecDeque<u64>,
    records: VecDeque<RecordAt>,
}

impl ListPositions {
    /// Index of `position`, if the list holds it.
    fn index_of(&self, position: u64) -> Option<usize> {
        // Ends first: pops and pushes touch them, and a long list's middle is rarely in
        // cache.
        if self.positions.front() == Some(&position) {
            return Some(0);
        }
        if self.positions.back() == Some(&position) {
            return Some(self.positions.len() - 1);
        }
        self.positions.binary_search(&position).ok()
    }

    /// The record places of `positions` (ascending, as a range of this list gives them),
    /// appended to `out`: [`NO_RECORD`] for a position the list does not hold.
    pub(crate) fn records_of(&self, positions: &[u64], out: &mut Vec<RecordAt>) {
        let mut next = None;
        for &p in positions {
            // Positions of one range are neighbours here: one search, then steps.
            let at = match next {
                Some(i) if self.positions.get(i) == Some(&p) => Some(i),
                _ => self.index_of(p),
            };
            out.push(
                at.and_then(|i| self.records.get(i))
                    .copied()
                    .unwrap_or(NO_RECORD),
            );
            next = at.map(|i| i + 1);
        }
    }
}

/// The position a list element's member names, if it is one.
pub(crate) fn member_position(member: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(member.try_into().ok()?))
}

/// Hash fields or set members: an index set, for O(1) random picks and removals. Removals
/// are `swap_remove`s only: HSCAN's and SSCAN's cursor relies on it (`scan_cursor`).
pub(crate) type Names = IndexSet<Box<[u8]>, foldhash::fast::RandomState>;

/// A random number (SplitMix64 over a per-thread state seeded from std's random keys).
pub(crate) fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x6b65_6720_7261_6e64);
            h.finish()
        });
    }
    STATE.with(|state| {
        let mut z = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A random index below `len` (which is not 0).
pub(crate) fn random_below(len: usize) -> usize {
    (random_u64() % len as u64) as usize
}

/// Most picks one random read with repetition may ask for (SRANDMEMBER, HRANDFIELD and
/// ZRANDMEMBER with a negative count): such a count is not bounded by the collection.
pub(crate) const MAX_REPEATED_PICKS: usize = 1 << 20;
/// Most bytes the picks of one random read may copy (members, and values where asked).
pub(crate) const MAX_PICK_BYTES: usize = 512 << 20;

fn too_many_picks() -> Error {
    Error::InvalidArgument {
        reason: format!(
            "a random read with repetition takes at most {MAX_REPEATED_PICKS} picks and \
             {} MiB",
            MAX_PICK_BYTES >> 20
        ),
    }
}

/// Refuses a repeated-pick count above [`MAX_REPEATED_PICKS`] before anything is drawn.
pub(crate) fn check_pick_count(count: usize, distinct: bool) -> Result<()> {
    if !distinct && count > MAX_REPEATED_PICKS {
        return Err(too_many_picks());
    }
    Ok(())
}

/// The bytes a random read with repetition has copied so far, refused past
/// [`MAX_PICK_BYTES`] (a few large members picked many times over would otherwise take any
/// amount of memory). Distinct picks are not counted: they copy no more than the
/// collection holds, as SMEMBERS or HGETALL do.
pub(crate) struct PickBytes {
    copied: usize,
    limit: usize,
}

impl PickBytes {
    pub(crate) fn new(distinct: bool) -> PickBytes {
        PickBytes {
            copied: 0,
            limit: if distinct { usize::MAX } else { MAX_PICK_BYTES },
        }
    }

    /// Counts `n` more bytes.
    pub(crate) fn add(&mut self, n: usize) -> Result<()> {
        self.copied = self.copied.saturating_add(n);
        if self.copied > self.limit {
            return Err(too_many_picks());
        }
        Ok(())
    }

    /// Counts and copies `member`.
    pub(crate) fn copy(&mut self, member: &[u8]) -> Result<Vec<u8>> {
        self.add(member.len())?;
        Ok(member.to_vec())
    }
}

/// `count` random picks among `len` items: distinct ones (at most `len`), or with
/// repetition (Redis's negative SRANDMEMBER count; see [`check_pick_count`]).
pub(crate) fn random_indexes(len: usize, count: usize, distinct: bool) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    if !distinct {
        return (0..count).map(|_| random_below(len)).collect();
    }
    if count >= len {
        return (0..len).collect();
    }
    if count * 2 >= len {
        // Many of them: a partial Fisher-Yates shuffle.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = i + random_below(len - i);
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    let mut chosen = HashSet::with_capacity(count);
    while chosen.len() < count {
        chosen.insert(random_below(len));
    }
    chosen.into_iter().collect()
}

#[derive(Debug)]
pub(crate) enum Members {
    /// Hash fields or set members.
    Names(Names),
    /// List positions, ascending, with their records' places.
    Positions(ListPositions),
    /// Sorted-set members and their scores, in score order.
    Scored(ZsetIndex),
    /// Sorted-set members gathered at open, sorted once by [`Members::sort`].
    ScoredPending(Vec<(std::sync::Arc<[u8]>, f64)>),
    /// Hash fields or set members gathered at open (each once: they come from the element
    /// index), made an index set of the right size once by [`Members::sort`] instead of
    /// one that grows and rehashes as they arrive.
    NamesPending(Vec<Box<[u8]>>),
}

impl Members {
    pub(crate) fn len(&self) -> usize {
        match self {
            Members::Names(names) => names.len(),
            Members::Positions(list) => list.positions.len(),
            Members::Scored(index) => index.len(),
            Members::ScoredPending(pending) => pending.len(),
            Members::NamesPending(pending) => pending.len(),
        }
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self {
            Members::Names(names) => names.contains(member),
            // A push asks about a position past an end: answered without a search (a long
            // list's middle is rarely in cache).
            Members::Positions(list) => member_position(member).is_some_and(|p| {
                let positions = &list.positions;
                positions.front().is_some_and(|&first| first <= p)
                    && positions.back().is_some_and(|&last| p <= last)
                    && positions.binary_search(&p).is_ok()
            }),
            Members::Scored(index) => index.contains(member),
            Members::ScoredPending(pending) => pending.iter().any(|(m, _)| &m[..] == member),
            Members::NamesPending(pending) => pending.iter().any(|m| &m[..] == member),
        }
    }

    /// Adds `member` with the element's `value` (a score for a sorted set) and the place
    /// of its record (kept for list elements, new or rewritten); true if it is new.
    /// Returns the heap bytes added too (names only; a sorted set counts its own).
    pub(crate) fn insert(&mut self, member: &[u8], value: &[u8], at: RecordAt) -> (bool, usize) {
        match self {
            Members::Scored(index) => match value_score(value) {
                Some(score) => (matches!(index.insert(member, score), Ok(None)), 0),
                None => (false, 0),
            },
            Members::ScoredPending(pending) => match value_score(value) {
                Some(score) => {
                    pending.push((member.into(), score));
                    (true, 0)
                }
                None => (false, 0),
            },
            Members::Names(names) => {
                let added = names.insert(member.into());
                (added, if added { boxed_bytes(member.len()) } else { 0 })
            }
            Members::NamesPending(pending) => {
                pending.push(member.into());
                (true, boxed_bytes(member.len()))
            }
            Members::Positions(list) => {
                let Some(p) = member_position(member) else {
                    return (false, 0);
                };
                // Pushes at either end are the common case: no search.
                if list.positions.back().is_none_or(|&last| last < p) {
                    list.positions.push_back(p);
                    list.records.push_back(at);
                } else if list.positions.front().is_some_and(|&first| p < first) {
                    list.positions.push_front(p);
                    list.records.push_front(at);
                } else {
                    match list.positions.binary_search(&p) {
                        Ok(i) => {
                            // Rewritten (LSET, LINSERT, LREM): the newest record counts.
                            if let Some(record) = list.records.get_mut(i) {
                                *record = at;
                            }
                            return (false, 0);
                        }
                        Err(i) => {
                            list.positions.insert(i, p);
                            list.records.insert(i, at);
                        }
                    }
                }
                (true, 0)
            }
        }
    }

    /// Adds `member`, which is not a member yet, without keeping list positions sorted or
    /// names indexed (rebuilding at open, where the elements come in hash order, each
    /// once); [`Members::sort`] puts them in their final form afterwards.
    pub(crate) fn insert_unsorted(
        &mut self,
        member: &[u8],
        value: &[u8],
        at: RecordAt,
    ) -> (bool, usize) {
        match self {
            Members::Scored(_) => {
                *self = Members::ScoredPending(Vec::new());
                self.insert(member, value, at)
            }
            Members::Positions(list) => match member_position(member) {
                Some(p) => {
                    list.positions.push_back(p);
                    list.records.push_back(at);
                    (true, 0)
                }
                None => (false, 0),
            },
            Members::Names(names) if names.is_empty() => {
                *self = Members::NamesPending(Vec::new());
                self.insert(member, value, at)
            }
            Members::Names(_) | Members::ScoredPending(_) | Members::NamesPending(_) => {
                self.insert(member, value, at)
            }
        }
    }

    /// A list element's record moved (merge copied it): `member` of this list is now read
    /// at `at`. Other members are not affected.
    pub(crate) fn relocate(&mut self, member: &[u8], at: RecordAt) {
        if let (Members::Positions(list), Some(p)) = (self, member_position(member))
            && let Some(i) = list.index_of(p)
            && let Some(record) = list.records.get_mut(i)
        {
            *record = at;
        }
    }

    /// Puts members gathered by [`Members::insert_unsorted`] in their final form: list
    /// positions sorted, sorted-set members indexed by score, names in an index set.
    pub(crate) fn sort(&mut self) {
        match self {
            Members::Positions(list) => {
                let mut pairs: Vec<(u64, RecordAt)> = std::mem::take(&mut list.positions)
                    .into_iter()
                    .zip(std::mem::take(&mut list.records))
                    .collect();
                pairs.sort_unstable_by_key(|&(p, _)| p);
                (list.positions, list.records) = pairs.into_iter().unzip();
            }
            Members::ScoredPending(pending) => {
                *self = Members::Scored(ZsetIndex::from_distinct_members(std::mem::take(pending)));
            }
            Members::NamesPending(pending) => {
                let mut names = Names::with_capacity_and_hasher(pending.len(), Default::default());
                names.extend(std::mem::take(pending));
                *self = Members::Names(names);
            }
            Members::Names(_) | Members::Scored(_) => {}
        }
    }

    /// Removes `member`; true if it was there. Returns the heap bytes freed too.
    pub(crate) fn remove(&mut self, member: &[u8]) -> (bool, usize) {
        match self {
            Members::Names(names) => {
                let removed = names.swap_remove(member);
                (
                    removed,
                    if removed {
                        boxed_bytes(member.len())
                    } else {
                        0
                    },
                )
            }
            Members::Positions(list) => {
                let Some(i) = member_position(member).and_then(|p| list.index_of(p)) else {
                    return (false, 0);
                };
                list.records.remove(i);
                (list.positions.remove(i).is_some(), 0)
            }
            Members::Scored(index) => (index.remove(member).is_some(), 0),
            Members::ScoredPending(pending) => {
                let before = pending.len();
                pending.retain(|(m, _)| &m[..] != member);
                (pending.len() < before, 0)
            }
            Members::NamesPending(pending) => {
                let before = pending.len();
                pending.retain(|m| &m[..] != member);
                let removed = pending.len() < before;
                (
                    removed,
                    if removed {
                        boxed_bytes(member.len())
                    } else {
                        0
                    },
                )
            }
        }
    }

    /// Every member (list positions in order, as their member bytes).
    pub(crate) fn to_vec(&self) -> Vec<Vec<u8>> {
        match self {
            Members::Names(names) => names.iter().map(|m| m.to_vec()).collect(),
            Members::Positions(list) => list
                .positions
                .iter()
                .map(|&p| position_member(p).to_vec())
                .collect(),
            Members::Scored(index) => index.iter().map(|(m, _)| m.to_vec()).collect(),
            Members::ScoredPending(pending) => pending.iter().map(|(m, _)| m.to_vec()).collect(),
            Members::NamesPending(pending) => pending.iter().map(|m| m.to_vec()).collect(),
        }
    }

    /// `count` random members (see [`random_indexes`]); hash fields and set members only.
    pub(crate) fn random(&self, count: usize, distinct: bool) -> Result<Vec<Vec<u8>>> {
        check_pick_count(count, distinct)?;
        let mut bytes = PickBytes::new(distinct);
        match self {
            Members::Names(names) => random_indexes(names.len(), count, distinct)
                .into_iter()
                .filter_map(|i| names.get_index(i))
                .map(|m| bytes.copy(m))
                .collect(),
            _ => Ok(Vec::new()),
        }
    }

    /// A hash's fields or a set's members, in their index order.
    pub(crate) fn names(&self) -> Option<&Names> {
        match self {
            Members::Names(names) => Some(names),
            _ => None,
        }
    }

    /// A list's positions, ascending.
    pub(crate) fn list(&self) -> Option<&VecDeque<u64>> {
        match self {
            Members::Positions(list) => Some(&list.positions),
            _ => None,
        }
    }

    /// A list's positions and their records' places.
    pub(crate) fn list_records(&self) -> Option<&ListPositions> {
        match self {
            Members::Positions(list) => Some(list),
            _ => None,
        }
    }

    /// The sorted-set index, if these are a sorted set's members.
    pub(crate) fn zset(&self) -> Option<&ZsetIndex> {
        match self {
            Members::Scored(index) => Some(index),
            _ => None,
        }
    }

    /// List positions `range` (by index), ascending; empty for other types.
    pub(crate) fn positions(&self, range: std::ops::Range<usize>) -> Vec<u64> {
        match self {
            Members::Positions(list) => list.positions.range(range).copied().collect(),
            _ => Vec::new(),
        }
    }

    /// Heap bytes per member beyond the names themselves: a hash-set slot (a boxed slice
    /// and a control byte, at 7/8 load) or a position and its record's place.
    fn slot_bytes(&self) -> usize {
        match self {
            // An index-set entry (hash and boxed name: 24 bytes) and its index slot (8
            // bytes, at 7/8 load).
            Members::Names(_) | Members::NamesPending(_) => 24 + 8 * 8 / 7,
            Members::Positions(_) => 16,
            Members::Scored(_) | Members::ScoredPending(_) => 0,
        }
    }

    /// Heap bytes beyond the member names counted at insert (a sorted set counts all of
    /// its own, names included).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Members::Scored(index) => index.memory_bytes(),
            _ => self.len() * self.slot_bytes(),
        }
    }
}
