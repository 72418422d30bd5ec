//! Set commands: SADD, SREM, SISMEMBER, SMEMBERS and the rest, over the store's sets.

use crate::datatypes::set::Combine;
use crate::server::error::{CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

fn members(a: &Args) -> Vec<&[u8]> {
    a.iter().skip(2).collect()
}

pub(crate) fn sadd(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let added = ks.collections().sadd(a.get(1), &members(a))?;
    if added > 0 {
        shared.notify(out, class::SET, "sadd", a.get(1));
    }
    out.count(added);
    Ok(())
}

pub(crate) fn srem(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (key, members) = (a.get(1), members(a));
    let (mut removed, mut emptied) = (0, false);
    ks.collections()
        .edit_with(key, crate::ValueType::Set, &mut |e| {
            removed = crate::datatypes::set::srem(e, &members)?;
            emptied = e.len() == 0;
            Ok(())
        })?;
    if removed > 0 {
        shared.notify_removal(out, class::SET, "srem", key, emptied);
    }
    out.count(removed);
    Ok(())
}

pub(crate) fn sismember(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let found = ks.collections().smismember(a.get(1), &[a.get(2)])?;
    out.count(usize::from(found.first() == Some(&true)));
    Ok(())
}

pub(crate) fn smismember(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let found = ks.collections().smismember(a.get(1), &members(a))?;
    out.array(found.len());
    for f in found {
        out.count(usize::from(f));
    }
    Ok(())
}

pub(crate) fn scard(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.collections().scard(a.get(1))?);
    Ok(())
}

pub(crate) fn smembers(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let members = ks.collections().smembers(a.get(1))?;
    out.set(members.len());
    for m in &members {
        out.bulk(m);
    }
    Ok(())
}

/// SPOP key [count]
/// One `spop` event however many members it took, as Redis 7.0 (which also sends it, then
/// `del`, when the count takes the whole set).
pub(crate) fn spop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 3 {
        return Err(crate::server::error::SYNTAX);
    }
    let count = match a.len() {
        3 => Some(crate::server::args::positive(a.get(2))?),
        _ => None,
    };
    let (mut popped, mut emptied) = (Vec::new(), false);
    ks.collections()
        .edit_with(a.get(1), crate::ValueType::Set, &mut |e| {
            popped = crate::datatypes::set::pop(e, count.unwrap_or(1))?;
            emptied = e.len() == 0;
            Ok(())
        })?;
    if !popped.is_empty() {
        shared.notify_removal(out, class::SET, "spop", a.get(1), emptied);
    }
    match count {
        None => out.bulk_or_null(popped.first().map(Vec::as_slice)),
        Some(_) => {
            out.set(popped.len());
            for m in &popped {
                out.bulk(m);
            }
        }
    }
    Ok(())
}

/// SRANDMEMBER key [count]: a negative count may repeat members.
pub(crate) fn srandmember(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 3 {
        return Err(crate::server::error::SYNTAX);
    }
    let count = match a.len() {
        3 => Some(random_read_count(a.get(2))?),
        _ => None,
    };
    let (n, distinct) = random_count(count);
    let mut picked = Vec::new();
    ks.collections().view_with(&mut |v| {
        picked = crate::datatypes::set::random(v, a.get(1), n, distinct)?;
        Ok(())
    })?;
    match count {
        None => out.bulk_or_null(picked.first().map(Vec::as_slice)),
        Some(_) => {
            out.array(picked.len());
            for m in &picked {
                out.bulk(m);
            }
        }
    }
    Ok(())
}

fn reply_members(out: &mut Reply, members: &[Vec<u8>]) {
    out.set(members.len());
    for m in members {
        out.bulk(m);
    }
}

fn combine(ks: &dyn KeySpace, a: &Args, out: &mut Reply, how: Combine) -> CmdResult {
    let keys: Vec<&[u8]> = a.iter().skip(1).collect();
    reply_members(out, &combined(ks.collections(), &keys, how)?);
    Ok(())
}

