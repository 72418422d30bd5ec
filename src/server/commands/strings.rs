//! String and counter commands: GET, SET and its variants, MGET/MSET, APPEND, ranges,
//! INCR and friends.

use super::expiry_arg::{ExpiryArg, resolve};
use crate::SetOptions;
use crate::server::args::{self, is};
use crate::server::error::{self, CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::{Counters, Shared};

/// Largest string Redis builds (SETRANGE, APPEND): `proto-max-bulk-len`.
const MAX_STRING: i64 = 512 << 20;

pub(crate) fn get(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let value = ks.get(a.get(1))?;
    count_lookup(shared, value.is_some());
    out.bulk_or_null(value.as_deref());
    Ok(())
}

fn count_lookup(shared: &Shared, hit: bool) {
    let c = &shared.counters;
    Counters::add(
        if hit {
            &c.keyspace_hits
        } else {
            &c.keyspace_misses
        },
        1,
    );
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
pub(crate) fn set(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (key, value) = (a.get(1), a.get(2));
    let mut options = SetOptions::new();
    let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
    let mut expiry: Option<(ExpiryArg, &[u8])> = None;
    let mut i = 3;
    while i < a.len() {
        let opt = a.get(i);
        let next = (i + 1 < a.len()).then(|| a.get(i + 1));
        if is(opt, "nx") && !xx {
            nx = true;
        } else if is(opt, "xx") && !nx {
            xx = true;
        } else if is(opt, "get") {
            get = true;
        } else if is(opt, "keepttl") && expiry.is_none() {
            keepttl = true;
        } else if let (Some(kind), Some(n)) = (ExpiryArg::parse(opt), next)
            && expiry.is_none_or(|(k, _)| k == kind)
            && !keepttl
        {
            expiry = Some((kind, n));
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if let Some((kind, n)) = expiry {
        options = options.expire_at(resolve(kind, n, "set", ks.now_ms())?);
    }
    let expires = expiry.is_some();
    if nx {
        options = options.only_if_absent();
    }
    if xx {
        options = options.only_if_present();
    }
    if keepttl {
        options = options.keep_ttl();
    }
    if get {
        options = options.get_previous();
    }
    let outcome = ks.set_with(key, value, options)?;
    if outcome.written {
        notify_set(shared, out, key, expires);
    }
    if get {
        out.bulk_or_null(outcome.previous.as_deref());
    } else if outcome.written {
        out.ok();
    } else {
        out.null();
    }
    Ok(())
}

/// The events of a string written whole (SET and its variants): `set`, then `expire` if
/// the command gave it an expiry (even one already past, as Redis).
fn notify_set(shared: &Shared, out: &mut Reply, key: &[u8], expires: bool) {
    shared.notify(out, class::STRING, "set", key);
    if expires {
        shared.notify(out, class::GENERIC, "expire", key);
    }
}

pub(crate) fn setnx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let outcome = ks.set_with(a.get(1), a.get(2), SetOptions::new().only_if_absent())?;
    if outcome.written {
        notify_set(shared, out, a.get(1), false);
    }
    out.int(i64::from(outcome.written));
    Ok(())
}

fn set_expiring(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    kind: ExpiryArg,
    name: &str,
    out: &mut Reply,
) -> CmdResult {
    let at = resolve(kind, a.get(2), name, ks.now_ms())?;
    ks.set_with(a.get(1), a.get(3), SetOptions::new().expire_at(at))?;
    notify_set(shared, out, a.get(1), true);
    out.ok();
    Ok(())
}

pub(crate) fn setex(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    set_expiring(ks, shared, a, ExpiryArg::Seconds, "setex", out)
}

pub(crate) fn psetex(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    set_expiring(ks, shared, a, ExpiryArg::Millis, "psetex", out)
}

pub(crate) fn getset(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let outcome = ks.set_with(a.get(1), a.get(2), SetOptions::new().get_previous())?;
    notify_set(shared, out, a.get(1), false);
    out.bulk_or_null(outcome.previous.as_deref());
    Ok(())
}

pub(crate) fn getdel(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let value = ks.get_del(a.get(1))?;
    if value.is_some() {
        shared.notify(out, class::GENERIC, "del", a.get(1));
    }
    out.bulk_or_null(value.as_deref());
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
pub(crate) fn getex(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let key = a.get(1);
    let mut expiry: Option<(ExpiryArg, &[u8])> = None;
    let mut persist = false;
    let mut i = 2;
    while i < a.len() {
        let opt = a.get(i);
        let next = (i + 1 < a.len()).then(|| a.get(i + 1));
        if is(opt, "persist") && expiry.is_none() {
            persist = true;
        } else if let (Some(kind), Some(n)) = (ExpiryArg::parse(opt), next)
            && expiry.is_none_or(|(k, _)| k == kind)
            && !persist
        {
            expiry = Some((kind, n));
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    // As in Redis: the options' words first, then the key, then the expiry's number.
    let Some(value) = ks.get(key)? else {
        out.null();
        return Ok(());
    };
    let at = match expiry {
        Some((kind, n)) => Some(resolve(kind, n, "getex", ks.now_ms())?),
        None => None,
    };
    if let Some(at) = at {
        ks.expire_at(key, at)?;
        // An expiry already past deletes the key, as Redis reports it.
        let event = if at <= ks.now_ms() { "del" } else { "expire" };
        shared.notify(out, class::GENERIC, event, key);
    } else if persist && ks.persist(key)? {
        shared.notify(out, class::GENERIC, "persist", key);
    }
    out.bulk(&value);
    Ok(())
}

pub(crate) fn mget(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let mut values = Vec::with_capacity(a.len() - 1);
    for key in a.iter().skip(1) {
        // As in Redis, a key of another type reads as missing here (GET says WRONGTYPE).
        let value = match ks.get(key) {
            Err(crate::Error::WrongType) => None,
            other => other?,
        };
        count_lookup(shared, value.is_some());
        values.push(value);
    }
    out.array(values.len());
    for value in &values {
        out.bulk_or_null(value.as_deref());
    }
    Ok(())
}

fn pairs_ok(a: &Args, name: &str) -> CmdResult {
    if a.len().is_multiple_of(2) {
        return Err(error::wrong_arity(name));
    }
    Ok(())
}

pub(crate) fn mset(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pairs_ok(a, "mset")?;
    for i in (1..a.len()).step_by(2) {
        ks.set(a.get(i), a.get(i + 1))?;
        notify_set(shared, out, a.get(i), false);
    }
    out.ok();
    Ok(())
}

pub(crate) fn msetnx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pairs_ok(a, "msetnx")?;
    if (1..a.len()).step_by(2).any(|i| ks.contains(a.get(i))) {
        out.int(0);
        return Ok(());
    }
    for i in (1..a.len()).step_by(2) {
        ks.set(a.get(i), a.get(i + 1))?;
        notify_set(shared, out, a.get(i), false);
    }
    out.int(1);
    Ok(())
}

pub(crate) fn append(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.append(a.get(1), a.get(2))?);
    shared.notify(out, class::STRING, "append", a.get(1));
    Ok(())
}

pub(crate) fn strlen(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.get(a.get(1))?.map_or(0, |v| v.len()));
    Ok(())
}

/// GETRANGE key start end, with Redis's clamping of negative and out-of-range indexes.
pub(crate) fn getrange(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let start = args::int(a.get(2))?;
    let end = args::int(a.get(3))?;
    let value = ks.get(a.get(1))?.unwrap_or_default();
    let len = i64::try_from(value.len()).unwrap_or(i64::MAX);
    if start < 0 && end < 0 && start > end {
        out.bulk(b"");
        return Ok(());
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (len + end).max(0) } else { end };
    let end = end.min(len - 1);
    if start > end || len == 0 {
        out.bulk(b"");
        return Ok(());
    }
    let range = usize::try_from(start).unwrap_or(0)..usize::try_from(end + 1).unwrap_or(0);
    out.bulk(value.get(range).unwrap_or_default());
    Ok(())
}

/// SETRANGE key offset value: overwrites from `offset`, zero-padding; keeps the TTL.
pub(crate) fn setrange(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let key = a.get(1);
    let offset = args::int(a.get(2))?;
    let patch = a.get(3);
    if offset < 0 {
        return Err(CmdError::fixed("ERR offset is out of range"));
    }
    let current = ks.get_with_expiry(key)?;
    if patch.is_empty() {
        out.count(current.map_or(0, |(v, _)| v.len()));
        return Ok(());
    }
    let patch_len = i64::try_from(patch.len()).unwrap_or(i64::MAX);
    if offset.saturating_add(patch_len) > MAX_STRING {
        return Err(error::TOO_LARGE);
    }
    let (mut value, expiry) = current.unwrap_or_default();
    let offset = usize::try_from(offset).map_err(|_| error::TOO_LARGE)?;
    let end = offset + patch.len();
    error::value_fits(end as u64, shared.store.max_value_size())?;
    if value.len() < end {
        value.resize(end, 0);
    }
    if let Some(dst) = value.get_mut(offset..end) {
        dst.copy_from_slice(patch);
    }
    ks.set_with_expiry(key, &value, expiry)?;
    shared.notify(out, class::STRING, "setrange", key);
    out.count(value.len());
    Ok(())
}

/// INCR and friends: Redis names all of their events `incrby`.
fn incr_reply(
    ks: &dyn KeySpace,
    shared: &Shared,
    key: &[u8],
    delta: i64,
    out: &mut Reply,
) -> CmdResult {
    out.int(ks.incr_by(key, delta)?);
    shared.notify(out, class::STRING, "incrby", key);
    Ok(())
}

pub(crate) fn incr(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    incr_reply(ks, shared, a.get(1), 1, out)
}

pub(crate) fn decr(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    incr_reply(ks, shared, a.get(1), -1, out)
}

pub(crate) fn incrby(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    incr_reply(ks, shared, a.get(1), args::int(a.get(2))?, out)
}

pub(crate) fn decrby(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let delta = args::int(a.get(2))?;
    let negated = delta
        .checked_neg()
        .ok_or(CmdError::fixed("ERR decrement would overflow"))?;
    incr_reply(ks, shared, a.get(1), negated, out)
}

pub(crate) fn incrbyfloat(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    out.bulk(&ks.incr_by_float_text(a.get(1), a.get(2))?);
    shared.notify(out, class::STRING, "incrbyfloat", a.get(1));
    Ok(())
}
