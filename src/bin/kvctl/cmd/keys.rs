//! `kvctl keys [PATTERN]`: list keys.

use crate::cmd::key_selection::KeySelection;
use crate::context::{Context, Create};
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    selection: KeySelection,
}

/// Prints one key per line (escaped, or raw under --raw), or a JSON line `{"key": ...}`
/// per key under --json.
pub fn run(args: &KeysArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let selection = args.selection.compile(ctx)?;
    let store = ctx.open(Create::Never)?;
    let keys = selection.keys(&store)?;
    store.close()?;
    for key in &keys {
        if ctx.wants_json() {
            ctx.json(json::object_for_key(key))?;
        } else {
            ctx.write_bytes_line(key)?;
        }
    }
    Ok(Status::Success)
}
