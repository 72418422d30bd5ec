//! [`SlidingWindow`]: at most `limit` requests per id in any window's length, estimated
//! from two fixed windows.

use std::time::Duration;

use super::{Limit, RateDecision};
use crate::cache::backend::CacheBackend;
use crate::error::Result;

/// At most `limit` requests per id over the last window's length, estimated as
/// `previous window's count * (share of it still inside the last window) + current
/// window's count` (the "sliding window counter" of Redis rate-limiting guides): two keys
/// per id, one GET and one INCR per request.
///
/// The estimate assumes the previous window's requests were spread evenly over it.
/// Unlike [`FixedWindow`](super::FixedWindow), a burst at a window boundary cannot pass
/// twice the limit. A denied request is taken back (DECR) so that a client retrying
/// while denied does not push its own retry further away; concurrent requests may be
/// denied a little early, never admitted beyond the estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlidingWindow {
    limit: Limit,
}

impl SlidingWindow {
    /// A limiter named `name` (no `:` in it) allowing `limit` requests per `window`
    /// (at least 1 ms).
    pub fn new(name: &str, limit: u64, window: Duration) -> Result<SlidingWindow> {
        Ok(SlidingWindow {
            limit: Limit::new(name, limit, window)?,
        })
    }

    /// Counts a request of `id` and says whether it is within the limit.
    pub fn check<B: CacheBackend>(
        &self,
        backend: &B,
        id: &[u8],
    ) -> std::result::Result<RateDecision, B::Error> {
        let Limit {
            limit, window_ms, ..
        } = self.limit;
        let now = backend.now_ms()?;
        let window = now / window_ms;
        let into_ms = now % window_ms;
        let previous = match window.checked_sub(1) {
            Some(w) => read_count(backend, &self.limit.key(id, w))?,
            None => 0,
        };
        let key = self.limit.key(id, window);
        let current = backend.incr_by(&key, 1)?;
        if current == 1 {
            // Kept through the next window too, where it is the "previous" one.
            backend.expire(&key, Duration::from_millis(2 * window_ms - into_ms))?;
        }
        let current = u64::try_from(current).unwrap_or(0);
        // previous * (window - into) / window + current <= limit, in integers.
        let scaled = u128::from(previous) * u128::from(window_ms - into_ms)
            + u128::from(current) * u128::from(window_ms);
        let allowed = scaled <= u128::from(limit) * u128::from(window_ms);
        if !allowed {
            backend.incr_by(&key, -1)?;
        }
        let count = u64::try_from(scaled.div_ceil(u128::from(window_ms))).unwrap_or(u64::MAX);
        Ok(RateDecision {
            allowed,
            count,
            limit,
            retry_after: Duration::from_millis(window_ms - into_ms),
        })
    }
}

/// The counter at `key`; 0 if absent or not a number (a counter is only ever written by
/// INCR, so that means someone else's key: it is not ours to fail on).
fn read_count<B: CacheBackend>(backend: &B, key: &[u8]) -> std::result::Result<u64, B::Error> {
    Ok(backend
        .get(key)?
        .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok())
        .unwrap_or(0))
}
