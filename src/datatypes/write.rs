//! How a collection operation changes its collection: an [`Edit`] decided inside a
//! transaction (which holds the writer lock) and staged as records there — a new
//! collection's header, one element record per changed member, or only the key's tombstone
//! when the collection becomes empty. A `Store` method runs its edit as a one-operation
//! transaction, so each operation is one atomic unit in the log, durable under the store's
//! `SyncPolicy` like any write.

use std::borrow::Cow;

use super::list_shape::{ListShape, PositionChange};
use super::view::{CollectionView, Staged, committed_positions};
use super::{ELEMENT_KEY_OVERHEAD, FastMap, Header, ValueType, element_key, element_key_into};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::ops::Txn;
use crate::write::Op;

/// One member's change in an edit.
struct Change {
    member: Vec<u8>,
    /// The new value, or `None` when the member is removed.
    value: Option<Vec<u8>>,
    /// Whether the member was in the collection before the edit.
    existed: bool,
}

/// An operation's view of its collection: the collection as the transaction saw it when
/// the operation began, plus the operation's own changes.
pub(crate) struct Edit<'a, 'e, 's> {
    txn: &'a mut Txn<'e, 's>,
    key: Vec<u8>,
    ty: ValueType,
    /// The generation of the live collection, or of the one this edit creates.
    generation: u64,
    /// Whether the collection existed before the edit.
    existed: bool,
    len_before: usize,
    changes: Vec<Change>,
    /// Index of each member's change, built only once the edit has more than
    /// `SCAN_CHANGES` changes (most commands change one or two members: a scan is cheaper
    /// than a map and allocates nothing).
    by_member: FastMap<Vec<u8>, usize>,
}

/// Changes an edit looks through one by one before it indexes them.
const SCAN_CHANGES: usize = 8;

impl<'a, 'e, 's> Edit<'a, 'e, 's> {
    /// Starts an edit of the collection of type `ty` at `key` (empty if absent);
    /// `Error::WrongType` if the key holds another type.
    pub(crate) fn begin(txn: &'a mut Txn<'e, 's>, key: &[u8], ty: ValueType) -> Result<Self> {
        let found = Staged(txn).collection(key, ty)?;
        let (existed, generation, len_before) = match found {
            Some(f) => (true, f.generation, f.len),
            // The new header's sequence number: the writer lock is held, so the next
            // append starts right after the last record written.
            None => (
                false,
                txn.engine.next_seq_estimate() + txn.staged().len() as u64,
                0,
            ),
        };
        Ok(Edit {
            txn,
            key: key.to_vec(),
            ty,
            generation,
            existed,
            len_before,
            changes: Vec::new(),
            by_member: FastMap::default(),
        })
    }

