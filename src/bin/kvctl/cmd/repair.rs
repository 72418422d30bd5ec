//! `kvctl repair`: salvage every valid record of a damaged store.

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::context::Context;
use crate::progress;
use crate::size::human;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct RepairArgs {}

/// Rewrites each damaged data file with its valid records, sets aside hint files that no
/// longer match, and prints every byte range it dropped. Exits 0 when the store is sound
/// afterwards (whether or not anything was dropped); the originals of changed files stay in
/// `lost+found/repair-N/`. Never creates the directory.
pub fn run(_args: &RepairArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    ctx.require_store_dir()?;
    let dir = &ctx.global.dir;
    let spinner = progress::spinner("repairing");
    let report = keg::repair(dir);
    spinner.finish_and_clear();
    let report = report.with_context(|| format!("cannot repair the store in {}", dir.display()))?;
    if ctx.wants_json() {
        ctx.json(to_json(&report))?;
    } else {
        print_report(&report, ctx)?;
    }
    Ok(Status::Success)
}

fn print_report(report: &keg::RepairReport, ctx: &mut Context) -> anyhow::Result<()> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if !report.changed() {
        ctx.line(format_args!(
            "nothing to repair: {} segment{}, {} records, every byte valid",
            report.segments,
            plural(report.segments),
            report.records_kept
        ))?;
        return Ok(());
    }
    for d in &report.dropped {
        let batch = match d.records {
            0 => String::new(),
            1 => " (1 valid record dropped with it)".to_owned(),
            n => format!(" ({n} valid records dropped with it)"),
        };
        ctx.line(format_args!(
            "dropped {}  offset {}  {} bytes{batch}: {}",
            d.file.display(),
            d.offset,
            d.len,
            d.reason
        ))?;
    }
    for hint in &report.hints_set_aside {
        ctx.line(format_args!(
            "set aside {} (it no longer describes its data file; a new one is written later)",
            hint.display()
        ))?;
    }
    ctx.line(format_args!(
        "repaired: {} of {} segment file{} rewritten, {} dropped in {} range{}, {} records kept",
        report.rewritten.len(),
        report.segments,
        plural(report.segments),
        human(report.bytes_dropped()),
        report.dropped.len(),
        plural(report.dropped.len()),
        report.records_kept
    ))?;
    if let Some(kept) = &report.lost_and_found {
        ctx.line(format_args!(
            "the original files are in {} (see REPORT.txt there)",
            kept.display()
        ))?;
    }
    Ok(())
}

fn to_json(report: &keg::RepairReport) -> Value {
    let paths = |paths: &[std::path::PathBuf]| -> Vec<String> {
        paths.iter().map(|p| p.display().to_string()).collect()
    };
    let dropped: Vec<Value> = report
        .dropped
        .iter()
        .map(|d| {
            json!({
                "file": d.file.display().to_string(),
                "offset": d.offset,
                "len": d.len,
                "records": d.records,
                "reason": d.reason,
            })
        })
        .collect();
    json!({
        "changed": report.changed(),
        "segments": report.segments,
        "records_kept": report.records_kept,
        "rewritten": paths(&report.rewritten),
        "hints_set_aside": paths(&report.hints_set_aside),
        "dropped": dropped,
        "bytes_dropped": report.bytes_dropped(),
        "lost_and_found": report.lost_and_found.as_ref().map(|p| p.display().to_string()),
    })
}
