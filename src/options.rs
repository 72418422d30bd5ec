//! Options for opening a store, with documented defaults, validated once at open.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, MAX_KEY_LEN, MAX_VALUE_LEN};
use crate::fs::{Io, IoHook};
use crate::merge::MergePolicy;
use crate::store::Store;

/// When writes are fsynced, i.e. what a power loss (or kernel crash) may lose.
///
/// Under every policy a write has been handed to the operating system (`write(2)`) before
/// the call returns, so a crash of the *process* loses nothing that was acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Every write returns only after its record is fsynced. Concurrent writers share fsyncs
    /// (group commit). A power loss loses nothing acknowledged. The default.
    Always,
    /// A background thread fsyncs every interval. A power loss loses at most the writes of
    /// the last interval (plus the time one fsync takes).
    Interval(Duration),
    /// The operating system decides when to write data back; [`Store::sync`] forces it.
    /// A power loss may lose any write since the last `sync` (or segment rotation).
    Never,
}

/// How `open` treats invalid bytes at the end of the newest segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryMode {
    /// Invalid bytes at the tail of the newest segment that nothing valid follows are the
    /// remains of an interrupted write: they are cut off and the store opens. Invalid bytes
    /// anywhere else fail `open` with [`Error::Corrupted`]. The default.
    TolerateCorruptTail,
    /// Any invalid byte fails `open` with [`Error::Corrupted`], torn tails included
    /// (nothing is truncated).
    AbsoluteConsistency,
}

/// Options for [`Store`]; `Options::new()` (or `Default`) gives the documented defaults.
///
/// ```
/// use std::time::Duration;
/// use keg::{Options, SyncPolicy};
///
/// let dir = tempfile::tempdir()?;
/// let store = Options::new()
///     .sync_policy(SyncPolicy::Interval(Duration::from_millis(100)))
///     .max_segment_size(16 << 20)
///     .open(dir.path())?;
/// store.set(b"k", b"v")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) sync_policy: SyncPolicy,
    pub(crate) max_segment_size: u64,
    pub(crate) max_key_size: usize,
    pub(crate) max_value_size: usize,
    pub(crate) recovery_mode: RecoveryMode,
    pub(crate) use_mmap: bool,
    pub(crate) create_if_missing: bool,
    pub(crate) io: Io,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) expiry_cycle_interval: Duration,
    pub(crate) merge_policy: MergePolicy,
    pub(crate) index_snapshot_min_bytes: u64,
}

/// Default segment size: 64 MiB.
pub const DEFAULT_MAX_SEGMENT_SIZE: u64 = 64 << 20;
/// Default key limit: 64 KiB - 1 (the format's maximum).
pub const DEFAULT_MAX_KEY_SIZE: usize = MAX_KEY_LEN;
/// Default value limit: 64 MiB.
pub const DEFAULT_MAX_VALUE_SIZE: usize = 64 << 20;
/// Default period of the active expiry cycle: 100 ms (Redis's `hz 10`).
pub const DEFAULT_EXPIRY_CYCLE_INTERVAL: Duration = Duration::from_millis(100);
/// Default index size from which a clean close writes an index snapshot: 1 MiB (about
/// 20,000 keys of 16 bytes; smaller indexes are rebuilt from hint files about as fast).
pub const DEFAULT_INDEX_SNAPSHOT_MIN_BYTES: u64 = 1 << 20;
/// Smallest allowed segment size: 4 KiB.
pub const MIN_SEGMENT_SIZE: u64 = 4 << 10;
/// Largest allowed segment size: 2 GiB (record offsets are 32-bit).
pub const MAX_SEGMENT_SIZE: u64 = 2 << 30;

impl Default for Options {
    fn default() -> Self {
        Options {
            sync_policy: SyncPolicy::Always,
            max_segment_size: DEFAULT_MAX_SEGMENT_SIZE,
            max_key_size: DEFAULT_MAX_KEY_SIZE,
            max_value_size: DEFAULT_MAX_VALUE_SIZE,
            recovery_mode: RecoveryMode::TolerateCorruptTail,
            use_mmap: true,
            create_if_missing: true,
            io: Io::default(),
            clock: Arc::new(SystemClock),
            expiry_cycle_interval: DEFAULT_EXPIRY_CYCLE_INTERVAL,
            merge_policy: MergePolicy::default(),
            index_snapshot_min_bytes: DEFAULT_INDEX_SNAPSHOT_MIN_BYTES,
        }
    }
}

impl Options {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// When writes are fsynced. Default: [`SyncPolicy::Always`].
    pub fn sync_policy(mut self, policy: SyncPolicy) -> Self {
        self.sync_policy = policy;
        self
    }

    /// Size at which the active segment is sealed and a new one started, in bytes; a single
    /// record larger than this gets a segment of its own. Between 4 KiB and 2 GiB.
    /// Default: 64 MiB.
    pub fn max_segment_size(mut self, bytes: u64) -> Self {
        self.max_segment_size = bytes;
        self
    }

    /// Longest key accepted, in bytes; longer keys are rejected with [`Error::KeyTooLarge`]
    /// and nothing is written. Between 1 and 65,535. Default: 65,535.
    pub fn max_key_size(mut self, bytes: usize) -> Self {
        self.max_key_size = bytes;
        self
    }

