//! What `kvctl demo types` prints: per part what was done, the commands' counts and
//! latencies, and its check; or all of it as one JSON object.

use std::time::Duration;

use serde_json::{Value, json};

use super::Budget;
use super::leaderboard::{self, Leaderboard};
use super::measure::OpStats;
use super::queue::{self, Queue};
use super::sessions::Sessions;
use super::visitors::Visitors;
use crate::context::Context;
use crate::duration::latency;

pub struct Report {
    /// What the parts ran against, for people.
    pub backend: String,
    /// Embedded (a transaction, a simulated clock) rather than over the Redis protocol.
    pub embedded: bool,
    pub prefix: String,
    pub budget: Budget,
    pub leaderboard: Leaderboard,
    pub visitors: Visitors,
    pub queue: Queue,
    pub sessions: Sessions,
    pub cleanup: Cleanup,
}

/// What was left of the demo's keys.
pub struct Cleanup {
    /// Keys DEL found (sessions have expired by then, and an empty list is no key).
    pub deleted: u64,
    /// The demo's keys, all of them.
    pub keys: u64,
    /// Of those, still present after the DEL.
    pub left: u64,
}

impl Report {
    /// Each failed check, with its part.
    pub fn problems(&self) -> Vec<String> {
        let cleanup = (self.cleanup.left > 0).then(|| {
            format!(
                "{} of the demo's keys are left after the cleanup",
                self.cleanup.left
            )
        });
        [
            ("leaderboard", &self.leaderboard.problem),
            ("unique visitors", &self.visitors.problem),
            ("work queue", &self.queue.problem),
            ("sessions", &self.sessions.problem),
            ("cleanup", &cleanup),
        ]
        .into_iter()
        .filter_map(|(part, problem)| problem.as_ref().map(|p| format!("{part}: {p}")))
        .collect()
    }

    pub fn print(&self, ctx: &mut Context) -> anyhow::Result<()> {
        ctx.line(format_args!(
            "data types on {}; keys under {}",
            self.backend, self.prefix
        ))?;
        ctx.line(format_args!(
            "one part after another, {:.1}s each; one client per part but the queue's; mean, p50 and p99 are per call",
            self.budget.run_for.as_secs_f64()
        ))?;
        self.print_leaderboard(ctx)?;
        self.print_visitors(ctx)?;
        self.print_queue(ctx)?;
        self.print_sessions(ctx)?;
        ctx.line("")?;
        ctx.line(format_args!(
            "cleanup: DEL found {} keys; {} of the demo's {} keys left",
            self.cleanup.deleted, self.cleanup.left, self.cleanup.keys
        ))?;
        Ok(())
    }

    fn print_leaderboard(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let lb = &self.leaderboard;
        ctx.line("")?;
        ctx.line(format_args!(
            "leaderboard (sorted set): {} players added, then points to random players (a quarter to the top 1%), the top {} read every 50 writes",
            lb.players,
            leaderboard::TOP
        ))?;
        header(ctx)?;
        row(ctx, "ZADD", &lb.zadd)?;
        row(ctx, "ZINCRBY", &lb.zincrby)?;
        row(ctx, "ZREVRANGE 0 9 WITHSCORES", &lb.top_reads)?;
        rate(
            ctx,
            lb.zadd.count() + lb.zincrby.count() + lb.top_reads.count(),
            lb.elapsed,
        )?;
        let podium: Vec<String> = lb
            .top
            .iter()
            .take(3)
            .enumerate()
            .map(|(n, (member, score))| format!("{}. {member} {score}", n + 1))
            .collect();
        ctx.line(format_args!("  top 3: {}", podium.join(", ")))?;
        let rank = lb
            .ranked
            .1
            .map_or("none".to_owned(), |r| format!("#{}", r + 1));
        check(
            ctx,
            &lb.problem,
            &format!(
                "the top {} (scores and order) and {}'s rank ({rank}) match the scores kept in memory",
                leaderboard::TOP,
                lb.ranked.0
            ),
        )
    }

    fn print_visitors(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let v = &self.visitors;
        ctx.line("")?;
        ctx.line(format_args!(
            "unique visitors (set): each page view SADDs its visitor (of {}; half the views from 2% regulars), SCARD every 1000 views",
            v.population
        ))?;
        header(ctx)?;
        row(ctx, "SADD", &v.sadd)?;
        row(ctx, "SCARD", &v.scard)?;
        rate(ctx, v.sadd.count() + v.scard.count(), v.elapsed)?;
        check(
            ctx,
            &v.problem,
            &format!(
                "SCARD {} = {} distinct visitors among {} views (counted in memory); SADD said new {} times",
                v.counted,
                v.distinct,
                v.sadd.count(),
                v.added
            ),
        )
    }

    fn print_queue(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let q = &self.queue;
        ctx.line("")?;
        ctx.line(format_args!(
            "work queue (list): {} producers LPUSH {} jobs each every {} ms, {} consumers take them from the other end",
            queue::PRODUCERS,
            queue::BURST,
            queue::TICK.as_millis(),
            queue::CONSUMERS
        ))?;
        ctx.line(format_args!("  consumers wait with {}", q.consumer_wait))?;
        header(ctx)?;
        row(ctx, "LPUSH", &q.lpush)?;
        row(ctx, "LPUSH → consumer has it", &q.wait)?;
        ctx.line(format_args!(
            "  {} jobs in {:.2}s ({:.0} jobs/s); the last taken {} after the producers stopped; {} waits timed out",
            q.produced,
            q.elapsed.as_secs_f64(),
            q.produced as f64 / q.elapsed.as_secs_f64(),
            latency(super::measure::nanos(q.drained_in)),
            q.empty_pops
        ))?;
        check(
            ctx,
            &q.problem,
            &format!(
                "{} jobs produced = {} consumed, {} lost, {} duplicated",
                q.produced, q.consumed, q.lost, q.duplicated
            ),
        )
    }

