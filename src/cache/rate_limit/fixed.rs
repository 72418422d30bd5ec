//! [`FixedWindow`]: at most `limit` requests per id in each aligned window of time.

use std::time::Duration;

use super::{Limit, RateDecision};
use crate::cache::backend::CacheBackend;
use crate::error::Result;

/// At most `limit` requests per id in each window (windows aligned to multiples of the
/// window length since the epoch): one INCR per request, plus a PEXPIRE on the first, so
/// counters disappear after their window.
///
/// Denied requests count too (a client hammering the limit stays denied until the window
/// ends). Cheap and exact within a window, but a burst straddling a boundary can pass
/// `2 * limit` requests in one window's length: [`SlidingWindow`](super::SlidingWindow)
/// smooths that.
///
/// ```
/// use std::time::Duration;
/// use keg::cache::FixedWindow;
///
/// let dir = tempfile::tempdir()?;
/// let store = keg::Store::open(dir.path())?;
/// let limiter = FixedWindow::new("login", 3, Duration::from_secs(60))?;
/// let allowed = (0..5).filter(|_| limiter.check(&store, b"user:42").unwrap().allowed).count();
/// assert_eq!(allowed, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedWindow {
    limit: Limit,
}

impl FixedWindow {
    /// A limiter named `name` (no `:` in it) allowing `limit` requests per `window`
    /// (at least 1 ms).
    pub fn new(name: &str, limit: u64, window: Duration) -> Result<FixedWindow> {
        Ok(FixedWindow {
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
        let left_ms = window_ms - now % window_ms;
        let key = self.limit.key(id, window);
        let count = backend.incr_by(&key, 1)?;
        if count == 1 {
            // The first request of the window: the counter lives until the window ends.
            backend.expire(&key, Duration::from_millis(left_ms))?;
        }
        let count = u64::try_from(count).unwrap_or(0);
        Ok(RateDecision {
            allowed: count <= limit,
            count,
            limit,
            retry_after: Duration::from_millis(left_ms),
        })
    }
}
