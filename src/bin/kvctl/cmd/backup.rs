//! `kvctl backup DEST`: a consistent, verified copy of the store.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create};
use crate::progress;
use crate::size::human;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to put the copy: a new or empty directory. Open it like any store.
    dest: PathBuf,
}

/// Copies every segment, fsyncs the copy and checks every record of it.
pub fn run(args: &BackupArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let store = ctx.open(Create::Never)?;
    let spinner = progress::spinner("backing up");
    let report = store.backup(&args.dest);
    spinner.finish_and_clear();
    let report = report.with_context(|| format!("backup into {}", args.dest.display()))?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({
            "dest": args.dest.display().to_string(),
            "segments": report.segments,
            "bytes": report.bytes,
            "last_seq": report.last_seq,
        }))?;
    } else {
        let source = ctx.global.dir.display().to_string();
        let plural = if report.segments == 1 { "" } else { "s" };
        ctx.line(format_args!(
            "backed up {source} into {}: {} segment{plural}, {}, up to sequence number {}; verified",
            args.dest.display(),
            report.segments,
            human(report.bytes),
            report.last_seq
        ))?;
    }
    Ok(Status::Success)
}
