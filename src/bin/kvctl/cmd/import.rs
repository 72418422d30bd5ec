//! `kvctl import [FILE]`: load the JSON lines `export` writes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use indicatif::ProgressBar;
use keg::SyncPolicy;
use serde_json::json;

use crate::cmd::contents::{self, Written};
use crate::cmd::export_line;
use crate::context::{Context, Create, shown};
use crate::progress;
use crate::status::{Status, rejected};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to read; `-` for standard input.
    #[arg(default_value = "-", value_name = "FILE")]
    input: PathBuf,

    /// Keep keys that already exist instead of overwriting them.
    #[arg(long)]
    nx: bool,
}

/// Sets every key of the input — a string, or a collection written whole in one
/// transaction — with its expiry; a key whose expiry has passed is skipped. With --nx an
/// existing key of any type is kept as it is.
/// Without --sync, writes are not fsynced one by one: the store is fsynced once at the
/// end, before kvctl reports success. A line that cannot be read stops the import with
/// status 6, naming the line; the lines before it are imported.
pub fn run(args: &ImportArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let from_stdin = args.input.as_os_str() == "-";
    let source = if from_stdin {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    let (reader, bar): (Box<dyn Read>, ProgressBar) = if from_stdin {
        (
            Box::new(std::io::stdin().lock()),
            progress::spinner("importing"),
        )
    } else {
        let file = File::open(&args.input).with_context(|| format!("cannot open {source}"))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), progress::bytes(len, "importing"))
    };
    let store = ctx.open_with_default_sync(Create::IfMissing, SyncPolicy::Never)?;
    let counts = import_lines(BufReader::new(reader), &store, args.nx, &bar, &source)?;
    store.close().context("fsyncing the imported keys")?;
    bar.finish_and_clear();

    if ctx.wants_json() {
        ctx.json(json!({
            "imported": counts.imported,
            "skipped_expired": counts.expired,
            "skipped_existing": counts.existing,
        }))?;
    } else {
        ctx.line(format_args!(
            "imported {} keys ({} already expired, {} existing kept)",
            counts.imported, counts.expired, counts.existing
        ))?;
    }
    Ok(Status::Success)
}

#[derive(Default)]
struct Counts {
    imported: u64,
    expired: u64,
    existing: u64,
}

fn import_lines(
    mut reader: impl BufRead,
    store: &keg::Store,
    only_new: bool,
    bar: &ProgressBar,
    source: &str,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {source}"))?;
        if read == 0 {
            return Ok(counts);
        }
        number += 1;
        bar.inc(read as u64);
        if line.trim_ascii().is_empty() {
            continue;
        }
        let entry = export_line::parse(&line).map_err(|e| {
            rejected(format!(
                "{source} line {number}: {e}; the {} keys before it were imported",
                counts.imported
            ))
        })?;
        if entry.expires_at_ms.is_some_and(|at| at <= now_ms()) {
            counts.expired += 1;
            continue;
        }
        let written = contents::write(
            store,
            &entry.key,
            &entry.contents,
            entry.expires_at_ms,
            only_new,
        )
        .with_context(|| {
            format!(
                "{source} line {number}: writing the {} {}; the {} keys before it were imported",
                entry.contents.type_name(),
                shown(&entry.key),
                counts.imported
            )
        })?;
        match written {
            Written::Yes => counts.imported += 1,
            Written::KeptExisting => counts.existing += 1,
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
