//! List commands: LPUSH, RPOP, LRANGE, LINSERT, LMOVE and the rest, over the store's lists.
//! (The blocking forms, BLPOP and friends, are not served yet.)

use crate::Error;
use crate::datatypes::list::RangeItem;
use crate::server::args::{self, is};
use crate::server::error::{self, CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

fn values(a: &Args) -> Vec<&[u8]> {
    a.iter().skip(2).collect()
}

fn push(
    ks: &dyn KeySpace,
    a: &Args,
    out: &mut Reply,
    left: bool,
    only_existing: bool,
) -> CmdResult {
    let len = ks
        .collections()
        .push(a.get(1), &values(a), left, only_existing)?;
    out.count(len);
    Ok(())
}

pub(crate) fn lpush(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, a, out, true, false)
}

pub(crate) fn rpush(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, a, out, false, false)
}

pub(crate) fn lpushx(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, a, out, true, true)
}

pub(crate) fn rpushx(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    push(ks, a, out, false, true)
}

/// LPOP/RPOP key [count]
fn pop(ks: &dyn KeySpace, a: &Args, out: &mut Reply, left: bool) -> CmdResult {
    if a.len() > 3 {
        return Err(error::wrong_arity(if left { "lpop" } else { "rpop" }));
    }
    let count = if a.len() == 3 {
        Some(args::positive(a.get(2))?)
    } else {
        None
    };
    let key = a.get(1);
    let c = ks.collections();
    match count {
        None => {
            let popped = c.pop(key, 1, left)?;
            out.bulk_or_null(popped.first().map(Vec::as_slice));
        }
        Some(n) => {
            // A missing key is a null array, an existing one an array (even for 0).
            if c.llen(key)? == 0 {
                out.null_array();
            } else {
                let popped = c.pop(key, n, left)?;
                out.array(popped.len());
                for v in &popped {
                    out.bulk(v);
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn lpop(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, a, out, true)
}

pub(crate) fn rpop(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, a, out, false)
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

pub(crate) fn lset(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let no_such_key = CmdError::fixed("ERR no such key");
    let index = index_after_key(ks, a)?.ok_or(no_such_key.clone())?;
    match ks.collections().lset(a.get(1), index, a.get(3)) {
        Ok(()) => out.ok(),
        Err(Error::NoSuchKey) => return Err(no_such_key),
        Err(Error::IndexOutOfRange) => return Err(CmdError::fixed("ERR index out of range")),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub(crate) fn lrem(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let count = args::int(a.get(2))?;
    out.count(ks.collections().lrem(a.get(1), count, a.get(3))?);
    Ok(())
}

pub(crate) fn ltrim(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (start, stop) = (args::int(a.get(2))?, args::int(a.get(3))?);
    ks.collections().ltrim(a.get(1), start, stop)?;
    out.ok();
    Ok(())
}

pub(crate) fn linsert(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let before = match a.get(2) {
        w if is(w, "before") => true,
        w if is(w, "after") => false,
        _ => return Err(SYNTAX),
    };
    out.int(
        ks.collections()
            .linsert(a.get(1), before, a.get(3), a.get(4))?,
    );
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

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub(crate) fn lmove(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (from_left, to_left) = (side(a.get(3))?, side(a.get(4))?);
    let moved = ks
        .collections()
        .lmove(a.get(1), a.get(2), from_left, to_left)?;
    out.bulk_or_null(moved.as_deref());
    Ok(())
}

/// RPOPLPUSH source destination
pub(crate) fn rpoplpush(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let moved = ks.collections().lmove(a.get(1), a.get(2), false, true)?;
    out.bulk_or_null(moved.as_deref());
    Ok(())
}

/// BLPOP inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn blpop(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("blpop", ks, a, out)
}

/// BRPOP inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn brpop(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("brpop", ks, a, out)
}

/// BLMOVE inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn blmove(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("blmove", ks, a, out)
}

/// BRPOPLPUSH inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn brpoplpush(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("brpoplpush", ks, a, out)
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
