//! `kvctl merge`: reclaim the space of overwritten, deleted and expired records now.

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create};
use crate::progress;
use crate::size::human;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {}

/// Runs one merge of every sealed segment worth merging (whether or not the background
/// merge's triggers fire) and writes missing hint files, with a progress bar over the bytes
/// read; prints what it reclaimed.
pub fn run(_args: &MergeArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let store = ctx.open(Create::Never)?;
    let before = store.stats();
    let bar = progress::bytes(0, "merging");
    let report = store.merge_with_progress(|read, total| {
        bar.set_length(total);
        bar.set_position(read);
    });
    bar.finish_and_clear();
    let report = report.with_context(|| format!("merge of {}", ctx.global.dir.display()))?;
    let after = store.stats();
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({
            "merged_segments": report.merged,
            "written_segments": report.written,
            "bytes_before": report.bytes_before,
            "bytes_after": report.bytes_after,
            "bytes_reclaimed": report.bytes_reclaimed(),
            "records_copied": report.records_copied,
            "records_dropped": report.records_dropped,
            "duration_ms": report.duration.as_millis() as u64,
            "disk_bytes_before": before.disk_bytes,
            "disk_bytes_after": after.disk_bytes,
        }))?;
    } else if report.merged.is_empty() {
        ctx.line(format_args!(
            "nothing to merge: {} on disk, {} dead",
            human(after.disk_bytes),
            human(after.dead_bytes)
        ))?;
    } else {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        ctx.line(format_args!(
            "merged {} segment{} into {}: {} -> {} ({} reclaimed), {} records copied, {} dropped, in {:.2?}",
            report.merged.len(),
            plural(report.merged.len()),
            report.written.len(),
            human(report.bytes_before),
            human(report.bytes_after),
            human(report.bytes_reclaimed()),
            report.records_copied,
            report.records_dropped,
            report.duration
        ))?;
        ctx.line(format_args!(
            "store: {} on disk ({} live), {} segment{}",
            human(after.disk_bytes),
            human(after.live_bytes),
            after.segments.len(),
            plural(after.segments.len())
        ))?;
    }
    Ok(Status::Success)
}
