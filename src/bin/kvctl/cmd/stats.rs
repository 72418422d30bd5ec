//! `kvctl stats`: the store's size and layout.

use serde_json::json;

use crate::context::{Context, Create};
use crate::size::human;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct StatsArgs {}

/// Prints a table of `keg::Stats` (every field under --json): keys, then the collections
/// (hashes, sets, lists, sorted sets) among them with their elements and the index memory
/// those take. Counters of activity since open (fsyncs, merges, expired keys deleted)
/// concern this kvctl process only, so they are left out of the table; --json has them.
pub fn run(_args: &StatsArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let store = ctx.open(Create::Never)?;
    let stats = store.stats();
    store.close()?;
    if ctx.wants_json() {
        ctx.json(to_json(&stats))?;
        return Ok(Status::Success);
    }
    let dead_share = percent(stats.dead_bytes, stats.disk_bytes);
    let rows = [
        ("keys", stats.keys.to_string()),
        (
            "expired keys pending",
            stats.expired_keys_pending.to_string(),
        ),
        (
            "disk",
            format!("{} ({} bytes)", human(stats.disk_bytes), stats.disk_bytes),
        ),
        ("live", human(stats.live_bytes)),
        (
            "dead (merge reclaims)",
            format!("{} ({dead_share})", human(stats.dead_bytes)),
        ),
        (
            "index memory",
            format!(
                "{} ({:.1} bytes per key)",
                human(stats.index_bytes),
                stats.index_bytes_per_key
            ),
        ),
        ("collections", stats.collections.to_string()),
        ("elements", stats.elements.to_string()),
        (
            "element index memory",
            format!(
                "{} ({:.1} bytes per element)",
                human(stats.element_index_bytes),
                stats.element_bytes_per_element
            ),
        ),
        ("segments", stats.segments.len().to_string()),
        ("last sequence number", stats.last_seq.to_string()),
        (
            "torn bytes cut at open",
            stats.torn_bytes_truncated.to_string(),
        ),
        (
            "index from snapshot",
            if stats.opened_from_index_snapshot {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ),
    ];
    for (name, value) in rows {
        ctx.line(format_args!("{name:<24}{value}"))?;
    }
    ctx.line("")?;
    ctx.line(format_args!(
        "{:>8}  {:>12}  {:>12}  {:>12}  {:>6}  {:>9}",
        "segment", "bytes", "live", "dead", "dead%", "live keys"
    ))?;
    for s in &stats.segments {
        let id = if s.active {
            format!("{}*", s.id)
        } else {
            s.id.to_string()
        };
        ctx.line(format_args!(
            "{id:>8}  {:>12}  {:>12}  {:>12}  {:>6}  {:>9}",
            s.total_bytes,
            s.live_bytes,
            s.dead_bytes,
            percent(s.dead_bytes, s.total_bytes),
            s.live_keys
        ))?;
    }
    ctx.line("(* = active segment)")?;
    Ok(Status::Success)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

fn to_json(stats: &keg::Stats) -> serde_json::Value {
    let segments: Vec<_> = stats
        .segments
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "active": s.active,
                "total_bytes": s.total_bytes,
                "live_bytes": s.live_bytes,
                "dead_bytes": s.dead_bytes,
                "live_keys": s.live_keys,
            })
        })
        .collect();
    let failing_jobs: Vec<_> = stats
        .failing_jobs
        .iter()
        .map(|f| {
            json!({
                "job": f.job.name(),
                "error": f.error,
                "at_unix_ms": f.at_unix_ms,
                "failures_in_a_row": f.failures_in_a_row,
            })
        })
        .collect();
    json!({
        "keys": stats.keys,
        "expired_keys_pending": stats.expired_keys_pending,
        "expired_keys_deleted": stats.expired_keys_deleted,
        "disk_bytes": stats.disk_bytes,
        "live_bytes": stats.live_bytes,
        "dead_bytes": stats.dead_bytes,
        "index_bytes": stats.index_bytes,
        "index_bytes_per_key": stats.index_bytes_per_key,
        "collections": stats.collections,
        "elements": stats.elements,
        "element_index_bytes": stats.element_index_bytes,
        "element_bytes_per_element": stats.element_bytes_per_element,
        "last_seq": stats.last_seq,
        "fsyncs": stats.fsyncs,
        "torn_bytes_truncated": stats.torn_bytes_truncated,
        "opened_from_index_snapshot": stats.opened_from_index_snapshot,
        "damaged_segments": stats.damaged_segments,
        "poisoned": stats.poisoned,
        "failing_jobs": failing_jobs,
        "merges": stats.merges,
        "bytes_reclaimed": stats.bytes_reclaimed,
        "last_merge_ms": stats.last_merge_duration.map(|d| d.as_secs_f64() * 1000.0),
        "segments": segments,
    })
}
