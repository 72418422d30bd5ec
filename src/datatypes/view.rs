//! Two views of the collections that read operations run against: the committed store
//! (lock-free, for `Store`'s reads) and a transaction's (committed plus what it staged).
//! Each read operation is written once, over [`CollectionView`].

use std::collections::HashSet;
use std::ops::Range;

use super::ELEMENT_KEY_OVERHEAD;
use super::index::Collections;
use super::members::{
    Names, PickBytes, check_pick_count, member_position, position_member, random_below,
    random_indexes, value_score,
};
use super::write::{read_element, with_element_with};
use super::{FastMap, Header, ValueType};
use crate::collections::zset_index::ZsetIndex;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::{RecordKind, record_len};
use crate::keydir::{Entry, KeyHash};
use crate::ops::Txn;
use crate::ttl::is_expired;
use crate::write::Op;

/// A live collection as a view sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) generation: u64,
    pub(crate) len: usize,
}

/// What read operations need to know about collections.
pub(crate) trait CollectionView {
    /// The live collection of type `ty` at `key`; `Error::WrongType` if the key holds
    /// another type.
    fn collection(&self, key: &[u8], ty: ValueType) -> Result<Option<Found>>;
    /// Whether `member` is in generation `generation` of the collection at `key`.
    fn contains(&self, key: &[u8], generation: u64, member: &[u8]) -> bool;
    /// The value of `member` (a hash field's value; empty for a set member).
    fn value(&self, key: &[u8], generation: u64, member: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every member, in no particular order.
    fn members(&self, key: &[u8], generation: u64) -> Vec<Vec<u8>>;
    /// The positions of list elements `range` (by index), ascending.
    fn list_positions(&self, key: &[u8], generation: u64, range: Range<usize>) -> Vec<u64>;
    /// Lends `f` the value of each list element at `positions`, in order (LRANGE), skipping
    /// any that is gone; returns how many it lent.
    fn list_values_each(
        &self,
        key: &[u8],
        generation: u64,
        positions: &[u64],
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<usize>;
    /// Calls `f` with the value of each of `members`, in order (`None` for a member that is
    /// not there): HMGET, HGETALL. Reads many at once with their memory misses overlapping.
    fn values_each(
        &self,
        key: &[u8],
        generation: u64,
        members: &[&[u8]],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<()>;
    /// Runs `f` on the ordered index of a sorted set (an empty one if there is none).
    fn with_zset(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&ZsetIndex));
    /// Runs `f` on the committed names of a hash or set (an empty set if there are none),
    /// even where this view sees other members (see
    /// [`CollectionView::changed_by_transaction`]): the table a scan cursor walks.
    fn with_committed_names(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&Names));
    /// Whether this view sees the members of generation `generation` at `key` other than
    /// as committed (a transaction changed them).
    fn changed_by_transaction(&self, key: &[u8], generation: u64) -> bool;
    /// `count` random hash fields or set members: distinct ones, or with repetition
    /// (within the bounds of `members::check_pick_count` and `PickBytes`).
    fn random_members(
        &self,
        key: &[u8],
        generation: u64,
        count: usize,
        distinct: bool,
    ) -> Result<Vec<Vec<u8>>>;
}

/// The store as committed.
pub(crate) struct Committed<'e>(pub(crate) &'e Engine);

