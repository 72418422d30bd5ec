//! Time-to-live reads of [`Store`] (the TTL writes are in `write_ops.rs`).

use std::sync::Arc;
use std::time::Duration;

use super::Store;
use crate::error::Result;
use crate::ttl::{Ttl, ttl_of};

/// Called with each key the expiry cycle deletes: see [`Store::set_expiry_listener`].
pub type ExpiryListener = Arc<dyn Fn(&[u8]) + Send + Sync>;

impl Store {
    /// Calls `listener` with each key that the background expiry cycle (or
    /// [`purge_expired`](Store::purge_expired)) deletes because its expiry passed, once the
    /// deletion is written; `None` removes the listener. The server publishes Redis's
    /// `expired` keyspace events from it.
    ///
    /// A key is reported when the cycle deletes it, not at the instant it expires: reads
    /// stop seeing it at that instant, the cycle comes by within a few of its intervals
    /// ([`Options::expiry_cycle_interval`](crate::Options::expiry_cycle_interval)). A key
    /// overwritten or deleted after it expired but before the cycle reached it is not
    /// reported. The listener runs on the cycle's thread: it should be quick.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = keg::Store::open(dir.path())?;
    /// let expired = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&expired);
    /// store.set_expiry_listener(Some(Arc::new(move |key: &[u8]| {
    ///     seen.lock().unwrap().push(key.to_vec());
    /// })));
    /// store.set_with(b"session", b"x", keg::SetOptions::new().ttl(Duration::from_millis(1)))?;
    /// std::thread::sleep(Duration::from_millis(5));
    /// store.purge_expired()?;
    /// assert_eq!(*expired.lock().unwrap(), vec![b"session".to_vec()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_expiry_listener(&self, listener: Option<ExpiryListener>) {
        *self
            .engine()
            .expiry_listener
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = listener;
    }

    /// `key`'s time to live: [`Ttl::Missing`] if absent or expired, [`Ttl::NoExpiry`], or
    /// the time left (Redis `PTTL`: -2, -1 or milliseconds). Answered from the index.
    pub fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        let engine = self.engine();
        engine.check_open()?;
        let now = engine.now_ms();
        Ok(match engine.keydir.get(key) {
            Some(entry) => ttl_of(entry.expiry_ms, now),
            None => Ttl::Missing,
        })
    }

    /// `key`'s expiry as unix milliseconds (Redis `PEXPIRETIME`): `Ok(None)` if the key is
    /// absent or has no expiry; see [`ttl`](Store::ttl) to tell those apart.
    pub fn expires_at(&self, key: &[u8]) -> Result<Option<u64>> {
        let engine = self.engine();
        engine.check_open()?;
        Ok(engine
            .live_entry(key, None)
            .map(|e| e.expiry_ms)
            .filter(|&e| e != 0))
    }

    /// Deletes every expired key now, and returns how many. The background expiry cycle
    /// does the same a little at a time; this is for callers that turned it off
    /// ([`Options::expiry_cycle_interval`](crate::Options::expiry_cycle_interval)) or want
    /// memory back at once.
    pub fn purge_expired(&self) -> Result<u64> {
        let engine = self.engine();
        engine.check_open()?;
        engine.expire_cycle(Duration::MAX)
    }
}
