//! `kvctl export [PATTERN]`: keys, their contents and expiry times as JSON lines.

use crate::cmd::key_selection::KeySelection;
use crate::cmd::{contents, export_line};
use crate::context::{Context, Create};
use crate::progress;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    selection: KeySelection,
}

/// Writes one line per key, sorted by key: `{"key", "value", "expires_at_ms"}` for a
/// string, `{"key", "type", "fields"/"members"/"values", "expires_at_ms"}` for a hash, a
/// set, a list or a sorted set (see `export_line`). The expiry is absolute, so `export |
/// import` keeps every deadline. A progress bar counts keys on a terminal.
pub fn run(args: &ExportArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let selection = args.selection.compile(ctx)?;
    let store = ctx.open(Create::Never)?;
    let keys = selection.keys(&store)?;
    let bar = progress::items(keys.len() as u64, "exporting", "keys");
    let mut exported = 0u64;
    for key in &keys {
        bar.inc(1);
        let Some((contents, expires_at)) = contents::read_with_expiry(&store, key)? else {
            continue; // expired since the listing
        };
        ctx.json(export_line::to_json(key, &contents, expires_at))?;
        exported += 1;
    }
    bar.finish_with_message(format!("exported {exported} keys"));
    store.close()?;
    Ok(Status::Success)
}
