//! `kvctl persist KEY`: remove a key's expiry.

use std::ffi::OsString;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct PersistArgs {
    /// The key.
    key: OsString,
}

/// Prints 1 when an expiry was removed, 0 when the key had none (as Redis's PERSIST
/// replies); a missing key prints 0 and exits 1.
pub fn run(args: &PersistArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    // kvctl holds the store's lock: only the key's own expiry arriving in between can
    // change it between these two calls.
    let exists = store.contains(&key);
    let removed = store
        .persist(&key)
        .with_context(|| format!("persist {}", shown(&key)))?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "exists": exists, "removed": removed }))?;
    } else {
        ctx.line(u8::from(removed))?;
    }
    Ok(if exists {
        Status::Success
    } else {
        Status::NotFound
    })
}
