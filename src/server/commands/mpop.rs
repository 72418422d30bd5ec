//! LMPOP and ZMPOP (Redis 7.0): pop up to COUNT elements from the first of several keys
//! that holds any, answering `[key, elements]`, or a null array when none does. Their
//! blocking forms, BLMPOP and BZMPOP, wait as the other blocking pops do
//! (`blocking.rs`), with these arguments and attempts.

use crate::ValueType;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, SYNTAX, WRONG_TYPE};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

use super::{lists, zsets};

/// A parsed LMPOP / ZMPOP call (after any timeout).
pub(crate) struct MultiPop<'a> {
    pub(crate) keys: Vec<&'a [u8]>,
    /// LEFT for lists, MIN for sorted sets.
    front: bool,
    count: usize,
}

/// A count that must be 1 or more, with the error Redis gives for it otherwise.
fn positive(arg: &[u8], what: &'static str) -> Result<usize, CmdError> {
    crate::numeric::parse_i64(arg)
        .filter(|&n| n >= 1)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CmdError::fixed(what))
}

/// Reads `numkeys key [key ...] <end> [COUNT count]` from argument `at`, as Redis's
/// `lmpopGenericCommand` / `zmpopGenericCommand`: the number of keys, the end (LEFT|RIGHT
/// or MIN|MAX, named by `ends`), then the options.
pub(crate) fn parse<'a>(a: &'a Args, at: usize, ends: [&str; 2]) -> Result<MultiPop<'a>, CmdError> {
    let numkeys = positive(a.get(at), "ERR numkeys should be greater than 0")?;
    let end_at = at.saturating_add(numkeys).saturating_add(1);
    if end_at >= a.len() {
        return Err(SYNTAX);
    }
    let front = match a.get(end_at) {
        e if is(e, ends[0]) => true,
        e if is(e, ends[1]) => false,
        _ => return Err(SYNTAX),
    };
    let mut count = None;
    let mut j = end_at + 1;
    while j < a.len() {
        if count.is_none() && is(a.get(j), "count") && j + 1 < a.len() {
            count = Some(positive(
                a.get(j + 1),
                "ERR count should be greater than 0",
            )?);
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(MultiPop {
        keys: (at + 1..end_at).map(|i| a.get(i)).collect(),
        front,
        count: count.unwrap_or(1),
    })
}

/// Pops with `pop` from the first key of `m.keys` that holds a `ty` (and anything);
/// true if it replied, `[key, popped]`. A key of another type before it is WRONGTYPE.
/// `pop` answers what it took and whether that emptied the key; `notify` notes the
/// events of a pop that took something.
fn pop_first<T>(
    ks: &dyn KeySpace,
    m: &MultiPop<'_>,
    ty: ValueType,
    out: &mut Reply,
    mut pop: impl FnMut(&[u8]) -> Result<(Vec<T>, bool), CmdError>,
    mut notify: impl FnMut(&[u8], bool, &mut Reply),
    mut reply: impl FnMut(&T, &mut Reply),
) -> Result<bool, CmdError> {
    for &key in &m.keys {
        match ks.collections().value_type(key)? {
            None => continue,
            Some(t) if t == ty => {
                let (popped, emptied) = pop(key)?;
                if popped.is_empty() {
                    continue;
                }
                notify(key, emptied, out);
                out.array(2);
                out.bulk(key);
                out.array(popped.len());
                for item in &popped {
                    reply(item, out);
                }
                return Ok(true);
            }
            Some(_) => return Err(WRONG_TYPE),
        }
    }
    Ok(false)
}

/// Pops from the first list of `m.keys` that holds any, from the LEFT or the RIGHT; its
/// events are LPOP's or RPOP's.
pub(crate) fn attempt_lists(
    ks: &dyn KeySpace,
    shared: &Shared,
    m: &MultiPop<'_>,
    out: &mut Reply,
) -> Result<bool, CmdError> {
    let pop = |key: &[u8]| {
        let popped = lists::pop_values(ks, key, m.count, m.front)?;
        Ok((popped.values, popped.emptied))
    };
    let notify = |key: &[u8], emptied: bool, out: &mut Reply| {
        lists::notify_pop(shared, out, key, m.front, emptied);
    };
    pop_first(
        ks,
        m,
        ValueType::List,
        out,
        pop,
        notify,
        |v: &Vec<u8>, out| out.bulk(v),
    )
}

/// Pops from the first sorted set of `m.keys` that holds any, lowest scores first for MIN;
/// its events are ZPOPMIN's or ZPOPMAX's.
pub(crate) fn attempt_zsets(
    ks: &dyn KeySpace,
    shared: &Shared,
    m: &MultiPop<'_>,
    out: &mut Reply,
) -> Result<bool, CmdError> {
    let max = !m.front;
    let pop = |key: &[u8]| zsets::pop_zset(ks, key, m.count, max);
    let notify = |key: &[u8], emptied: bool, out: &mut Reply| {
        zsets::notify_zpop(shared, out, key, max, emptied);
    };
    pop_first(
        ks,
        m,
        ValueType::ZSet,
        out,
        pop,
        notify,
        |(member, score), out| {
            out.array(2);
            out.bulk(member);
            out.double(*score);
        },
    )
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
pub(crate) fn lmpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let m = parse(a, 1, ["left", "right"])?;
    if !attempt_lists(ks, shared, &m, out)? {
        out.null_array();
    }
    Ok(())
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
pub(crate) fn zmpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let m = parse(a, 1, ["min", "max"])?;
    if !attempt_zsets(ks, shared, &m, out)? {
        out.null_array();
    }
    Ok(())
}
