//! `kvctl del KEY...`: delete keys.

use std::ffi::OsString;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct DelArgs {
    /// The keys to delete.
    #[arg(required = true)]
    keys: Vec<OsString>,
}

/// Prints how many of the keys existed (and are now deleted), as Redis's DEL replies.
pub fn run(args: &DelArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let keys = args
        .keys
        .iter()
        .map(|k| ctx.arg_bytes(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // A missing store holds no keys: report it rather than create an empty one.
    let store = ctx.open(Create::Never)?;
    let mut deleted = 0u64;
    for key in &keys {
        if store
            .delete(key)
            .with_context(|| format!("del {}", shown(key)))?
        {
            deleted += 1;
        }
    }
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "deleted": deleted }))?;
    } else {
        ctx.line(deleted)?;
    }
    Ok(Status::Success)
}
