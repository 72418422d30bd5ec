//! [`Cache`] and its read path, [`Cache::get_or_load`]: answer from the backend when the
//! value is there and fresh, else load it once (single-flight) and store it with its TTL.

use std::time::{Duration, Instant};

use super::backend::CacheBackend;
use super::entry::Entry;
use super::error::{CacheError, LoadError};
use super::options::CacheOptions;
use super::rng::SplitMix64;
use super::single_flight::{Leader, Role, SingleFlight};
use super::stats::Event;
use super::xfetch::should_refresh;

/// A cache-aside helper over a key-value backend: a [`Store`](crate::Store), or a server
/// connection through [`CacheBackend`].
///
/// ```
/// use std::time::Duration;
/// use keg::cache::Cache;
///
/// let dir = tempfile::tempdir()?;
/// let cache = Cache::new(keg::Store::open(dir.path())?);
/// let slow_query = || -> Result<Vec<u8>, std::io::Error> { Ok(b"42 orders".to_vec()) };
/// let first = cache.get_or_load(b"user:42:dashboard", Duration::from_secs(60), slow_query)?;
/// let again = cache.get_or_load(b"user:42:dashboard", Duration::from_secs(60), slow_query)?;
/// assert_eq!(first, again);
/// assert_eq!(cache.stats()?.loads, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Share one `Cache` between threads (it is `Sync` when the backend is): single-flight
/// works among the callers of the same `Cache`.
#[derive(Debug)]
pub struct Cache<B: CacheBackend> {
    pub(crate) backend: B,
    pub(crate) options: CacheOptions,
    flights: SingleFlight,
    rng: SplitMix64,
}

/// What the backend holds under a key, as a read sees it.
enum Lookup {
    /// Fresh, and not chosen for early refresh: answer with it.
    Fresh(Vec<u8>),
    /// Present but due for a refresh: past its TTL within the stale grace (`stale`), or
    /// chosen by the early-refresh draw.
    Refresh { value: Vec<u8>, stale: bool },
    /// Nothing usable: load.
    Missing,
}

impl<B: CacheBackend> Cache<B> {
    /// A cache over `backend` with the default [`CacheOptions`].
    pub fn new(backend: B) -> Cache<B> {
        Cache::from_parts(backend, CacheOptions::default(), SplitMix64::from_entropy())
    }

    pub(crate) fn from_parts(backend: B, options: CacheOptions, rng: SplitMix64) -> Cache<B> {
        Cache {
            backend,
            options,
            flights: SingleFlight::default(),
            rng,
        }
    }

    /// The backend, for the application's own operations on it.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The value cached under `key`, or the result of `loader`, which is then cached for
    /// `ttl` (less the jitter, if configured).
    ///
    /// Concurrent misses on the same key run `loader` once; the other callers wait for
    /// it and receive the same value or the same error. A failed load caches nothing.
    /// With stale-while-revalidate, a value past its TTL is refreshed by one caller while
    /// the others are answered with it at once; with early refresh, a fresh value may be
    /// reloaded by one caller shortly before it expires.
    ///
    /// The TTL counts from when the load *started*, so no value is served as fresh more
    /// than `ttl` after the query that produced it began. A zero `ttl` is an error of the
    /// backend (as `SET … PX 0` is).
    pub fn get_or_load<F, E>(
        &self,
        key: &[u8],
        ttl: Duration,
        loader: F,
    ) -> Result<Vec<u8>, CacheError<B::Error>>
    where
        F: FnOnce() -> Result<Vec<u8>, E>,
        E: Into<LoadError>,
    {
        match self.lookup(key)? {
            Lookup::Fresh(value) => {
                self.count(Event::Hit)?;
                Ok(value)
            }
            Lookup::Refresh { value, stale } => match self.flights.try_lead(key) {
                Some(leader) => {
                    self.count(Event::Miss)?;
                    self.count(Event::Refresh)?;
                    self.load(leader, key, ttl, loader)
                }
                None => {
                    // Someone is refreshing it already: answer now rather than wait.
                    self.count(Event::Hit)?;
                    if stale {
                        self.count(Event::StaleServe)?;
                    }
                    Ok(value)
                }
            },
            // Counted after joining, so that once every caller's miss is counted, every
            // caller is in the flight.
            Lookup::Missing => match self.flights.join(key) {
                Role::Leader(leader) => {
                    self.count(Event::Miss)?;
                    // A load that finished between our lookup and joining has stored the
                    // value: use it rather than load again.
                    if let Lookup::Fresh(value) = self.lookup(key)? {
                        leader.finish(Ok(value.clone()));
                        return Ok(value);
                    }
                    self.load(leader, key, ttl, loader)
                }
                Role::Follower(flight) => {
                    self.count(Event::Miss)?;
                    flight.wait().map_err(CacheError::Load)
                }
            },
        }
    }

