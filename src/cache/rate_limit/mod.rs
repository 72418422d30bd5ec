//! Rate limiters over the backend's atomic counters, so every process sharing a store or
//! server enforces one limit: a fixed window (one INCR + PEXPIRE per request) and a
//! sliding window (two fixed windows, the older one weighted by how much of it still
//! overlaps the last window's length).

mod fixed;
mod sliding;

pub use fixed::FixedWindow;
pub use sliding::SlidingWindow;

use std::time::Duration;

use crate::error::{Error, Result};

/// A rate limiter's answer to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// Requests counted in the window including this one (for the sliding window: the
    /// weighted estimate, rounded up).
    pub count: u64,
    /// The limit.
    pub limit: u64,
    /// How long until the current fixed window ends (when a denied client may retry
    /// with a fresh count in a fixed window, or with less weight on the past in a sliding
    /// one).
    pub retry_after: Duration,
}

/// A limiter's checked configuration, shared by both kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Limit {
    /// `rl:<name>:` — every counter key starts with it.
    prefix: Vec<u8>,
    limit: u64,
    window_ms: u64,
}

impl Limit {
    /// Fails with [`Error::InvalidArgument`] for a name containing `:` (it would make
    /// counter keys ambiguous) or a window shorter than a millisecond.
    fn new(name: &str, limit: u64, window: Duration) -> Result<Limit> {
        if name.contains(':') {
            return Err(Error::InvalidArgument {
                reason: format!("a rate limiter's name may not contain ':' ({name:?})"),
            });
        }
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        if window_ms == 0 {
            return Err(Error::InvalidArgument {
                reason: "a rate limiter's window must be at least 1 ms".into(),
            });
        }
        Ok(Limit {
            prefix: format!("rl:{name}:").into_bytes(),
            limit,
            window_ms,
        })
    }

    /// The counter of `id` for window number `window`: `rl:<name>:<id>:<window>`. The
    /// window number has no `:`, so the key is unambiguous whatever `id` holds.
    fn key(&self, id: &[u8], window: u64) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(id);
        key.extend_from_slice(format!(":{window}").as_bytes());
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_and_keys_are_unambiguous() {
        assert!(Limit::new("api:v1", 10, Duration::from_secs(1)).is_err());
        assert!(Limit::new("api", 10, Duration::from_micros(999)).is_err());
        let limit = Limit::new("api", 10, Duration::from_secs(1)).unwrap();
        assert_eq!(limit.key(b"user:42", 7), b"rl:api:user:42:7");
    }
}
