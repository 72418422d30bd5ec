//! The collections' member sets in memory, and how the write path keeps them in step with
//! the records it appends (`Engine::publish` calls in here under the writer lock).

use std::sync::{RwLockReadGuard, RwLockWriteGuard};

use super::members::{ListPositions, Members, NO_RECORD, Names, RecordAt};
use super::{Header, ValueType, element_key, split_element_key};
use crate::collections::zset_index::ZsetIndex;
use crate::engine::Engine;
use crate::write::Writer;

/// One live collection: its type, generation and members.
#[derive(Debug)]
pub(crate) struct Collection {
    pub(crate) ty: ValueType,
    pub(crate) generation: u64,
    pub(crate) members: Members,
    /// Heap bytes of this collection's member names.
    member_bytes: usize,
}

/// What [`Collections::rebuild_unscored_member`] did with an element.
pub(crate) enum MemberRebuild {
    /// A member of a live collection now.
    Added,
    /// Of no live collection (deleted, or of an older generation).
    Dead,
    /// A sorted-set member: it needs its score, read from its record.
    NeedsScore,
}

/// Every live collection, by key.
#[derive(Debug, Default)]
pub(crate) struct Collections {
    map: super::FastMap<Box<[u8]>, Collection>,
    /// Members of every collection, for `stats()`.
    elements: usize,
    /// Heap bytes of member names, for the memory estimate.
    member_bytes: usize,
}

