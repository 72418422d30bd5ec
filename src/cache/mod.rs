//! A caching layer for the store's most common job: answering an expensive query (a SQL
//! join over several tables, a remote call) from a fast key-value store.
//!
//! [`Cache::get_or_load`] is cache-aside: the value cached under a key, or the loader's
//! result, stored with a TTL. On top of it:
//!
//! - **single-flight**: concurrent misses on a key run the loader once; the others wait for
//!   its value (or its error: a failed load caches nothing);
//! - **TTL jitter** ([`CacheOptions::ttl_jitter`]) so keys cached together do not expire
//!   together;
//! - **early refresh** ([`CacheOptions::early_refresh`], XFetch) and **stale-while-
//!   revalidate** ([`CacheOptions::stale_while_revalidate`]) so a hot key is reloaded by
//!   one caller while the others keep being answered;
//! - **invalidation strategies** (below): TTL only, delete-on-write
//!   ([`Cache::invalidate`]), write-through ([`Cache::put`]) and versioned keys
//!   ([`Cache::bump_version`] with [`Cache::get_or_load_versioned`]);
//! - **counters** ([`Cache::stats`]): hits, misses, loads, load errors, stale serves,
//!   kept as INCR counters in the backend so processes sharing it share the figures;
//! - **rate limiters**: [`FixedWindow`] and [`SlidingWindow`].
//!
//! # Invalidation strategies
//!
//! Each is called *after* the database commit. What separates them is a reader whose query
//! ran before the commit and whose result is stored after it:
//!
//! - **TTL only**: a write does nothing; a value may be stale for up to its TTL (plus the
//!   stale-while-revalidate grace). For data that may lag: catalogues, rankings, counts.
//! - **delete-on-write**: the write deletes the key. Such a reader's old result lands after
//!   the delete and is served until its TTL ends. Cheap; for rare writes where an
//!   occasional TTL-bounded stale value is acceptable.
//! - **write-through**: the write stores the new value. The same reader can overwrite it,
//!   and two writers can store their values out of order, until the TTL ends. For writers
//!   that have the new value at hand, when reads must hit right after a write.
//! - **versioned keys**: the write moves a namespace to a new version (INCR); readers read
//!   the version *before* their query and cache under it. Such a reader's old result lands
//!   under the old version, which nobody reads any more: a read that starts after the bump
//!   never sees data from before the commit. Costs one GET per read; values under old
//!   versions stay until their TTL. For when freshness after a write matters, or when one
//!   write invalidates many keys (all under one namespace).
//!
//! None closes the window between the commit and the cache update: a read in it sees the
//! value from before the write.
//!
//! A cache's contents can be rebuilt from the database, so its store rarely needs an fsync
//! per write: open it with [`SyncPolicy::Never`](crate::SyncPolicy::Never) or `Interval`.
//! Under the library's default, `Always`, every request pays an fsync (about a millisecond)
//! for its counter, and every load one for its value.
//!
//! Everything runs over [`CacheBackend`], a handful of operations that a [`Store`] and a
//! Redis-protocol connection both provide; time comes from the backend's clock, so a
//! store opened with a [`ManualClock`](crate::ManualClock) makes every TTL testable
//! without sleeping.
//!
//! ```
//! use std::time::Duration;
//! use keg::cache::Cache;
//!
//! let dir = tempfile::tempdir()?;
//! let cache = Cache::new(keg::Store::open(dir.path())?);
//! let load = || -> Result<Vec<u8>, std::io::Error> { Ok(b"orders: 3".to_vec()) };
//!
//! // Versioned keys: read under the current version of "user:42" ...
//! let v = cache.get_or_load_versioned(b"user:42", b"dashboard", Duration::from_secs(300), load)?;
//! // ... and after a write to user 42 in the database commits, move to the next version.
//! cache.bump_version(b"user:42")?;
//! let again = cache.get_or_load_versioned(b"user:42", b"dashboard", Duration::from_secs(300), load)?;
//! assert_eq!(v, again);
//! assert_eq!(cache.stats()?.loads, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Store`]: crate::Store

mod backend;
mod cache_aside;
mod counters;
mod entry;
mod error;
mod invalidation;
mod options;
mod rate_limit;
mod rng;
mod single_flight;
mod stats;
mod xfetch;

pub use backend::CacheBackend;
pub use cache_aside::Cache;
pub use error::{CacheError, LoadError};
pub use invalidation::{version_key, versioned_key};
pub use options::{CacheOptions, DEFAULT_STATS_PREFIX};
pub use rate_limit::{FixedWindow, RateDecision, SlidingWindow};
pub use stats::CacheStats;
