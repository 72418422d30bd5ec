//! How a collection operation reads and changes its collection: an [`Edit`] decided under
//! the writer lock and appended as one atomic unit (header, element records or the key's
//! tombstone), so each operation is atomic with respect to every other writer and durable
//! under the store's `SyncPolicy` like any write.

use std::borrow::Cow;
use std::collections::HashMap;

use super::index::Collection;
use super::{ELEMENT_KEY_OVERHEAD, Header, ValueType, element_key};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::store::reentry_error;
use crate::write::{Op, Staged};

/// One member's change in an edit.
struct Change {
    member: Vec<u8>,
    /// The new value, or `None` when the member is removed.
    value: Option<Vec<u8>>,
    /// Whether the member was in the collection before the edit.
    existed: bool,
}

/// An operation's view of its collection: the committed members plus its own changes.
pub(crate) struct Edit<'e> {
    engine: &'e Engine,
    key: &'e [u8],
    /// The generation of the live collection, or of the one this edit creates.
    generation: u64,
    /// Whether the collection existed before the edit.
    existed: bool,
    committed_len: usize,
    changes: Vec<Change>,
    by_member: HashMap<Vec<u8>, usize>,
}

impl Edit<'_> {
    fn committed(&self, member: &[u8]) -> bool {
        self.existed
            && self
                .engine
                .read_collections()
                .get(self.key)
                .is_some_and(|c| c.members.contains(member))
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self
            .by_member
            .get(member)
            .and_then(|&i| self.changes.get(i))
        {
            Some(change) => change.value.is_some(),
            None => self.committed(member),
        }
    }

    /// The member's value (hash field value; empty for a set member).
    pub(crate) fn get(&self, member: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(change) = self
            .by_member
            .get(member)
            .and_then(|&i| self.changes.get(i))
        {
            return Ok(change.value.clone());
        }
        if !self.existed {
            return Ok(None);
        }
        read_element(self.engine, self.key, self.generation, member)
    }

    /// Number of members as the edit leaves them.
    pub(crate) fn len(&self) -> usize {
        let mut len = self.committed_len;
        for c in &self.changes {
            match (c.existed, c.value.is_some()) {
                (false, true) => len += 1,
                (true, false) => len -= 1,
                _ => {}
            }
        }
        len
    }

    /// Sets `member` to `value`; true if it was not there.
    pub(crate) fn put(&mut self, member: &[u8], value: Vec<u8>) -> Result<bool> {
        let options = &self.engine.options;
        let element_len = self.key.len() + member.len() + ELEMENT_KEY_OVERHEAD;
        if element_len > options.max_key_size {
            return Err(Error::KeyTooLarge {
                len: element_len,
                max: options.max_key_size,
            });
        }
        if value.len() > options.max_value_size {
            return Err(Error::ValueTooLarge {
                len: value.len(),
                max: options.max_value_size,
            });
        }
        let was = self.contains(member);
        self.change(member, Some(value));
        Ok(!was)
    }

    /// Removes `member`; true if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        let was = self.contains(member);
        if was {
            self.change(member, None);
        }
        was
    }

    fn change(&mut self, member: &[u8], value: Option<Vec<u8>>) {
        match self.by_member.get(member) {
            Some(&i) => {
                if let Some(c) = self.changes.get_mut(i) {
                    c.value = value;
                }
            }
            None => {
                let existed = self.committed(member);
                self.by_member.insert(member.to_vec(), self.changes.len());
                self.changes.push(Change {
                    member: member.to_vec(),
                    value,
                    existed,
                });
            }
        }
    }

    /// The records that make the edit durable: the header of a new collection, then one
    /// element record per changed member; or only the key's tombstone when the edit
    /// empties the collection (a collection never exists empty, as in Redis).
    fn records(&self, ty: ValueType) -> Vec<(RecordKind, Vec<u8>, Vec<u8>)> {
        let len = self.len();
        let mut out = Vec::new();
        if len == 0 {
            if self.existed {
                out.push((RecordKind::Delete, self.key.to_vec(), Vec::new()));
            }
            return out;
        }
        if !self.existed {
            let header = Header {
                ty,
                generation: self.generation,
            };
            out.push((
                RecordKind::Collection,
                self.key.to_vec(),
                header.encode().to_vec(),
            ));
        }
        for c in &self.changes {
            let element = element_key(self.key, self.generation, &c.member);
            match &c.value {
                Some(value) => out.push((RecordKind::ElementPut, element, value.clone())),
                None if c.existed => out.push((RecordKind::ElementDelete, element, Vec::new())),
                None => {}
            }
        }
        out
    }
}

