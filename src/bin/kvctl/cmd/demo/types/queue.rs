//! The work queue: producers LPUSH jobs, consumers take them from the other end with
//! BRPOP, so the list is first in, first out. The producers are paced (a few jobs every
//! millisecond, as requests arrive) rather than flat out, so the consumers keep up and
//! spend most of their time waiting in BRPOP: what is measured is how long a job waits
//! between its LPUSH and the moment a consumer holds it, not how long a backlog gets.
//!
//! Every job names its producer and sequence number, so the consumers' haul is checked:
//! each job produced taken exactly once. When the producers are done, one stop job per
//! consumer goes in behind the last real one; a consumer that takes one leaves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::backend::{Backend, Conn};
use super::measure::{OpStats, nanos};
use crate::cmd::demo::workload::{join, stop_on_error};

pub const PRODUCERS: u64 = 2;
pub const CONSUMERS: usize = 2;
/// Each producer pushes this many jobs...
pub const BURST: u64 = 4;
/// ...this often.
pub const TICK: Duration = Duration::from_millis(1);
/// How long one BRPOP waits before the consumer looks up (to see an error elsewhere).
const POP_TIMEOUT: Duration = Duration::from_millis(100);
/// Consumers give up this long after the producers finished, should the stop jobs never
/// come (a job lost in the store).
const DRAIN_LIMIT: Duration = Duration::from_secs(3);
const STOP: &[u8] = b"stop";

pub struct Queue {
    /// How the consumers wait, for people.
    pub consumer_wait: &'static str,
    /// How long the producers ran.
    pub elapsed: Duration,
    /// From the producers' end to the last consumer's.
    pub drained_in: Duration,
    pub produced: u64,
    pub consumed: u64,
    /// Jobs produced that no consumer took.
    pub lost: u64,
    /// Jobs taken more than once (each extra time counts), or never produced.
    pub duplicated: u64,
    pub lpush: OpStats,
    /// From just before a job's LPUSH to its consumer holding it.
    pub wait: OpStats,
    /// BRPOPs that timed out with the queue empty.
    pub empty_pops: u64,
    pub problem: Option<String>,
}

/// What one consumer took.
#[derive(Default)]
struct Haul {
    /// (producer, sequence number) of every job taken.
    jobs: Vec<(u64, u64)>,
    wait: OpStats,
    empty_pops: u64,
    unreadable: u64,
}

