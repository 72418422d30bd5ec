//! Time-to-live reads of [`Store`] (the TTL writes are in `write_ops.rs`).

use std::time::Duration;

use super::Store;
use crate::error::Result;
use crate::ttl::{Ttl, ttl_of};

impl Store {
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
