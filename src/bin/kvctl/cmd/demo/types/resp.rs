//! The parts over the Redis protocol, through the redis crate: keg's own server or any
//! Redis-protocol server. The clock is the server's (TIME), so a server on another machine
//! with a clock of its own is judged by the clock that expires its keys.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Client, Connection, RedisResult, cmd};

use super::backend::{Backend, Conn};

/// Keys per EXISTS or DEL command.
const KEYS_PER_COMMAND: usize = 1000;

/// A reply slower than this means the server is stuck: the demo stops with an error
/// instead of waiting forever. Far above any BRPOP timeout the demo uses.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Resp {
    client: Client,
    /// For TIME.
    clock: Mutex<Connection>,
}

impl Resp {
    /// Connects to `url`, checking the server answers.
    pub fn connect(url: &str) -> RedisResult<Resp> {
        let client = Client::open(url)?;
        let mut conn = open(&client)?;
        cmd("PING").query::<String>(&mut conn)?;
        Ok(Resp {
            client,
            clock: Mutex::new(conn),
        })
    }
}

fn open(client: &Client) -> RedisResult<Connection> {
    let conn = client.get_connection()?;
    conn.set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(conn)
}

impl Backend for Resp {
    fn connect(&self) -> anyhow::Result<Box<dyn Conn>> {
        Ok(Box::new(RespConn(open(&self.client)?)))
    }

    fn now_ms(&self) -> anyhow::Result<u64> {
        let mut conn = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        let (secs, micros): (u64, u64) = cmd("TIME").query(&mut *conn)?;
        Ok(secs * 1000 + micros / 1000)
    }

    fn wait_until_ms(&self, unix_ms: u64) -> anyhow::Result<()> {
        loop {
            let now = self.now_ms()?;
            if now >= unix_ms {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(unix_ms - now));
        }
    }

    fn simulated_clock(&self) -> bool {
        false
    }

    fn consumer_wait(&self) -> &'static str {
        "BRPOP with a 100 ms timeout: the server holds the call until a job arrives"
    }
}

struct RespConn(Connection);

impl Conn for RespConn {
    fn zadd(&mut self, key: &[u8], score: f64, member: &[u8]) -> anyhow::Result<()> {
        cmd("ZADD")
            .arg(key)
            .arg(score)
            .arg(member)
            .query::<i64>(&mut self.0)?;
        Ok(())
    }

    fn zincr_by(&mut self, key: &[u8], member: &[u8], delta: f64) -> anyhow::Result<f64> {
        Ok(cmd("ZINCRBY")
            .arg(key)
            .arg(delta)
            .arg(member)
            .query(&mut self.0)?)
    }

    fn ztop(&mut self, key: &[u8], n: usize) -> anyhow::Result<Vec<(Vec<u8>, f64)>> {
        let stop = i64::try_from(n).unwrap_or(i64::MAX) - 1;
        Ok(cmd("ZREVRANGE")
            .arg(key)
            .arg(0)
            .arg(stop)
            .arg("WITHSCORES")
            .query(&mut self.0)?)
    }

    fn zrevrank(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<Option<u64>> {
        Ok(cmd("ZREVRANK").arg(key).arg(member).query(&mut self.0)?)
    }

    fn sadd(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<bool> {
        Ok(cmd("SADD").arg(key).arg(member).query::<i64>(&mut self.0)? == 1)
    }

    fn scard(&mut self, key: &[u8]) -> anyhow::Result<u64> {
        Ok(cmd("SCARD").arg(key).query(&mut self.0)?)
    }

    fn lpush(&mut self, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        cmd("LPUSH").arg(key).arg(value).query::<i64>(&mut self.0)?;
        Ok(())
    }

    fn brpop(&mut self, key: &[u8], timeout: Duration) -> anyhow::Result<Option<Vec<u8>>> {
        let popped: Option<(Vec<u8>, Vec<u8>)> = cmd("BRPOP")
            .arg(key)
            .arg(timeout.as_secs_f64())
            .query(&mut self.0)?;
        Ok(popped.map(|(_key, value)| value))
    }

    fn hset_expire(
        &mut self,
        key: &[u8],
        fields: &[(&[u8], &[u8])],
        ttl: Duration,
    ) -> anyhow::Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("HSET").arg(key);
        for (field, value) in fields {
            pipe.arg(field).arg(value);
        }
        pipe.ignore()
            .cmd("PEXPIRE")
            .arg(key)
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .ignore()
            .query::<()>(&mut self.0)?;
        Ok(())
    }

    fn hgetall(&mut self, key: &[u8]) -> anyhow::Result<BTreeMap<Vec<u8>, Vec<u8>>> {
        Ok(cmd("HGETALL").arg(key).query(&mut self.0)?)
    }

    fn exists(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64> {
        let mut present = 0;
        for chunk in keys.chunks(KEYS_PER_COMMAND) {
            present += cmd("EXISTS").arg(chunk).query::<u64>(&mut self.0)?;
        }
        Ok(present)
    }

    fn del(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64> {
        let mut deleted = 0;
        for chunk in keys.chunks(KEYS_PER_COMMAND) {
            deleted += cmd("DEL").arg(chunk).query::<u64>(&mut self.0)?;
        }
        Ok(deleted)
    }
}