    fn print_sessions(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let s = &self.sessions;
        let ttl_ms = s.ttl.as_millis();
        ctx.line("")?;
        ctx.line(format_args!(
            "sessions (hash + TTL): HSET of 3 fields and PEXPIRE {ttl_ms} ms as one {} for {}ms, then HGETALL for {}ms",
            if self.embedded {
                "transaction"
            } else {
                "MULTI/EXEC"
            },
            (s.ttl / 5).as_millis(),
            (s.ttl / 5).as_millis()
        ))?;
        header(ctx)?;
        row(ctx, "HSET + PEXPIRE", &s.writes)?;
        row(ctx, "HGETALL", &s.reads)?;
        let (before, after) = if s.simulated_clock {
            (
                "1 ms before their TTL".to_owned(),
                "at it (simulated clock)",
            )
        } else {
            (
                format!("{} ms before the first could expire", s.margin_ms),
                "1 ms after the last could (the server's clock)",
            )
        };
        check(
            ctx,
            &s.problem,
            &format!(
                "{} of {} sessions present {before}, {} {after}; {} HGETALL read what was written",
                s.present_before,
                s.created,
                s.left_after,
                s.reads.count() - s.wrong_reads
            ),
        )
    }

    pub fn to_json(&self) -> Value {
        let (lb, v, q, s) = (
            &self.leaderboard,
            &self.visitors,
            &self.queue,
            &self.sessions,
        );
        let top: Vec<Value> = lb
            .top
            .iter()
            .map(|(member, score)| json!({"member": member, "score": score}))
            .collect();
        json!({
            "backend": self.backend,
            "key_prefix": self.prefix,
            "seconds_per_part": self.budget.run_for.as_secs_f64(),
            "leaderboard": {
                "players": lb.players,
                "seconds": lb.elapsed.as_secs_f64(),
                "zadd": lb.zadd.to_json(),
                "zincrby": lb.zincrby.to_json(),
                "zrevrange_top": lb.top_reads.to_json(),
                "top": top,
                "ranked": {"member": lb.ranked.0, "rank": lb.ranked.1},
                "ok": lb.problem.is_none(),
                "problem": lb.problem,
            },
            "unique_visitors": {
                "population": v.population,
                "seconds": v.elapsed.as_secs_f64(),
                "sadd": v.sadd.to_json(),
                "scard": v.scard.to_json(),
                "distinct": v.distinct,
                "sadd_new": v.added,
                "scard_final": v.counted,
                "ok": v.problem.is_none(),
                "problem": v.problem,
            },
            "work_queue": {
                "producers": queue::PRODUCERS,
                "consumers": queue::CONSUMERS,
                "jobs_per_producer_per_ms": queue::BURST,
                "consumer_wait": q.consumer_wait,
                "seconds": q.elapsed.as_secs_f64(),
                "drained_seconds": q.drained_in.as_secs_f64(),
                "produced": q.produced,
                "consumed": q.consumed,
                "lost": q.lost,
                "duplicated": q.duplicated,
                "lpush": q.lpush.to_json(),
                "enqueue_to_dequeue": q.wait.to_json(),
                "empty_waits": q.empty_pops,
                "ok": q.problem.is_none(),
                "problem": q.problem,
            },
            "sessions": {
                "ttl_ms": s.ttl.as_millis() as u64,
                "simulated_clock": s.simulated_clock,
                "created": s.created,
                "hset_pexpire": s.writes.to_json(),
                "hgetall": s.reads.to_json(),
                "wrong_reads": s.wrong_reads,
                "present_before_ttl": s.present_before,
                "checked_ms_before_first_expiry": s.margin_ms,
                "left_after_ttl": s.left_after,
                "ok": s.problem.is_none(),
                "problem": s.problem,
            },
            "cleanup": {
                "deleted": self.cleanup.deleted,
                "keys": self.cleanup.keys,
                "left": self.cleanup.left,
            },
            "ok": self.problems().is_empty(),
        })
    }
}

fn header(ctx: &mut Context) -> anyhow::Result<()> {
    ctx.line(format_args!(
        "  {:<26} {:>9} {:>9} {:>9} {:>9}",
        "command", "calls", "mean", "p50", "p99"
    ))
}

fn row(ctx: &mut Context, name: &str, stats: &OpStats) -> anyhow::Result<()> {
    ctx.line(format_args!(
        "  {:<26} {:>9} {:>9} {:>9} {:>9}",
        name,
        stats.count(),
        latency(stats.mean_ns()),
        latency(stats.quantile(0.5)),
        latency(stats.quantile(0.99))
    ))
}

fn rate(ctx: &mut Context, calls: u64, elapsed: Duration) -> anyhow::Result<()> {
    ctx.line(format_args!(
        "  {calls} calls in {:.2}s: {:.0} calls/s",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64()
    ))
}

fn check(ctx: &mut Context, problem: &Option<String>, ok: &str) -> anyhow::Result<()> {
    match problem {
        None => ctx.line(format_args!("  check ok: {ok}")),
        Some(problem) => ctx.line(format_args!("  check FAILED: {problem}")),
    }
}
