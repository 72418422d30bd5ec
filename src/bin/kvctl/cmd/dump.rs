//! `kvctl dump`: every record in file order, for debugging.

use std::io::Write;

use anyhow::Context as _;
use serde_json::Value;

use crate::bytes;
use crate::context::Context;
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct DumpArgs {}

/// Prints one line per record: file, offset, sequence number, put/del, key, value length,
/// expiry, and `+batch` when more records of the same atomic batch follow. Under --json,
/// one JSON object per record. Stops at each file's first invalid byte (see check).
/// Lock-free and read-only: works beside a process that has the store open.
pub fn run(_args: &DumpArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    ctx.require_store_dir()?;
    let dir = ctx.global.dir.clone();
    let (as_json, raw) = (ctx.wants_json(), ctx.global.raw);
    // The callback cannot fail: keep the first write error and skip the rest.
    let mut write_error = None;
    keg::dump(&dir, |record| {
        if write_error.is_none()
            && let Err(e) = ctx.out().write_all(&render(record, as_json, raw))
        {
            write_error = Some(e);
        }
    })
    .with_context(|| format!("cannot dump the store in {}", dir.display()))?;
    match write_error {
        Some(e) => Err(e.into()),
        None => Ok(Status::Success),
    }
}

fn render(record: &keg::DumpedRecord, as_json: bool, raw: bool) -> Vec<u8> {
    let file = record
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = record.kind.name();
    let expiry = (record.expiry_ms != 0).then_some(record.expiry_ms);
    if as_json {
        let mut object = serde_json::Map::new();
        object.insert("file".into(), Value::from(file));
        object.insert("offset".into(), Value::from(record.offset));
        object.insert("seq".into(), Value::from(record.seq));
        object.insert("kind".into(), Value::from(kind));
        json::put_bytes(&mut object, "key", &record.key);
        object.insert("value_len".into(), Value::from(record.value_len));
        object.insert("expires_at_ms".into(), Value::from(expiry));
        object.insert(
            "batch_continues".into(),
            Value::from(record.batch_continues),
        );
        let mut line = Value::Object(object).to_string().into_bytes();
        line.push(b'\n');
        return line;
    }
    let mut line =
        format!("{file} {:>10} seq={:<8} {kind} ", record.offset, record.seq).into_bytes();
    if raw {
        line.extend_from_slice(&record.key);
    } else {
        line.extend_from_slice(bytes::escape(&record.key).as_bytes());
    }
    line.extend_from_slice(format!(" value_len={}", record.value_len).as_bytes());
    if let Some(at) = expiry {
        line.extend_from_slice(format!(" expires_at_ms={at}").as_bytes());
    }
    if record.batch_continues {
        line.extend_from_slice(b" +batch");
    }
    line.push(b'\n');
    line
}