impl Collections {
    /// The collection at `key` if it is of generation `generation` (an older generation's
    /// elements are dead: a view asking for them finds nothing).
    pub(crate) fn of_generation(&self, key: &[u8], generation: u64) -> Option<&Collection> {
        self.get(key).filter(|c| c.generation == generation)
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&Collection> {
        self.map.get(key)
    }

    /// Starts (or replaces) the collection at `key`.
    pub(crate) fn create(&mut self, key: &[u8], header: Header) {
        self.remove(key);
        self.map.insert(
            key.into(),
            Collection {
                ty: header.ty,
                generation: header.generation,
                members: match header.ty {
                    ValueType::List => Members::Positions(ListPositions::default()),
                    ValueType::ZSet => Members::Scored(ZsetIndex::new()),
                    _ => Members::Names(Names::default()),
                },
                member_bytes: 0,
            },
        );
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Collection> {
        let gone = self.map.remove(key)?;
        self.elements -= gone.members.len();
        self.member_bytes -= gone.member_bytes;
        Some(gone)
    }

    /// Adds or removes `member` of generation `generation` at `key`; elements of another
    /// generation are ignored (they are dead).
    /// Adds `member` while rebuilding at open (list order is restored by
    /// [`Collections::finish_rebuild`]).
    pub(crate) fn rebuild_member(
        &mut self,
        key: &[u8],
        generation: u64,
        member: &[u8],
        value: &[u8],
    ) {
        let Some(c) = self.map.get_mut(key).filter(|c| c.generation == generation) else {
            return;
        };
        let (added, bytes) = c.members.insert_unsorted(member, value, NO_RECORD);
        if added {
            self.elements += 1;
            self.member_bytes += bytes;
            c.member_bytes += bytes;
        }
    }

    /// [`Collections::rebuild_member`] for a member that needs no value (a hash field, a set
    /// member, a list position), with one lookup of its collection.
    pub(crate) fn rebuild_unscored_member(
        &mut self,
        key: &[u8],
        generation: u64,
        member: &[u8],
        at: RecordAt,
    ) -> MemberRebuild {
        let Some(c) = self.map.get_mut(key).filter(|c| c.generation == generation) else {
            return MemberRebuild::Dead;
        };
        if c.ty == ValueType::ZSet {
            return MemberRebuild::NeedsScore;
        }
        let (added, bytes) = c.members.insert_unsorted(member, &[], at);
        if added {
            self.elements += 1;
            self.member_bytes += bytes;
            c.member_bytes += bytes;
        }
        MemberRebuild::Added
    }

    /// Puts every list's positions in order after a rebuild.
    pub(crate) fn finish_rebuild(&mut self) {
        for c in self.map.values_mut() {
            c.members.sort();
        }
    }

    pub(crate) fn update_member(
        &mut self,
        key: &[u8],
        generation: u64,
        member: &[u8],
        value: &[u8],
        add: Option<RecordAt>,
    ) {
        let Some(c) = self.map.get_mut(key).filter(|c| c.generation == generation) else {
            return;
        };
        if let Some(at) = add {
            let (added, bytes) = c.members.insert(member, value, at);
            if added {
                self.elements += 1;
                self.member_bytes += bytes;
                c.member_bytes += bytes;
            }
        } else {
            let (removed, bytes) = c.members.remove(member);
            if removed {
                self.elements -= 1;
                self.member_bytes -= bytes;
                c.member_bytes -= bytes;
            }
        }
    }

    /// A list element's record moved (merge copied it) to `at`.
    pub(crate) fn relocate_member(
        &mut self,
        key: &[u8],
        generation: u64,
        member: &[u8],
        at: RecordAt,
    ) {
        if let Some(c) = self.map.get_mut(key).filter(|c| c.generation == generation) {
            c.members.relocate(member, at);
        }
    }

    /// Number of collections.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Members of all collections.
    pub(crate) fn element_count(&self) -> usize {
        self.elements
    }

    /// Heap bytes held (an estimate: member names, set slots or list positions, and the
    /// collections' own records).
    pub(crate) fn memory_bytes(&self) -> usize {
        let slots: usize = self.map.values().map(|c| c.members.heap_bytes()).sum();
        let collections = self.map.len() * (16 + std::mem::size_of::<Collection>() + 1) * 8 / 7
            + self
                .map
                .keys()
                .map(|k| k.len().div_ceil(16) * 16)
                .sum::<usize>();
        self.member_bytes + slots + collections
    }
}

impl Engine {
    pub(crate) fn read_collections(&self) -> RwLockReadGuard<'_, Collections> {
        self.collections
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn write_collections(&self) -> RwLockWriteGuard<'_, Collections> {
        self.collections
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A header record was published for `key`: the same generation (a new expiry) keeps
    /// the members; another starts an empty collection and drops the old one's elements.
    pub(crate) fn collection_published(&self, w: &mut Writer, key: &[u8], value: &[u8]) {
        let Some(header) = Header::decode(value) else {
            return;
        };
        let same = self
            .read_collections()
            .get(key)
            .is_some_and(|c| c.generation == header.generation && c.ty == header.ty);
        if !same {
            self.forget_collection(w, key);
            self.write_collections().create(key, header);
        }
    }

    /// An element record was published — a put at `Some(place)`, or a delete — keep its
    /// collection's member set in step.
    pub(crate) fn element_published(&self, element: &[u8], value: &[u8], put: Option<RecordAt>) {
        if let Some((key, generation, member)) = split_element_key(element) {
            self.write_collections()
                .update_member(key, generation, member, value, put);
        }
    }

    /// Merge copied the records of these elements: the lists among their collections read
    /// them at their new places.
    pub(crate) fn elements_relocated(&self, moved: &[(&[u8], RecordAt)]) {
        if moved.is_empty() {
            return;
        }
        let mut collections = self.write_collections();
        for &(element, at) in moved {
            if let Some((key, generation, member)) = split_element_key(element) {
                collections.relocate_member(key, generation, member, at);
            }
        }
    }

    /// The collection at `key` is gone (deleted, overwritten, expired): drop it and its
    /// elements' index entries, whose records are now dead (merge reclaims them).
    pub(crate) fn forget_collection(&self, w: &mut Writer, key: &[u8]) {
        let Some(gone) = self.write_collections().remove(key) else {
            return;
        };
        for member in gone.members.to_vec() {
            let element = element_key(key, gone.generation, &member);
            if let Some(old) = self.elements.remove(&element) {
                w.remove_live(old.file_id, old.record_len(element.len()));
            }
        }
    }
}