/// The sets at `keys` combined (SINTER, SUNION, SDIFF).
fn combined(
    c: &dyn crate::datatypes::api::CollectionOps,
    keys: &[&[u8]],
    how: Combine,
) -> crate::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    c.view_with(&mut |v| {
        out = crate::datatypes::set::combine(v, keys, how)?;
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn sinter(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    combine(ks, a, out, Combine::Intersection)
}

pub(crate) fn sunion(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    combine(ks, a, out, Combine::Union)
}

pub(crate) fn sdiff(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    combine(ks, a, out, Combine::Difference)
}

/// SINTERSTORE / SUNIONSTORE / SDIFFSTORE: the command's event on the destination, or,
/// when the result is empty, `del` if that deleted the destination.
fn store(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    how: crate::SetCombine,
    event: &'static str,
) -> CmdResult {
    let (destination, keys) = (a.get(1), a.iter().skip(2).collect::<Vec<_>>());
    // Read only when someone listens. These commands run as one transaction
    // (`flag::ATOMIC`): no other write comes between this read and the store.
    let existed = shared.notes(class::GENERIC) && ks.contains(destination);
    let stored = ks.collections().sstore(destination, &keys, how)?;
    if stored > 0 {
        shared.notify(out, class::SET, event, destination);
    } else if existed {
        shared.notify(out, class::GENERIC, "del", destination);
    }
    out.count(stored);
    Ok(())
}

pub(crate) fn sinterstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let how = crate::SetCombine::Intersection;
    store(ks, shared, a, out, how, "sinterstore")
}

pub(crate) fn sunionstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    store(ks, shared, a, out, crate::SetCombine::Union, "sunionstore")
}

pub(crate) fn sdiffstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let how = crate::SetCombine::Difference;
    store(ks, shared, a, out, how, "sdiffstore")
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub(crate) fn sintercard(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    // Redis reads numkeys with one error for a word and a number below 1.
    let numkeys = crate::numeric::parse_i64(a.get(1))
        .filter(|&n| n > 0)
        .ok_or(CmdError::fixed("ERR numkeys should be greater than 0"))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > a.len() - 2 {
        return Err(CmdError::fixed(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys: Vec<&[u8]> = a.iter().skip(2).take(numkeys).collect();
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < a.len() {
        if crate::server::args::is(a.get(i), "limit") && i + 1 < a.len() {
            // One error for a word and a negative number, as in Redis.
            limit = crate::numeric::parse_i64(a.get(i + 1))
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CmdError::fixed("ERR LIMIT can't be negative"))?;
            i += 2;
        } else {
            return Err(crate::server::error::SYNTAX);
        }
    }
    let members = combined(ks.collections(), &keys, Combine::Intersection)?;
    out.count(if limit == 0 {
        members.len()
    } else {
        members.len().min(limit)
    });
    Ok(())
}

/// SMOVE source destination member: `srem` on the source, `del` if that emptied it, then
/// `sadd` on the destination if the member was not there yet; nothing for a move onto
/// the source itself.
pub(crate) fn smove(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (source, destination, member) = (a.get(1), a.get(2), a.get(3));
    let c = ks.collections();
    // What the events need, read only when someone listens. SMOVE runs as one
    // transaction (`flag::ATOMIC`): no other write comes in between.
    // A destination of another type is SMOVE's error to give, or not (a missing source).
    let was_there = shared.notes(class::SET)
        && matches!(c.smismember(destination, &[member]), Ok(found) if found.first() == Some(&true));
    let moved = c.smove(source, destination, member)?;
    if moved && source != destination {
        let emptied = shared.notes(class::GENERIC) && !ks.contains(source);
        shared.notify_removal(out, class::SET, "srem", source, emptied);
        if !was_there {
            shared.notify(out, class::SET, "sadd", destination);
        }
    }
    out.count(usize::from(moved));
    Ok(())
}

/// The arguments of HRANDFIELD and ZRANDMEMBER, `key [count [option]]`, read in Redis's
/// order: the count (between -(2^63-1) and 2^63-1), then the option word, then with the
/// option a count within half that range. Returns the count and whether the option was
/// given.
pub(crate) fn random_read_args(a: &Args, option: &str) -> Result<(Option<i64>, bool), CmdError> {
    if a.len() < 3 {
        return Ok((None, false));
    }
    let count = random_read_count(a.get(2))?;
    if a.len() > 4 || (a.len() == 4 && !crate::server::args::is(a.get(3), option)) {
        return Err(crate::server::error::SYNTAX);
    }
    let with_option = a.len() == 4;
    if with_option && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::fixed("ERR value is out of range"));
    }
    Ok((Some(count), with_option))
}

/// A random read's count, as Redis reads it (`getRangeLongFromObjectOrReply` between
/// -LONG_MAX and LONG_MAX).
fn random_read_count(arg: &[u8]) -> Result<i64, CmdError> {
    let count = crate::server::args::int(arg)?;
    if count == i64::MIN {
        return Err(CmdError::fixed(
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    Ok(count)
}

/// How many random picks a count argument asks for (one when absent), and whether they are
/// distinct: a negative count allows repeats (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER).
pub(crate) fn random_count(count: Option<i64>) -> (usize, bool) {
    match count {
        None => (1, true),
        Some(c) => (
            usize::try_from(c.unsigned_abs()).unwrap_or(usize::MAX),
            c >= 0,
        ),
    }
}
