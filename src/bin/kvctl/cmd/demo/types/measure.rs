//! What one kind of operation cost: every call's latency in a histogram, and their sum
//! (for the mean, which is what a single client's throughput is made of).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::histogram::Histogram;

#[derive(Clone, Debug, Default)]
pub struct OpStats {
    latencies: Histogram,
    total_ns: u64,
}

impl OpStats {
    /// Runs `op`, recording how long it took (also when it fails: the error ends the demo).
    pub fn time<T>(&mut self, op: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let started = Instant::now();
        let result = op();
        self.record(started.elapsed());
        result
    }

    pub fn record(&mut self, took: Duration) {
        let ns = nanos(took);
        self.latencies.record(ns);
        self.total_ns = self.total_ns.saturating_add(ns);
    }

    pub fn merge(&mut self, other: &OpStats) {
        self.latencies.merge(&other.latencies);
        self.total_ns = self.total_ns.saturating_add(other.total_ns);
    }

    pub fn count(&self) -> u64 {
        self.latencies.count()
    }

    pub fn mean_ns(&self) -> u64 {
        self.total_ns / self.count().max(1)
    }

    pub fn quantile(&self, q: f64) -> u64 {
        self.latencies.quantile(q)
    }

    pub fn max_ns(&self) -> u64 {
        self.latencies.max()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ops": self.count(),
            "mean_ns": self.mean_ns(),
            "p50_ns": self.quantile(0.5),
            "p99_ns": self.quantile(0.99),
            "max_ns": self.max_ns(),
        })
    }
}

pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