    fn before(&self) -> Staged<'_, 'e, 's> {
        Staged(self.txn)
    }

    fn existed_before(&self, member: &[u8]) -> bool {
        self.existed && self.before().contains(&self.key, self.generation, member)
    }

    /// Members before the edit began.
    pub(crate) fn len_before(&self) -> usize {
        self.len_before
    }

    /// List positions `range` (by index) as they were before the edit began.
    pub(crate) fn positions_before(&self, range: std::ops::Range<usize>) -> Vec<u64> {
        if !self.existed {
            return Vec::new();
        }
        self.before()
            .list_positions(&self.key, self.generation, range)
    }

    /// Hints that the committed value of `member` will be read soon: its element index
    /// line is fetched into cache meanwhile, and with `entry` also the index entry that line
    /// points at (ask for the line first, and for the entry a little later, once the line
    /// is in: a lookup misses on both, one after the other).
    pub(crate) fn prefetch_before(&self, member: &[u8], entry: bool) {
        if !self.existed {
            return;
        }
        let elements = &self.txn.engine.elements;
        with_key_buffer(|element| {
            element_key_into(element, &self.key, self.generation, member);
            let hash = elements.prefetch_hashed(element);
            if entry {
                elements.prefetch_entries(hash);
            }
        });
    }

    /// `count` distinct random members as they were before the edit began.
    pub(crate) fn random_before(&self, count: usize) -> Result<Vec<Vec<u8>>> {
        if !self.existed {
            return Ok(Vec::new());
        }
        self.before()
            .random_members(&self.key, self.generation, count, true)
    }

    /// Runs `f` on the sorted set's index as it was before the edit began.
    pub(crate) fn with_zset_before(
        &self,
        f: &mut dyn FnMut(&crate::collections::zset_index::ZsetIndex),
    ) {
        if self.existed {
            self.before().with_zset(&self.key, self.generation, f);
        } else {
            f(&crate::collections::zset_index::ZsetIndex::new());
        }
    }

    /// The change of `member`, if the edit made one.
    fn change_of(&self, member: &[u8]) -> Option<&Change> {
        if self.changes.len() <= SCAN_CHANGES {
            self.changes.iter().find(|c| c.member == member)
        } else {
            self.by_member
                .get(member)
                .and_then(|&i| self.changes.get(i))
        }
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self.change_of(member) {
            Some(change) => change.value.is_some(),
            None => self.existed_before(member),
        }
    }

    /// The member's value (hash field value; empty for a set member).
    pub(crate) fn get(&self, member: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(change) = self.change_of(member) {
            return Ok(change.value.clone());
        }
        if !self.existed {
            return Ok(None);
        }
        self.before().value(&self.key, self.generation, member)
    }

    /// Number of members as the edit leaves them.
    pub(crate) fn len(&self) -> usize {
        let mut len = self.len_before;
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
        let options = &self.txn.engine.options;
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
        self.change(member, Some(value), was);
        Ok(!was)
    }

    /// Removes `member`; true if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        let was = self.contains(member);
        if was {
            self.change(member, None, true);
        }
        was
    }

    /// Removes `member` and returns its value, if it was there.
    pub(crate) fn take(&mut self, member: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.get(member)?;
        if value.is_some() {
            self.change(member, None, true);
        }
        Ok(value)
    }

    /// Records `member`'s new state; `was` says whether it is there now (before this
    /// change), which for a member the edit has not changed yet is whether it existed
    /// before the edit.
    fn change(&mut self, member: &[u8], value: Option<Vec<u8>>, was: bool) {
        let found = if self.changes.len() <= SCAN_CHANGES {
            self.changes.iter().position(|c| c.member == member)
        } else {
            self.by_member.get(member).copied()
        };
        if let Some(c) = found.and_then(|i| self.changes.get_mut(i)) {
            c.value = value;
            return;
        }
        self.changes.push(Change {
            member: member.to_vec(),
            value,
            existed: was,
        });
        if self.changes.len() == SCAN_CHANGES + 1 {
            // Past the scan limit: index every change so far.
            for (i, c) in self.changes.iter().enumerate() {
                self.by_member.insert(c.member.clone(), i);
            }
        } else if self.changes.len() > SCAN_CHANGES + 1 {
            self.by_member
                .insert(member.to_vec(), self.changes.len() - 1);
        }
    }

    /// The list's shape after this edit, if the transaction so far and this edit changed
    /// it only at its ends (see `list_shape.rs`).
    fn list_shape_after(&mut self) -> Option<ListShape> {
        let collections = self.txn.engine.read_collections();
        let empty = std::collections::VecDeque::new();
        let committed =
            committed_positions(&collections, &self.key, self.generation).unwrap_or(&empty);
        let mut shape = if Staged(self.txn).touched(&self.key, self.generation) {
            self.txn
                .list_shapes
                .remove(&self.key)
                .filter(|s| s.generation == self.generation)?
        } else {
            ListShape::untouched(self.generation, committed.len())
        };
        let changes = || {
            self.changes
                .iter()
                .map(|c| PositionChange::new(&c.member, c.value.is_some(), c.existed))
        };
        if changes().any(|c| c.is_none()) {
            return None;
        }
        shape.apply(committed, changes().flatten()).then_some(shape)
    }

    /// Stages the records that make the edit durable and returns their bytes; refuses
    /// (staging nothing) if they are more than `room` bytes.
    pub(crate) fn finish(mut self, room: u64) -> Result<u64> {
        if self.changes.is_empty() {
            // Nothing to write, and the transaction's view of the collection (its member
            // count, a list's shape) is what it was: an SADD of a member already there, a
            // pop from a missing key.
            return Ok(0);
        }
        let len = self.len();
        // Decided before the changes are staged (staging drops the list's old shape).
        let shape = if self.ty == ValueType::List && len > 0 {
            self.list_shape_after()
        } else {
            None
        };
        let mut ops = std::mem::take(&mut self.txn.op_scratch);
        ops.clear();
        if len == 0 {
            // A collection never exists empty, as in Redis: the key goes.
            if self.existed {
                ops.push(Op::Delete {
                    key: Cow::Owned(self.key.clone()),
                });
            }
        } else {
            if !self.existed {
                let header = Header {
                    ty: self.ty,
                    generation: self.generation,
                };
                ops.push(Op::Collection {
                    key: Cow::Owned(self.key.clone()),
                    value: Cow::Owned(header.encode().to_vec()),
                    expiry_ms: 0,
                });
            }
            for c in self.changes {
                let element = element_key(&self.key, self.generation, &c.member);
                match c.value {
                    Some(value) => ops.push(Op::ElementPut {
                        key: Cow::Owned(element),
                        value: Cow::Owned(value),
                    }),
                    None if c.existed => ops.push(Op::ElementDelete {
                        key: Cow::Owned(element),
                    }),
                    None => {}
                }
            }
        }
        let bytes: u64 = ops.iter().map(Op::encoded_len).sum();
        if bytes > room {
            ops.clear();
            self.txn.op_scratch = ops;
            return Err(Error::InvalidArgument {
                reason: format!(
                    "the transaction would carry {bytes} more bytes; {room} are left of its limit"
                ),
            });
        }
        for op in ops.drain(..) {
            self.txn.stage(op);
        }
        self.txn.op_scratch = ops;
        // Updated in place where the transaction already counts the collection (a
        // pipeline edits one key many times): the key is copied once per transaction.
        if len == 0 {
            self.txn.collection_lens.remove(&self.key);
        } else if let Some(lens) = self.txn.collection_lens.get_mut(&self.key) {
            *lens = (self.generation, len);
        } else {
            self.txn
                .collection_lens
                .insert(self.key.clone(), (self.generation, len));
        }
        if let Some(shape) = shape {
            self.txn.list_shapes.insert(self.key, shape);
        }
        Ok(bytes)
    }
}

