//! Time-to-live types: what a key's expiry is ([`Ttl`]) and how a write sets it
//! ([`SetOptions`]), with Redis's semantics.
//!
//! Expiry is an absolute unix time in milliseconds (0 in a record means "never"). A key whose
//! expiry is at or before the clock's current time is expired: every read treats it as
//! absent, and the active expiry cycle deletes it.

use std::time::Duration;

use crate::error::{Error, Result};

/// The latest expiry a key can have: Redis's limit, `i64::MAX` milliseconds.
pub const MAX_EXPIRY_MS: u64 = i64::MAX as u64;

/// A key's time to live, as [`Store::ttl`](crate::Store::ttl) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist (or has expired). Redis: `-2`.
    Missing,
    /// The key exists and never expires. Redis: `-1`.
    NoExpiry,
    /// The key exists and expires after this long.
    ExpiresIn(Duration),
}

impl Ttl {
    /// The reply of Redis's `TTL`: -2, -1, or whole seconds left, rounded to nearest.
    pub fn as_redis_seconds(&self) -> i64 {
        match self {
            Ttl::Missing => -2,
            Ttl::NoExpiry => -1,
            Ttl::ExpiresIn(d) => {
                i64::try_from(d.as_millis().saturating_add(500) / 1000).unwrap_or(i64::MAX)
            }
        }
    }

    /// The reply of Redis's `PTTL`: -2, -1, or milliseconds left.
    pub fn as_redis_millis(&self) -> i64 {
        match self {
            Ttl::Missing => -2,
            Ttl::NoExpiry => -1,
            Ttl::ExpiresIn(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// How a write sets the key's expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ExpirySpec {
    /// No expiry (a plain `SET` clears any TTL).
    #[default]
    Never,
    /// Expire after this long (Redis `EX`/`PX`).
    In(Duration),
    /// Expire at this unix time in ms (Redis `EXAT`/`PXAT`).
    At(u64),
    /// Keep the key's current expiry (Redis `KEEPTTL`).
    Keep,
}

/// Which state of the key a conditional write requires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Condition {
    /// Write whatever the key's state.
    #[default]
    Always,
    /// Write only if the key does not exist (Redis `NX`).
    IfAbsent,
    /// Write only if the key exists (Redis `XX`).
    IfPresent,
}

/// Options of [`Store::set_with`](crate::Store::set_with), the equivalent of Redis's `SET`
/// options. The default is a plain set: unconditional, clearing any TTL, not returning the
/// previous value. Setting one expiry option replaces another, and `only_if_absent` and
/// `only_if_present` replace each other, so conflicting combinations cannot be expressed.
///
/// ```
/// use std::time::Duration;
/// use keg::SetOptions;
///
/// // SET lock owner-42 NX PX 30000 GET
/// let options = SetOptions::new()
///     .only_if_absent()
///     .ttl(Duration::from_millis(30_000))
///     .get_previous();
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    pub(crate) expiry: ExpirySpec,
    pub(crate) condition: Condition,
    pub(crate) get_previous: bool,
}

impl SetOptions {
    /// A plain set.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }

    /// Expire the key after `ttl` (Redis `EX` / `PX`; rounded up to whole milliseconds).
    /// A zero TTL is rejected with [`Error::InvalidArgument`], as Redis rejects `EX 0`.
    pub fn ttl(mut self, ttl: Duration) -> SetOptions {
        self.expiry = ExpirySpec::In(ttl);
        self
    }

    /// Expire the key at `unix_ms`, milliseconds since the epoch (Redis `EXAT` / `PXAT`).
    /// A time already past deletes the key (the set happens and expires at once).
    pub fn expire_at(mut self, unix_ms: u64) -> SetOptions {
        self.expiry = ExpirySpec::At(unix_ms);
        self
    }

    /// Keep the key's current expiry (Redis `KEEPTTL`).
    pub fn keep_ttl(mut self) -> SetOptions {
        self.expiry = ExpirySpec::Keep;
        self
    }

    /// Write only if the key does not exist (Redis `NX`).
    pub fn only_if_absent(mut self) -> SetOptions {
        self.condition = Condition::IfAbsent;
        self
    }

    /// Write only if the key exists (Redis `XX`).
    pub fn only_if_present(mut self) -> SetOptions {
        self.condition = Condition::IfPresent;
        self
    }

