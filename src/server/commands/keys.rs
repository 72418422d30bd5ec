//! Key commands: DEL, EXISTS, TYPE, RENAME, DBSIZE, FLUSHDB.

use crate::ValueType;
use crate::server::args::is;
use crate::server::error::{CmdResult, NO_SUCH_KEY, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

pub(crate) fn del(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let mut deleted = 0;
    for key in a.iter().skip(1) {
        if ks.delete(key)? {
            deleted += 1;
        }
    }
    out.int(deleted);
    Ok(())
}

/// EXISTS counts a key named twice twice, as Redis does.
pub(crate) fn exists(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(a.iter().skip(1).filter(|k| ks.contains(k)).count());
    Ok(())
}

pub(crate) fn type_(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let ty = ks.collections().value_type(a.get(1))?;
    out.simple(ty.map_or("none", crate::ValueType::redis_name));
    Ok(())
}

/// Moves `from` to `to` with its expiry; `Ok(false)` when `only_if_absent` and `to` exists.
fn rename_key(
    ks: &dyn KeySpace,
    from: &[u8],
    to: &[u8],
    only_if_absent: bool,
) -> Result<bool, crate::server::error::CmdError> {
    let ty = ks.collections().value_type(from)?.ok_or(NO_SUCH_KEY)?;
    if from == to {
        return Ok(!only_if_absent);
    }
    if only_if_absent && ks.contains(to) {
        return Ok(false);
    }
    match ty {
        ValueType::String => {
            let (value, expiry) = ks.get_with_expiry(from)?.ok_or(NO_SUCH_KEY)?;
            ks.set_with_expiry(to, &value, expiry)?;
        }
        // A collection's element keys name their key: it is rebuilt under the new name,
        // one record per member (Redis renames in O(1)).
        _ => {
            let expiry = ks.expires_at(from)?;
            ks.collections().copy_collection(from, to)?;
            if let Some(at) = expiry {
                ks.expire_at(to, at)?;
            }
        }
    }
    ks.delete(from)?;
    Ok(true)
}

pub(crate) fn rename(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    rename_key(ks, a.get(1), a.get(2), false)?;
    out.ok();
    Ok(())
}

pub(crate) fn renamenx(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let renamed = rename_key(ks, a.get(1), a.get(2), true)?;
    out.int(i64::from(renamed));
    Ok(())
}

pub(crate) fn dbsize(ks: &dyn KeySpace, _: &Shared, _: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.len());
    Ok(())
}

/// FLUSHDB / FLUSHALL [ASYNC|SYNC]: deletes every key, as one transaction.
pub(crate) fn flushdb(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    match a.len() {
        1 => {}
        2 if is(a.get(1), "async") || is(a.get(1), "sync") => {}
        _ => return Err(SYNTAX),
    }
    for key in ks.keys() {
        ks.delete(&key)?;
    }
    out.ok();
    Ok(())
}
