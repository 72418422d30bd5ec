//! Set commands: SADD, SREM, SISMEMBER, SMEMBERS and the rest, over the store's sets.

use crate::server::error::CmdResult;
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

fn members(a: &Args) -> Vec<&[u8]> {
    a.iter().skip(2).collect()
}

pub(crate) fn sadd(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.collections().sadd(a.get(1), &members(a))?);
    Ok(())
}

pub(crate) fn srem(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.collections().srem(a.get(1), &members(a))?);
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

const OUT_OF_RANGE_POSITIVE: crate::server::error::CmdError =
    crate::server::error::CmdError::fixed("ERR value is out of range, must be positive");

/// SPOP key [count]
pub(crate) fn spop(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 3 {
        return Err(crate::server::error::SYNTAX);
    }
    let count = match a.len() {
        3 => {
            let n = crate::server::args::int(a.get(2))?;
            Some(usize::try_from(n).map_err(|_| OUT_OF_RANGE_POSITIVE)?)
        }
        _ => None,
    };
    let mut popped = Vec::new();
    ks.collections()
        .edit_with(a.get(1), crate::ValueType::Set, &mut |e| {
            popped = crate::datatypes::set::pop(e, count.unwrap_or(1));
            Ok(())
        })?;
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
        3 => Some(crate::server::args::int(a.get(2))?),
        _ => None,
    };
    let (n, distinct) = match count {
        None => (1, true),
        Some(c) => (
            usize::try_from(c.unsigned_abs()).unwrap_or(usize::MAX),
            c >= 0,
        ),
    };
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