/// Runs `f` with a buffer each thread keeps for building element keys: a pop reads one
/// element per command (and prefetches the next ones), and their keys need no allocation
/// of their own.
fn with_key_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static ELEMENT_KEY: std::cell::RefCell<Vec<u8>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    ELEMENT_KEY.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// Reads the value of `member` in generation `generation` of the collection at `key`.
pub(crate) fn read_element(
    engine: &Engine,
    key: &[u8],
    generation: u64,
    member: &[u8],
) -> Result<Option<Vec<u8>>> {
    with_key_buffer(|buf| with_element_with(engine, buf, key, generation, member, <[u8]>::to_vec))
}

/// Lends `f` the value of `member` in generation `generation` of the collection at `key`,
/// building the element key in `buf` (reused across a range read) and reading the value in
/// place where its segment is mapped.
pub(crate) fn with_element_with<R>(
    engine: &Engine,
    buf: &mut Vec<u8>,
    key: &[u8],
    generation: u64,
    member: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>> {
    element_key_into(buf, key, generation, member);
    let element = &buf[..];
    let Some(entry) = engine.elements.get(element) else {
        return Ok(None);
    };
    engine.with_value_at(
        element,
        entry,
        RecordKind::ElementPut,
        || engine.elements.get(element),
        f,
    )
}

impl Engine {
    /// The sequence number the next append starts at (exact while the writer lock is held).
    pub(crate) fn next_seq_estimate(&self) -> u64 {
        self.written_seq
            .load(std::sync::atomic::Ordering::Acquire)
            .saturating_add(1)
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
