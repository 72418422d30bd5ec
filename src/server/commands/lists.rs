//! List commands: LPUSH, RPOP, LRANGE, LINSERT, LMOVE and the rest, over the store's lists,
//! and their keyspace events. (The blocking forms wait in `blocking.rs`; here they run
//! inside MULTI, where they never wait.)

use crate::datatypes::list::{self, RangeItem};
use crate::server::args::{self, is};
use crate::server::error::{self, CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;
use crate::{Error, ValueType};

fn values(a: &Args) -> Vec<&[u8]> {
    a.iter().skip(2).collect()
}

/// The event of a push at the head (`left`) or tail: one per command, however many values.
fn push_event(left: bool) -> &'static str {
    if left { "lpush" } else { "rpush" }
}

/// The event of a pop from the head (`left`) or tail: one per command, whatever the count.
fn pop_event(left: bool) -> &'static str {
    if left { "lpop" } else { "rpop" }
}

fn push(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    left: bool,
    only_existing: bool,
) -> CmdResult {
    let len = ks
        .collections()
        .push(a.get(1), &values(a), left, only_existing)?;
    // LPUSHX and RPUSHX push nothing (and answer 0) when the list is missing.
    if len > 0 {
        shared.notify(out, class::LIST, push_event(left), a.get(1));
    }
    out.count(len);
    Ok(())
}

pub(crate) fn lpush(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, shared, a, out, true, false)
}

pub(crate) fn rpush(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, shared, a, out, false, false)
}

pub(crate) fn lpushx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, shared, a, out, true, true)
}

pub(crate) fn rpushx(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, shared, a, out, false, true)
}

/// What a pop took from a list, and whether that emptied it (the key is then deleted).
pub(crate) struct Popped {
    pub(crate) values: Vec<Vec<u8>>,
    pub(crate) emptied: bool,
}

/// Pops up to `count` values from the head (`left`) or tail of the list at `key`, as one
/// edit: whether it emptied the list is known from the edit itself, not from a read after
/// it (which another connection's write could come before).
pub(crate) fn pop_values(
    ks: &dyn KeySpace,
    key: &[u8],
    count: usize,
    left: bool,
) -> Result<Popped, Error> {
    let mut popped = Popped {
        values: Vec::new(),
        emptied: false,
    };
    ks.collections().edit_with(key, ValueType::List, &mut |e| {
        popped.values = list::pop(e, count, left)?;
        popped.emptied = e.len() == 0;
        Ok(())
    })?;
    Ok(popped)
}

/// The events of a pop that took something from `key`, as Redis's `listElementsRemoved`:
/// `lpop` or `rpop`, then `del` if it emptied the list.
pub(crate) fn notify_pop(shared: &Shared, out: &mut Reply, key: &[u8], left: bool, emptied: bool) {
    shared.notify_removal(out, class::LIST, pop_event(left), key, emptied);
}

