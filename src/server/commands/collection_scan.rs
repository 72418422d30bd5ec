//! HSCAN, SSCAN and ZSCAN. A collection is returned whole in the first call, with cursor 0:
//! SCAN's guarantee (every element present for the whole iteration is returned at least
//! once) holds, COUNT being only a hint, as Redis does for its small encodings.

use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::glob;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// Parses `cursor [MATCH pattern] [COUNT count]`; returns the cursor and the pattern.
fn options(a: &Args) -> Result<(u64, Option<&[u8]>), CmdError> {
    let cursor: u64 = std::str::from_utf8(a.get(2))
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CmdError::fixed("ERR invalid cursor"))?;
    let mut pattern = None;
    let mut i = 3;
    while i < a.len() {
        if i + 1 >= a.len() {
            return Err(SYNTAX);
        }
        let (opt, value) = (a.get(i), a.get(i + 1));
        if is(opt, "count") {
            if args::int(value)? < 1 {
                return Err(SYNTAX);
            }
        } else if is(opt, "match") {
            pattern = Some(value);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok((cursor, pattern))
}

/// Replies `[0, items]`, each item a run of `per_item` bulk strings whose first is the
/// member the pattern applies to. A cursor other than 0 (never handed out) ends at once.
fn reply(out: &mut Reply, cursor: u64, pattern: Option<&[u8]>, items: Vec<Vec<Vec<u8>>>) {
    let items: Vec<Vec<Vec<u8>>> = if cursor != 0 {
        Vec::new()
    } else {
        items
            .into_iter()
            .filter(|parts| {
                parts
                    .first()
                    .is_some_and(|m| pattern.is_none_or(|p| glob::matches(p, m)))
            })
            .collect()
    };
    out.array(2);
    out.bulk(b"0");
    out.array(items.iter().map(Vec::len).sum());
    for parts in &items {
        for part in parts {
            out.bulk(part);
        }
    }
}

pub(crate) fn hscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (cursor, pattern) = options(a)?;
    let pairs = ks.collections().hgetall(a.get(1))?;
    reply(
        out,
        cursor,
        pattern,
        pairs.into_iter().map(|(f, v)| vec![f, v]).collect(),
    );
    Ok(())
}

pub(crate) fn sscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (cursor, pattern) = options(a)?;
    let members = ks.collections().smembers(a.get(1))?;
    reply(
        out,
        cursor,
        pattern,
        members.into_iter().map(|m| vec![m]).collect(),
    );
    Ok(())
}

pub(crate) fn zscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (cursor, pattern) = options(a)?;
    let mut scored = Vec::new();
    let key = a.get(1);
    ks.collections().view_with(&mut |v| {
        scored = crate::datatypes::zset::range_by_rank(v, key, 0, -1, false)?;
        Ok(())
    })?;
    let items = scored
        .into_iter()
        .map(|(m, s)| {
            let score = crate::collections::score::format_score_printf(s);
            vec![m, score.as_bytes().to_vec()]
        })
        .collect();
    reply(out, cursor, pattern, items);
    Ok(())
}