    /// Return the value the key held before (Redis `GET`), whether or not the write
    /// happened.
    pub fn get_previous(mut self) -> SetOptions {
        self.get_previous = true;
        self
    }
}

/// What [`Store::set_with`](crate::Store::set_with) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was written (false when the `NX`/`XX` condition failed).
    pub written: bool,
    /// The previous value, when [`SetOptions::get_previous`] asked for it (`None` also
    /// when the key did not exist).
    pub previous: Option<Vec<u8>>,
}

/// Milliseconds in `d`, rounded up (a TTL of 1 µs still lasts until the next millisecond).
fn ceil_ms(d: Duration) -> u64 {
    let ms = d.as_millis();
    let ms = if !d.subsec_nanos().is_multiple_of(1_000_000) {
        ms + 1
    } else {
        ms
    };
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// The absolute expiry of a TTL starting now, or an error if it is zero or overflows.
pub(crate) fn expiry_after(now_ms: u64, ttl: Duration) -> Result<u64> {
    if ttl.is_zero() {
        return Err(Error::InvalidArgument {
            reason: "invalid expire time: a TTL must be positive".into(),
        });
    }
    now_ms
        .checked_add(ceil_ms(ttl))
        .filter(|&t| t <= MAX_EXPIRY_MS)
        .ok_or_else(|| Error::InvalidArgument {
            reason: "invalid expire time: too far in the future".into(),
        })
}

/// An absolute expiry given by the caller, checked against the limit. Zero (the epoch) is a
/// time long past, not "never": it is stored as 1 ms after the epoch.
pub(crate) fn expiry_at(unix_ms: u64) -> Result<u64> {
    if unix_ms > MAX_EXPIRY_MS {
        return Err(Error::InvalidArgument {
            reason: "invalid expire time: too far in the future".into(),
        });
    }
    Ok(unix_ms.max(1))
}

/// Whether an entry with expiry `expiry_ms` (0 = never) is expired at `now_ms`.
pub(crate) fn is_expired(expiry_ms: u64, now_ms: u64) -> bool {
    expiry_ms != 0 && expiry_ms <= now_ms
}

/// The TTL an entry with expiry `expiry_ms` has at `now_ms`.
pub(crate) fn ttl_of(expiry_ms: u64, now_ms: u64) -> Ttl {
    if expiry_ms == 0 {
        Ttl::NoExpiry
    } else if expiry_ms <= now_ms {
        Ttl::Missing
    } else {
        Ttl::ExpiresIn(Duration::from_millis(expiry_ms - now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_replies() {
        assert_eq!(Ttl::Missing.as_redis_seconds(), -2);
        assert_eq!(Ttl::NoExpiry.as_redis_millis(), -1);
        assert_eq!(
            Ttl::ExpiresIn(Duration::from_millis(1499)).as_redis_seconds(),
            1
        );
        assert_eq!(
            Ttl::ExpiresIn(Duration::from_millis(1500)).as_redis_seconds(),
            2
        );
        assert_eq!(
            Ttl::ExpiresIn(Duration::from_millis(1500)).as_redis_millis(),
            1500
        );
    }

    #[test]
    fn expiry_arithmetic() {
        assert_eq!(expiry_after(1000, Duration::from_millis(5)).unwrap(), 1005);
        assert_eq!(expiry_after(1000, Duration::from_micros(1)).unwrap(), 1001);
        assert!(expiry_after(1000, Duration::ZERO).is_err());
        assert!(expiry_after(MAX_EXPIRY_MS, Duration::from_millis(1)).is_err());
        assert!(expiry_after(0, Duration::from_secs(u64::MAX)).is_err());
        assert_eq!(expiry_at(0).unwrap(), 1);
        assert!(expiry_at(MAX_EXPIRY_MS + 1).is_err());
        assert!(is_expired(5, 5));
        assert!(!is_expired(6, 5));
        assert!(!is_expired(0, u64::MAX));
        assert_eq!(ttl_of(0, 10), Ttl::NoExpiry);
        assert_eq!(ttl_of(10, 10), Ttl::Missing);
        assert_eq!(ttl_of(15, 10), Ttl::ExpiresIn(Duration::from_millis(5)));
    }
}
