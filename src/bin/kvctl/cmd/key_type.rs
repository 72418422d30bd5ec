//! `kvctl type KEY`: what a key holds.

use std::ffi::OsString;

use anyhow::Context as _;
use serde_json::Value;

use crate::context::{Context, Create, shown};
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct TypeArgs {
    /// The key.
    key: OsString,
}

/// Prints what Redis's TYPE replies: `string`, `hash`, `set`, `list`, `zset`, or `none`
/// for a missing key
/// (which exits 1, as `get` does). `--json`: `{"key", "type"}`.
pub fn run(args: &TypeArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    let ty = store
        .value_type(&key)
        .with_context(|| format!("type {}", shown(&key)))?;
    store.close()?;
    let name = ty.map_or("none", keg::ValueType::redis_name);
    if ctx.wants_json() {
        let mut object = json::object_for_key(&key);
        object.insert("type".into(), Value::from(name));
        ctx.json(object)?;
    } else {
        ctx.line(name)?;
    }
    Ok(match ty {
        Some(_) => Status::Success,
        None => Status::NotFound,
    })
}