/// LPOP/RPOP key [count]
fn pop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply, left: bool) -> CmdResult {
    if a.len() > 3 {
        return Err(error::wrong_arity(if left { "lpop" } else { "rpop" }));
    }
    let count = if a.len() == 3 {
        Some(args::positive(a.get(2))?)
    } else {
        None
    };
    let key = a.get(1);
    match count {
        None => {
            let popped = pop_values(ks, key, 1, left)?;
            if !popped.values.is_empty() {
                notify_pop(shared, out, key, left, popped.emptied);
            }
            out.bulk_or_null(popped.values.first().map(Vec::as_slice));
        }
        Some(n) => {
            // A missing key is a null array, an existing one an array (even for 0, which
            // pops nothing and so publishes nothing).
            if ks.collections().llen(key)? == 0 {
                out.null_array();
            } else {
                let popped = pop_values(ks, key, n, left)?;
                if !popped.values.is_empty() {
                    notify_pop(shared, out, key, left, popped.emptied);
                }
                out.array(popped.values.len());
                for v in &popped.values {
                    out.bulk(v);
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn lpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, shared, a, out, true)
}

pub(crate) fn rpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, shared, a, out, false)
}

pub(crate) fn llen(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(ks.collections().llen(a.get(1))?);
    Ok(())
}

/// The index argument of LINDEX and LSET, read after the key as Redis does: a missing key
/// or one of another type answers first (`Ok(None)`: the list does not exist).
fn index_after_key(ks: &dyn KeySpace, a: &Args) -> Result<Option<i64>, CmdError> {
    match args::int(a.get(2)) {
        Ok(index) => Ok(Some(index)),
        Err(e) => match ks.collections().llen(a.get(1))? {
            0 => Ok(None),
            _ => Err(e),
        },
    }
}

pub(crate) fn lindex(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let Some(index) = index_after_key(ks, a)? else {
        out.null();
        return Ok(());
    };
    let value = ks.collections().lindex(a.get(1), index)?;
    out.bulk_or_null(value.as_deref());
    Ok(())
}

pub(crate) fn lrange(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (start, stop) = (args::int(a.get(2))?, args::int(a.get(3))?);
    // Each value goes from the store straight into the reply. Should another connection
    // pop elements of the range meanwhile, the reply announced more than it got: it is
    // taken back and the range read again as a whole.
    let mark = out.len();
    let lent = ks
        .collections()
        .lrange_each(a.get(1), start, stop, &mut |item| match item {
            RangeItem::Len(n) => out.array(n),
            RangeItem::Value(v) => out.bulk(v),
        });
    match lent {
        Ok((announced, lent)) if announced == lent => return Ok(()),
        Ok(_) => out.truncate(mark),
        Err(e) => {
            out.truncate(mark);
            return Err(e.into());
        }
    }
    let values = ks.collections().lrange(a.get(1), start, stop)?;
    out.array(values.len());
    for v in &values {
        out.bulk(v);
    }
    Ok(())
}

pub(crate) fn lset(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let no_such_key = CmdError::fixed("ERR no such key");
    let index = index_after_key(ks, a)?.ok_or(no_such_key.clone())?;
    match ks.collections().lset(a.get(1), index, a.get(3)) {
        Ok(()) => {
            shared.notify(out, class::LIST, "lset", a.get(1));
            out.ok();
        }
        Err(Error::NoSuchKey) => return Err(no_such_key),
        Err(Error::IndexOutOfRange) => return Err(CmdError::fixed("ERR index out of range")),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// LREM key count element: `lrem` if it removed any, then `del` if that emptied the list.
pub(crate) fn lrem(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (key, count) = (a.get(1), args::int(a.get(2))?);
    let c = ks.collections();
    let removed = c.lrem(key, count, a.get(3))?;
    if removed > 0 {
        // LREM runs as its own transaction (`flag::SOLO`): the length read after it is
        // the one it left.
        let emptied = c.llen(key)? == 0;
        shared.notify_removal(out, class::LIST, "lrem", key, emptied);
    }
    out.count(removed);
    Ok(())
}

/// LTRIM key start stop: `ltrim` whenever the list exists (even if nothing was trimmed,
/// as Redis), then `del` if none of it was kept.
pub(crate) fn ltrim(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (key, start, stop) = (a.get(1), args::int(a.get(2))?, args::int(a.get(3))?);
    let c = ks.collections();
    // LTRIM runs as its own transaction (`flag::SOLO`): the lengths read around the trim
    // are those it saw and left.
    let existed = c.llen(key)? > 0;
    c.ltrim(key, start, stop)?;
    if existed {
        let emptied = c.llen(key)? == 0;
        shared.notify_removal(out, class::LIST, "ltrim", key, emptied);
    }
    out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: `linsert` only if it inserted.
pub(crate) fn linsert(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let before = match a.get(2) {
        w if is(w, "before") => true,
        w if is(w, "after") => false,
        _ => return Err(SYNTAX),
    };
    let len = ks
        .collections()
        .linsert(a.get(1), before, a.get(3), a.get(4))?;
    if len > 0 {
        shared.notify(out, class::LIST, "linsert", a.get(1));
    }
    out.int(len);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub(crate) fn lpos(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (mut rank, mut count, mut max_len) = (1i64, None, 0usize);
    let mut i = 3;
    while i < a.len() {
        if i + 1 >= a.len() {
            return Err(SYNTAX);
        }
        let (opt, value) = (a.get(i), a.get(i + 1));
        if is(opt, "rank") {
            rank = args::int(value)?;
            if rank == i64::MIN {
                return Err(CmdError::fixed(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            if rank == 0 {
                return Err(CmdError::fixed(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(opt, "count") {
            let n = args::int(value)?;
            count = Some(
                usize::try_from(n).map_err(|_| CmdError::fixed("ERR COUNT can't be negative"))?,
            );
        } else if is(opt, "maxlen") {
            let n = args::int(value)?;
            max_len =
                usize::try_from(n).map_err(|_| CmdError::fixed("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    let found = ks
        .collections()
        .lpos(a.get(1), a.get(2), rank, count.unwrap_or(1), max_len)?;
    match count {
        None => match found.first() {
            Some(&i) => out.count(i),
            None => out.null(),
        },
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.count(i);
            }
        }
    }
    Ok(())
}

fn side(word: &[u8]) -> Result<bool, CmdError> {
    if is(word, "left") {
        Ok(true)
    } else if is(word, "right") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// Moves one value from an end of `source` to an end of `destination` (LMOVE, RPOPLPUSH
/// and their blocking forms); the value, if `source` had one. Its events are Redis's
/// `lmoveGenericCommand`'s, in its order: the push on `destination` first, then the pop
/// from `source`, then `del` if that emptied `source`.
pub(crate) fn move_value(
    ks: &dyn KeySpace,
    shared: &Shared,
    out: &mut Reply,
    (source, destination): (&[u8], &[u8]),
    (from_left, to_left): (bool, bool),
) -> Result<Option<Vec<u8>>, CmdError> {
    let c = ks.collections();
    let moved = c.lmove(source, destination, from_left, to_left)?;
    if moved.is_some() {
        shared.notify(out, class::LIST, push_event(to_left), destination);
        shared.notify(out, class::LIST, pop_event(from_left), source);
        // Read after the move, in its transaction (LMOVE and RPOPLPUSH are
        // `flag::ATOMIC`; MULTI, a pipeline and the blocking forms run in one too).
        if source != destination && c.llen(source)? == 0 {
            shared.notify(out, class::GENERIC, "del", source);
        }
    }
    Ok(moved)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub(crate) fn lmove(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let ends = (side(a.get(3))?, side(a.get(4))?);
    let moved = move_value(ks, shared, out, (a.get(1), a.get(2)), ends)?;
    out.bulk_or_null(moved.as_deref());
    Ok(())
}

/// RPOPLPUSH source destination
pub(crate) fn rpoplpush(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let moved = move_value(ks, shared, out, (a.get(1), a.get(2)), (false, true))?;
    out.bulk_or_null(moved.as_deref());
    Ok(())
}

/// BLPOP inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn blpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("blpop", ks, shared, a, out)
}

/// BRPOP inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn brpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("brpop", ks, shared, a, out)
}

/// BLMOVE inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn blmove(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("blmove", ks, shared, a, out)
}

/// BRPOPLPUSH inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn brpoplpush(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    super::blocking::without_waiting("brpoplpush", ks, shared, a, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::reply::Protocol;
    use crate::server::{ServerConfig, shared::Shared};

    #[test]
    fn lrange_reads_the_range_again_when_an_element_vanishes_under_it() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.rpush(b"l", &[b"a", b"b", b"c"]).unwrap();
        store.rpush(b"other", &[b"x"]).unwrap();
        let shared = Shared::new(
            store.clone(),
            &ServerConfig::default(),
            "127.0.0.1:0".parse().unwrap(),
        );
        let mut out = Reply::new(Protocol::Resp2);
        out.simple("before");
        let whole = Args::from_slices(&["LRANGE", "l", "0", "-1"]);
        lrange(&store, &shared, &whole, &mut out).unwrap();
        assert_eq!(
            out.bytes(),
            b"+before\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );

        // b goes from the index while its position is still listed, as when another
        // writer pops it between the two reads: the reply announced 3 values, got 2.
        crate::datatypes::forget_list_element(&store, b"l", 1);
        out.clear();
        out.simple("before");
        lrange(&store, &shared, &whole, &mut out).unwrap();
        assert_eq!(out.bytes(), b"+before\r\n*2\r\n$1\r\na\r\n$1\r\nc\r\n");
    }
}
