//! [`Store`]: the public API. Thin: it validates arguments and delegates to the write path,
//! read path and recovery. TTL operations are in `expiring.rs`, atomic operations in
//! `atomic.rs`.

/// Hint files the background thread writes per tick (each scans one segment).
const HINTS_PER_TICK: usize = 4;

mod backup;
mod clock_time;
mod expiring;
mod introspect;
mod scan;
mod transaction;
pub(crate) mod write_ops;

pub use backup::BackupReport;
pub use expiring::ExpiryListener;
pub use scan::ScanPage;
pub use transaction::Transaction;
pub(crate) use transaction::{inside_transaction, reentry_error};

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::background::Periodic;
use crate::engine::{Engine, lock};
use crate::error::{Error, Result};
use crate::lock::DirLock;
use crate::merge::MergeReport;
use crate::ops::{Job, Outcome};
use crate::options::{Options, SyncPolicy};
use crate::recovery::recover;
use crate::segment::SegmentSet;
use crate::stats::{MaintenanceJob, SegmentStats, Stats};
use crate::ttl::is_expired;
use crate::write::Writer;

/// An open key-value store: a directory of append-only segment files plus an in-memory
/// index of every key.
///
/// `Store` is a cheap handle: clone it to share the store between threads (it is
/// `Send + Sync`). Reads run in parallel and never wait for writers beyond a short index
/// lookup; writes are serialized by one writer lock. The directory stays locked until the
/// store is closed or the last handle is dropped.
///
/// Keys and values are arbitrary bytes; the empty key and empty values are allowed.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let store = keg::Store::open(dir.path())?;
/// store.set(b"user:42", b"Ada")?;
/// assert_eq!(store.get(b"user:42")?.as_deref(), Some(&b"Ada"[..]));
/// assert!(store.delete(b"user:42")?);
/// assert_eq!(store.get(b"user:42")?, None);
/// store.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

/// Owns the background threads; dropping the last `Store` handle drops this, which stops
/// them and closes the store.
struct StoreInner {
    engine: Arc<Engine>,
    background: Mutex<Vec<Periodic>>,
}

impl Drop for StoreInner {
    fn drop(&mut self) {
        self.stop_background();
        // Best effort: a drop cannot report failure. Call `close` to see it.
        let _ = self.engine.close();
    }
}

impl StoreInner {
    fn stop_background(&self) {
        for mut thread in lock(&self.background).drain(..) {
            thread.stop();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.engine.dir)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in directory `path` with default [`Options`], creating it if needed.
    ///
    /// Recovery runs first: every segment is scanned and the index rebuilt; a torn write at
    /// the end of the newest segment (left by a crash) is cut off. Fails with
    /// [`Error::Locked`] if another `Store` has the directory open, and with
    /// [`Error::Corrupted`] (naming file and offset) if a record other than a torn tail is
    /// damaged.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path.as_ref(), Options::default())
    }

