//! The state shared by every handle of an open store. The write path (`write.rs`), read
//! path (`read.rs`) and fsync coordination (`durability.rs`) add their methods to it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use arc_swap::ArcSwap;

use crate::combine::WriteQueue;
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::keydir::Keydir;
use crate::lock::DirLock;
use crate::options::Options;
use crate::segment::SegmentSet;
use crate::stats::{JobFailure, MaintenanceJob};
use crate::write::Writer;

pub(crate) struct Engine {
    pub(crate) dir: PathBuf,
    pub(crate) options: Options,
    pub(crate) keydir: Keydir,
    /// Index of collection elements, by element key (see `datatypes`).
    pub(crate) elements: Keydir,
    /// The collections' member sets.
    pub(crate) collections: std::sync::RwLock<crate::datatypes::index::Collections>,
    /// The segments readers can reach; replaced as a whole when the set changes.
    pub(crate) segments: ArcSwap<SegmentSet>,
    /// The one logical writer. Every change to the keydir or the segment set happens while
    /// this is held, so read-modify-write operations are atomic.
    pub(crate) writer: Mutex<Writer>,
    /// Held exclusively by a commit while it points the indexes at its records, and shared
    /// by reads of several records (`Engine::read_together`), so that those see each
    /// commit whole or not at all. Lock order: `writer`, then this, then `collections`.
    pub(crate) publication: RwLock<()>,
    /// Keys the server's WATCH follows: the write path notes their writes.
    pub(crate) watched: crate::watch::WatchedKeys,
    /// Jobs of writers waiting for the writer lock's holder to append them.
    pub(crate) queue: WriteQueue,
    pub(crate) durability: Durability,
    closed: AtomicBool,
    poisoned: AtomicBool,
    poison_reason: Mutex<Option<String>>,
    lock: Mutex<Option<DirLock>>,
    pub(crate) fsyncs: AtomicU64,
    /// Expired keys deleted by the expiry cycle.
    pub(crate) expired_deleted: AtomicU64,
    /// Told of each key the expiry cycle deletes (see `Store::set_expiry_listener`).
    pub(crate) expiry_listener: RwLock<Option<crate::store::ExpiryListener>>,
    /// Shard the next expiry cycle starts from.
    pub(crate) expiry_cursor: std::sync::atomic::AtomicUsize,
    /// Id of the next segment file (rotation and merge outputs take ids from it).
    pub(crate) next_segment_id: std::sync::atomic::AtomicU32,
    /// Held by the one merge (or hint writing) at a time.
    pub(crate) merge_lock: Mutex<()>,
    pub(crate) merge_stats: Mutex<crate::merge::MergeTotals>,
    /// Sealed segments a merge or hint writer found damaged since open: background merges
    /// and hint writing leave them out (they would fail on them every time, and one damaged
    /// segment would stop every merge); `Store::merge` still tries them, and reports.
    pub(crate) damaged_segments: Mutex<std::collections::BTreeSet<u32>>,
    /// Maintenance jobs whose last run failed (`Stats::failing_jobs`).
    failing_jobs: Mutex<std::collections::BTreeMap<MaintenanceJob, JobFailure>>,
    /// Sequence number of the last record written (what the writer's `last_seq` says,
    /// readable without the writer lock).
    pub(crate) written_seq: AtomicU64,
    pub(crate) torn_bytes_truncated: u64,
    /// The active segment's id and the data length its hint file describes, if it has one
    /// (read at open, or written at close): a clean close with nothing appended since
    /// keeps it instead of writing it again.
    pub(crate) active_hint: Mutex<Option<(u32, u64)>>,
    /// What the index snapshot on disk describes, if the store was opened from one or has
    /// written one: a close with nothing changed since keeps it.
    pub(crate) snapshot: Mutex<Option<crate::snapshot::Fingerprint>>,
    /// The index was loaded from an index snapshot at open.
    pub(crate) opened_from_snapshot: bool,
}

