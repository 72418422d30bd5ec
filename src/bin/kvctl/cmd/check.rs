//! `kvctl check`: verify every file of a store.

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::context::Context;
use crate::progress;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Prints one line per segment (and one per hint file, and one for the index snapshot) and a
/// verdict. Exits 0 when every
/// byte is valid, 7 when the only problems are a torn tail (the remains of an interrupted
/// write, which opening the store cuts off without losing anything acknowledged) or hint
/// files that do not match their data files (open ignores them), 5 on corruption (which
/// open refuses). Never changes a file, and never creates the directory.
pub fn run(_args: &CheckArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    ctx.require_store_dir()?;
    let dir = &ctx.global.dir;
    // keg::check is one call without progress reports: a spinner shows it is working.
    let spinner = progress::spinner("checking");
    let report = keg::check(dir);
    spinner.finish_and_clear();
    let report = report.with_context(|| format!("cannot check the store in {}", dir.display()))?;

    let status = if report.is_clean() {
        Status::Success
    } else if report.is_consistent() {
        Status::Recoverable
    } else {
        Status::Corrupt
    };
    if ctx.wants_json() {
        ctx.json(to_json(&report))?;
    } else {
        print_report(&report, ctx)?;
    }
    if status != Status::Success {
        // The verdict also goes to stderr, so scripts that keep only errors see it.
        eprintln!("kvctl: {}", verdict(&report));
    }
    Ok(status)
}

fn print_report(report: &keg::CheckReport, ctx: &mut Context) -> anyhow::Result<()> {
    for segment in &report.segments {
        let state = match &segment.problem {
            None => "ok".to_owned(),
            Some(p) if p.torn_tail => format!(
                "TORN TAIL at offset {}: {} ({} bytes that open cuts off)",
                p.offset,
                p.reason,
                segment.bytes.saturating_sub(p.offset)
            ),
            Some(p) => format!("CORRUPT at offset {}: {}", p.offset, p.reason),
        };
        ctx.line(format_args!(
            "{}  {} bytes  {} records  {state}",
            segment.path.display(),
            segment.bytes,
            segment.records
        ))?;
        if let Some(hint) = &segment.hint {
            let state = match &hint.problem {
                None => "ok".to_owned(),
                Some(problem) => {
                    format!("BAD HINT: {problem} (open ignores it and scans the data file)")
                }
            };
            ctx.line(format_args!(
                "{}  {} entries  {state}",
                hint.path.display(),
                hint.entries
            ))?;
        }
    }
    match report.index_snapshot {
        Some(keg::SnapshotCheck::Current) => {
            ctx.line("index.snapshot  current (open loads it instead of rebuilding the index)")?
        }
        Some(_) => ctx.line(
            "index.snapshot  stale (open deletes it and rebuilds the index; nothing is lost)",
        )?,
        None => {}
    }
    if report.is_clean() {
        let records: u64 = report.segments.iter().map(|s| s.records).sum();
        let segments = report.segments.len();
        let plural = if segments == 1 { "" } else { "s" };
        ctx.line(format_args!(
            "ok: {segments} segment{plural}, {records} records, every byte valid"
        ))?;
    }
    Ok(())
}

/// One sentence naming the first problem.
fn verdict(report: &keg::CheckReport) -> String {
    let corrupt = report
        .segments
        .iter()
        .find_map(|s| s.problem.as_ref().filter(|p| !p.torn_tail).map(|p| (s, p)));
    let torn = report
        .segments
        .iter()
        .find_map(|s| s.problem.as_ref().map(|p| (s, p)));
    match (corrupt, torn) {
        (Some((s, p)), _) => format!(
            "store is corrupt: {} at offset {}: {} (open refuses this store; kvctl repair salvages it)",
            s.path.display(),
            p.offset,
            p.reason
        ),
        (None, None) => match report
            .segments
            .iter()
            .find_map(|s| s.hint.as_ref().filter(|h| h.problem.is_some()))
        {
            Some(h) => format!(
                "bad hint file: {}: {} (open ignores it and scans the data file; nothing is lost)",
                h.path.display(),
                h.problem.as_deref().unwrap_or_default()
            ),
            None => "store is clean".to_owned(),
        },
        (None, Some((s, p))) => format!(
            "torn tail: {} at offset {}: {} (an interrupted write; open cuts it off, losing nothing acknowledged)",
            s.path.display(),
            p.offset,
            p.reason
        ),
    }
}

fn to_json(report: &keg::CheckReport) -> Value {
    let segments: Vec<Value> = report
        .segments
        .iter()
        .map(|s| {
            json!({
                "path": s.path.display().to_string(),
                "bytes": s.bytes,
                "records": s.records,
                "problem": s.problem.as_ref().map(|p| json!({
                    "offset": p.offset,
                    "reason": p.reason,
                    "torn_tail": p.torn_tail,
                })),
                "hint": s.hint.as_ref().map(|h| json!({
                    "path": h.path.display().to_string(),
                    "entries": h.entries,
                    "problem": h.problem,
                })),
            })
        })
        .collect();
    let snapshot = match report.index_snapshot {
        Some(keg::SnapshotCheck::Current) => Some("current"),
        Some(_) => Some("stale"),
        None => None,
    };
    json!({
        "clean": report.is_clean(),
        "consistent": report.is_consistent(),
        "segments": segments,
        "index_snapshot": snapshot,
    })
}
