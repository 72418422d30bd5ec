//! `kvctl backup DEST`: a consistent, verified copy of the store.

use std::path::{Path, PathBuf};

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

/// Copies every segment, fsyncs the copy and checks every record of it; copies the server's
/// function libraries too, if it has some.
pub fn run(args: &BackupArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let store = ctx.open(Create::Never)?;
    let spinner = progress::spinner("backing up");
    let report = store.backup(&args.dest);
    spinner.finish_and_clear();
    let report = report.with_context(|| format!("backup into {}", args.dest.display()))?;
    // The directory lock held by `store` keeps a server from changing the libraries now.
    let functions = copy_functions(&ctx.global.dir, &args.dest).with_context(|| {
        format!(
            "copying the function libraries into {}",
            args.dest.display()
        )
    })?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({
            "dest": args.dest.display().to_string(),
            "segments": report.segments,
            "bytes": report.bytes,
            "last_seq": report.last_seq,
            "function_libraries": functions,
        }))?;
    } else {
        let source = ctx.global.dir.display().to_string();
        let plural = if report.segments == 1 { "" } else { "s" };
        let libraries = if functions {
            ", function libraries"
        } else {
            ""
        };
        ctx.line(format_args!(
            "backed up {source} into {}: {} segment{plural}{libraries}, {}, up to sequence number {}; verified",
            args.dest.display(),
            report.segments,
            human(report.bytes),
            report.last_seq
        ))?;
    }
    Ok(Status::Success)
}

/// Copies the server's function libraries (`keg::server::FUNCTIONS_FILE`) from `source`
/// into `dest`, fsynced; false if there are none.
fn copy_functions(source: &Path, dest: &Path) -> std::io::Result<bool> {
    let from = source.join(keg::server::FUNCTIONS_FILE);
    if !from.exists() {
        return Ok(false);
    }
    let to = dest.join(keg::server::FUNCTIONS_FILE);
    std::fs::copy(&from, &to)?;
    std::fs::File::open(&to)?.sync_all()?;
    std::fs::File::open(dest)?.sync_all()?;
    Ok(true)
}
