//! `kvctl expire KEY DURATION` / `kvctl expire KEY --at UNIX_MS`: set a key's expiry.

use std::ffi::OsString;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::duration;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ExpireArgs {
    /// The key.
    key: OsString,

    /// Expire after this long: 500ms, 10s, 2h (a bare number is seconds). 0 deletes the
    /// key now.
    #[arg(value_name = "DURATION", value_parser = duration::parse_seconds,
          required_unless_present = "at", conflicts_with = "at")]
    after: Option<Duration>,

    /// Expire at this time, in milliseconds since the Unix epoch (Redis's PEXPIREAT).
    #[arg(long, value_name = "UNIX_MS")]
    at: Option<u64>,
}

/// Prints 1 when the expiry was set, 0 (and exits 1) when the key is missing.
pub fn run(args: &ExpireArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    let exists = match (args.after, args.at) {
        (_, Some(unix_ms)) => store.expire_at(&key, unix_ms),
        (Some(after), None) => store.expire(&key, after),
        (None, None) => return Err(crate::status::usage("a duration or --at is required")),
    }
    .with_context(|| format!("expire {}", shown(&key)))?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "exists": exists }))?;
    } else {
        ctx.line(u8::from(exists))?;
    }
    Ok(if exists {
        Status::Success
    } else {
        Status::NotFound
    })
}
