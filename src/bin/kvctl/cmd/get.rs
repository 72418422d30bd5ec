//! `kvctl get KEY`: print a value.

use std::ffi::OsString;

use anyhow::Context as _;
use serde_json::Value;

use crate::context::{Context, Create, shown};
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The key.
    key: OsString,
}

/// Prints the value (escaped, or exactly as stored under --raw, without a newline);
/// a missing key prints nothing on stdout and exits 1.
pub fn run(args: &GetArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    let value = store
        .get(&key)
        .with_context(|| format!("get {}", shown(&key)))?;
    if ctx.wants_json() {
        let mut object = json::object_for_key(&key);
        match &value {
            Some(value) => json::put_bytes(&mut object, "value", value),
            None => {
                object.insert("value".into(), Value::Null);
            }
        }
        ctx.json(object)?;
    } else if let Some(value) = &value {
        if ctx.global.raw {
            ctx.write_bytes(value)?;
        } else {
            ctx.write_bytes_line(value)?;
        }
    }
    store.close()?;
    Ok(match value {
        Some(_) => Status::Success,
        None => {
            if !ctx.wants_json() {
                eprintln!("kvctl: key {} not found", shown(&key));
            }
            Status::NotFound
        }
    })
}