    /// Longest value accepted, in bytes; longer values are rejected with
    /// [`Error::ValueTooLarge`] and nothing is written. At most 1 GiB. Default: 64 MiB.
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value_size = bytes;
        self
    }

    /// How `open` treats a damaged tail. Default: [`RecoveryMode::TolerateCorruptTail`].
    pub fn recovery_mode(mut self, mode: RecoveryMode) -> Self {
        self.recovery_mode = mode;
        self
    }

    /// Read segments through memory maps (`true`) or positioned reads (`false`).
    /// Both verify every record's checksum. Default: `true` (faster; see the README).
    pub fn use_mmap(mut self, enabled: bool) -> Self {
        self.use_mmap = enabled;
        self
    }

    /// Create the directory when it does not exist. Default: `true`.
    pub fn create_if_missing(mut self, enabled: bool) -> Self {
        self.create_if_missing = enabled;
        self
    }

    /// Shows every I/O operation on the store's data files to `hook` before it happens; the
    /// hook can fail it. For fault-injection and crash-simulation tests. Default: none.
    pub fn io_hook(mut self, hook: Arc<dyn IoHook>) -> Self {
        self.io = Io::with_hook(hook);
        self
    }

    /// The clock TTLs are measured against. Default: [`SystemClock`]. Tests pass a
    /// [`ManualClock`](crate::ManualClock) and move time instead of sleeping.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How often the background expiry cycle looks for expired keys to delete (each cycle
    /// works for at most a quarter of the interval). `Duration::ZERO` turns it off; expired
    /// keys are then deleted only by [`Store::purge_expired`]. Reads never return expired
    /// keys either way. Default: 100 ms.
    pub fn expiry_cycle_interval(mut self, interval: Duration) -> Self {
        self.expiry_cycle_interval = interval;
        self
    }

    /// When background merges run and what they include. Default: [`MergePolicy::default`].
    pub fn merge_policy(mut self, policy: MergePolicy) -> Self {
        self.merge_policy = policy;
        self
    }

    /// A clean close writes an *index snapshot* (the in-memory index as it is, see
    /// `docs/format.md`) when the index holds at least this many bytes, and the next `open`
    /// loads it instead of rebuilding the index from hint files and segments, if the
    /// segments are still exactly the ones it describes. Writing it makes a close take
    /// longer (a file about the size of the index, fsynced) and it takes that much disk
    /// while the store is closed. `0` writes one at every close; `u64::MAX` never writes
    /// one. Default: 1 MiB ([`DEFAULT_INDEX_SNAPSHOT_MIN_BYTES`]).
    pub fn index_snapshot_min_bytes(mut self, bytes: u64) -> Self {
        self.index_snapshot_min_bytes = bytes;
        self
    }

    /// Opens (or creates) the store in `path` with these options.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path.as_ref(), self)
    }

    /// Checks every option against its allowed range.
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(Error::InvalidOptions { reason });
        if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&self.max_segment_size) {
            return invalid(format!(
                "max_segment_size is {}; it must be between {MIN_SEGMENT_SIZE} and {MAX_SEGMENT_SIZE}",
                self.max_segment_size
            ));
        }
        if !(1..=MAX_KEY_LEN).contains(&self.max_key_size) {
            return invalid(format!(
                "max_key_size is {}; it must be between 1 and {MAX_KEY_LEN}",
                self.max_key_size
            ));
        }
        if self.max_value_size > MAX_VALUE_LEN {
            return invalid(format!(
                "max_value_size is {}; it must be at most {MAX_VALUE_LEN}",
                self.max_value_size
            ));
        }
        let m = &self.merge_policy;
        if m.fragmentation_trigger > 100 || m.fragmentation_threshold > 100 {
            return invalid(format!(
                "merge fragmentation trigger and threshold are percentages (got {} and {})",
                m.fragmentation_trigger, m.fragmentation_threshold
            ));
        }
        if let SyncPolicy::Interval(d) = self.sync_policy
            && d.is_zero()
        {
            return invalid("SyncPolicy::Interval needs a non-zero interval".into());
        }
        debug_assert!(MIN_SEGMENT_SIZE > FILE_HEADER_LEN as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let o = Options::new();
        assert!(o.validate().is_ok());
        assert_eq!(o.sync_policy, SyncPolicy::Always);
        assert_eq!(o.max_segment_size, 64 << 20);
        assert_eq!(o.max_key_size, 65_535);
        assert_eq!(o.max_value_size, 64 << 20);
        assert_eq!(o.recovery_mode, RecoveryMode::TolerateCorruptTail);
    }

    #[test]
    fn out_of_range_options_are_rejected() {
        for o in [
            Options::new().max_segment_size(1024),
            Options::new().max_segment_size(3 << 30),
            Options::new().max_key_size(0),
            Options::new().max_key_size(70_000),
            Options::new().max_value_size((1 << 30) + 1),
            Options::new().sync_policy(SyncPolicy::Interval(Duration::ZERO)),
        ] {
            assert!(
                matches!(o.validate(), Err(Error::InvalidOptions { .. })),
                "{o:?}"
            );
        }
    }
}
