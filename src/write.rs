//! The write path's mechanics: encode → append (one write(2)) → publish to the keydir, and
//! segment rotation. Who appends what, and the wait for durability afterwards, is in
//! `combine.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, MAX_SEQ, Record, RecordKind, encode_record, record_len};
use crate::keydir::Entry;
use crate::segment::Segment;
use crate::usage::SegmentUsage;

/// One change to one key, as the writer appends it. A value is borrowed from the caller or,
/// when an operation computed it (a counter, an append), owned.
#[derive(Clone, Debug)]
pub(crate) enum Op<'a> {
    Put {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
        expiry_ms: u64,
    },
    Delete {
        key: Cow<'a, [u8]>,
    },
    /// A collection's header (see `datatypes`): the key becomes a collection.
    Collection {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
        expiry_ms: u64,
    },
    /// One element of a collection, under its element key.
    ElementPut {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
    },
    /// Deletes one element of a collection.
    ElementDelete {
        key: Cow<'a, [u8]>,
    },
}

/// An op in a commit, and whether it ends its atomic unit (the ops of one job are one unit:
/// recovery applies all of them or none).
#[derive(Clone, Debug)]
pub(crate) struct Staged<'a> {
    pub(crate) op: Op<'a>,
    pub(crate) ends_unit: bool,
}

impl Op<'_> {
    pub(crate) fn key(&self) -> &[u8] {
        match self {
            Op::Put { key, .. }
            | Op::Delete { key }
            | Op::Collection { key, .. }
            | Op::ElementPut { key, .. }
            | Op::ElementDelete { key } => key,
        }
    }

    /// The record's kind, value and expiry.
    pub(crate) fn record_parts(&self) -> (RecordKind, &[u8], u64) {
        match self {
            Op::Put {
                value, expiry_ms, ..
            } => (RecordKind::Put, value, *expiry_ms),
            Op::Delete { .. } => (RecordKind::Delete, &[], 0),
            Op::Collection {
                value, expiry_ms, ..
            } => (RecordKind::Collection, value, *expiry_ms),
            Op::ElementPut { value, .. } => (RecordKind::ElementPut, value, 0),
            Op::ElementDelete { .. } => (RecordKind::ElementDelete, &[], 0),
        }
    }

    /// Bytes of the record this op appends.
    pub(crate) fn encoded_len(&self) -> u64 {
        let value_len = match self {
            Op::Put { value, .. } | Op::Collection { value, .. } | Op::ElementPut { value, .. } => {
                value.len()
            }
            Op::Delete { .. } | Op::ElementDelete { .. } => 0,
        };
        record_len(self.key().len(), value_len) as u64
    }
}

/// State owned by the one logical writer (behind `Engine::writer`).
pub(crate) struct Writer {
    pub(crate) active: Arc<Segment>,
    /// Bytes written to the active segment (all of them readable).
    pub(crate) active_len: u64,
    /// Sequence number of the next record.
    pub(crate) next_seq: u64,
    /// Usage of the active segment, kept apart from the sealed ones' because every write
    /// updates it.
    active_usage: SegmentUsage,
    sealed_usage: BTreeMap<u32, SegmentUsage>,
    /// Smallest sequence number of each file that left the store but may still be on disk
    /// (a merged segment a reader still holds; the output of a merge whose publication
    /// failed after renaming it into place). Its records are read again at the next open,
    /// so a merge must not drop a tombstone they could outlive.
    stray_min_seq: BTreeMap<u32, u64>,
    /// Reused encode buffer.
    buf: Vec<u8>,
}

/// How many keys of one commit get their keydir lines prefetched before the write.
const PREFETCH_KEYS: usize = 16;

/// How many records ahead of the one it publishes the keydir update loop prefetches.
const PUBLISH_AHEAD: usize = 8;

/// Encode buffers above this size are released after use rather than kept.
const KEEP_BUF_CAPACITY: usize = 1 << 20;

impl Writer {
    pub(crate) fn new(
        active: Arc<Segment>,
        active_len: u64,
        next_seq: u64,
        mut usage: BTreeMap<u32, SegmentUsage>,
    ) -> Writer {
        let active_usage = usage.remove(&active.id()).unwrap_or_default();
        Writer {
            active,
            active_len,
            next_seq,
            active_usage,
            sealed_usage: usage,
            stray_min_seq: BTreeMap::new(),
            buf: Vec::new(),
        }
    }

    /// Usage of every segment, by id.
    pub(crate) fn usage(&self) -> BTreeMap<u32, SegmentUsage> {
        let mut all = self.sealed_usage.clone();
        all.insert(self.active.id(), self.active_usage);
        all
    }

    pub(crate) fn usage_mut(&mut self, file_id: u32) -> &mut SegmentUsage {
        if file_id == self.active.id() {
            &mut self.active_usage
        } else {
            self.sealed_usage.entry(file_id).or_default()
        }
    }

