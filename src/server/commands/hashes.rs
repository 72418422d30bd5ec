//! Hash commands: HSET, HGET, HDEL, HGETALL and the rest, over the store's hashes.

use crate::datatypes::hash;
use crate::numeric::LongDouble;
use crate::server::args;
use crate::server::error::{self, CmdError, CmdResult, NOT_FLOAT};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;
use crate::{Error, ValueType};

const HASH_NOT_INTEGER: CmdError = CmdError::fixed("ERR hash value is not an integer");
const HASH_NOT_FLOAT: CmdError = CmdError::fixed("ERR hash value is not a float");

/// Arguments from `from` on, as slices.
fn rest(a: &Args, from: usize) -> Vec<&[u8]> {
    a.iter().skip(from).collect()
}

/// HSET key field value [field value ...] (and HMSET, which replies OK): one `hset`
/// event, however many fields, new or not.
fn set_pairs(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    name: &str,
    out: &mut Reply,
) -> Result<usize, CmdError> {
    if a.len() < 4 || !a.len().is_multiple_of(2) {
        return Err(error::wrong_arity(name));
    }
    let fields: Vec<(&[u8], &[u8])> = (2..a.len())
        .step_by(2)
        .map(|i| (a.get(i), a.get(i + 1)))
        .collect();
    let added = ks.collections().hset_many(a.get(1), &fields)?;
    shared.notify(out, class::HASH, "hset", a.get(1));
    Ok(added)
}

pub(crate) fn hset(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let added = set_pairs(ks, shared, a, "hset", out)?;
    out.count(added);
    Ok(())
}

pub(crate) fn hmset(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    set_pairs(ks, shared, a, "hmset", out)?;
    out.ok();
    Ok(())
}

/// HSETNX key field value: `hset` only if it set the field.
pub(crate) fn hsetnx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let set = ks.collections().hsetnx(a.get(1), a.get(2), a.get(3))?;
    if set {
        shared.notify(out, class::HASH, "hset", a.get(1));
    }
    out.count(usize::from(set));
    Ok(())
}

pub(crate) fn hget(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let value = ks.collections().hmget(a.get(1), &[a.get(2)])?;
    out.bulk_or_null(value.first().and_then(|v| v.as_deref()));
    Ok(())
}

pub(crate) fn hmget(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let values = ks.collections().hmget(a.get(1), &rest(a, 2))?;
    out.array(values.len());
    for value in &values {
        out.bulk_or_null(value.as_deref());
    }
    Ok(())
}

/// HDEL key field [field ...]: `hdel` if it removed any, then `del` if that emptied the
/// hash.
pub(crate) fn hdel(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (key, fields) = (a.get(1), rest(a, 2));
    let (mut removed, mut emptied) = (0, false);
    // One edit, so the emptiness is that of this command's result, not of a read after it
    // (which another connection's write could come before).
    ks.collections().edit_with(key, ValueType::Hash, &mut |e| {
        removed = hash::hdel(e, &fields)?;
        emptied = e.len() == 0;
        Ok(())
    })?;
    if removed > 0 {
        shared.notify_removal(out, class::HASH, "hdel", key, emptied);
    }
    out.count(removed);
    Ok(())
}

pub(crate) fn hexists(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let exists = ks.collections().hexists(a.get(1), a.get(2))?;
    out.count(usize::from(exists));
    Ok(())
}

pub(crate) fn hlen(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.collections().hlen(a.get(1))?);
    Ok(())
}

pub(crate) fn hstrlen(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let value = ks.collections().hmget(a.get(1), &[a.get(2)])?;
    out.count(value.first().and_then(|v| v.as_ref()).map_or(0, Vec::len));
    Ok(())
}

pub(crate) fn hkeys(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let fields = ks.collections().hkeys(a.get(1))?;
    out.array(fields.len());
    for field in &fields {
        out.bulk(field);
    }
    Ok(())
}

pub(crate) fn hvals(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let pairs = ks.collections().hgetall(a.get(1))?;
    out.array(pairs.len());
    for (_, value) in &pairs {
        out.bulk(value);
    }
    Ok(())
}

pub(crate) fn hgetall(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let pairs = ks.collections().hgetall(a.get(1))?;
    out.map(pairs.len());
    for (field, value) in &pairs {
        out.bulk(field);
        out.bulk(value);
    }
    Ok(())
}

pub(crate) fn hincrby(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let delta = args::int(a.get(3))?;
    match ks.collections().hincr_by(a.get(1), a.get(2), delta) {
        Ok(n) => {
            shared.notify(out, class::HASH, "hincrby", a.get(1));
            out.int(n);
        }
        Err(Error::NotAnInteger) => return Err(HASH_NOT_INTEGER),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub(crate) fn hincrbyfloat(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let delta = a.get(3);
    match LongDouble::parse(delta) {
        None => return Err(NOT_FLOAT),
        // Redis refuses an infinite increment before it looks at the key.
        Some(LongDouble::Infinite { .. }) => {
            return Err(CmdError::fixed("ERR value is NaN or Infinity"));
        }
        Some(_) => {}
    }
    match ks.collections().hincr_by_float(a.get(1), a.get(2), delta) {
        Ok(text) => {
            shared.notify(out, class::HASH, "hincrbyfloat", a.get(1));
            out.bulk(&text);
        }
        Err(Error::NotAFloat) => return Err(HASH_NOT_FLOAT),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]: a negative count may repeat fields.
pub(crate) fn hrandfield(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (count, with_values) = super::sets::random_read_args(a, "withvalues")?;
    let (n, distinct) = super::sets::random_count(count);
    let mut picked = Vec::new();
    ks.collections().view_with(&mut |v| {
        picked = crate::datatypes::hash::random(v, a.get(1), n, distinct)?;
        Ok(())
    })?;
    match count {
        None => out.bulk_or_null(picked.first().map(|(f, _)| f.as_slice())),
        Some(_) if with_values && out.is_resp3() => {
            out.array(picked.len());
            for (f, v) in &picked {
                out.array(2);
                out.bulk(f);
                out.bulk(v);
            }
        }
        Some(_) => {
            out.array(picked.len() * if with_values { 2 } else { 1 });
            for (f, v) in &picked {
                out.bulk(f);
                if with_values {
                    out.bulk(v);
                }
            }
        }
    }
    Ok(())
}
