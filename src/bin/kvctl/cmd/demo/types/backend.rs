//! What the four parts need from a store, so that the same code runs embedded and over
//! the Redis protocol: one connection per client thread ([`Conn`]), and the store's clock
//! ([`Backend`]).

use std::collections::BTreeMap;
use std::time::Duration;

/// One client's connection: a handle on the embedded store, or a connection of the redis
/// crate. Each method is the Redis command it is named after.
pub trait Conn: Send {
    /// ZADD key score member.
    fn zadd(&mut self, key: &[u8], score: f64, member: &[u8]) -> anyhow::Result<()>;
    /// ZINCRBY key delta member: the new score.
    fn zincr_by(&mut self, key: &[u8], member: &[u8], delta: f64) -> anyhow::Result<f64>;
    /// ZREVRANGE key 0 n-1 WITHSCORES: the `n` highest scores, highest first.
    fn ztop(&mut self, key: &[u8], n: usize) -> anyhow::Result<Vec<(Vec<u8>, f64)>>;
    /// ZREVRANK key member: 0 for the highest score.
    fn zrevrank(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<Option<u64>>;
    /// SADD key member: whether the member is new.
    fn sadd(&mut self, key: &[u8], member: &[u8]) -> anyhow::Result<bool>;
    /// SCARD key.
    fn scard(&mut self, key: &[u8]) -> anyhow::Result<u64>;
    /// LPUSH key value.
    fn lpush(&mut self, key: &[u8], value: &[u8]) -> anyhow::Result<()>;
    /// BRPOP key timeout: the value taken from the right end, or `None` if none came
    /// within `timeout`.
    fn brpop(&mut self, key: &[u8], timeout: Duration) -> anyhow::Result<Option<Vec<u8>>>;
    /// HSET key field value... and PEXPIRE key ttl as one atomic unit (MULTI/EXEC, or a
    /// transaction embedded): a session never exists without its TTL.
    fn hset_expire(
        &mut self,
        key: &[u8],
        fields: &[(&[u8], &[u8])],
        ttl: Duration,
    ) -> anyhow::Result<()>;
    /// HGETALL key.
    fn hgetall(&mut self, key: &[u8]) -> anyhow::Result<BTreeMap<Vec<u8>, Vec<u8>>>;
    /// EXISTS key...: how many of `keys` exist.
    fn exists(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64>;
    /// DEL key...: how many of `keys` existed.
    fn del(&mut self, keys: &[Vec<u8>]) -> anyhow::Result<u64>;
}

/// Where the parts run: it opens connections and keeps the clock keys expire by.
pub trait Backend: Sync {
    fn connect(&self) -> anyhow::Result<Box<dyn Conn>>;

    /// The time keys expire by, in unix milliseconds.
    fn now_ms(&self) -> anyhow::Result<u64>;

    /// Returns once [`Backend::now_ms`] has reached `unix_ms`: sleeps on a real clock,
    /// moves a simulated one.
    fn wait_until_ms(&self, unix_ms: u64) -> anyhow::Result<()>;

    /// Whether the clock is simulated (expiry is then checked to the millisecond, at no
    /// cost in time).
    fn simulated_clock(&self) -> bool;

    /// How a consumer of the work queue waits for a job, for people.
    fn consumer_wait(&self) -> &'static str;
}