    /// Sequence number of the last record written (0 before any).
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq.saturating_sub(1)
    }

    /// Drops a retired segment's figures; its file counts as stray until it is deleted.
    pub(crate) fn forget_segment(&mut self, file_id: u32) {
        if let Some(usage) = self.sealed_usage.remove(&file_id) {
            self.note_stray_file(file_id, usage.min_seq);
        }
    }

    /// Notes a file on disk that is not part of the store, holding records from `min_seq` on.
    pub(crate) fn note_stray_file(&mut self, file_id: u32, min_seq: u64) {
        self.stray_min_seq.insert(file_id, min_seq);
    }

    /// The smallest sequence number in stray files that are still on disk (`on_disk` tells),
    /// forgetting the others (`u64::MAX` when none is left).
    pub(crate) fn stray_floor(&mut self, on_disk: impl Fn(u32) -> bool) -> u64 {
        self.stray_min_seq.retain(|&id, _| on_disk(id));
        self.stray_min_seq
            .values()
            .copied()
            .min()
            .unwrap_or(u64::MAX)
    }

    pub(crate) fn remove_live(&mut self, file_id: u32, bytes: u64) {
        self.usage_mut(file_id).remove_live(bytes);
    }
}

impl Engine {
    /// A fresh segment id, higher than every id in use.
    pub(crate) fn allocate_segment_id(&self) -> Result<u32> {
        let id = self
            .next_segment_id
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        if id == u32::MAX {
            return Err(Error::Poisoned {
                reason: "segment ids are exhausted".into(),
            });
        }
        Ok(id)
    }