/// Reads the value of `member` in generation `generation` of the collection at `key`.
pub(crate) fn read_element(
    engine: &Engine,
    key: &[u8],
    generation: u64,
    member: &[u8],
) -> Result<Option<Vec<u8>>> {
    let element = element_key(key, generation, member);
    let Some(entry) = engine.elements.get(&element) else {
        return Ok(None);
    };
    engine.read_at(&element, entry, RecordKind::ElementPut, || {
        engine.elements.get(&element)
    })
}

impl Engine {
    /// Runs `f` on the collection of type `ty` at `key` (empty if absent) under the writer
    /// lock, then appends what it changed as one atomic unit and waits for durability.
    /// A key holding another type is `Error::WrongType`.
    pub(crate) fn edit_collection<T>(
        &self,
        key: &[u8],
        ty: ValueType,
        f: impl FnOnce(&mut Edit<'_>) -> Result<T>,
    ) -> Result<T> {
        self.check_open()?;
        if crate::store::inside_transaction(self) {
            return Err(reentry_error());
        }
        let mut w = self.lock_writer();
        self.check_writable()?;
        let now_ms = self.now_ms();
        let (existed, generation, committed_len) = match self.live_entry(key, Some(now_ms)) {
            None => (false, w.next_seq, 0),
            Some(entry) if !entry.collection => return Err(Error::WrongType),
            Some(_) => {
                let collections = self.read_collections();
                let c = collection_of(&collections, key, ty)?;
                (true, c.generation, c.members.len())
            }
        };
        let mut edit = Edit {
            engine: self,
            key,
            generation,
            existed,
            committed_len,
            changes: Vec::new(),
            by_member: HashMap::new(),
        };
        let value = f(&mut edit)?;
        let records = edit.records(ty);
        if records.is_empty() {
            return Ok(value);
        }
        let count = records.len();
        let staged: Vec<Staged<'_>> = records
            .iter()
            .enumerate()
            .map(|(i, (kind, key, value))| Staged {
                op: match kind {
                    RecordKind::Collection => Op::Collection {
                        key,
                        value: Cow::Borrowed(value),
                        expiry_ms: 0,
                    },
                    RecordKind::ElementPut => Op::ElementPut {
                        key,
                        value: Cow::Borrowed(value),
                    },
                    RecordKind::ElementDelete => Op::ElementDelete { key },
                    RecordKind::Delete | RecordKind::Put => Op::Delete { key },
                },
                ends_unit: i + 1 == count,
            })
            .collect();
        let seq = self.commit(&mut w, &staged)?;
        drop(w);
        self.wait_durable(seq)?;
        Ok(value)
    }

    /// Runs `f` on the live collection of type `ty` at `key` (`None` if absent), for reads.
    pub(crate) fn read_collection<T>(
        &self,
        key: &[u8],
        ty: ValueType,
        f: impl FnOnce(Option<&Collection>) -> Result<T>,
    ) -> Result<T> {
        self.check_open()?;
        match self.live_entry(key, None) {
            None => f(None),
            Some(entry) if !entry.collection => Err(Error::WrongType),
            Some(_) => {
                let collections = self.read_collections();
                match collections.get(key) {
                    // Deleted between the two lookups.
                    None => f(None),
                    Some(c) if c.ty != ty => Err(Error::WrongType),
                    Some(c) => f(Some(c)),
                }
            }
        }
    }

    /// What `key` holds, if it is present and unexpired.
    pub(crate) fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        self.check_open()?;
        match self.live_entry(key, None) {
            None => Ok(None),
            Some(entry) if !entry.collection => Ok(Some(ValueType::String)),
            Some(_) => Ok(self.read_collections().get(key).map(|c| c.ty)),
        }
    }
}

fn collection_of<'c>(
    collections: &'c super::index::Collections,
    key: &[u8],
    ty: ValueType,
) -> Result<&'c Collection> {
    match collections.get(key) {
        Some(c) if c.ty == ty => Ok(c),
        Some(_) => Err(Error::WrongType),
        None => Err(Error::Poisoned {
            reason: "a collection's header is indexed without its members".into(),
        }),
    }
}
