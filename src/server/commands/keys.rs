//! Key commands: DEL, EXISTS, TOUCH, TYPE, RENAME, COPY, MOVE, DBSIZE, FLUSHDB.

use crate::ValueType;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NO_SUCH_KEY, NOT_INTEGER, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

pub(crate) fn del(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let mut deleted = 0;
    for key in a.iter().skip(1) {
        if ks.delete(key)? {
            deleted += 1;
            shared.notify(out, class::GENERIC, "del", key);
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

/// TOUCH: as EXISTS (keg keeps no access times to update).
pub(crate) fn touch(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    exists(ks, shared, a, out)
}

pub(crate) fn type_(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let ty = ks.collections().value_type(a.get(1))?;
    out.simple(ty.map_or("none", crate::ValueType::redis_name));
    Ok(())
}

/// Moves `from` to `to` with its expiry; `Ok(false)` when `only_if_absent` and `to` exists.
fn rename_key(
    ks: &dyn KeySpace,
    max_key: usize,
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
    copy_fits(ks, max_key, from, to, ty)?;
    copy_value(ks, from, to, ty)?;
    ks.delete(from)?;
    Ok(true)
}

/// Writes the value of `from` (of type `ty`) with its expiry to `to`, replacing it. A
/// collection's element keys name their key: it is rebuilt under the new name, one record
/// per member (Redis renames and copies a whole object at once).
fn copy_value(
    ks: &dyn KeySpace,
    from: &[u8],
    to: &[u8],
    ty: ValueType,
) -> Result<(), crate::server::error::CmdError> {
    match ty {
        ValueType::String => {
            let (value, expiry) = ks.get_with_expiry(from)?.ok_or(NO_SUCH_KEY)?;
            ks.set_with_expiry(to, &value, expiry)?;
        }
        _ => {
            let expiry = ks.expires_at(from)?;
            ks.collections().copy_collection(from, to)?;
            if let Some(at) = expiry {
                ks.expire_at(to, at)?;
            }
        }
    }
    Ok(())
}

/// The events of a key renamed (not onto itself, where Redis sends none).
fn notify_rename(shared: &Shared, out: &mut Reply, from: &[u8], to: &[u8]) {
    if from != to {
        shared.notify(out, class::GENERIC, "rename_from", from);
        shared.notify(out, class::GENERIC, "rename_to", to);
    }
}

pub(crate) fn rename(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    rename_key(ks, shared.store.max_key_size(), a.get(1), a.get(2), false)?;
    notify_rename(shared, out, a.get(1), a.get(2));
    out.ok();
    Ok(())
}

pub(crate) fn renamenx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let renamed = rename_key(ks, shared.store.max_key_size(), a.get(1), a.get(2), true)?;
    if renamed {
        notify_rename(shared, out, a.get(1), a.get(2));
    }
    out.int(i64::from(renamed));
    Ok(())
}

const SAME_OBJECT: CmdError = CmdError::fixed("ERR source and destination objects are the same");

/// A database index argument: keg has database 0 only (as SELECT).
fn database(arg: &[u8]) -> Result<i32, CmdError> {
    let index = crate::numeric::parse_i64(arg)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or(NOT_INTEGER)?;
    if index != 0 {
        return Err(CmdError::fixed("ERR DB index is out of range"));
    }
    Ok(index)
}

/// COPY source destination [DB 0] [REPLACE]: 1 if copied (with its expiry), 0 if the
/// source is missing or the destination exists (without REPLACE).
pub(crate) fn copy(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (from, to) = (a.get(1), a.get(2));
    let mut replace = false;
    let mut i = 3;
    while i < a.len() {
        if is(a.get(i), "replace") {
            replace = true;
        } else if is(a.get(i), "db") && i + 1 < a.len() {
            database(a.get(i + 1))?;
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if from == to {
        return Err(SAME_OBJECT);
    }
    let Some(ty) = ks.collections().value_type(from)? else {
        out.int(0);
        return Ok(());
    };
    let exists = ks.contains(to);
    if exists && !replace {
        out.int(0);
        return Ok(());
    }
    copy_fits(ks, shared.store.max_key_size(), from, to, ty)?;
    if exists {
        ks.delete(to)?;
    }
    copy_value(ks, from, to, ty)?;
    shared.notify(out, class::GENERIC, "copy_to", to);
    out.int(1);
    Ok(())
}

/// The store's error if the copy of `from` at `to` would be refused for its keys' length
/// (checked before anything is written: REPLACE's deletion of `to`, or half a collection
/// under its new name): `to` itself, and for a collection its members' element keys under
/// `to`, which are longer than under `from` when `to` is.
fn copy_fits(
    ks: &dyn KeySpace,
    max_key: usize,
    from: &[u8],
    to: &[u8],
    ty: ValueType,
) -> Result<(), CmdError> {
    if to.len() > max_key {
        return Err(crate::Error::KeyTooLarge {
            len: to.len(),
            max: max_key,
        }
        .into());
    }
    if ty == ValueType::String || to.len() <= from.len() {
        return Ok(());
    }
    let mut longest = 0;
    ks.collections().view_with(&mut |v| {
        if let Some(found) = v.collection(from, ty)? {
            longest = v
                .members(from, found.generation)
                .iter()
                .map(Vec::len)
                .max()
                .unwrap_or(0);
        }
        Ok(())
    })?;
    Ok(crate::server::keyspace::members_fit(ks, to, longest)?)
}

/// MOVE key db: with one database, the only valid target is the source's.
pub(crate) fn move_(_: &dyn KeySpace, _: &Shared, a: &Args, _: &mut Reply) -> CmdResult {
    database(a.get(2))?;
    Err(SAME_OBJECT)
}

pub(crate) fn dbsize(ks: &dyn KeySpace, _: &Shared, _: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.len());
    Ok(())
}

/// FLUSHDB / FLUSHALL [ASYNC|SYNC]: deletes every key, as one transaction.
pub(crate) fn flushdb(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    match a.len() {
        1 => {}
        2 if is(a.get(1), "async") || is(a.get(1), "sync") => {}
        _ => return Err(SYNTAX),
    }
    for key in ks.keys() {
        ks.delete(&key)?;
    }
    // No keyspace event (Redis 7.0 sends none); tracking clients drop everything.
    shared.notify_flush(out);
    out.ok();
    Ok(())
}
