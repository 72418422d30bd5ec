//! Merge (compaction): rewrites the live records of sealed segments into new segments with
//! hint files and deletes the old ones, so the log's disk use stays bounded.
//!
//! The policy (`plan.rs`) is a pure function of per-segment figures; the mechanism
//! (`worker.rs`) copies, publishes and retires; `hints.rs` writes hint files for segments
//! sealed by rotation. One merge runs at a time, on the background thread or through
//! [`Store::merge`](crate::Store::merge); reads and writes go on throughout.

#[cfg(test)]
mod damaged_tests;
mod hint_file;
mod hints;
pub mod plan;
mod worker;

use std::time::Duration;

pub use plan::{MergePlan, SegmentInfo, Trigger, plan};

/// When merges run and what they include: Bitcask's triggers and thresholds, scaled to
/// keg's segment size. Set with [`Options::merge_policy`](crate::Options::merge_policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergePolicy {
    /// A merge starts when a sealed segment is at least this many percent dead.
    /// Default: 60.
    pub fragmentation_trigger: u8,
    /// …or holds at least this many dead bytes. Default: 32 MiB.
    pub dead_bytes_trigger: u64,
    /// Once started, a merge includes segments at least this many percent dead.
    /// Default: 40.
    pub fragmentation_threshold: u8,
    /// …or holding at least this many dead bytes. Default: 8 MiB.
    pub dead_bytes_threshold: u64,
    /// …or smaller than this (small files are folded together). Default: 4 MiB.
    pub small_file_threshold: u64,
    /// Most bytes of input one merge takes (at least one segment). Default: 1 GiB.
    pub max_merge_bytes: u64,
    /// How often the background thread checks the triggers (and writes hint files for
    /// newly sealed segments). `Duration::ZERO` turns it off: merges then run only through
    /// [`Store::merge`](crate::Store::merge). Default: 1 s.
    pub check_interval: Duration,
    /// Most bytes per second a merge writes, so it does not crowd out foreground I/O.
    /// `None`: unlimited. Default: `None`.
    pub rate_limit: Option<u64>,
}

impl Default for MergePolicy {
    fn default() -> Self {
        MergePolicy {
            fragmentation_trigger: 60,
            dead_bytes_trigger: 32 << 20,
            fragmentation_threshold: 40,
            dead_bytes_threshold: 8 << 20,
            small_file_threshold: 4 << 20,
            max_merge_bytes: 1 << 30,
            check_interval: Duration::from_secs(1),
            rate_limit: None,
        }
    }
}

/// What one merge did ([`Store::merge`](crate::Store::merge)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeReport {
    /// The segments rewritten (empty: there was nothing worth merging).
    pub merged: Vec<u32>,
    /// The segments written in their place.
    pub written: Vec<u32>,
    /// Bytes of the merged segments.
    pub bytes_before: u64,
    /// Bytes of the new segments.
    pub bytes_after: u64,
    /// Records copied.
    pub records_copied: u64,
    /// Records dropped: superseded puts, and tombstones and expired puts that could no
    /// longer shadow anything.
    pub records_dropped: u64,
    /// How long it took.
    pub duration: Duration,
}

impl MergeReport {
    /// Bytes the merge gave back (before minus after).
    pub fn bytes_reclaimed(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// Totals since open, for [`Stats`](crate::Stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MergeTotals {
    pub merges: u64,
    pub bytes_reclaimed: u64,
    pub last_duration: Option<Duration>,
}
