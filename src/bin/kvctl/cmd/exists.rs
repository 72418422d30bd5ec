//! `kvctl exists KEY...`: count existing keys.

use std::ffi::OsString;

use serde_json::json;

use crate::context::{Context, Create};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ExistsArgs {
    /// The keys to look for.
    #[arg(required = true)]
    keys: Vec<OsString>,
}

/// Prints how many of the keys exist (a key named twice counts twice, as in Redis);
/// exits 1 unless all of them do, so `kvctl exists k && ...` reads naturally.
pub fn run(args: &ExistsArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let keys = args
        .keys
        .iter()
        .map(|k| ctx.arg_bytes(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = ctx.open(Create::Never)?;
    let existing = keys.iter().filter(|k| store.contains(k)).count();
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "exists": existing, "asked": keys.len() }))?;
    } else {
        ctx.line(existing)?;
    }
    Ok(if existing == keys.len() {
        Status::Success
    } else {
        Status::NotFound
    })
}
