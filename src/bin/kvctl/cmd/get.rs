//! `kvctl get KEY`: print a value, or a hash, set, list or sorted set whole.

use std::ffi::OsString;

use serde_json::Value;

use crate::cmd::contents::{self, Contents};
use crate::cmd::export_line;
use crate::context::{Context, Create, shown};
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The key.
    key: OsString,
}

/// Prints a string's value (escaped, or exactly as stored under --raw, without a newline),
/// a hash's fields as `field<TAB>value` lines, a set's members one per line (both sorted),
/// a list's values one per line in order, a sorted set's `member<TAB>score` lines by score
/// (escaped unless --raw). Under --json: `{"key", "value"}` for a string, `{"key", "type",
/// "fields", "members" or "values"}` for a collection (as export writes them). A missing key prints
/// nothing on stdout (`"value": null` under --json) and exits 1.
pub fn run(args: &GetArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    let contents = contents::read(&store, &key)?;
    store.close()?;
    let Some(contents) = contents else {
        if ctx.wants_json() {
            let mut object = json::object_for_key(&key);
            object.insert("value".into(), Value::Null);
            ctx.json(object)?;
        } else {
            eprintln!("kvctl: key {} not found", shown(&key));
        }
        return Ok(Status::NotFound);
    };
    if ctx.wants_json() {
        ctx.json(export_line::contents_json(&key, &contents))?;
    } else if let (Contents::String(value), true) = (&contents, ctx.global.raw) {
        ctx.write_bytes(value)?;
    } else {
        for line in contents.lines() {
            ctx.write_tab_separated_line(&line)?;
        }
    }
    Ok(Status::Success)
}
