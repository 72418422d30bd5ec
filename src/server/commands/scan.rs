//! Walking the keyspace: KEYS, SCAN, RANDOMKEY.
//!
//! SCAN's cursor is the store's: stable across concurrent writes (every key present for the
//! whole scan is returned at least once). Inside MULTI or a pipeline they see the
//! transaction's own earlier writes.

use crate::server::args::{self, is};
use crate::server::error::{CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::glob;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

pub(crate) fn keys(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let pattern = a.get(1);
    let all = pattern == b"*";
    let keys: Vec<Vec<u8>> = ks
        .keys()
        .into_iter()
        .filter(|k| all || glob::matches(pattern, k))
        .collect();
    out.array(keys.len());
    for key in &keys {
        out.bulk(key);
    }
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
pub(crate) fn scan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let cursor = args::cursor(a.get(1))?;
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut type_filter: Option<&[u8]> = None;
    let mut i = 2;
    while i < a.len() {
        let opt = a.get(i);
        if i + 1 >= a.len() {
            return Err(SYNTAX);
        }
        let value = a.get(i + 1);
        if is(opt, "count") {
            let n = args::int(value)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(opt, "match") {
            pattern = Some(value);
        } else if is(opt, "type") {
            type_filter = Some(value);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    let page = ks.scan(cursor, count);
    let keys: Vec<&Vec<u8>> = page
        .keys
        .iter()
        .filter(|k| pattern.is_none_or(|p| glob::matches(p, k)))
        .filter(|k| {
            type_filter.is_none_or(|wanted| {
                // A key that expired since the page was taken matches no type.
                matches!(ks.collections().value_type(k), Ok(Some(t))
                    if t.redis_name().as_bytes().eq_ignore_ascii_case(wanted))
            })
        })
        .collect();
    out.array(2);
    out.bulk(page.cursor.to_string().as_bytes());
    out.array(keys.len());
    for key in keys {
        out.bulk(key);
    }
    Ok(())
}

/// RANDOMKEY: a key from a scan page started at a random cursor (inside a transaction that
/// wrote keys, one of the keys it sees).
pub(crate) fn randomkey(
    ks: &dyn KeySpace,
    shared: &Shared,
    _: &Args,
    out: &mut Reply,
) -> CmdResult {
    if ks.wrote_keys() {
        let keys = ks.keys();
        match usize::try_from(random_u64() % keys.len().max(1) as u64)
            .ok()
            .and_then(|i| keys.get(i))
        {
            Some(key) => out.bulk(key),
            None => out.null(),
        }
        return Ok(());
    }
    let store = &shared.store;
    if store.is_empty() {
        out.null();
        return Ok(());
    }
    let mut cursor = random_u64();
    // A page from a random position; wrap to the start once if the tail was empty.
    for _ in 0..2 {
        let page = store.scan(cursor, 1);
        if let Some(key) = page.keys.first() {
            out.bulk(key);
            return Ok(());
        }
        cursor = 0;
    }
    out.null();
    Ok(())
}

/// A random number from std's randomly seeded hasher (no dependency for one call).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(args::unix_now().as_nanos() as u64);
    h.finish()
}
