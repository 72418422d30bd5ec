//! # Keg
//!
//! A persistent, log-structured key-value store in the Bitcask design: writes append to
//! segment files, an in-memory hash index (the keydir) points at the newest record of every
//! key, and a GET is one index lookup plus one read.
//!
//! ```
//! use keg::{Options, Store, SyncPolicy};
//!
//! let dir = tempfile::tempdir()?;
//! {
//!     let store = Store::open(dir.path())?; // SyncPolicy::Always by default
//!     store.set(b"greeting", b"hello")?;
//!     store.set(b"counter", b"1")?;
//!     store.delete(b"counter")?;
//! } // dropping the last handle closes the store
//!
//! let store = Options::new().sync_policy(SyncPolicy::Never).open(dir.path())?;
//! assert_eq!(store.get(b"greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert!(!store.contains(b"counter"));
//! assert_eq!(store.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Durability is chosen with [`SyncPolicy`]; under every policy an acknowledged write has
//! reached the operating system, so a crash of the process loses nothing. The on-disk
//! format is documented byte by byte in `docs/format.md`.
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod background;
mod batch;
pub mod cache;
mod clock;
mod collections;
mod combine;
mod datatypes;
mod durability;
mod engine;
mod error;
mod expiry;
pub mod format;
mod fs;
mod inspect;
mod keydir;
mod lock;
pub mod merge;
mod numeric;
mod ops;
mod options;
mod read;
mod recovery;
mod repair;
mod segment;
#[cfg(feature = "server")]
pub mod server;
mod snapshot;
mod stats;
mod store;
mod superseded;
mod ttl;
mod usage;
mod watch;
mod write;

pub use batch::WriteBatch;
pub use clock::{Clock, ManualClock, SystemClock};
pub use datatypes::ValueType;
pub use datatypes::api::SetCombine;
pub use datatypes::scan::CollectionPage;
pub use datatypes::zset::{ScoredMember, ZAddOptions};
pub use datatypes::zset_algebra::ZAggregate;
pub use error::{Error, Result};
pub use fs::{IoHook, IoOp};
pub use inspect::{
    CheckProblem, CheckReport, DumpedRecord, HintCheck, SegmentCheck, SnapshotCheck, check, dump,
};
pub use lock::LOCK_FILE;
pub use merge::{MergePolicy, MergeReport};
pub use options::{
    DEFAULT_INDEX_SNAPSHOT_MIN_BYTES, DEFAULT_MAX_KEY_SIZE, DEFAULT_MAX_SEGMENT_SIZE,
    DEFAULT_MAX_VALUE_SIZE, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE, Options, RecoveryMode, SyncPolicy,
};
pub use repair::{DroppedRange, LOST_AND_FOUND, RepairReport, repair};
pub use stats::{JobFailure, MaintenanceJob, SegmentStats, Stats};
pub use store::{BackupReport, ExpiryListener, ScanPage, Store, Transaction};
pub use ttl::{MAX_EXPIRY_MS, SetOptions, SetOutcome, Ttl};

/// The README's examples, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