impl CollectionView for Committed<'_> {
    fn collection(&self, key: &[u8], ty: ValueType) -> Result<Option<Found>> {
        let engine = self.0;
        engine.check_open()?;
        match engine.live_entry(key, None) {
            None => Ok(None),
            Some(entry) if !entry.collection => Err(Error::WrongType),
            Some(_) => match engine.read_collections().get(key) {
                // Deleted between the two lookups.
                None => Ok(None),
                Some(c) if c.ty != ty => Err(Error::WrongType),
                Some(c) => Ok(Some(Found {
                    generation: c.generation,
                    len: c.members.len(),
                })),
            },
        }
    }

    fn contains(&self, key: &[u8], generation: u64, member: &[u8]) -> bool {
        self.0
            .read_collections()
            .of_generation(key, generation)
            .is_some_and(|c| c.members.contains(member))
    }

    fn value(&self, key: &[u8], generation: u64, member: &[u8]) -> Result<Option<Vec<u8>>> {
        read_element(self.0, key, generation, member)
    }

    fn list_values_each(
        &self,
        key: &[u8],
        generation: u64,
        positions: &[u64],
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<usize> {
        let engine = self.0;
        let mut lent = 0;
        let mut batch = RangeBatch::default();
        let mut members = Vec::with_capacity(RANGE_BATCH.min(positions.len()));
        let mut places = Vec::with_capacity(RANGE_BATCH.min(positions.len()));
        // The element keys differ only in their last 8 bytes, the position.
        let mut element = super::element_key(key, generation, &position_member(0));
        let position_at = element.len() - 8;
        for chunk in positions.chunks(RANGE_BATCH) {
            places.clear();
            if let Some(list) = engine
                .read_collections()
                .of_generation(key, generation)
                .and_then(|c| c.members.list_records())
            {
                list.records_of(chunk, &mut places);
            }
            let segments = engine.segments.load();
            if read_placed(
                engine,
                &segments,
                chunk,
                &places,
                &mut element,
                position_at,
                &mut *f,
            )?
            .map(|n| lent += n)
            .is_some()
            {
                continue;
            }
            // Some record's place is not known (or not mapped): through the element index.
            members.clear();
            members.extend(chunk.iter().map(|&p| position_member(p)));
            batch.read(engine, key, generation, &members, |value| {
                if let Some(value) = value {
                    lent += 1;
                    f(value);
                }
            })?;
        }
        Ok(lent)
    }

    fn values_each(
        &self,
        key: &[u8],
        generation: u64,
        members: &[&[u8]],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<()> {
        let mut batch = RangeBatch::default();
        for chunk in members.chunks(RANGE_BATCH) {
            batch.read(self.0, key, generation, chunk, &mut *f)?;
        }
        Ok(())
    }

    fn members(&self, key: &[u8], generation: u64) -> Vec<Vec<u8>> {
        self.0
            .read_collections()
            .of_generation(key, generation)
            .map(|c| c.members.to_vec())
            .unwrap_or_default()
    }

    fn random_members(
        &self,
        key: &[u8],
        generation: u64,
        count: usize,
        distinct: bool,
    ) -> Result<Vec<Vec<u8>>> {
        self.0
            .read_collections()
            .of_generation(key, generation)
            .map_or(Ok(Vec::new()), |c| c.members.random(count, distinct))
    }

    fn with_zset(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&ZsetIndex)) {
        let collections = self.0.read_collections();
        match collections
            .of_generation(key, generation)
            .and_then(|c| c.members.zset())
        {
            Some(index) => f(index),
            None => f(&ZsetIndex::new()),
        }
    }

    fn with_committed_names(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&Names)) {
        let collections = self.0.read_collections();
        match collections
            .of_generation(key, generation)
            .and_then(|c| c.members.names())
        {
            Some(names) => f(names),
            None => f(&Names::default()),
        }
    }

    fn changed_by_transaction(&self, _: &[u8], _: u64) -> bool {
        false
    }

    fn list_positions(&self, key: &[u8], generation: u64, range: Range<usize>) -> Vec<u64> {
        self.0
            .read_collections()
            .of_generation(key, generation)
            .map(|c| {
                let len = c.members.len();
                c.members
                    .positions(range.start.min(len)..range.end.min(len))
            })
            .unwrap_or_default()
    }
}

/// A transaction's view: what it staged, over the committed store.
pub(crate) struct Staged<'a, 'e, 's>(pub(crate) &'a Txn<'e, 's>);

