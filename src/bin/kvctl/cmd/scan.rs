//! `kvctl scan [PATTERN]`: list keys with their values.

use std::io::Write;

use anyhow::Context as _;

use crate::cmd::export_line;
use crate::cmd::key_selection::KeySelection;
use crate::context::{Context, Create, shown};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    selection: KeySelection,
}

/// Prints `key<TAB>value` per line (both escaped, so a tab inside shows as \t), or under
/// --json the lines `export` writes: `{"key", "value", "expires_at_ms"}`.
pub fn run(args: &ScanArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let selection = args.selection.compile(ctx)?;
    let store = ctx.open(Create::Never)?;
    for key in selection.keys(&store) {
        let Some(value) = store
            .get(&key)
            .with_context(|| format!("get {}", shown(&key)))?
        else {
            continue; // expired since the listing
        };
        if ctx.wants_json() {
            let expires_at = store.expires_at(&key)?;
            ctx.json(export_line::to_json(&key, &value, expires_at))?;
        } else {
            ctx.write_bytes(&key)?;
            ctx.out().write_all(b"\t")?;
            ctx.write_bytes_line(&value)?;
        }
    }
    store.close()?;
    Ok(Status::Success)
}
