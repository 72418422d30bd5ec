//! `kvctl dump`: every record in file order, for debugging.

use std::io::Write;

use anyhow::Context as _;
use keg::format::RecordKind;
use serde_json::Value;

use crate::bytes;
use crate::cmd::dump_collections::{self, HeaderReader};
use crate::context::Context;
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct DumpArgs {}

/// Prints one line per record: file, offset, sequence number, kind (put, del, coll, eput,
/// edel), key, value length, expiry, and `+batch` when more records of the same atomic
/// batch follow. A collection header shows its type and generation; an element record
/// shows, instead of its raw key, the collection's key, generation and member (a list
/// element its position). Under --json, one JSON object per record (with the raw `key`
/// and the decoded parts). Stops at each file's first invalid byte (see check).
/// Lock-free and read-only: works beside a process that has the store open.
pub fn run(_args: &DumpArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    ctx.require_store_dir()?;
    let dir = ctx.global.dir.clone();
    let (as_json, raw) = (ctx.wants_json(), ctx.global.raw);
    // The callback cannot fail: keep the first write error and skip the rest.
    let mut write_error = None;
    let mut headers = HeaderReader::default();
    keg::dump(&dir, |record| {
        if write_error.is_none()
            && let Err(e) = ctx
                .out()
                .write_all(&render(record, &mut headers, as_json, raw))
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

/// What a record says beyond its kind, decoded.
enum Decoded<'a> {
    /// A put or a tombstone of a key (or a kind dump does not decode): shown as it is.
    Plain,
    /// A collection header whose value could be read back.
    Header(dump_collections::Header),
    /// An element record whose key splits into its parts.
    Element(dump_collections::ElementKey<'a>),
    /// An element record whose key does not (keg never writes one; shown raw).
    BadElementKey,
    /// A header whose value could not be read back.
    UnreadHeader,
}

fn decode<'a>(record: &'a keg::DumpedRecord, headers: &mut HeaderReader) -> Decoded<'a> {
    match record.kind {
        RecordKind::Collection => headers
            .read(&record.path, record.offset, &record.key)
            .map_or(Decoded::UnreadHeader, Decoded::Header),
        RecordKind::ElementPut | RecordKind::ElementDelete => {
            dump_collections::split_element_key(&record.key)
                .map_or(Decoded::BadElementKey, Decoded::Element)
        }
        RecordKind::Put | RecordKind::Delete => Decoded::Plain,
        // A kind added to the format before dump decodes it: its name and raw key.
        #[allow(
            unreachable_patterns,
            reason = "for a record kind added to keg before dump decodes it"
        )]
        _ => Decoded::Plain,
    }
}

fn render(
    record: &keg::DumpedRecord,
    headers: &mut HeaderReader,
    as_json: bool,
    raw: bool,
) -> Vec<u8> {
    let file = record
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = record.kind.name();
    let expiry = (record.expiry_ms != 0).then_some(record.expiry_ms);
    let decoded = decode(record, headers);
    // A list element's member is its position, shown as a number when the list's header
    // came earlier in the dump.
    let position = match &decoded {
        Decoded::Element(e) if headers.is_list(e.key, e.generation) => {
            dump_collections::list_position(e.member)
        }
        _ => None,
    };
    if as_json {
        let mut object = serde_json::Map::new();
        object.insert("file".into(), Value::from(file));
        object.insert("offset".into(), Value::from(record.offset));
        object.insert("seq".into(), Value::from(record.seq));
        object.insert("kind".into(), Value::from(kind));
        json::put_bytes(&mut object, "key", &record.key);
        match &decoded {
            Decoded::Header(header) => {
                object.insert("type".into(), Value::from(header.type_name()));
                object.insert("generation".into(), Value::from(header.generation));
            }
            Decoded::Element(element) => {
                json::put_bytes(&mut object, "collection_key", element.key);
                object.insert("generation".into(), Value::from(element.generation));
                if let Some(position) = position {
                    object.insert("position".into(), Value::from(position));
                } else {
                    json::put_bytes(&mut object, "member", element.member);
                }
            }
            Decoded::Plain | Decoded::BadElementKey | Decoded::UnreadHeader => {}
        }
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
    let show = |bytes: &[u8]| -> Vec<u8> {
        if raw {
            bytes.to_vec()
        } else {
            bytes::escape(bytes).into_bytes()
        }
    };
    let mut line =
        format!("{file} {:>10} seq={:<8} {kind} ", record.offset, record.seq).into_bytes();
    match &decoded {
        Decoded::Element(element) => {
            line.extend_from_slice(&show(element.key));
            line.extend_from_slice(format!(" gen={}", element.generation).as_bytes());
            match position {
                Some(position) => line.extend_from_slice(format!(" pos={position}").as_bytes()),
                None => {
                    line.extend_from_slice(b" member=");
                    line.extend_from_slice(&show(element.member));
                }
            }
        }
        Decoded::Header(header) => {
            line.extend_from_slice(&show(&record.key));
            line.extend_from_slice(
                format!(" type={} gen={}", header.type_name(), header.generation).as_bytes(),
            );
        }
        Decoded::BadElementKey => {
            line.extend_from_slice(&show(&record.key));
            line.extend_from_slice(b" (not an element key)");
        }
        Decoded::Plain | Decoded::UnreadHeader => line.extend_from_slice(&show(&record.key)),
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
