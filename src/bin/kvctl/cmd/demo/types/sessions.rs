//! Sessions: one hash per session (user, cart, theme) with a TTL, written as HSET and
//! PEXPIRE in one atomic unit, then read back whole (HGETALL). The TTL is the point: every
//! session must be there before it and gone after it.
//!
//! Sessions are written for a fifth of the TTL and read for another fifth. Then, before
//! the first session can have expired, all are counted (EXISTS); then, once the last one
//! must have expired, counted again. On a simulated clock the first count is taken 1 ms
//! before the expiry time and the second at it (keg expires a key at its expiry
//! millisecond). On a real one the bounds are the server's clock (TIME) read before the
//! first write and after the last: the first count must finish before the earliest
//! possible expiry, the second starts 1 ms after the latest (Redis keeps a key through
//! its expiry millisecond).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::backend::Backend;
use super::measure::OpStats;

/// Sessions at most, whatever the speed.
const MAX_SESSIONS: usize = 100_000;

pub struct Sessions {
    pub ttl: Duration,
    pub simulated_clock: bool,
    pub created: u64,
    /// HSET (3 fields) + PEXPIRE, atomically.
    pub writes: OpStats,
    pub reads: OpStats,
    /// HGETALLs that did not return what was written.
    pub wrong_reads: u64,
    /// Sessions present at the first count.
    pub present_before: u64,
    /// How long before the earliest expiry the first count finished.
    pub margin_ms: i64,
    /// Sessions present at the second count.
    pub left_after: u64,
    /// Every session's key, for the cleanup.
    pub keys: Vec<Vec<u8>>,
    pub problem: Option<String>,
}

fn fields(n: usize) -> BTreeMap<Vec<u8>, Vec<u8>> {
    BTreeMap::from([
        (b"user".to_vec(), format!("user:{}", n % 9973).into_bytes()),
        (b"cart".to_vec(), b"3 items".to_vec()),
        (b"theme".to_vec(), b"dark".to_vec()),
    ])
}

pub fn run(backend: &dyn Backend, prefix: &str, ttl: Duration) -> anyhow::Result<Sessions> {
    let mut conn = backend.connect()?;
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    let mut writes = OpStats::default();
    let mut keys = Vec::new();
    let first_written_after = backend.now_ms()?;
    let started = Instant::now();
    while started.elapsed() < ttl / 5 && keys.len() < MAX_SESSIONS {
        let n = keys.len();
        let key = format!("{prefix}session:{n:08x}").into_bytes();
        let fields = fields(n);
        let pairs: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(f, v)| (f.as_slice(), v.as_slice()))
            .collect();
        writes.time(|| conn.hset_expire(&key, &pairs, ttl))?;
        keys.push(key);
    }
    let last_written_before = backend.now_ms()?;

    let mut reads = OpStats::default();
    let mut wrong_reads = 0;
    let started = Instant::now();
    for (n, key) in keys.iter().enumerate() {
        if started.elapsed() >= ttl / 5 {
            break;
        }
        let read = reads.time(|| conn.hgetall(key))?;
        wrong_reads += u64::from(read != fields(n));
    }

    let earliest_expiry = first_written_after + ttl_ms;
    if backend.simulated_clock() {
        backend.wait_until_ms(earliest_expiry - 1)?;
    }
    let present_before = conn.exists(&keys)?;
    let margin_ms = earliest_expiry as i64 - backend.now_ms()? as i64;
    let latest_expiry = last_written_before + ttl_ms;
    backend.wait_until_ms(if backend.simulated_clock() {
        latest_expiry
    } else {
        latest_expiry + 1
    })?;
    let left_after = conn.exists(&keys)?;

    let created = keys.len() as u64;
    let mut problems = Vec::new();
    if wrong_reads > 0 {
        problems.push(format!("{wrong_reads} HGETALL returned other fields"));
    }
    if margin_ms <= 0 {
        problems.push(format!(
            "the count before the TTL finished {} ms after the first session could expire (a slow machine?)",
            -margin_ms
        ));
    } else if present_before != created {
        problems.push(format!(
            "{present_before} of {created} sessions present before their TTL"
        ));
    }
    if left_after > 0 {
        problems.push(format!(
            "{left_after} of {created} sessions still present after their TTL"
        ));
    }
    Ok(Sessions {
        ttl,
        simulated_clock: backend.simulated_clock(),
        created,
        writes,
        reads,
        wrong_reads,
        present_before,
        margin_ms,
        left_after,
        keys,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}
