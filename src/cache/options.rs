//! [`CacheOptions`]: TTL jitter, early refresh, stale-while-revalidate and where the
//! counters live. Validated once, when the cache is built.

use std::time::Duration;

use super::Cache;
use super::backend::CacheBackend;
use super::rng::SplitMix64;
use crate::error::{Error, Result};

/// Default prefix of the statistics counters' keys.
pub const DEFAULT_STATS_PREFIX: &[u8] = b"cache:stats:";

/// How a [`Cache`] behaves beyond plain cache-aside. The defaults give plain cache-aside
/// with single-flight and counters: no jitter, no early refresh, no stale serving.
///
/// ```
/// use std::time::Duration;
/// use keg::cache::CacheOptions;
///
/// let dir = tempfile::tempdir()?;
/// let store = keg::Store::open(dir.path())?;
/// let cache = CacheOptions::new()
///     .ttl_jitter(0.1) // TTLs spread over 90-100 % of the asked value
///     .early_refresh(1.0) // XFetch with the paper's beta
///     .stale_while_revalidate(Duration::from_secs(5))
///     .build(store)?;
/// # let _ = cache;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CacheOptions {
    pub(crate) ttl_jitter: f64,
    pub(crate) early_refresh_beta: f64,
    pub(crate) stale_grace: Duration,
    pub(crate) stats_prefix: Option<Vec<u8>>,
    pub(crate) seed: Option<u64>,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            ttl_jitter: 0.0,
            early_refresh_beta: 0.0,
            stale_grace: Duration::ZERO,
            stats_prefix: Some(DEFAULT_STATS_PREFIX.to_vec()),
            seed: None,
        }
    }
}

impl CacheOptions {
    /// The defaults.
    pub fn new() -> CacheOptions {
        CacheOptions::default()
    }

    /// Shortens each TTL by a random fraction up to `fraction` (in `[0, 1)`), so keys
    /// cached together do not expire together. A TTL is never lengthened: staleness stays
    /// bounded by the TTL asked for. Default: 0 (exact TTLs).
    pub fn ttl_jitter(mut self, fraction: f64) -> CacheOptions {
        self.ttl_jitter = fraction;
        self
    }

    /// Probabilistic early refresh (XFetch) with factor `beta` (finite, >= 0): a read of
    /// a fresh value reloads it early with probability `exp(-time_left / (load_time *
    /// beta))`, so one reader of a hot key refreshes it shortly before it expires instead
    /// of every reader missing at once just after. 1.0 is the published optimum; larger
    /// refreshes earlier. Default: 0 (off).
    pub fn early_refresh(mut self, beta: f64) -> CacheOptions {
        self.early_refresh_beta = beta;
        self
    }

    /// Stale-while-revalidate: keep a value for `grace` after its TTL; a read in that
    /// time refreshes it, and reads meanwhile are answered with the stale value instead
    /// of waiting (counted as stale serves). Default: zero (an expired value is a miss).
    pub fn stale_while_revalidate(mut self, grace: Duration) -> CacheOptions {
        self.stale_grace = grace;
        self
    }

    /// Keys of the statistics counters start with `prefix` (one INCR per event, so every
    /// process sharing the store or server sees the same figures). Default:
    /// [`DEFAULT_STATS_PREFIX`].
    pub fn stats_prefix(mut self, prefix: &[u8]) -> CacheOptions {
        self.stats_prefix = Some(prefix.to_vec());
        self
    }

    /// Keep no statistics (saves one write per request). Default: kept.
    pub fn without_stats(mut self) -> CacheOptions {
        self.stats_prefix = None;
        self
    }

    /// Seeds the random draws (jitter, early refresh) so a test can repeat them.
    /// Default: a different seed in every process.
    pub fn seed(mut self, seed: u64) -> CacheOptions {
        self.seed = Some(seed);
        self
    }

    /// Checks the options and builds the cache over `backend`. Fails with
    /// [`Error::InvalidOptions`] for a jitter outside `[0, 1)` or a negative or
    /// non-finite beta.
    pub fn build<B: CacheBackend>(self, backend: B) -> Result<Cache<B>> {
        if !(0.0..1.0).contains(&self.ttl_jitter) {
            return Err(Error::InvalidOptions {
                reason: format!("ttl_jitter must be in [0, 1), not {}", self.ttl_jitter),
            });
        }
        if !self.early_refresh_beta.is_finite() || self.early_refresh_beta < 0.0 {
            return Err(Error::InvalidOptions {
                reason: format!(
                    "early_refresh beta must be finite and >= 0, not {}",
                    self.early_refresh_beta
                ),
            });
        }
        let rng = match self.seed {
            Some(seed) => SplitMix64::seeded(seed),
            None => SplitMix64::from_entropy(),
        };
        Ok(Cache::from_parts(backend, self, rng))
    }
}
