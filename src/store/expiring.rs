//! Time-to-live operations of [`Store`].

use std::time::Duration;

use super::{Store, flag, unexpected};
use crate::error::Result;
use crate::ops::{Job, NewExpiry, Outcome};
use crate::ttl::{SetOptions, SetOutcome, Ttl, ttl_of};

impl Store {
    /// Sets `key` to `value`, expiring after `ttl` (Redis `SET key value PX ttl`).
    ///
    /// The expiry is stored as an absolute time (clock time + `ttl`, rounded up to whole
    /// milliseconds), so it holds across restarts. Fails with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a zero TTL (as Redis
    /// rejects `EX 0`) or one beyond [`MAX_EXPIRY_MS`](crate::MAX_EXPIRY_MS).
    pub fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<()> {
        self.set_with(key, value, SetOptions::new().ttl(ttl))
            .map(|_| ())
    }

    /// Redis's `SET` with options: conditional on the key's absence or presence, with a TTL,
    /// an absolute expiry, or the current one kept, and optionally returning the previous
    /// value. See [`SetOptions`].
    ///
    /// An expired key counts as absent. An absolute expiry in the past deletes the key (the
    /// write happens and is immediately expired). Without `keep_ttl`, a successful set
    /// clears any TTL the key had.
    pub fn set_with(&self, key: &[u8], value: &[u8], options: SetOptions) -> Result<SetOutcome> {
        let engine = self.engine();
        engine.validate_put(key, value)?;
        match engine.run(Job::Set {
            key: key.into(),
            value: value.into(),
            options,
        })? {
            Outcome::Set(outcome) => Ok(outcome),
            Outcome::Done => Ok(SetOutcome {
                written: true,
                previous: None,
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// Makes `key` expire after `ttl` (Redis `PEXPIRE`). Returns whether the key exists.
    /// A zero TTL deletes the key at once. The value is rewritten with its new expiry.
    pub fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool> {
        self.set_expiry(key, NewExpiry::In(ttl))
    }

    /// Makes `key` expire at `unix_ms`, milliseconds since the epoch (Redis `PEXPIREAT`).
    /// Returns whether the key exists. A time already past deletes the key.
    pub fn expire_at(&self, key: &[u8], unix_ms: u64) -> Result<bool> {
        self.set_expiry(key, NewExpiry::At(unix_ms))
    }

    /// Removes `key`'s expiry (Redis `PERSIST`). Returns true only if the key exists and had
    /// an expiry.
    pub fn persist(&self, key: &[u8]) -> Result<bool> {
        self.set_expiry(key, NewExpiry::Never)
    }

    fn set_expiry(&self, key: &[u8], when: NewExpiry) -> Result<bool> {
        let engine = self.engine();
        engine.validate_key(key)?;
        flag(engine.run(Job::Expire {
            key: key.into(),
            when,
        })?)
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