impl Staged<'_, '_, '_> {
    fn committed(&self) -> Committed<'_> {
        Committed(self.0.engine)
    }

    /// The members of generation `generation` at `key` this transaction staged records
    /// for, each with the index of its newest staged op.
    fn overlay(&self, key: &[u8], generation: u64) -> Option<&FastMap<Vec<u8>, usize>> {
        self.0
            .staged_elements
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, members)| members)
    }

    /// Whether this transaction staged any element of generation `generation` at `key`.
    pub(crate) fn touched(&self, key: &[u8], generation: u64) -> bool {
        self.overlay(key, generation).is_some()
    }

    /// The staged op at `index`: `Some(value)` for a put, `None` for a delete.
    fn staged_value(&self, index: usize) -> Option<&[u8]> {
        match self.0.staged().get(index).map(|s| &s.op) {
            Some(Op::ElementPut { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// Random members of a hash or set this transaction changed, drawn from the committed
    /// members (rejecting those it removed) and the ones it added, so that an SPOP in a
    /// pipeline of SPOPs costs O(count) draws instead of listing the whole set. `None`
    /// when rejection would be slow (it removed over half the committed members) or
    /// when a distinct sample takes over half of the set: the caller lists the members.
    fn sample_over_committed(
        &self,
        overlay: &FastMap<Vec<u8>, usize>,
        names: &super::members::Names,
        count: usize,
        distinct: bool,
    ) -> Option<Result<Vec<Vec<u8>>>> {
        let mut added: Vec<&[u8]> = Vec::new();
        let mut removed = 0usize;
        for (member, &index) in overlay {
            match (
                self.staged_value(index).is_some(),
                names.contains(&member[..]),
            ) {
                (true, false) => added.push(member),
                (false, true) => removed += 1,
                _ => {}
            }
        }
        let committed = names.len();
        let total = committed - removed + added.len();
        if total == 0 {
            return Some(Ok(Vec::new()));
        }
        if removed * 2 > committed || (distinct && count * 2 >= total) {
            return None;
        }
        let is_removed = |m: &[u8]| {
            overlay
                .get(m)
                .is_some_and(|&index| self.staged_value(index).is_none())
        };
        // Index `i` over committed members then added ones; a removed member is a miss.
        let draw = || {
            let i = random_below(committed + added.len());
            match names.get_index(i) {
                Some(m) if is_removed(m) => None,
                Some(m) => Some((i, &m[..])),
                None => i
                    .checked_sub(committed)
                    .and_then(|j| added.get(j))
                    .map(|m| (i, *m)),
            }
        };
        let mut out = Vec::with_capacity(count.min(1024));
        let mut chosen = HashSet::new();
        let mut bytes = PickBytes::new(distinct);
        while out.len() < count {
            if let Some((i, m)) = draw()
                && (!distinct || chosen.insert(i))
            {
                match bytes.copy(m) {
                    Ok(m) => out.push(m),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        Some(Ok(out))
    }

    /// The newest staged record of `member`: `Some(Some(value))` put, `Some(None)` deleted.
    fn staged_element(&self, key: &[u8], generation: u64, member: &[u8]) -> Option<Option<&[u8]>> {
        let index = *self.overlay(key, generation)?.get(member)?;
        Some(self.staged_value(index))
    }
}

/// The committed positions of generation `generation` of the list at `key`.
pub(crate) fn committed_positions<'c>(
    collections: &'c Collections,
    key: &[u8],
    generation: u64,
) -> Option<&'c std::collections::VecDeque<u64>> {
    collections
        .of_generation(key, generation)
        .and_then(|c| c.members.list())
}

/// Two sorted sequences merged: `first_before(a, c)` says whether `a` (from `added`)
/// comes before `c` (from `committed`).
fn merge_walk(
    committed: impl Iterator<Item = u64>,
    added: impl Iterator<Item = u64>,
    first_before: impl Fn(u64, u64) -> bool,
) -> impl Iterator<Item = u64> {
    let mut committed = committed.peekable();
    let mut added = added.peekable();
    std::iter::from_fn(move || match (committed.peek(), added.peek()) {
        (Some(&c), Some(&a)) if first_before(a, c) => added.next(),
        (Some(_), _) => committed.next(),
        (None, _) => added.next(),
    })
}

impl CollectionView for Staged<'_, '_, '_> {
    fn collection(&self, key: &[u8], ty: ValueType) -> Result<Option<Found>> {
        let generation = if let Some(staged) = self.0.staged_state(key) {
            let now = self.0.now_ms();
            let Some((value, _, is_collection)) = staged.filter(|&(_, e, _)| !is_expired(e, now))
            else {
                return Ok(None);
            };
            if !is_collection {
                return Err(Error::WrongType);
            }
            let header = Header::decode(value).ok_or(Error::WrongType)?;
            if header.ty != ty {
                return Err(Error::WrongType);
            }
            header.generation
        } else {
            // As committed: the in-memory index knows the type and generation, so the
            // header need not be read (the clock is the transaction's).
            let engine = self.0.engine;
            match engine.live_entry(key, Some(self.0.now_ms())) {
                None => return Ok(None),
                Some(entry) if !entry.collection => return Err(Error::WrongType),
                Some(_) => match engine.read_collections().get(key) {
                    None => return Ok(None),
                    Some(c) if c.ty != ty => return Err(Error::WrongType),
                    Some(c) => c.generation,
                },
            }
        };
        let len = match self.0.collection_lens.get(key) {
            Some(&(g, len)) if g == generation => len,
            _ => self
                .0
                .engine
                .read_collections()
                .of_generation(key, generation)
                .map_or(0, |c| c.members.len()),
        };
        Ok(Some(Found { generation, len }))
    }

    fn contains(&self, key: &[u8], generation: u64, member: &[u8]) -> bool {
        match self.staged_element(key, generation, member) {
            Some(state) => state.is_some(),
            None => self.committed().contains(key, generation, member),
        }
    }

    fn value(&self, key: &[u8], generation: u64, member: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.staged_element(key, generation, member) {
            Some(state) => Ok(state.map(<[u8]>::to_vec)),
            None => self.committed().value(key, generation, member),
        }
    }

    fn list_values_each(
        &self,
        key: &[u8],
        generation: u64,
        positions: &[u64],
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<usize> {
        if !self.changed_by_transaction(key, generation) {
            return self
                .committed()
                .list_values_each(key, generation, positions, f);
        }
        let members: Vec<[u8; 8]> = positions.iter().map(|&p| position_member(p)).collect();
        let members: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
        let mut lent = 0;
        self.values_each(key, generation, &members, &mut |value| {
            if let Some(value) = value {
                lent += 1;
                f(value);
            }
        })?;
        Ok(lent)
    }

    fn values_each(
        &self,
        key: &[u8],
        generation: u64,
        members: &[&[u8]],
        f: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<()> {
        if !self.changed_by_transaction(key, generation) {
            return self.committed().values_each(key, generation, members, f);
        }
        let mut buf = Vec::new();
        for member in members {
            let found = match self.staged_element(key, generation, member) {
                Some(state) => state.map(|value| f(Some(value))),
                None => {
                    with_element_with(self.0.engine, &mut buf, key, generation, member, |value| {
                        f(Some(value))
                    })?
                }
            };
            if found.is_none() {
                f(None);
            }
        }
        Ok(())
    }

    fn members(&self, key: &[u8], generation: u64) -> Vec<Vec<u8>> {
        let mut members: HashSet<Vec<u8>> = self
            .committed()
            .members(key, generation)
            .into_iter()
            .collect();
        if let Some(overlay) = self.overlay(key, generation) {
            for (member, &index) in overlay {
                if self.staged_value(index).is_some() {
                    members.insert(member.clone());
                } else {
                    members.remove(member);
                }
            }
        }
        members.into_iter().collect()
    }

    fn random_members(
        &self,
        key: &[u8],
        generation: u64,
        count: usize,
        distinct: bool,
    ) -> Result<Vec<Vec<u8>>> {
        check_pick_count(count, distinct)?;
        let Some(overlay) = self.overlay(key, generation) else {
            return self
                .committed()
                .random_members(key, generation, count, distinct);
        };
        let collections = self.0.engine.read_collections();
        let names = collections
            .of_generation(key, generation)
            .and_then(|c| c.members.names());
        if let Some(picked) =
            names.and_then(|names| self.sample_over_committed(overlay, names, count, distinct))
        {
            return picked;
        }
        drop(collections);
        let members = self.members(key, generation);
        let mut bytes = PickBytes::new(distinct);
        random_indexes(members.len(), count, distinct)
            .into_iter()
            .filter_map(|i| members.get(i))
            .map(|m| bytes.copy(m))
            .collect()
    }

    fn with_zset(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&ZsetIndex)) {
        if !self.touched(key, generation) {
            return self.committed().with_zset(key, generation, f);
        }
        // Changed in this transaction: an index of what it sees, built for this read.
        let mut scored = Vec::new();
        for member in self.members(key, generation) {
            let score = self
                .value(key, generation, &member)
                .ok()
                .flatten()
                .as_deref()
                .and_then(value_score);
            if let Some(score) = score {
                scored.push((member, score));
            }
        }
        f(&ZsetIndex::from_members(scored));
    }

    fn with_committed_names(&self, key: &[u8], generation: u64, f: &mut dyn FnMut(&Names)) {
        self.committed().with_committed_names(key, generation, f);
    }

    fn changed_by_transaction(&self, key: &[u8], generation: u64) -> bool {
        self.touched(key, generation)
    }

    fn list_positions(&self, key: &[u8], generation: u64, range: Range<usize>) -> Vec<u64> {
        let Some(overlay) = self.overlay(key, generation) else {
            return self.committed().list_positions(key, generation, range);
        };
        let collections = self.0.engine.read_collections();
        let empty = std::collections::VecDeque::new();
        let committed = committed_positions(&collections, key, generation).unwrap_or(&empty);
        if let Some(shape) = self
            .0
            .list_shapes
            .get(key)
            .filter(|s| s.generation == generation)
        {
            return shape.positions(committed, range);
        }
        // Changed other than at its ends: walk the committed positions and this
        // transaction's own changes together, from the nearer end. Members are positions
        // in big-endian bytes: byte order is list order.
        let len = match self.0.collection_lens.get(key) {
            Some(&(g, len)) if g == generation => len,
            _ => committed.len(),
        };
        let (start, end) = (range.start.min(len), range.end.min(len));
        if start >= end {
            return Vec::new();
        }
        let present = |index: usize| self.staged_value(index).is_some();
        let removed = |p: u64| {
            overlay
                .get(&position_member(p)[..])
                .is_some_and(|&index| !present(index))
        };
        let is_committed = |p: u64| committed.binary_search(&p).is_ok();
        // The positions this transaction added, in list order (the overlay is unordered).
        let mut added: Vec<u64> = overlay
            .iter()
            .filter_map(|(m, &index)| {
                member_position(m).filter(|&p| present(index) && !is_committed(p))
            })
            .collect();
        added.sort_unstable();
        let from_front = start <= len - end;
        let (skip, take) = if from_front {
            (start, end - start)
        } else {
            (len - end, end - start)
        };
        let mut out: Vec<u64> = if from_front {
            merge_walk(
                committed.iter().copied().filter(|&p| !removed(p)),
                added.iter().copied(),
                |a, c| a < c,
            )
            .skip(skip)
            .take(take)
            .collect()
        } else {
            merge_walk(
                committed.iter().rev().copied().filter(|&p| !removed(p)),
                added.iter().rev().copied(),
                |a, c| a > c,
            )
            .skip(skip)
            .take(take)
            .collect()
        };
        if !from_front {
            out.reverse();
        }
        out
    }
}

impl Txn<'_, '_> {
    /// What `key` holds as this append's jobs so far left it (Redis's TYPE).
    pub(crate) fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        Ok(match self.current_state(key)? {
            None => None,
            Some((_, _, false)) => Some(ValueType::String),
            Some((header, _, true)) => Header::decode(&header).map(|h| h.ty),
        })
    }
}

/// Elements a range read looks up together.
const RANGE_BATCH: usize = 64;

/// Lines of a record at a known place that a range read prefetches (its header, key and
/// the start of its value; a short record's neighbours, read next, come with it).
const PLACE_PREFETCH_BYTES: usize = 4 * 64;

/// Reads the list elements at `positions`, whose records are at `places`, lending `f` each
/// value in order, without an element-index lookup: every record is prefetched, then read
/// and verified in place. `element` holds an element key of the list whose last 8 bytes,
/// from `position_at`, are rewritten for each position. Returns how many values it lent,
/// or `None` (having lent nothing) if some place is unknown or in no mapped segment. A
/// record not found as expected at its place (never, while the places are kept in step)
/// is read through the element index; an element gone from it is skipped.
fn read_placed(
    engine: &Engine,
    segments: &crate::segment::SegmentSet,
    positions: &[u64],
    places: &[super::members::RecordAt],
    element: &mut [u8],
    position_at: usize,
    f: &mut dyn FnMut(&[u8]),
) -> Result<Option<usize>> {
    if places.len() != positions.len() {
        return Ok(None);
    }
    for &at in places {
        match super::members::record_place(at)
            .and_then(|(id, offset)| Some((segments.get(id)?, offset)))
        {
            Some((segment, offset)) if segment.is_mapped() => {
                segment.prefetch_record(offset, PLACE_PREFETCH_BYTES);
            }
            _ => return Ok(None),
        }
    }
    let mut lent = 0;
    for (&position, &at) in positions.iter().zip(places) {
        if let Some(slot) = element.get_mut(position_at..) {
            slot.copy_from_slice(&position_member(position));
        }
        let element = &*element;
        let in_place = super::members::record_place(at).and_then(|(id, offset)| {
            segments
                .get(id)?
                .with_value_at_place(offset, element, RecordKind::ElementPut, &mut *f)
        });
        if in_place.is_some() {
            lent += 1;
            continue;
        }
        let Some(entry) = engine.elements.get(element) else {
            continue;
        };
        let read = engine.with_value_in(
            segments,
            element,
            entry,
            RecordKind::ElementPut,
            || engine.elements.get(element),
            &mut *f,
        )?;
        if read.is_some() {
            lent += 1;
        }
    }
    Ok(Some(lent))
}

/// Reads the values of a batch of elements in stages, so that their memory misses overlap:
/// every element's index line is prefetched, then the entries are looked up, then every
/// record is prefetched, then the values are read. Element by element, each lookup takes a
/// lock (a full barrier on x86) between one element's misses and the next one's, and the
/// three misses of each element (index line, index entry, record) come one after another.
#[derive(Default)]
struct RangeBatch {
    keys: Vec<u8>,
    ends: Vec<usize>,
    hashes: Vec<KeyHash>,
    entries: Vec<Option<Entry>>,
}

impl RangeBatch {
    /// Calls `f` with the value of each of `members` of generation `generation` at `key`,
    /// in order: `None` for a member that is not there.
    fn read<M: AsRef<[u8]>>(
        &mut self,
        engine: &Engine,
        key: &[u8],
        generation: u64,
        members: &[M],
        mut f: impl FnMut(Option<&[u8]>),
    ) -> Result<()> {
        self.keys.clear();
        self.ends.clear();
        self.hashes.clear();
        self.entries.clear();
        let overhead = ELEMENT_KEY_OVERHEAD + key.len();
        let member_bytes: usize = members.iter().map(|m| m.as_ref().len()).sum();
        self.keys.reserve(members.len() * overhead + member_bytes);
        self.ends.reserve(members.len());
        self.hashes.reserve(members.len());
        self.entries.reserve(members.len());
        let mut element = Vec::with_capacity(overhead + 8);
        for member in members {
            super::element_key_into(&mut element, key, generation, member.as_ref());
            self.keys.extend_from_slice(&element);
            self.ends.push(self.keys.len());
            self.hashes.push(engine.elements.prefetch_hashed(&element));
        }
        // Each lookup is two dependent misses (the table line, then the entries whose keys
        // it compares) before the record's own: each step is asked for across the whole
        // batch before the next one needs it.
        for &hash in &self.hashes {
            engine.elements.prefetch_entries(hash);
        }
        let segments = engine.segments.load();
        let mut start = 0;
        for (&end, &hash) in self.ends.iter().zip(&self.hashes) {
            let element = self.keys.get(start..end).unwrap_or_default();
            let entry = engine.elements.get_hashed(element, hash);
            if let Some(e) = entry
                && let Some(segment) = segments.get(e.file_id)
            {
                segment.prefetch_record(e.offset, record_len(element.len(), e.value_len as usize));
            }
            self.entries.push(entry);
            start = end;
        }
        let mut start = 0;
        for (&end, &entry) in self.ends.iter().zip(&self.entries) {
            let element = self.keys.get(start..end).unwrap_or_default();
            start = end;
            let read = match entry {
                None => None,
                Some(entry) => engine.with_value_in(
                    &segments,
                    element,
                    entry,
                    RecordKind::ElementPut,
                    || engine.elements.get(element),
                    |value| f(Some(value)),
                )?,
            };
            if read.is_none() {
                f(None);
            }
        }
        Ok(())
    }
}
