//! The collections' member sets in memory, and how the write path keeps them in step with
//! the records it appends (`Engine::publish` calls in here under the writer lock).

use std::collections::{HashMap, HashSet};
use std::sync::{RwLockReadGuard, RwLockWriteGuard};

use super::{Header, ValueType, element_key, split_element_key};
use crate::engine::Engine;
use crate::write::Writer;

/// One live collection: its type, generation and members.
#[derive(Debug)]
pub(crate) struct Collection {
    pub(crate) ty: ValueType,
    pub(crate) generation: u64,
    pub(crate) members: HashSet<Box<[u8]>>,
}

/// Every live collection, by key.
#[derive(Debug, Default)]
pub(crate) struct Collections {
    map: HashMap<Box<[u8]>, Collection>,
    /// Members of every collection, for `stats()`.
    elements: usize,
    /// Bytes of member names, for the memory estimate.
    member_bytes: usize,
}

/// Heap bytes of a boxed byte string beyond its pointer: the allocation, rounded to the
/// allocator's 16-byte granularity.
fn boxed_bytes(len: usize) -> usize {
    len.div_ceil(16) * 16
}

impl Collections {
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
                members: HashSet::new(),
            },
        );
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Collection> {
        let gone = self.map.remove(key)?;
        self.elements -= gone.members.len();
        self.member_bytes -= gone
            .members
            .iter()
            .map(|m| boxed_bytes(m.len()))
            .sum::<usize>();
        Some(gone)
    }

    /// Adds or removes `member` of generation `generation` at `key`; elements of another
    /// generation are ignored (they are dead).
    pub(crate) fn update_member(&mut self, key: &[u8], generation: u64, member: &[u8], add: bool) {
        let Some(c) = self.map.get_mut(key).filter(|c| c.generation == generation) else {
            return;
        };
        if add {
            if c.members.insert(member.into()) {
                self.elements += 1;
                self.member_bytes += boxed_bytes(member.len());
            }
        } else if c.members.remove(member) {
            self.elements -= 1;
            self.member_bytes -= boxed_bytes(member.len());
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

    /// Heap bytes held (an estimate: member names and set slots, collection records).
    pub(crate) fn memory_bytes(&self) -> usize {
        // A hash set slot: a boxed slice (16 bytes) and a control byte, at 7/8 load.
        let slots = self.elements * 17 * 8 / 7;
        let collections = self.map.len() * (16 + std::mem::size_of::<Collection>() + 1) * 8 / 7
            + self.map.keys().map(|k| boxed_bytes(k.len())).sum::<usize>();
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

    /// An element record was published: keep its collection's member set in step.
    pub(crate) fn element_published(&self, element: &[u8], _value: &[u8], added: bool) {
        if let Some((key, generation, member)) = split_element_key(element) {
            self.write_collections()
                .update_member(key, generation, member, added);
        }
    }

    /// The collection at `key` is gone (deleted, overwritten, expired): drop it and its
    /// elements' index entries, whose records are now dead (merge reclaims them).
    pub(crate) fn forget_collection(&self, w: &mut Writer, key: &[u8]) {
        let Some(gone) = self.write_collections().remove(key) else {
            return;
        };
        for member in &gone.members {
            let element = element_key(key, gone.generation, member);
            if let Some(old) = self.elements.remove(&element) {
                w.remove_live(old.file_id, old.record_len(element.len()));
            }
        }
    }
}