pub fn run(backend: &dyn Backend, key: &[u8], run_for: Duration) -> anyhow::Result<Queue> {
    // Every connection opened before the first job, so a failure to connect stops the part
    // before it starts.
    let producers: Vec<Box<dyn Conn>> = (0..PRODUCERS)
        .map(|_| backend.connect())
        .collect::<Result<_, _>>()?;
    let consumers: Vec<Box<dyn Conn>> = (0..CONSUMERS)
        .map(|_| backend.connect())
        .collect::<Result<_, _>>()?;
    let mut control = backend.connect()?;
    // Enqueue times are offsets from this instant, carried in the job itself.
    let epoch = Instant::now();
    let deadline = epoch + run_for;
    let failed = AtomicBool::new(false);
    let (produced, hauls, elapsed, drained_in) = std::thread::scope(|s| {
        let consumers: Vec<_> = consumers
            .into_iter()
            .map(|conn| {
                let failed = &failed;
                s.spawn(move || stop_on_error(failed, || consume(conn, key, epoch, failed)))
            })
            .collect();
        let producers: Vec<_> = producers
            .into_iter()
            .zip(0..)
            .map(|(conn, id)| {
                let failed = &failed;
                s.spawn(move || {
                    stop_on_error(failed, || produce(conn, key, id, epoch, deadline, failed))
                })
            })
            .collect();
        let produced: Vec<_> = producers.into_iter().map(join).collect();
        let elapsed = epoch.elapsed();
        for _ in 0..CONSUMERS {
            if let Err(e) = control.lpush(key, STOP) {
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
        let hauls: Vec<_> = consumers.into_iter().map(join).collect();
        Ok((produced, hauls, elapsed, epoch.elapsed() - elapsed))
    })?;

    let mut lpush = OpStats::default();
    let mut counts: Vec<Vec<u8>> = Vec::new();
    for result in produced {
        let (jobs, stats) = result?;
        lpush.merge(&stats);
        counts.push(vec![0; jobs as usize]);
    }
    let produced = counts.iter().map(|c| c.len() as u64).sum();
    let mut queue = Queue {
        consumer_wait: backend.consumer_wait(),
        elapsed,
        drained_in,
        produced,
        consumed: 0,
        lost: 0,
        duplicated: 0,
        lpush,
        wait: OpStats::default(),
        empty_pops: 0,
        problem: None,
    };
    let mut unreadable = 0;
    for haul in hauls {
        let haul = haul?;
        queue.consumed += haul.jobs.len() as u64;
        queue.wait.merge(&haul.wait);
        queue.empty_pops += haul.empty_pops;
        unreadable += haul.unreadable;
        for (producer, seq) in haul.jobs {
            match counts
                .get_mut(producer as usize)
                .and_then(|c| c.get_mut(seq as usize))
            {
                Some(count) => *count = count.saturating_add(1),
                None => queue.duplicated += 1,
            }
        }
    }
    for &count in counts.iter().flatten() {
        queue.lost += u64::from(count == 0);
        queue.duplicated += u64::from(count.saturating_sub(1));
    }
    let mut problems = Vec::new();
    if queue.lost > 0 || queue.duplicated > 0 || queue.consumed != queue.produced {
        problems.push(format!(
            "{} jobs produced, {} consumed: {} lost, {} duplicated",
            queue.produced, queue.consumed, queue.lost, queue.duplicated
        ));
    }
    if unreadable > 0 {
        problems.push(format!("{unreadable} jobs were not what a producer pushed"));
    }
    queue.problem = (!problems.is_empty()).then(|| problems.join("; "));
    Ok(queue)
}

/// Pushes `BURST` jobs every `TICK` until `deadline`; returns how many, and the LPUSHes'
/// latencies.
fn produce(
    mut conn: Box<dyn Conn>,
    key: &[u8],
    id: u64,
    epoch: Instant,
    deadline: Instant,
    failed: &AtomicBool,
) -> anyhow::Result<(u64, OpStats)> {
    let mut lpush = OpStats::default();
    let mut seq = 0u64;
    let mut next = Instant::now();
    while next < deadline && !failed.load(Ordering::Relaxed) {
        // Pacing a workload, not waiting for a result: jobs arrive as requests do.
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        for _ in 0..BURST {
            let job = format!("{id}:{seq}:{}", nanos(epoch.elapsed()));
            lpush.time(|| conn.lpush(key, job.as_bytes()))?;
            seq += 1;
        }
        // A producer that fell behind (a busy machine) does not catch up in one burst.
        next = (next + TICK).max(Instant::now());
    }
    Ok((seq, lpush))
}

/// Takes jobs until it takes a stop job (or gives up `DRAIN_LIMIT` after it could have).
fn consume(
    mut conn: Box<dyn Conn>,
    key: &[u8],
    epoch: Instant,
    failed: &AtomicBool,
) -> anyhow::Result<Haul> {
    let mut haul = Haul::default();
    let mut empty_since: Option<Instant> = None;
    while !failed.load(Ordering::Relaxed) {
        let Some(job) = conn.brpop(key, POP_TIMEOUT)? else {
            haul.empty_pops += 1;
            let since = *empty_since.get_or_insert_with(Instant::now);
            if since.elapsed() > DRAIN_LIMIT {
                break;
            }
            continue;
        };
        empty_since = None;
        let taken_at = nanos(epoch.elapsed());
        if job == STOP {
            break;
        }
        match parse(&job) {
            Some((producer, seq, pushed_at)) => {
                haul.jobs.push((producer, seq));
                haul.wait
                    .record(Duration::from_nanos(taken_at.saturating_sub(pushed_at)));
            }
            None => haul.unreadable += 1,
        }
    }
    Ok(haul)
}

/// `producer:seq:pushed_at_ns`.
fn parse(job: &[u8]) -> Option<(u64, u64, u64)> {
    let text = std::str::from_utf8(job).ok()?;
    let mut fields = text.split(':').map(|f| f.parse::<u64>().ok());
    let parsed = (fields.next()??, fields.next()??, fields.next()??);
    fields.next().is_none().then_some(parsed)
}