    pub(crate) fn open_with(path: &Path, options: Options) -> Result<Store> {
        options.validate()?;
        if options.create_if_missing {
            options.io.create_dir_durable(path)?;
        } else if !path.is_dir() {
            return Err(Error::io(
                path,
                "open store directory",
                std::io::ErrorKind::NotFound.into(),
            ));
        }
        let dir_lock = DirLock::acquire(path)?;
        let recovered = recover(path, &options)?;
        let active = recovered
            .segments
            .last()
            .cloned()
            .ok_or_else(|| Error::corrupted(path, 0, "no active segment after recovery"))?;
        let active_id = active.id();
        let writer = Writer::new(
            active,
            recovered.active_len,
            recovered.max_seq + 1,
            recovered.usage,
        );
        let engine = Arc::new(Engine::new(
            path.to_path_buf(),
            options.clone(),
            recovered.keydir,
            recovered.elements,
            recovered.collections,
            SegmentSet::from_sorted(recovered.segments),
            writer,
            recovered.max_seq,
            dir_lock,
            recovered.torn_bytes_truncated,
            recovered.next_segment_id,
            recovered.active_hint_len.map(|len| (active_id, len)),
            recovered.snapshot,
        ));

        let mut background = Vec::new();
        if !options.expiry_cycle_interval.is_zero() {
            let expiring = Arc::clone(&engine);
            let every = options.expiry_cycle_interval;
            let thread = Periodic::spawn("keg-expire", every, move || {
                // A failure shows in `Stats::failing_jobs` (and a poisoned or closed store
                // on the next foreground call).
                let deleted = expiring.expire_cycle(every / 4);
                expiring.note_job(MaintenanceJob::Expiry, &deleted);
            })
            .map_err(|e| Error::io(path, "start expiry thread", e))?;
            background.push(thread);
        }
        let merge_every = options.merge_policy.check_interval;
        if !merge_every.is_zero() {
            let merging = Arc::clone(&engine);
            let thread = Periodic::spawn("keg-merge", merge_every, move || {
                // Hints first (cheap, and they make the next open fast), then a merge if a
                // trigger fires. Failures show in `Stats::failing_jobs`.
                let hints = merging.write_missing_hints(HINTS_PER_TICK, false);
                merging.note_job(MaintenanceJob::Hints, &hints);
                let merged = merging.run_merge(false, &mut |_, _| {});
                merging.note_job(MaintenanceJob::Merge, &merged);
            })
            .map_err(|e| Error::io(path, "start merge thread", e))?;
            background.push(thread);
        }
        if let SyncPolicy::Interval(every) = options.sync_policy {
            let syncing = Arc::clone(&engine);
            let thread = Periodic::spawn("keg-sync", every, move || {
                // A failure poisons the store; writers see it on their next call.
                let synced = syncing.sync_all();
                syncing.note_job(MaintenanceJob::Sync, &synced);
            })
            .map_err(|e| Error::io(path, "start sync thread", e))?;
            background.push(thread);
        }
        Ok(Store {
            inner: Arc::new(StoreInner {
                engine,
                background: Mutex::new(background),
            }),
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Runs one write as its own atomic, durable unit (for `write_ops!`).
    fn run(&self, job: Job<'_>) -> Result<Outcome> {
        self.engine().run(job)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.engine().dir
    }

    /// The value of `key`, or `None` if it is absent or expired.
    ///
    /// One read from a segment; the record's checksum is verified on every read and a
    /// mismatch is reported as [`Error::Corrupted`], never returned as data.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.engine().get(key)
    }

    /// Whether `key` is present (and not expired). Answered from the index, without disk
    /// I/O.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.engine().live_entry(key, None).is_some()
    }

    /// Number of keys, expired ones not counted.
    pub fn len(&self) -> usize {
        let engine = self.engine();
        engine.keydir.live_len(engine.now_ms())
    }

    /// Whether the store holds no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key, in no particular order, expired ones left out.
    ///
    /// The index is walked one shard at a time: a key written or deleted while this runs
    /// may or may not be included; every key present throughout is.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let engine = self.engine();
        let now = engine.now_ms();
        let mut keys = Vec::with_capacity(self.len());
        engine.keydir.for_each(|key, entry| {
            if !is_expired(entry.expiry_ms, now) {
                keys.push(key.to_vec());
            }
        });
        keys
    }

    /// fsyncs everything written so far. Under [`SyncPolicy::Always`] this is already true
    /// of every acknowledged write; under the other policies it bounds what a power loss
    /// can take.
    pub fn sync(&self) -> Result<()> {
        self.engine().check_open()?;
        self.engine().sync_all()
    }

    /// Closes the store: stops background threads, fsyncs what was written and releases
    /// the directory lock. Other handles to the store get [`Error::Closed`] afterwards.
    ///
    /// Dropping the last handle closes the store too, but cannot report a failed fsync.
    pub fn close(self) -> Result<()> {
        self.inner.stop_background();
        self.engine().close()
    }

    /// Merges now, whether or not a trigger fires: rewrites every sealed segment with
    /// anything to reclaim (or small enough to fold in), up to
    /// [`MergePolicy::max_merge_bytes`](crate::MergePolicy::max_merge_bytes), and writes
    /// hint files for sealed segments without one. Returns what the merge did (nothing if
    /// there was nothing worth doing). Reads and writes go on meanwhile.
    pub fn merge(&self) -> Result<MergeReport> {
        self.merge_with_progress(|_, _| {})
    }

