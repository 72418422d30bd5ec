//! The parts over an embedded store, on a simulated clock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use keg::{Clock, ManualClock, Options, Store, SyncPolicy};

use super::backend::{Backend, Conn};

/// How long a polling consumer first sleeps when the queue is empty...
const POLL_FIRST: Duration = Duration::from_micros(50);
/// ...doubling after each empty poll up to this.
const POLL_MAX: Duration = Duration::from_millis(1);

/// An embedded store whose clock the demo moves: the sessions' TTLs are checked to the
/// millisecond (present 1 ms before, gone at the expiry time) without waiting for them.
pub struct Embedded {
    store: Store,
    clock: Arc<ManualClock>,
}

impl Embedded {
    pub fn open(dir: &Path, sync: SyncPolicy) -> anyhow::Result<Embedded> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let clock = Arc::new(ManualClock::new(now));
        let store = Options::new()
            .sync_policy(sync)
            .clock(Arc::clone(&clock) as Arc<dyn Clock>)
            // Expired keys are found by reads; the background cycle would only race them.
            .expiry_cycle_interval(Duration::ZERO)
            .open(dir)
            .context("opening the demo's store")?;
        Ok(Embedded { store, clock })
    }

    pub fn close(self) -> anyhow::Result<()> {
        self.store.close().context("closing the demo's store")
    }
}

impl Backend for Embedded {
    fn connect(&self) -> anyhow::Result<Box<dyn Conn>> {
        Ok(Box::new(EmbeddedConn(self.store.clone())))
    }

    fn now_ms(&self) -> anyhow::Result<u64> {
        Ok(self.clock.now_ms())
    }

    fn wait_until_ms(&self, unix_ms: u64) -> anyhow::Result<()> {
        self.clock.set(unix_ms.max(self.clock.now_ms()));
        Ok(())
    }

    fn simulated_clock(&self) -> bool {
        true
    }

    fn consumer_wait(&self) -> &'static str {
        "RPOP polled with backoff (50 µs doubling to 1 ms): the library has no blocking pop"
    }
}

/// A newtype, not `impl Conn for Store`: inside such an impl, `self.sadd(..)` would call
/// the trait's method (its `&mut self` receiver is tried before `Store::sadd`'s `&self`).
struct EmbeddedConn(Store);

impl Conn for EmbeddedConn {
    fn zadd(&mut self, key: &[u8], score: f64, member: &[u8]) -> anyhow::Result<()> {
        self.0.zadd(key, &[(score, member)])?;
        Ok(())
    }

    fn zincr_by(&mut self, key: &[u8], member: &[u8], delta: f64) -> anyhow::Result<f64> {
        Ok(self.0.zincr_by(key, member, delta)?)
    }

    fn ztop(&mut self, key: &[u8], n: usize) -> anyhow::Result<Vec<(Vec<u8>, f64)>> {
        let stop = i64::try_from(n).unwrap_or(i64::MAX) - 1;
        Ok(self.0.zrange(key, 0, stop, true)?)
    }

    fn zrevrank(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<Option<u64>> {
        Ok(self.0.zrank(key, member, true)?.map(|r| r as u64))
    }

    fn sadd(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<bool> {
        Ok(self.0.sadd(key, &[member])? == 1)
    }

    fn scard(&mut self, key: &[u8]) -> anyhow::Result<u64> {
        Ok(self.0.scard(key)? as u64)
    }

    fn lpush(&mut self, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        self.0.lpush(key, &[value])?;
        Ok(())
    }

    /// The library has no blocking pop (the server's BRPOP waits in its event loop), so a
    /// consumer polls: at once, then after a pause that doubles while the list stays
    /// empty. The pause bounds both the wasted polls and the latency it adds to a job.
    fn brpop(&mut self, key: &[u8], timeout: Duration) -> anyhow::Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        let mut pause = POLL_FIRST;
        loop {
            if let Some(value) = self.0.rpop(key, 1)?.pop() {
                return Ok(Some(value));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(POLL_MAX);
        }
    }

    fn hset_expire(
        &mut self,
        key: &[u8],
        fields: &[(&[u8], &[u8])],
        ttl: Duration,
    ) -> anyhow::Result<()> {
        self.0.transaction(|tx| {
            tx.hset_many(key, fields)?;
            tx.expire(key, ttl)
        })?;
        Ok(())
    }

    fn hgetall(&mut self, key: &[u8]) -> anyhow::Result<BTreeMap<Vec<u8>, Vec<u8>>> {
        Ok(self.0.hgetall(key)?.into_iter().collect())
    }

    fn exists(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64> {
        let mut present = 0;
        for key in keys {
            present += u64::from(self.0.value_type(key)?.is_some());
        }
        Ok(present)
    }

    fn del(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64> {
        let mut deleted = 0;
        for key in keys {
            deleted += u64::from(self.0.delete(key)?);
        }
        Ok(deleted)
    }
}
