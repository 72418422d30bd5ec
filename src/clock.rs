//! Wall-clock time for TTLs, injected through [`Options::clock`](crate::Options::clock) so
//! that tests move time instead of sleeping.
//!
//! Expiry times are absolute unix milliseconds, stored in records: a key set to expire at
//! 12:00 expires at 12:00 whatever happens to the process in between.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the unix epoch.
    fn now_ms(&self) -> u64;
}

/// The operating system's wall clock. The default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 reads as the epoch: every expiry then lies in the future.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told to: for tests. Share it with [`std::sync::Arc`]:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use keg::{ManualClock, Options, Ttl};
///
/// let clock = Arc::new(ManualClock::new(1_700_000_000_000));
/// let dir = tempfile::tempdir()?;
/// let store = Options::new().clock(clock.clone()).open(dir.path())?;
/// store.set_with_ttl(b"session", b"data", Duration::from_secs(30))?;
/// clock.advance(Duration::from_secs(31));
/// assert_eq!(store.get(b"session")?, None);
/// assert_eq!(store.ttl(b"session")?, Ttl::Missing);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicU64,
}

impl ManualClock {
    /// A clock reading `now_ms` (unix milliseconds).
    pub fn new(now_ms: u64) -> ManualClock {
        ManualClock {
            now_ms: AtomicU64::new(now_ms),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `now_ms`, forwards or backwards (a wall clock can jump back).
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}
