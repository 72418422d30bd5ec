//! The read path: keydir lookup → expiry check → segment → one read → checksum verified.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::keydir::Entry;
use crate::segment::SegmentSet;
use crate::ttl::is_expired;

/// How often a read retries when its segment was retired between the index lookup and the
/// read (the index then already points elsewhere). More than a few means a bug.
const MAX_READ_ATTEMPTS: usize = 8;

impl Engine {
    /// The clock's current time.
    pub(crate) fn now_ms(&self) -> u64 {
        self.options.clock.now_ms()
    }

    /// `key`'s index entry, unless absent or expired (at `now_ms`, or at the clock's time,
    /// read only when the entry has an expiry).
    pub(crate) fn live_entry(&self, key: &[u8], now_ms: Option<u64>) -> Option<Entry> {
        self.keydir.get(key).filter(|e| {
            e.expiry_ms == 0 || !is_expired(e.expiry_ms, now_ms.unwrap_or_else(|| self.now_ms()))
        })
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_open()?;
        Ok(self.read_live(key, None)?.map(|(value, _)| value))
    }

    /// `key`'s value and expiry, unless absent or expired (as for `live_entry`).
    pub(crate) fn read_entry(&self, key: &[u8], now_ms: u64) -> Result<Option<(Vec<u8>, u64)>> {
        self.read_live(key, Some(now_ms))
    }

    fn read_live(&self, key: &[u8], now_ms: Option<u64>) -> Result<Option<(Vec<u8>, u64)>> {
        for _ in 0..MAX_READ_ATTEMPTS {
            let Some(entry) = self.live_entry(key, now_ms) else {
                return Ok(None);
            };
            if entry.collection {
                return Err(Error::WrongType);
            }
            let segments = self.segments.load();
            let Some(segment) = segments.get(entry.file_id) else {
                continue;
            };
            return segment
                .read_value(entry.offset, key, entry.value_len, RecordKind::Put)
                .map(|value| Some((value, entry.expiry_ms)));
        }
        Err(Error::corrupted(
            &self.dir,
            0,
            "index points at a segment that no longer exists",
        ))
    }

    /// Reads the value of the record `entry` points at (of kind `kind`, under `key`),
    /// retrying while a merge moves it (the entry is then looked up again with `lookup`).
    pub(crate) fn read_at(
        &self,
        key: &[u8],
        entry: Entry,
        kind: RecordKind,
        lookup: impl Fn() -> Option<Entry>,
    ) -> Result<Option<Vec<u8>>> {
        self.with_value_at(key, entry, kind, lookup, <[u8]>::to_vec)
    }

    /// `read_at`, lending the verified value to `f` instead of copying it out.
    pub(crate) fn with_value_at<R>(
        &self,
        key: &[u8],
        mut entry: Entry,
        kind: RecordKind,
        lookup: impl Fn() -> Option<Entry>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        for _ in 0..MAX_READ_ATTEMPTS {
            let segments = self.segments.load();
            if let Some(segment) = segments.get(entry.file_id) {
                return segment
                    .with_value(entry.offset, key, entry.value_len, kind, f)
                    .map(Some);
            }
            match lookup() {
                Some(e) => entry = e,
                None => return Ok(None),
            }
        }
        Err(Error::corrupted(
            &self.dir,
            0,
            "index points at a segment that no longer exists",
        ))
    }

    /// `with_value_at` through `segments`, a set the caller loaded once for many reads (a
    /// range read). A record in a segment newer than that set is read after a fresh load.
    pub(crate) fn with_value_in<R>(
        &self,
        segments: &SegmentSet,
        key: &[u8],
        entry: Entry,
        kind: RecordKind,
        lookup: impl Fn() -> Option<Entry>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        match segments.get(entry.file_id) {
            Some(segment) => segment
                .with_value(entry.offset, key, entry.value_len, kind, f)
                .map(Some),
            None => self.with_value_at(key, entry, kind, lookup, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range read loads the segment set once; a record in a segment that set does not
    /// hold (published after the load, by a rotation or a merge) is still read.
    #[test]
    fn a_read_through_an_older_segment_set_falls_back_to_a_fresh_load() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.set(b"k", b"value").unwrap();
        let engine = store.engine();
        let entry = engine.keydir.get(b"k").unwrap();
        let older = SegmentSet::default();
        let lookup = || engine.keydir.get(b"k");
        let read =
            engine.with_value_in(&older, b"k", entry, RecordKind::Put, lookup, <[u8]>::to_vec);
        assert_eq!(read.unwrap().as_deref(), Some(&b"value"[..]));
        let current = engine.segments.load();
        let read = engine.with_value_in(
            &current,
            b"k",
            entry,
            RecordKind::Put,
            lookup,
            <[u8]>::to_vec,
        );
        assert_eq!(read.unwrap().as_deref(), Some(&b"value"[..]));
    }
}
