//! MEMORY USAGE and MEMORY HELP: what one key costs the store.
//!
//! Redis answers the bytes of RAM a key and its value take. A keg value lives in the log,
//! so keg answers what the key costs it: its live records (each with its 33-byte header)
//! plus their index entries in memory, as laid out (`keydir::entry_cost`). As in Redis, a
//! collection's elements are sampled (the first `SAMPLES`, default 5, 0 for all) and the
//! average element scaled to the collection's length. `redis-cli --memkeys` and key
//! browsers read this to find the big keys.

use crate::ValueType;
use crate::datatypes::ELEMENT_KEY_OVERHEAD;
use crate::datatypes::zset;
use crate::format::{COLLECTION_HEADER_LEN, RECORD_HEADER_LEN};
use crate::keydir::entry_cost;
use crate::server::args::{self, is};
use crate::server::error::{self, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;
use crate::server::table;

/// Elements sampled when USAGE names no count (Redis's default).
const DEFAULT_SAMPLES: usize = 5;

pub(crate) fn memory(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = table::subcommand_error("memory", a) {
        return Err(e);
    }
    let sub = a.get(1);
    if is(sub, "usage") {
        let samples = match a.len() {
            3 => DEFAULT_SAMPLES,
            5 if is(a.get(3), "samples") => {
                let n = args::int(a.get(4))?;
                match usize::try_from(n) {
                    Ok(0) => usize::MAX,
                    Ok(n) => n,
                    Err(_) => return Err(SYNTAX),
                }
            }
            _ => return Err(SYNTAX),
        };
        match usage(ks, a.get(2), samples)? {
            Some(bytes) => out.int(i64::try_from(bytes).unwrap_or(i64::MAX)),
            None => out.null(),
        }
    } else if is(sub, "help") {
        super::pubsub_cmds::help(
            out,
            "MEMORY",
            &[
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
            ],
        );
    } else {
        return Err(error::unknown_subcommand(sub, "memory"));
    }
    Ok(())
}

/// Bytes `key` costs the store (see the module), or `None` if it does not exist.
fn usage(ks: &dyn KeySpace, key: &[u8], samples: usize) -> crate::Result<Option<u64>> {
    let Some(ty) = ks.collections().value_type(key)? else {
        return Ok(None);
    };
    // A record (header, key, value) and its index entry.
    let cost = |key_len: usize, value_len: usize, has_expiry: bool| {
        (RECORD_HEADER_LEN + key_len + value_len + entry_cost(key_len, has_expiry)) as f64
    };
    let has_expiry = ks.expires_at(key)?.is_some();
    if ty == ValueType::String {
        let value_len = ks.get(key)?.map_or(0, |v| v.len());
        return Ok(Some(cost(key.len(), value_len, has_expiry) as u64));
    }
    // Each element: its record under the element key (the collection's key, generation,
    // member) and its entry in the element index (elements carry no expiry).
    let element = |member_len: usize, value_len: usize| {
        cost(
            ELEMENT_KEY_OVERHEAD + key.len() + member_len,
            value_len,
            false,
        )
    };
    let c = ks.collections();
    let last = i64::try_from(samples).unwrap_or(i64::MAX).saturating_sub(1);
    let (len, sampled): (usize, Vec<f64>) = match ty {
        ValueType::Hash => {
            let len = c.hlen(key)?;
            let fields = if samples >= len {
                c.hgetall(key)?
            } else {
                c.hscan(key, 0, samples)?.items
            };
            let sizes = fields.iter().map(|(f, v)| element(f.len(), v.len()));
            (len, sizes.take(samples).collect())
        }
        ValueType::Set => {
            let len = c.scard(key)?;
            let members = if samples >= len {
                c.smembers(key)?
            } else {
                c.sscan(key, 0, samples)?.items
            };
            let sizes = members.iter().map(|m| element(m.len(), 0));
            (len, sizes.take(samples).collect())
        }
        // A list element's member is its 8-byte position; a sorted-set member's value is
        // its 8-byte score.
        ValueType::List => {
            let values = c.lrange(key, 0, last)?;
            (
                c.llen(key)?,
                values.iter().map(|v| element(8, v.len())).collect(),
            )
        }
        ValueType::ZSet => {
            let (mut len, mut members) = (0, Vec::new());
            c.view_with(&mut |v| {
                len = zset::card(v, key)?;
                members = zset::range_by_rank(v, key, 0, last, false)?;
                Ok(())
            })?;
            (
                len,
                members.iter().map(|(m, _)| element(m.len(), 8)).collect(),
            )
        }
        ValueType::String => (0, Vec::new()),
    };
    let header = cost(key.len(), COLLECTION_HEADER_LEN, has_expiry);
    let average = if sampled.is_empty() {
        0.0
    } else {
        sampled.iter().sum::<f64>() / sampled.len() as f64
    };
    Ok(Some((header + average * len as f64).round() as u64))
}
