//! What a benchmark prints: the setup, ops/s, and latency percentiles per operation.

use std::path::PathBuf;
use std::time::Duration;

use keg::SyncPolicy;
use serde_json::{Value, json};

use super::all_ops;
use super::mix::{Mix, Op};
use super::worker::Latencies;
use crate::context::Context;
use crate::duration::latency;
use crate::histogram::Histogram;

pub struct Report {
    pub threads: usize,
    pub keys: u64,
    pub value_size: usize,
    pub mix: Mix,
    pub sync: SyncPolicy,
    pub scratch: PathBuf,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

/// Quantiles printed for each operation.
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p99", 0.99), ("p999", 0.999)];

impl Report {
    fn rate(&self, ops: u64) -> f64 {
        ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The rows: each operation that ran, then all of them together.
    fn rows(&self) -> Vec<(&'static str, Histogram)> {
        let mut rows: Vec<(&'static str, Histogram)> = Op::ALL
            .into_iter()
            .filter_map(|op| {
                let h = self.latencies.get(op.index())?;
                (h.count() > 0).then(|| (op.name(), h.clone()))
            })
            .collect();
        rows.push(("all", all_ops(&self.latencies)));
        rows
    }

    pub fn print(&self, ctx: &mut Context) -> anyhow::Result<()> {
        let threads = if self.threads == 1 {
            "thread"
        } else {
            "threads"
        };
        ctx.line(format_args!(
            "bench: {} {threads}, {} keys, {}-byte values, {}, sync {}",
            self.threads,
            self.keys,
            self.value_size,
            self.mix,
            sync_name(self.sync)
        ))?;
        ctx.line(format_args!(
            "scratch store {} (removed)",
            self.scratch.display()
        ))?;
        let total = all_ops(&self.latencies).count();
        ctx.line(format_args!(
            "{total} ops in {:.2}s: {:.0} ops/s",
            self.elapsed.as_secs_f64(),
            self.rate(total)
        ))?;
        ctx.line(format_args!(
            "{:<5} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9}",
            "op", "ops", "ops/s", "p50", "p99", "p999", "max"
        ))?;
        for (name, h) in self.rows() {
            ctx.line(format_args!(
                "{name:<5} {:>10} {:>12.0} {:>9} {:>9} {:>9} {:>9}",
                h.count(),
                self.rate(h.count()),
                latency(h.quantile(0.5)),
                latency(h.quantile(0.99)),
                latency(h.quantile(0.999)),
                latency(h.max())
            ))?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let mut ops = serde_json::Map::new();
        for (name, h) in self.rows() {
            let mut row = serde_json::Map::new();
            row.insert("ops".into(), Value::from(h.count()));
            row.insert("ops_per_sec".into(), Value::from(self.rate(h.count())));
            for (label, q) in QUANTILES {
                row.insert(format!("{label}_ns"), Value::from(h.quantile(q)));
            }
            row.insert("max_ns".into(), Value::from(h.max()));
            ops.insert(name.into(), Value::Object(row));
        }
        json!({
            "threads": self.threads,
            "keys": self.keys,
            "value_size": self.value_size,
            "mix": Op::ALL.into_iter().map(|op| (op.name().to_owned(), Value::from(self.mix.percent(op)))).collect::<serde_json::Map<_, _>>(),
            "sync": sync_name(self.sync),
            "seconds": self.elapsed.as_secs_f64(),
            "ops": ops,
        })
    }
}

/// The policy as `--sync` spells it.
fn sync_name(sync: SyncPolicy) -> String {
    match sync {
        SyncPolicy::Always => "always".into(),
        SyncPolicy::Never => "never".into(),
        SyncPolicy::Interval(every) => format!("interval:{}", every.as_millis()),
    }
}
