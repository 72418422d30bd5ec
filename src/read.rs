//! The read path: keydir lookup → expiry check → segment → one read → checksum verified.
//! Reads of several records that must agree with each other run inside
//! `Engine::read_together`.

use std::cell::Cell;
use std::sync::PoisonError;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::keydir::Entry;
use crate::segment::SegmentSet;
use crate::ttl::is_expired;

/// How often a read retries when its segment was retired between the index lookup and the
/// read (the index then already points elsewhere). More than a few means a bug.
const MAX_READ_ATTEMPTS: usize = 8;

thread_local! {
    /// Address of the engine whose `publication` lock this thread holds shared, or 0.
    static READING_TOGETHER: Cell<usize> = const { Cell::new(0) };
}

/// Whether this thread is inside `engine.read_together`.
pub(crate) fn reading_together(engine: &Engine) -> bool {
    READING_TOGETHER.with(|r| r.get() == std::ptr::from_ref(engine) as usize)
}

/// Marks this thread as reading together from one engine until dropped.
struct ReadingTogether {
    previous: usize,
}

impl ReadingTogether {
    fn enter(engine: &Engine) -> ReadingTogether {
        let previous = READING_TOGETHER.with(|r| r.replace(std::ptr::from_ref(engine) as usize));
        ReadingTogether { previous }
    }
}

impl Drop for ReadingTogether {
    fn drop(&mut self) {
        READING_TOGETHER.with(|r| r.set(self.previous));
    }
}

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

    /// Runs `f`, whose reads then see every commit whole or not at all: no commit points
    /// the indexes at its records meanwhile (a transaction that sets `a` and `b` is not
    /// seen half done by a reader of both). Reads of one record need none of this. Nests.
    ///
    /// `f` must not write or take the writer lock: a commit waiting for this reader would
    /// wait forever (writes check and refuse; see `write_refused_while_reading`).
    pub(crate) fn read_together<R>(&self, f: impl FnOnce() -> R) -> R {
        if reading_together(self) {
            return f();
        }
        let _shared = self
            .publication
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let _mark = ReadingTogether::enter(self);
        f()
    }

    /// The error for a write attempted inside `read_together`, if this is one.
    pub(crate) fn write_refused_while_reading(&self) -> Result<()> {
        if reading_together(self) {
            return Err(Error::InvalidArgument {
                reason: "the store was written from inside a read of several records".into(),
            });
        }
        Ok(())
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

    /// A write inside `read_together` is refused with an error (it would wait for its own
    /// thread's shared lock forever); reads nest; after it, writes go on.
    #[test]
    fn a_write_inside_read_together_is_refused() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.set(b"k", b"v").unwrap();
        let engine = store.engine();
        engine.read_together(|| {
            let refused = |r: Result<()>| {
                assert!(
                    matches!(r, Err(Error::InvalidArgument { ref reason }) if reason.contains("inside a read")),
                    "{r:?}"
                );
            };
            refused(store.set(b"k", b"w"));
            refused(store.transaction(|tx| tx.set(b"k", b"w")));
            refused(store.hset(b"h", b"f", b"v").map(drop));
            let nested = engine.read_together(|| store.get(b"k").unwrap());
            assert_eq!(nested.as_deref(), Some(&b"v"[..]));
            assert!(reading_together(engine));
        });
        assert!(!reading_together(engine));
        store.set(b"k", b"w").unwrap();
        assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"w"[..]));
    }
}
