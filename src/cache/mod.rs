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
//! - **invalidation strategies**, each called after the database commit: none (TTL only),
//!   delete-on-write ([`Cache::invalidate`]), write-through ([`Cache::put`]) and versioned
//!   keys ([`Cache::bump_version`] with [`Cache::get_or_load_versioned`]), the one that a
//!   slow reader cannot defeat (see the `invalidation` notes on [`Cache::bump_version`]);
//! - **counters** ([`Cache::stats`]): hits, misses, loads, load errors, stale serves,
//!   kept as INCR counters in the backend so processes sharing it share the figures;
//! - **rate limiters**: [`FixedWindow`] and [`SlidingWindow`].
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
