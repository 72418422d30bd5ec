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
