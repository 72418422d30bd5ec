//! What the demo prints: the setup, one row per strategy, the cache's counters and the
//! rate-limit demonstration; or all of it as one JSON object.

use std::time::Duration;

use serde_json::{Value, json};

use super::database::Size;
use super::rate_limits::{self, Scenario};
use super::strategy::Strategy;
use super::workload::{Phase, Plan};
use crate::context::Context;
use crate::duration::latency;

/// What the columns mean, printed under the table.
const NOTES: [&str; 6] = [
    "speed-up: uncached p50 / p50. queries: dashboard queries run (cache loads and",
    "write-through recomputes); saved = reads - queries. Each read is checked: stale = the",
    "dashboard lacks an order whose write (commit, then cache update) had finished before the",
    "read began; behind db = it lacks an order the database had committed before the read",
    "began (stale reads plus reads that fell between a write's commit and its cache update).",
    "ttl-only adds TTL jitter, early refresh (XFetch), stale-while-revalidate for one more TTL.",
];

pub struct Report {
    pub size: Size,
    pub created_in: Duration,
    pub query_alone: Duration,
    pub plan: Plan,
    /// What the cache runs over, for people.
    pub backend: String,
    pub phases: Vec<Phase>,
    pub rate_limits: Vec<Scenario>,
}

/// One strategy's row, derived from its phase.
struct Row {
    name: &'static str,
    reads: u64,
    p50: u64,
    p99: u64,
    speed_up: f64,
    hit_ratio: Option<f64>,
    queries: u64,
    saved: i64,
    stale_reads: u64,
    behind_db: u64,
    writes: u64,
}

impl Report {
    fn uncached_p50(&self) -> u64 {
        self.phases
            .iter()
            .find(|p| p.strategy == Strategy::Uncached)
            .map_or(0, |p| p.reads.quantile(0.5))
    }

    fn rows(&self) -> Vec<Row> {
        let base = self.uncached_p50() as f64;
        self.phases
            .iter()
            .map(|phase| {
                let reads = phase.reads.count();
                let p50 = phase.reads.quantile(0.5);
                Row {
                    name: phase.strategy.name(),
                    reads,
                    p50,
                    p99: phase.reads.quantile(0.99),
                    speed_up: base / (p50.max(1) as f64),
                    hit_ratio: phase.stats.map(|s| s.hit_ratio()),
                    queries: phase.queries,
                    saved: reads as i64 - phase.queries as i64,
                    stale_reads: phase.stale_reads,
                    behind_db: phase.behind_db,
                    writes: phase.writes,
                }
            })
            .collect()
    }

    pub fn print(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let (s, plan) = (&self.size, &self.plan);
        ctx.line(format_args!(
            "database: SQLite, {} users, {} products, {} orders (~{} items), {} reviews; created in {:.1}s",
            s.users,
            s.products,
            s.orders,
            s.orders * 3,
            s.reviews,
            self.created_in.as_secs_f64()
        ))?;
        ctx.line(format_args!(
            "dashboard query (joins users, orders, items, products, reviews): {} alone",
            latency(nanos(self.query_alone))
        ))?;
        ctx.line(format_args!(
            "workload per strategy: {} reader threads over {} users, one order placed every {}ms, {:.1}s, TTL {}s",
            plan.readers,
            plan.hot_users,
            plan.write_every.as_millis(),
            plan.duration.as_secs_f64(),
            plan.ttl.as_secs_f64()
        ))?;
        ctx.line(format_args!(
            "cache: {}, one Cache per strategy",
            self.backend
        ))?;
        ctx.line("")?;
        ctx.line(format_args!(
            "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7} {:>9} {:>6}",
            "strategy",
            "reads",
            "p50",
            "p99",
            "speed-up",
            "hit ratio",
            "queries",
            "saved",
            "stale",
            "behind db",
            "writes"
        ))?;
        for row in self.rows() {
            let hit_ratio = row
                .hit_ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0));
            ctx.line(format_args!(
                "{:<16} {:>8} {:>9} {:>9} {:>8.0}x {:>9} {:>8} {:>8} {:>7} {:>9} {:>6}",
                row.name,
                row.reads,
                latency(row.p50),
                latency(row.p99),
                row.speed_up,
                hit_ratio,
                row.queries,
                row.saved,
                row.stale_reads,
                row.behind_db,
                row.writes
            ))?;
        }
        for note in NOTES {
            ctx.line(note)?;
        }
        ctx.line("")?;
        ctx.line("cache counters (INCR keys in the cache's store, <run>:<strategy>:stats:*):")?;
        ctx.line(format_args!(
            "{:<16} {:>8} {:>8} {:>7} {:>11} {:>12} {:>9}",
            "strategy", "hits", "misses", "loads", "load errors", "stale serves", "refreshes"
        ))?;
        for phase in &self.phases {
            if let Some(st) = phase.stats {
                ctx.line(format_args!(
                    "{:<16} {:>8} {:>8} {:>7} {:>11} {:>12} {:>9}",
                    phase.strategy.name(),
                    st.hits,
                    st.misses,
                    st.loads,
                    st.load_errors,
                    st.stale_serves,
                    st.refreshes
                ))?;
            }
        }
        ctx.line("")?;
        ctx.line(format_args!(
            "rate limiting, {} requests per {}s per client (simulated clock):",
            rate_limits::LIMIT,
            rate_limits::WINDOW.as_secs()
        ))?;
        for sc in &self.rate_limits {
            ctx.line(format_args!(
                "  {}: fixed window allowed {} of {}, sliding window {}",
                sc.name, sc.fixed_allowed, sc.requests, sc.sliding_allowed
            ))?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let strategies: Vec<Value> = self
            .rows()
            .into_iter()
            .zip(&self.phases)
            .map(|(row, phase)| {
                json!({
                    "strategy": row.name,
                    "reads": row.reads,
                    "p50_ns": row.p50,
                    "p99_ns": row.p99,
                    "speed_up_p50": row.speed_up,
                    "hit_ratio": row.hit_ratio,
                    "queries": row.queries,
                    "queries_saved": row.saved,
                    "stale_reads": row.stale_reads,
                    "behind_db_reads": row.behind_db,
                    "writes": row.writes,
                    "seconds": phase.elapsed.as_secs_f64(),
                    "counters": phase.stats.map(|s| json!({
                        "hits": s.hits,
                        "misses": s.misses,
                        "loads": s.loads,
                        "load_errors": s.load_errors,
                        "stale_serves": s.stale_serves,
                        "refreshes": s.refreshes,
                    })),
                })
            })
            .collect();
        let rate_limits: Vec<Value> = self
            .rate_limits
            .iter()
            .map(|sc| {
                json!({
                    "pattern": sc.name,
                    "requests": sc.requests,
                    "fixed_window_allowed": sc.fixed_allowed,
                    "sliding_window_allowed": sc.sliding_allowed,
                })
            })
            .collect();
        json!({
            "database": self.size,
            "database_created_seconds": self.created_in.as_secs_f64(),
            "query_alone_ns": nanos(self.query_alone),
            "readers": self.plan.readers,
            "hot_users": self.plan.hot_users,
            "write_every_ms": self.plan.write_every.as_millis() as u64,
            "seconds_per_strategy": self.plan.duration.as_secs_f64(),
            "ttl_seconds": self.plan.ttl.as_secs_f64(),
            "cache_backend": self.backend,
            "strategies": strategies,
            "rate_limit": {
                "limit": rate_limits::LIMIT,
                "window_seconds": rate_limits::WINDOW.as_secs_f64(),
                "scenarios": rate_limits,
            },
        })
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