/// Locks a mutex whose data stays consistent even if a holder panicked (no code panics
/// while holding these locks; this only avoids turning one bug into a cascade).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// The index records of `kind` live in: the element index or the key index.
    pub(crate) fn index_for(&self, kind: crate::format::RecordKind) -> &Keydir {
        if kind.is_element() {
            &self.elements
        } else {
            &self.keydir
        }
    }

    #[allow(clippy::too_many_arguments, reason = "assembled once, by open")]
    pub(crate) fn new(
        dir: PathBuf,
        options: Options,
        keydir: Keydir,
        elements: Keydir,
        collections: crate::datatypes::index::Collections,
        segments: SegmentSet,
        writer: Writer,
        synced_seq: u64,
        lock: DirLock,
        torn_bytes_truncated: u64,
        next_segment_id: u32,
        active_hint: Option<(u32, u64)>,
        snapshot: Option<crate::snapshot::Fingerprint>,
    ) -> Engine {
        Engine {
            dir,
            options,
            keydir,
            elements,
            collections: std::sync::RwLock::new(collections),
            segments: ArcSwap::from_pointee(segments),
            writer: Mutex::new(writer),
            publication: RwLock::new(()),
            watched: crate::watch::WatchedKeys::default(),
            queue: WriteQueue::default(),
            durability: Durability::new(synced_seq),
            closed: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            poison_reason: Mutex::new(None),
            lock: Mutex::new(Some(lock)),
            fsyncs: AtomicU64::new(0),
            expired_deleted: AtomicU64::new(0),
            expiry_listener: RwLock::new(None),
            expiry_cursor: std::sync::atomic::AtomicUsize::new(0),
            next_segment_id: std::sync::atomic::AtomicU32::new(next_segment_id),
            merge_lock: Mutex::new(()),
            merge_stats: Mutex::new(crate::merge::MergeTotals::default()),
            damaged_segments: Mutex::new(std::collections::BTreeSet::new()),
            failing_jobs: Mutex::new(std::collections::BTreeMap::new()),
            written_seq: AtomicU64::new(synced_seq),
            torn_bytes_truncated,
            active_hint: Mutex::new(active_hint),
            opened_from_snapshot: snapshot.is_some(),
            snapshot: Mutex::new(snapshot),
        }
    }

    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // The writer lock comes before `publication`: waiting for it while reading together
        // would wait for a commit that waits for this reader.
        debug_assert!(
            !crate::read::reading_together(self),
            "the writer lock was taken inside read_together"
        );
        lock(&self.writer)
    }

    /// Fails if the store is closed. Cheap enough for every read.
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Fails if the store is closed or poisoned. Writers call it while holding the writer
    /// lock, so no write can slip in after `close` has synced.
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.check_open()?;
        self.check_poisoned()
    }

    pub(crate) fn check_poisoned(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            let reason = lock(&self.poison_reason)
                .clone()
                .unwrap_or_else(|| "unknown failure".into());
            return Err(Error::Poisoned { reason });
        }
        Ok(())
    }

    /// Refuses all further writes: after a failed fsync the page cache may hold data that
    /// will never reach the disk, so nothing written later could be promised either.
    pub(crate) fn poison(&self, cause: &Error) {
        let mut reason = lock(&self.poison_reason);
        if reason.is_none() {
            *reason = Some(cause.to_string());
        }
        self.poisoned.store(true, Ordering::Release);
    }

    /// Notes how a run of maintenance `job` ended: a failure is kept (with how many in a
    /// row) until the job next succeeds.
    pub(crate) fn note_job<T>(&self, job: MaintenanceJob, outcome: &Result<T>) {
        let mut failing = lock(&self.failing_jobs);
        match outcome {
            Ok(_) => {
                failing.remove(&job);
            }
            Err(e) => {
                let in_a_row = failing.get(&job).map_or(0, |f| f.failures_in_a_row);
                failing.insert(
                    job,
                    JobFailure {
                        job,
                        error: e.to_string(),
                        at_unix_ms: self.options.clock.now_ms(),
                        failures_in_a_row: in_a_row + 1,
                    },
                );
            }
        }
    }

    /// The maintenance jobs whose last run failed, by job.
    pub(crate) fn failing_jobs(&self) -> Vec<JobFailure> {
        lock(&self.failing_jobs).values().cloned().collect()
    }

    /// Why the store refuses writes, if it does.
    pub(crate) fn poison_reason(&self) -> Option<String> {
        if !self.poisoned.load(Ordering::Acquire) {
            return None;
        }
        Some(lock(&self.poison_reason).clone().unwrap_or_default())
    }

    /// Marks the store closed (under the writer lock, so in-flight writes finish first),
    /// syncs what was written, and releases the directory lock. Idempotent.
    pub(crate) fn close(&self) -> Result<()> {
        {
            let _writer = self.lock_writer();
            if self.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
        }
        let synced = if self.poisoned.load(Ordering::Acquire) {
            Ok(())
        } else {
            self.sync_all()
        };
        if synced.is_ok() && !self.poisoned.load(Ordering::Acquire) {
            // Best effort, and only an optimisation: without it the next open scans the
            // active segment.
            let _ = self.write_active_hint();
            // Also best effort: without it the next open rebuilds the index from hints.
            let _ = self.write_index_snapshot();
        }
        lock(&self.lock).take();
        synced
    }
}