    /// Rejects a key or value over the configured limits.
    pub(crate) fn validate_put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.validate_key(key)?;
        if value.len() > self.options.max_value_size {
            return Err(Error::ValueTooLarge {
                len: value.len(),
                max: self.options.max_value_size,
            });
        }
        Ok(())
    }

    pub(crate) fn validate_key(&self, key: &[u8]) -> Result<()> {
        if key.len() > self.options.max_key_size {
            return Err(Error::KeyTooLarge {
                len: key.len(),
                max: self.options.max_key_size,
            });
        }
        Ok(())
    }

    /// Appends `staged` with one write(2), each atomic unit framed as a batch, and
    /// publishes them to the keydir. Returns the last sequence number used. The caller holds
    /// the writer lock and, after releasing it, calls `wait_durable`.
    pub(crate) fn commit(&self, w: &mut Writer, staged: &[Staged<'_>]) -> Result<u64> {
        self.check_writable()?;
        if staged.is_empty() {
            return Ok(w.last_seq());
        }
        // Records a later one of the same key in their unit replaces are not written.
        let superseded = crate::superseded::superseded_in_units(staged);
        let written = |i: usize| {
            superseded
                .as_ref()
                .is_none_or(|s| !s.get(i).copied().unwrap_or(false))
        };
        let total: u64 = (staged.iter().enumerate())
            .filter(|&(i, _)| written(i))
            .map(|(_, s)| s.op.encoded_len())
            .sum();
        let count = (0..staged.len()).filter(|&i| written(i)).count() as u64;
        if w.next_seq.saturating_add(count - 1) > MAX_SEQ {
            // Unreachable in practice (2^63 writes); refuse rather than wrap.
            return Err(Error::Poisoned {
                reason: "sequence numbers are exhausted".into(),
            });
        }
        let past_size = w.active_len + total > self.options.max_segment_size
            && w.active_len > FILE_HEADER_LEN as u64;
        // A record larger than a whole segment goes into an empty one, but only if that
        // one's read mapping reaches its end: a segment made at open (or before the limit
        // was raised) is mapped only as far as max_segment_size, and a record past the
        // mapping could not be read back. Rotation makes one mapped for it.
        if past_size || !w.active.reaches(w.active_len + total) {
            self.rotate(w, total)?;
        }

        let first_seq = w.next_seq;
        w.buf.clear();
        // The last record of a unit is never superseded, so batch framing is unchanged.
        for (n, (i, s)) in (staged.iter().enumerate())
            .filter(|&(i, _)| written(i))
            .enumerate()
        {
            let op = &s.op;
            let (kind, value, expiry_ms) = op.record_parts();
            encode_record(
                &mut w.buf,
                &Record {
                    seq: first_seq + n as u64,
                    expiry_ms,
                    kind,
                    batch_continues: !s.ends_unit && i + 1 < staged.len(),
                    key: op.key(),
                    value,
                },
            )
            .map_err(|_| Error::ValueTooLarge {
                len: value.len(),
                max: self.options.max_value_size,
            })?;
        }

        // The keydir update after the syscall would otherwise wait for memory: start
        // fetching the keys' table lines now, so the fetch overlaps the write(2).
        for s in staged.iter().take(PREFETCH_KEYS) {
            if !s.op.record_parts().0.is_element() {
                self.keydir.prefetch(s.op.key());
            }
        }
        let offset = w.active_len;
        if let Err(e) = w.active.write_at(&w.buf, offset) {
            self.roll_back_append(w, offset, &e);
            return Err(e);
        }
        if w.buf.capacity() > KEEP_BUF_CAPACITY {
            w.buf = Vec::new();
        }
        w.active_len = offset + total;
        w.active.publish_len(w.active_len);
        w.next_seq = first_seq + count;
        self.written_seq
            .store(w.last_seq(), std::sync::atomic::Ordering::Release);
        w.active_usage.total_bytes = w.active_len;

        let file_id = w.active.id();
        let mut record_offset = offset;
        // Readers of several records (`Engine::read_together`) wait while the indexes
        // change: they see this commit whole or not at all.
        let _publishing = self
            .publication
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keys past the first `PREFETCH_KEYS` (and elements) are prefetched as the loop
        // goes, `PUBLISH_AHEAD` records before their turn: a pipelined turn publishes
        // hundreds, each a table line far from the last.
        let mut ahead = staged
            .iter()
            .enumerate()
            .filter(|&(i, _)| written(i))
            .skip(PUBLISH_AHEAD);
        for (n, (_, s)) in (staged.iter().enumerate())
            .filter(|&(i, _)| written(i))
            .enumerate()
        {
            if let Some((_, next)) = ahead.next() {
                let next = &next.op;
                if next.record_parts().0.is_element() {
                    self.elements.prefetch(next.key());
                } else {
                    self.keydir.prefetch(next.key());
                }
            }
            let op = &s.op;
            let len = op.encoded_len();
            // Offsets fit in u32: segments hold at most 2 GiB plus one record of at most
            // 1 GiB + 64 KiB.
            let offset32 = u32::try_from(record_offset).unwrap_or(u32::MAX);
            self.publish(w, op, file_id, offset32, first_seq + n as u64, len)?;
            record_offset += len;
        }
        Ok(w.last_seq())
    }

    /// Points the keydir (or the element keydir) at a record just written, keeps the
    /// collections' member sets in step, and updates segment usage.
    fn publish(
        &self,
        w: &mut Writer,
        op: &Op<'_>,
        file_id: u32,
        offset: u32,
        seq: u64,
        len: u64,
    ) -> Result<()> {
        let key = op.key();
        let (kind, value, expiry_ms) = op.record_parts();
        w.usage_mut(file_id).record(seq, kind, expiry_ms);
        self.watched.note_write(kind, key);
        let keydir = self.index_for(kind);
        let replaced = if kind.is_tombstone() {
            keydir.remove(key)
        } else {
            let entry = Entry {
                file_id,
                offset,
                value_len: u32::try_from(value.len()).unwrap_or(u32::MAX),
                seq,
                expiry_ms,
                tombstone: false,
                collection: kind == RecordKind::Collection,
            };
            let old = keydir.upsert(key, entry).map_err(|_| {
                let e = Error::Poisoned {
                    reason: "the in-memory index is full".into(),
                };
                self.poison(&e);
                e
            })?;
            w.usage_mut(file_id).add_live(len);
            old
        };
        if let Some(old) = replaced {
            w.remove_live(old.file_id, old.record_len(key.len()));
        }
        match kind {
            RecordKind::Collection => self.collection_published(w, key, value),
            RecordKind::ElementPut => self.element_published(
                key,
                value,
                Some(crate::datatypes::members::record_at(file_id, offset)),
            ),
            RecordKind::ElementDelete => self.element_published(key, value, None),
            RecordKind::Put | RecordKind::Delete => {
                if replaced.is_some_and(|old| old.collection) {
                    self.forget_collection(w, key);
                }
            }
        }
        Ok(())
    }

    /// After a failed append, cuts the file back so that no partial record is left for the
    /// next append to bury in the middle of the segment. If even that fails, the end of the
    /// file is unknown and the store is poisoned.
    fn roll_back_append(&self, w: &mut Writer, offset: u64, cause: &Error) {
        if w.active.truncate(offset).is_err() {
            self.poison(cause);
        }
    }

    /// Seals the active segment and starts the next one. The sealed segment is fsynced
    /// first, whatever the policy, so that only the newest segment can ever end in a torn
    /// write; the new file is created and its directory entry fsynced before use.
    pub(crate) fn rotate(&self, w: &mut Writer, needed: u64) -> Result<()> {
        if let Err(e) = w.active.sync() {
            self.poison(&e);
            return Err(e);
        }
        self.fsyncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Waiters for records in the sealed segment are released by the next group fsync
        // (of the new segment), whose target covers them: the durability lock is never
        // taken under the writer lock.
        let id = self.allocate_segment_id()?;
        let map_len = self
            .options
            .max_segment_size
            .max(FILE_HEADER_LEN as u64 + needed);
        let segment = Arc::new(Segment::create(&self.dir, id, map_len, &self.options)?);
        let mut set = self.segments.load().with(Arc::clone(&segment));
        // Readers of the sealed segment no longer need its file descriptor. Best effort:
        // if it cannot be remapped, the segment keeps its descriptor and works as before.
        if let Ok(Some(sealed)) = w.active.sealed(&self.options) {
            set = set.replaced(Arc::new(sealed));
        }
        self.segments.store(Arc::new(set));
        let sealed_id = w.active.id();
        let sealed_usage = std::mem::take(&mut w.active_usage);
        w.sealed_usage.insert(sealed_id, sealed_usage);
        w.active = segment;
        w.active_len = FILE_HEADER_LEN as u64;
        Ok(())
    }
}