    /// [`merge`](Store::merge), telling `progress` how many bytes of the segments being
    /// merged have been read so far and how many there are in all, now and then (about
    /// every MiB, and at the start and end of the copy).
    pub fn merge_with_progress(&self, mut progress: impl FnMut(u64, u64)) -> Result<MergeReport> {
        let engine = self.engine();
        engine.check_open()?;
        // A merge asked for counts as the merge job's last run too (`Stats::failing_jobs`):
        // the server's BGREWRITEAOF has no caller to return its error to.
        let merged = engine.run_merge(true, &mut progress);
        engine.note_job(MaintenanceJob::Merge, &merged);
        let report = merged?;
        engine.write_missing_hints(usize::MAX, true)?;
        Ok(report)
    }

    /// Sizes, layout and activity figures.
    pub fn stats(&self) -> Stats {
        let engine = self.engine();
        // The writer lock only for the writer's own figures, not for the rest.
        let (usage, active_id, last_seq) = {
            let writer = engine.lock_writer();
            (writer.usage(), writer.active.id(), writer.last_seq())
        };
        stats_of(engine, &usage, active_id, last_seq)
    }
}

/// The store's figures, given the writer's (segment usage, active segment, last sequence
/// number): for [`Store::stats`] and for a transaction, which holds the writer lock.
pub(crate) fn stats_of(
    engine: &Engine,
    usage: &std::collections::BTreeMap<u32, crate::usage::SegmentUsage>,
    active_id: u32,
    last_seq: u64,
) -> Stats {
    let segments: Vec<SegmentStats> = usage
        .iter()
        .map(|(&id, u)| SegmentStats {
            id,
            active: id == active_id,
            total_bytes: u.total_bytes,
            live_bytes: u.live_bytes,
            dead_bytes: u.total_bytes.saturating_sub(u.live_bytes),
            live_keys: u.live_keys,
        })
        .collect();
    let merge_totals = *lock(&engine.merge_stats);
    let entries = engine.keydir.len() as u64;
    let keys = engine.keydir.live_len(engine.now_ms()) as u64;
    let index_bytes = engine.keydir.memory_bytes() as u64;
    let disk_bytes = segments.iter().map(|s| s.total_bytes).sum();
    let live_bytes = segments.iter().map(|s| s.live_bytes).sum();
    let (collections, elements, member_bytes) = {
        let c = engine.read_collections();
        (
            c.len() as u64,
            c.element_count() as u64,
            c.memory_bytes() as u64,
        )
    };
    let element_index_bytes = engine.elements.memory_bytes() as u64 + member_bytes;
    Stats {
        keys,
        expired_keys_pending: entries.saturating_sub(keys),
        expired_keys_deleted: engine.expired_deleted.load(Ordering::Relaxed),
        disk_bytes,
        live_bytes,
        dead_bytes: segments.iter().map(|s| s.dead_bytes).sum(),
        segments,
        index_bytes,
        index_bytes_per_key: if entries == 0 {
            0.0
        } else {
            index_bytes as f64 / entries as f64
        },
        last_seq,
        fsyncs: engine.fsyncs.load(Ordering::Relaxed),
        torn_bytes_truncated: engine.torn_bytes_truncated,
        opened_from_index_snapshot: engine.opened_from_snapshot,
        damaged_segments: lock(&engine.damaged_segments).iter().copied().collect(),
        poisoned: engine.poison_reason(),
        failing_jobs: engine.failing_jobs(),
        merges: merge_totals.merges,
        bytes_reclaimed: merge_totals.bytes_reclaimed,
        last_merge_duration: merge_totals.last_duration,
        collections,
        elements,
        element_index_bytes,
        element_bytes_per_element: if elements == 0 {
            0.0
        } else {
            element_index_bytes as f64 / elements as f64
        },
    }
}

write_ops::write_ops!(Store);

/// The answer of a job whose outcome is a yes/no.
pub(crate) fn flag(outcome: Outcome) -> Result<bool> {
    match outcome {
        Outcome::Flag(b) => Ok(b),
        other => Err(unexpected(&other)),
    }
}

/// An outcome of the wrong shape for its job: a bug, reported rather than panicking.
pub(crate) fn unexpected(outcome: &Outcome) -> Error {
    Error::Poisoned {
        reason: format!("internal error: unexpected outcome {outcome:?}"),
    }
}
