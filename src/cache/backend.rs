//! [`CacheBackend`]: the handful of key-value operations the cache needs, so the same cache
//! logic runs over an embedded [`Store`] or over a connection to a server speaking the
//! Redis protocol (each operation is one Redis command).

use std::time::Duration;

use crate::error::Error;
use crate::store::Store;

/// The key-value operations [`Cache`](super::Cache) and the rate limiters are built on.
///
/// Every operation must be atomic on its own (as a single Redis command is); the cache
/// never needs two of them to be atomic together. Implemented for [`Store`]; an
/// implementation over a Redis client maps each method to the command named in its doc.
pub trait CacheBackend: Send + Sync {
    /// The backend's error type, returned inside [`CacheError::Backend`](super::CacheError).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The value of `key`, `None` if absent or expired (`GET`).
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error>;

    /// Sets `key` to `value`, expiring after `ttl` (`SET key value PX ms`). `ttl` is never
    /// zero.
    fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), Self::Error>;

    /// Deletes `key`; whether it existed (`DEL`).
    fn delete(&self, key: &[u8]) -> Result<bool, Self::Error>;

    /// Adds `delta` to the integer at `key` (a missing key counts as 0) and returns the
    /// result (`INCRBY`).
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64, Self::Error>;

    /// Makes `key` expire after `ttl`; whether the key exists (`PEXPIRE`).
    fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool, Self::Error>;

    /// The current time in unix milliseconds, on the clock the backend's TTLs are
    /// measured against (the store's clock; `TIME` on a server).
    fn now_ms(&self) -> Result<u64, Self::Error>;
}

impl CacheBackend for Store {
    type Error = Error;

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        Store::get(self, key)
    }

    fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), Error> {
        Store::set_with_ttl(self, key, value, ttl)
    }

    fn delete(&self, key: &[u8]) -> Result<bool, Error> {
        Store::delete(self, key)
    }

    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64, Error> {
        Store::incr_by(self, key, delta)
    }

    fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool, Error> {
        Store::expire(self, key, ttl)
    }

    fn now_ms(&self) -> Result<u64, Error> {
        Ok(Store::now_ms(self))
    }
}

/// A shared backend is a backend: lets several caches and limiters use one store handle or
/// connection.
impl<B: CacheBackend + ?Sized> CacheBackend for std::sync::Arc<B> {
    type Error = B::Error;

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error> {
        (**self).get(key)
    }

    fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), Self::Error> {
        (**self).set_with_ttl(key, value, ttl)
    }

    fn delete(&self, key: &[u8]) -> Result<bool, Self::Error> {
        (**self).delete(key)
    }

    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64, Self::Error> {
        (**self).incr_by(key, delta)
    }

    fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool, Self::Error> {
        (**self).expire(key, ttl)
    }

    fn now_ms(&self) -> Result<u64, Self::Error> {
        (**self).now_ms()
    }
}
