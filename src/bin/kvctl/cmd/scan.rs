//! `kvctl scan [PATTERN]`: list keys with their contents.

use std::borrow::Cow;

use crate::cmd::contents;
use crate::cmd::export_line;
use crate::cmd::key_selection::KeySelection;
use crate::context::{Context, Create};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    selection: KeySelection,
}

/// Prints `key<TAB>value` per string; for a hash `key<TAB>field<TAB>value` per field, for
/// a set `key<TAB>member` per member, for a list `key<TAB>value` per value, for a sorted
/// set `key<TAB>member<TAB>score` per member (all escaped, so a tab inside shows as \t):
/// the key, then each line `get` prints. Under --json, the lines `export` writes.
pub fn run(args: &ScanArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let selection = args.selection.compile(ctx)?;
    let store = ctx.open(Create::Never)?;
    for key in selection.keys(&store)? {
        let Some((contents, expires_at)) = contents::read_with_expiry(&store, &key)? else {
            continue; // expired since the listing
        };
        if ctx.wants_json() {
            ctx.json(export_line::to_json(&key, &contents, expires_at))?;
            continue;
        }
        for mut line in contents.lines() {
            line.insert(0, Cow::from(key.as_slice()));
            ctx.write_tab_separated_line(&line)?;
        }
    }
    store.close()?;
    Ok(Status::Success)
}
