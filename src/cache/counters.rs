//! Counting events into the backend and reading the figures back.

use super::backend::CacheBackend;
use super::cache_aside::Cache;
use super::error::CacheError;
use super::stats::{CacheStats, Event};

impl<B: CacheBackend> Cache<B> {
    /// Adds one to `event`'s counter (nothing when statistics are off).
    pub(crate) fn count(&self, event: Event) -> Result<(), CacheError<B::Error>> {
        if let Some(prefix) = &self.options.stats_prefix {
            self.backend
                .incr_by(&event.key(prefix), 1)
                .map_err(CacheError::Backend)?;
        }
        Ok(())
    }

    /// The counters, as every process using the same backend has added to them. All zero
    /// when statistics are off.
    pub fn stats(&self) -> Result<CacheStats, CacheError<B::Error>> {
        let mut stats = CacheStats::default();
        if let Some(prefix) = &self.options.stats_prefix {
            for event in Event::ALL {
                let key = event.key(prefix);
                stats.set(event, read_counter(&self.backend, &key)?);
            }
        }
        Ok(stats)
    }

    /// Sets every counter back to zero (deletes them).
    pub fn reset_stats(&self) -> Result<(), CacheError<B::Error>> {
        if let Some(prefix) = &self.options.stats_prefix {
            for event in Event::ALL {
                self.backend
                    .delete(&event.key(prefix))
                    .map_err(CacheError::Backend)?;
            }
        }
        Ok(())
    }
}

/// The non-negative integer at `key`, 0 if absent.
pub(crate) fn read_counter<B: CacheBackend>(
    backend: &B,
    key: &[u8],
) -> Result<u64, CacheError<B::Error>> {
    match backend.get(key).map_err(CacheError::Backend)? {
        None => Ok(0),
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| CacheError::BadCounter { key: key.to_vec() }),
    }
}
