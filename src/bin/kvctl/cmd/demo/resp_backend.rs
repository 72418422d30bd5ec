//! The cache over the Redis protocol: [`CacheBackend`] on connections of the `redis`
//! crate, so the demo's workload runs unchanged against a server (`kvctl serve`, or Redis).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keg::cache::CacheBackend;
use redis::{Client, Connection, RedisResult, cmd};

/// A pool of blocking connections to one server: each call borrows one (opening a new one
/// when all are busy), so reader threads do not queue behind each other.
pub struct RespBackend {
    client: Client,
    idle: Mutex<Vec<Connection>>,
}

impl RespBackend {
    /// Connects to `url` (`redis://127.0.0.1:6379/`), checking the server answers.
    pub fn connect(url: &str) -> RedisResult<RespBackend> {
        let client = Client::open(url)?;
        let mut first = client.get_connection()?;
        cmd("PING").query::<String>(&mut first)?;
        Ok(RespBackend {
            client,
            idle: Mutex::new(vec![first]),
        })
    }

    /// Runs `f` on a pooled connection; a connection that failed is dropped, not reused.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> RedisResult<T>) -> RedisResult<T> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.client.get_connection()?,
        };
        let result = f(&mut conn);
        let broken = matches!(&result, Err(e) if e.is_connection_dropped() || e.is_io_error());
        if !broken {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
        result
    }
}

/// Milliseconds in `d`, at least 1 (`PX 0` is an error).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl CacheBackend for RespBackend {
    type Error = redis::RedisError;

    fn get(&self, key: &[u8]) -> RedisResult<Option<Vec<u8>>> {
        self.with(|c| cmd("GET").arg(key).query(c))
    }

    fn set_with_ttl(&self, key: &[u8], value: &[u8], ttl: Duration) -> RedisResult<()> {
        self.with(|c| {
            cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
                .query(c)
        })
    }

    fn delete(&self, key: &[u8]) -> RedisResult<bool> {
        self.with(|c| cmd("DEL").arg(key).query::<i64>(c).map(|n| n > 0))
    }

    fn incr_by(&self, key: &[u8], delta: i64) -> RedisResult<i64> {
        self.with(|c| cmd("INCRBY").arg(key).arg(delta).query(c))
    }

    fn expire(&self, key: &[u8], ttl: Duration) -> RedisResult<bool> {
        self.with(|c| {
            cmd("PEXPIRE")
                .arg(key)
                .arg(millis(ttl))
                .query::<i64>(c)
                .map(|n| n == 1)
        })
    }

    /// This machine's clock, not the server's (`TIME` would cost a round trip per read):
    /// the same clock on a loopback server. Only the cache's freshness decisions use it;
    /// the server expires keys by its own clock.
    fn now_ms(&self) -> RedisResult<u64> {
        Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
    }
}
