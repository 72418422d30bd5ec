//! `kvctl incr KEY [AMOUNT]` and `kvctl decr KEY [AMOUNT]`: Redis's counters.

use std::ffi::OsString;

use anyhow::Context as _;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct CounterArgs {
    /// The key; its value must be a decimal integer (Redis's rules) or missing.
    key: OsString,

    /// How much to add (incr) or subtract (decr).
    #[arg(default_value_t = 1, allow_negative_numbers = true)]
    amount: i64,
}

#[derive(Clone, Copy, Debug)]
pub enum Direction {
    Up,
    Down,
}

/// Prints the new value. A value that is not an integer, or an overflow, writes nothing
/// and exits 6.
pub fn run(args: &CounterArgs, direction: Direction, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::IfMissing)?;
    let (name, result) = match direction {
        Direction::Up => ("incr", store.incr_by(&key, args.amount)),
        Direction::Down => ("decr", store.decr_by(&key, args.amount)),
    };
    let value = result.with_context(|| format!("{name} {}", shown(&key)))?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "value": value }))?;
    } else {
        ctx.line(value)?;
    }
    Ok(Status::Success)
}
