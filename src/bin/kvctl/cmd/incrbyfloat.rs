//! `kvctl incrbyfloat KEY AMOUNT`: Redis's INCRBYFLOAT.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct IncrByFloatArgs {
    /// The key; its value must be a number or missing.
    key: OsString,

    /// The amount, as Redis reads it: 1.5, -0.1, 3e2.
    #[arg(allow_negative_numbers = true)]
    amount: OsString,
}

/// Prints the stored text, exactly what Redis replies (0.1 + 0.2 prints 0.3).
pub fn run(args: &IncrByFloatArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::IfMissing)?;
    let text = store
        .incr_by_float_text(&key, args.amount.as_bytes())
        .with_context(|| format!("incrbyfloat {}", shown(&key)))?;
    store.close()?;
    let text = String::from_utf8_lossy(&text);
    if ctx.wants_json() {
        ctx.json(json!({ "value": text }))?;
    } else {
        ctx.line(text)?;
    }
    Ok(Status::Success)
}
