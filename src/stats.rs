//! Figures about a store, as returned by [`Store::stats`](crate::Store::stats).

/// A snapshot of a store's size, layout and activity.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Live keys (expired ones not counted).
    pub keys: u64,
    /// Keys that have expired but whose entries the expiry cycle has not deleted yet
    /// (invisible to every read; they still hold index memory).
    pub expired_keys_pending: u64,
    /// Expired keys deleted by the expiry cycle since open.
    pub expired_keys_deleted: u64,
    /// Every segment, ascending by id; the last is the active one.
    pub segments: Vec<SegmentStats>,
    /// Bytes of all segment files.
    pub disk_bytes: u64,
    /// Bytes of records that are the newest of their key.
    pub live_bytes: u64,
    /// Bytes of superseded records, tombstones and file headers (what a merge reclaims).
    pub dead_bytes: u64,
    /// Heap bytes held by the in-memory index (keydir).
    pub index_bytes: u64,
    /// `index_bytes` per index entry, pending expired keys included (0 for an empty store).
    pub index_bytes_per_key: f64,
    /// Sequence number of the newest record.
    pub last_seq: u64,
    /// fsyncs performed since open (with group commit, fewer than acknowledged writes).
    pub fsyncs: u64,
    /// Bytes of a torn write cut off the newest segment when the store was opened.
    pub torn_bytes_truncated: u64,
    /// The index was loaded from the index snapshot a clean close wrote, instead of being
    /// rebuilt from hint files and segments (see
    /// [`Options::index_snapshot_min_bytes`](crate::Options::index_snapshot_min_bytes)).
    pub opened_from_index_snapshot: bool,
    /// Sealed segments that a merge or hint writer found damaged since open (ids,
    /// ascending): background merges leave them out until `kvctl repair` mends them, and
    /// [`Store::merge`](crate::Store::merge) reports the damage.
    pub damaged_segments: Vec<u32>,
    /// Why the store refuses writes, if it does: a failed fsync poisons it (see
    /// [`Error::Poisoned`](crate::Error::Poisoned)).
    pub poisoned: Option<String>,
    /// Maintenance jobs whose last run failed, with the error, by job. A job leaves the
    /// list when it next succeeds. Foreground calls return their own errors; this is where
    /// the background's show, e.g. a merge that keeps failing on a full disk while the
    /// dead bytes it should reclaim pile up.
    pub failing_jobs: Vec<JobFailure>,
    /// Merges completed since open.
    pub merges: u64,
    /// Disk bytes those merges gave back.
    pub bytes_reclaimed: u64,
    /// How long the last merge took.
    pub last_merge_duration: Option<std::time::Duration>,
    /// Collections (hashes, sets) among `keys`, expired ones included until reaped.
    pub collections: u64,
    /// Members of all collections.
    pub elements: u64,
    /// Heap bytes for collection members: their entries in the element index plus the
    /// member sets (not included in `index_bytes`).
    pub element_index_bytes: u64,
    /// `element_index_bytes` per member (0 when there are none).
    pub element_bytes_per_element: f64,
}

/// Figures about one segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentStats {
    /// Segment id (the number in its file name).
    pub id: u32,
    /// True for the segment the writer appends to.
    pub active: bool,
    /// File length.
    pub total_bytes: u64,
    /// Bytes of records that are the newest of their key.
    pub live_bytes: u64,
    /// `total_bytes - live_bytes`.
    pub dead_bytes: u64,
    /// Keys whose newest record is in this segment.
    pub live_keys: u64,
}

/// A maintenance job that the store runs by itself (or, for merges, when asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum MaintenanceJob {
    /// A merge, by the background thread or [`Store::merge`](crate::Store::merge).
    Merge,
    /// Writing hint files for sealed segments (background thread).
    Hints,
    /// The expiry cycle deleting expired keys (background thread).
    Expiry,
    /// The fsync of [`SyncPolicy::Interval`](crate::SyncPolicy::Interval) (background
    /// thread; a failure poisons the store).
    Sync,
}

impl MaintenanceJob {
    /// The job's name in lower case: `merge`, `hints`, `expiry` or `sync`.
    pub fn name(self) -> &'static str {
        match self {
            MaintenanceJob::Merge => "merge",
            MaintenanceJob::Hints => "hints",
            MaintenanceJob::Expiry => "expiry",
            MaintenanceJob::Sync => "sync",
        }
    }
}

/// The last failure of a maintenance job ([`Stats::failing_jobs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFailure {
    /// Which job.
    pub job: MaintenanceJob,
    /// The error, as displayed.
    pub error: String,
    /// When it failed, in unix milliseconds by the store's clock.
    pub at_unix_ms: u64,
    /// Runs that failed in a row, this one included.
    pub failures_in_a_row: u64,
}