    /// Reads `key` and decides what the value is good for.
    fn lookup(&self, key: &[u8]) -> Result<Lookup, CacheError<B::Error>> {
        let Some(bytes) = self.backend.get(key).map_err(CacheError::Backend)? else {
            return Ok(Lookup::Missing);
        };
        let Some(entry) = Entry::decode(bytes) else {
            return Ok(Lookup::Missing);
        };
        let now = self.now_ms()?;
        if now >= entry.fresh_until_ms {
            // Still in the store, so within the stale grace.
            return Ok(if self.options.stale_grace.is_zero() {
                Lookup::Missing
            } else {
                Lookup::Refresh {
                    value: entry.value,
                    stale: true,
                }
            });
        }
        let beta = self.options.early_refresh_beta;
        if beta > 0.0 {
            let delta_ms = f64::from(entry.load_us) / 1000.0;
            let r = self.draw();
            if should_refresh(now, entry.fresh_until_ms, delta_ms, beta, r) {
                return Ok(Lookup::Refresh {
                    value: entry.value,
                    stale: false,
                });
            }
        }
        Ok(Lookup::Fresh(entry.value))
    }

    /// Runs the loader as the leader of `key`'s flight, stores a success, and hands the
    /// outcome to the waiters.
    fn load<F, E>(
        &self,
        leader: Leader<'_>,
        key: &[u8],
        ttl: Duration,
        loader: F,
    ) -> Result<Vec<u8>, CacheError<B::Error>>
    where
        F: FnOnce() -> Result<Vec<u8>, E>,
        E: Into<LoadError>,
    {
        let started_ms = match self.now_ms() {
            Ok(now) => now,
            Err(e) => {
                leader.finish(Err(LoadError::msg("the cache backend failed")));
                return Err(e);
            }
        };
        let started = Instant::now();
        let loaded = loader().map_err(Into::into);
        let elapsed = started.elapsed();
        let counted = self.count(Event::Load);
        let value = match loaded {
            Ok(value) => value,
            Err(error) => {
                leader.finish(Err(error.clone()));
                counted?;
                self.count(Event::LoadError)?;
                return Err(CacheError::Load(error));
            }
        };
        // Stored before the flight ends, so that a caller who missed just before the end
        // finds it when it double-checks, instead of loading again. The waiters get the
        // value whether or not the store write worked.
        let stored = self.store_loaded(key, &value, ttl, started_ms, elapsed);
        leader.finish(Ok(value.clone()));
        counted?;
        stored?;
        Ok(value)
    }

    /// Stores a freshly loaded value, fresh until `started_ms + ttl` (jittered).
    fn store_loaded(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Duration,
        started_ms: u64,
        elapsed: Duration,
    ) -> Result<(), CacheError<B::Error>> {
        let now = self.now_ms()?;
        // The store's clock has millisecond steps: a sub-millisecond load is measured
        // with the monotonic clock, and a clock the test moves during the load counts too.
        let clock_us = now.saturating_sub(started_ms).saturating_mul(1000);
        let wall_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let load_us = u32::try_from(clock_us.max(wall_us)).unwrap_or(u32::MAX);
        let fresh_until_ms = started_ms.saturating_add(duration_ms(self.jittered(ttl)));
        self.write_entry(key, value, load_us, fresh_until_ms, now)
    }

    /// Writes `value` fresh until `fresh_until_ms`, kept by the backend for the stale grace
    /// beyond. A value already past its grace (a load slower than its TTL) is not stored.
    pub(crate) fn write_entry(
        &self,
        key: &[u8],
        value: &[u8],
        load_us: u32,
        fresh_until_ms: u64,
        now_ms: u64,
    ) -> Result<(), CacheError<B::Error>> {
        let keep_until = fresh_until_ms.saturating_add(duration_ms(self.options.stale_grace));
        if keep_until <= now_ms {
            return Ok(());
        }
        let entry = Entry {
            load_us,
            fresh_until_ms,
            value: value.to_vec(),
        };
        self.backend
            .set_with_ttl(
                key,
                &entry.encode(),
                Duration::from_millis(keep_until - now_ms),
            )
            .map_err(CacheError::Backend)
    }

    /// `ttl` shortened by the jitter, never below 1 ms.
    pub(crate) fn jittered(&self, ttl: Duration) -> Duration {
        let jitter = self.options.ttl_jitter;
        if jitter <= 0.0 || ttl.is_zero() {
            return ttl;
        }
        let cut = self.draw() * jitter;
        ttl.mul_f64(1.0 - cut).max(Duration::from_millis(1))
    }

    /// A random number in (0, 1].
    fn draw(&self) -> f64 {
        self.rng.unit_open_closed()
    }

    /// The backend's clock.
    pub(crate) fn now_ms(&self) -> Result<u64, CacheError<B::Error>> {
        self.backend.now_ms().map_err(CacheError::Backend)
    }
}

/// Whole milliseconds in `d`, saturating.
pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
