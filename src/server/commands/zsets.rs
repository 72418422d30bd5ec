//! Sorted-set commands: ZADD, ZRANGE (by rank, score or lex, REV, LIMIT, WITHSCORES),
//! ZPOPMIN and the rest, over the store's sorted sets.

use crate::ValueType;
use crate::collections::arg_error::ArgError;
use crate::collections::range::{LexRange, Limit, ScoreRange};
use crate::collections::score::parse_score;
use crate::datatypes::write::Edit;
use crate::datatypes::zset::{self, ScoredMember, ZAddOptions};
use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

impl From<ArgError> for CmdError {
    fn from(e: ArgError) -> CmdError {
        CmdError::fixed(e.message())
    }
}

/// A library error, with NaN results worded as Redis words them.
fn store_error(e: crate::Error) -> CmdError {
    match e {
        crate::Error::InvalidArgument { reason } if reason.contains("NaN") => {
            ArgError::ResultIsNan.into()
        }
        other => other.into(),
    }
}

/// Members and scores: flat in RESP2 (`member score ...`), pairs in RESP3.
pub(crate) fn reply_scored(out: &mut Reply, items: &[ScoredMember], with_scores: bool) {
    if !with_scores {
        out.array(items.len());
        for (m, _) in items {
            out.bulk(m);
        }
    } else if out.is_resp3() {
        out.array(items.len());
        for (m, s) in items {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else {
        out.array(items.len() * 2);
        for (m, s) in items {
            out.bulk(m);
            out.double(*s);
        }
    }
}

/// ZRANDMEMBER key [count [WITHSCORES]]: a negative count may repeat members.
pub(crate) fn zrandmember(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (count, with_scores) = super::sets::random_read_args(a, "withscores")?;
    let (n, distinct) = super::sets::random_count(count);
    let mut picked = Vec::new();
    ks.collections().view_with(&mut |v| {
        picked = zset::random(v, a.get(1), n, distinct)?;
        Ok(())
    })?;
    match count {
        None => out.bulk_or_null(picked.first().map(|(m, _)| m.as_slice())),
        Some(_) => reply_scored(out, &picked, with_scores),
    }
    Ok(())
}

/// ZADD's members added, or added and changed with CH (its reply), and whether it changed
/// the set at all: added a member or changed a score, which is when Redis sends `zadd`.
pub(crate) fn add(
    e: &mut Edit<'_, '_, '_>,
    items: &[(f64, &[u8])],
    options: ZAddOptions,
) -> crate::Result<(usize, bool)> {
    let counting_changed = ZAddOptions {
        count_changed: true,
        ..options
    };
    let added_or_changed = zset::add(e, items, counting_changed)?;
    // ZADD only adds members: the set grew by those it added.
    let added = e.len().saturating_sub(e.len_before());
    let reply = if options.count_changed {
        added_or_changed
    } else {
        added
    };
    Ok((reply, added_or_changed > 0))
}

/// ZADD INCR / ZINCRBY: the member's new score (`None` if a condition refused it), and
/// whether it changed (Redis sends `zincr` only then: not for an increment by 0). Whether
/// it changed costs a read, made only when `shared` has someone listening.
fn increment(
    shared: &Shared,
    e: &mut Edit<'_, '_, '_>,
    member: &[u8],
    delta: f64,
    options: ZAddOptions,
) -> crate::Result<(Option<f64>, bool)> {
    if !shared.notes(class::ZSET) {
        return Ok((zset::incr(e, member, delta, options)?, false));
    }
    let before = e.get(member)?;
    let score = zset::incr(e, member, delta, options)?;
    let changed = score.is_some() && e.get(member)? != before;
    Ok((score, changed))
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub(crate) fn zadd(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let mut options = ZAddOptions::default();
    let mut incr = false;
    let mut i = 2;
    while i < a.len() {
        let w = a.get(i);
        if is(w, "nx") {
            options.only_new = true;
        } else if is(w, "xx") {
            options.only_existing = true;
        } else if is(w, "gt") {
            options.only_greater = true;
        } else if is(w, "lt") {
            options.only_less = true;
        } else if is(w, "ch") {
            options.count_changed = true;
        } else if is(w, "incr") {
            incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = a.len() - i;
    if pairs == 0 || !pairs.is_multiple_of(2) {
        return Err(SYNTAX);
    }
    if options.only_new && options.only_existing {
        return Err(CmdError::fixed(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (options.only_greater && options.only_less)
        || (options.only_new && (options.only_greater || options.only_less))
    {
        return Err(CmdError::fixed(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && pairs > 2 {
        return Err(CmdError::fixed(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut items = Vec::with_capacity(pairs / 2);
    for j in (i..a.len()).step_by(2) {
        items.push((parse_score(a.get(j))?, a.get(j + 1)));
    }
    let key = a.get(1);
    let c = ks.collections();
    if incr {
        let (delta, member) = items.first().copied().ok_or(SYNTAX)?;
        let (mut score, mut changed) = (None, false);
        c.edit_with(key, ValueType::ZSet, &mut |e| {
            (score, changed) = increment(shared, e, member, delta, options)?;
            Ok(())
        })
        .map_err(store_error)?;
        if changed {
            shared.notify(out, class::ZSET, "zincr", key);
        }
        match score {
            Some(s) => out.double(s),
            None => out.null(),
        }
    } else {
        let (mut n, mut changed) = (0, false);
        c.edit_with(key, ValueType::ZSet, &mut |e| {
            (n, changed) = add(e, &items, options)?;
            Ok(())
        })
        .map_err(store_error)?;
        if changed {
            shared.notify(out, class::ZSET, "zadd", key);
        }
        out.count(n);
    }
    Ok(())
}

/// ZINCRBY key increment member
pub(crate) fn zincrby(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let delta = parse_score(a.get(2))?;
    let (mut score, mut changed) = (None, false);
    ks.collections()
        .edit_with(a.get(1), ValueType::ZSet, &mut |e| {
            (score, changed) = increment(shared, e, a.get(3), delta, ZAddOptions::default())?;
            Ok(())
        })
        .map_err(store_error)?;
    if changed {
        shared.notify(out, class::ZSET, "zincr", a.get(1));
    }
    match score {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

pub(crate) fn zrem(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let members: Vec<&[u8]> = a.iter().skip(2).collect();
    let (mut n, mut emptied) = (0, false);
    ks.collections()
        .edit_with(a.get(1), ValueType::ZSet, &mut |e| {
            n = zset::remove(e, &members)?;
            emptied = e.len() == 0;
            Ok(())
        })?;
    if n > 0 {
        shared.notify_removal(out, class::ZSET, "zrem", a.get(1), emptied);
    }
    out.count(n);
    Ok(())
}

/// Runs a read against the view.
fn read<T: Default>(
    ks: &dyn KeySpace,
    f: impl Fn(&dyn crate::datatypes::view::CollectionView) -> crate::Result<T>,
) -> Result<T, CmdError> {
    let mut out = T::default();
    ks.collections().view_with(&mut |v| {
        out = f(v)?;
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn zscore(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    match read(ks, |v| zset::score(v, a.get(1), a.get(2)))? {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

pub(crate) fn zmscore(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let members: Vec<&[u8]> = a.iter().skip(2).collect();
    let scores = read(ks, |v| zset::scores(v, a.get(1), &members))?;
    out.array(scores.len());
    for s in scores {
        match s {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

pub(crate) fn zcard(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(read(ks, |v| zset::card(v, a.get(1)))?);
    Ok(())
}

pub(crate) fn zcount(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let range = ScoreRange::parse(a.get(2), a.get(3))?;
    out.count(read(ks, |v| zset::count(v, a.get(1), &range))?);
    Ok(())
}

pub(crate) fn zlexcount(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let range = LexRange::parse(a.get(2), a.get(3))?;
    out.count(read(ks, |v| zset::lex_count(v, a.get(1), &range))?);
    Ok(())
}

fn rank(ks: &dyn KeySpace, a: &Args, out: &mut Reply, reverse: bool) -> CmdResult {
    match read(ks, |v| zset::rank(v, a.get(1), a.get(2), reverse))? {
        Some(r) => out.count(r),
        None => out.null(),
    }
    Ok(())
}

pub(crate) fn zrank(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    rank(ks, a, out, false)
}

pub(crate) fn zrevrank(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    rank(ks, a, out, true)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range query of the ZRANGE family.
struct Query<'a> {
    by: By,
    reverse: bool,
    /// The bounds as given (for REV with BYSCORE/BYLEX: max first).
    start: &'a [u8],
    stop: &'a [u8],
    limit: Option<(i64, i64)>,
    with_scores: bool,
}

impl Query<'_> {
    fn run(&self, ks: &dyn KeySpace, key: &[u8]) -> Result<Vec<ScoredMember>, CmdError> {
        let limit = self
            .limit
            .map_or(Limit::ALL, |(o, c)| Limit::from_redis(o, c));
        let (lo, hi) = if self.reverse {
            (self.stop, self.start)
        } else {
            (self.start, self.stop)
        };
        match self.by {
            By::Rank => {
                let (start, stop) = (args::int(self.start)?, args::int(self.stop)?);
                read(ks, |v| {
                    zset::range_by_rank(v, key, start, stop, self.reverse)
                })
            }
            By::Score => {
                let range = ScoreRange::parse(lo, hi)?;
                read(ks, |v| {
                    zset::range_by_score(v, key, &range, self.reverse, limit)
                })
            }
            By::Lex => {
                let range = LexRange::parse(lo, hi)?;
                read(ks, |v| {
                    zset::range_by_lex(v, key, &range, self.reverse, limit)
                })
            }
        }
    }
}

/// Parses the bounds at argument `start` and the options after them, in the order and with
/// the errors of Redis's `zrangeGenericCommand`, which every command of the family goes
/// through: `[BYSCORE|BYLEX]` where `by` is not fixed, `[REV]` where `reverse` is not,
/// `[LIMIT offset count]`, and `[WITHSCORES]` unless the command stores its result. A LIMIT
/// whose count is -1 (none) is accepted on a range by rank, which ignores it, as Redis does.
fn parse_query<'a>(
    a: &'a Args,
    start: usize,
    by: Option<By>,
    reverse: Option<bool>,
    store: bool,
) -> Result<Query<'a>, CmdError> {
    let (mut by, mut reverse) = (by, reverse);
    let mut limit = None;
    let mut with_scores = false;
    let mut i = start + 2;
    while i < a.len() {
        let w = a.get(i);
        if !store && is(w, "withscores") {
            with_scores = true;
        } else if is(w, "limit") && i + 2 < a.len() {
            limit = Some((args::int(a.get(i + 1))?, args::int(a.get(i + 2))?));
            i += 2;
        } else if reverse.is_none() && is(w, "rev") {
            reverse = Some(true);
        } else if by.is_none() && is(w, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && is(w, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    let by = by.unwrap_or(By::Rank);
    if by == By::Rank && limit.is_some_and(|(_, count)| count != -1) {
        return Err(CmdError::fixed(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && by == By::Lex {
        return Err(CmdError::fixed(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    Ok(Query {
        by,
        reverse: reverse.unwrap_or(false),
        start: a.get(start),
        stop: a.get(start + 1),
        limit,
        with_scores,
    })
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(crate) fn zrange(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let q = parse_query(a, 2, None, None, false)?;
    let items = q.run(ks, a.get(1))?;
    reply_scored(out, &items, q.with_scores);
    Ok(())
}

/// The older range commands: their kind and direction fixed, the options read as ZRANGE's.
fn legacy_range(ks: &dyn KeySpace, a: &Args, out: &mut Reply, by: By, reverse: bool) -> CmdResult {
    let q = parse_query(a, 2, Some(by), Some(reverse), false)?;
    let items = q.run(ks, a.get(1))?;
    reply_scored(out, &items, q.with_scores);
    Ok(())
}

pub(crate) fn zrevrange(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    legacy_range(ks, a, out, By::Rank, true)
}

pub(crate) fn zrangebyscore(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    legacy_range(ks, a, out, By::Score, false)
}

pub(crate) fn zrevrangebyscore(
    ks: &dyn KeySpace,
    _: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    legacy_range(ks, a, out, By::Score, true)
}

pub(crate) fn zrangebylex(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    legacy_range(ks, a, out, By::Lex, false)
}

pub(crate) fn zrevrangebylex(
    ks: &dyn KeySpace,
    _: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    legacy_range(ks, a, out, By::Lex, true)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub(crate) fn zrangestore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let q = parse_query(a, 3, None, None, true)?;
    let items = q.run(ks, a.get(2))?;
    let (dst, c) = (a.get(1), ks.collections());
    if let Some(longest) = items.iter().map(|(m, _)| m.len()).max() {
        crate::server::keyspace::members_fit(ks, dst, longest)?;
    }
    let deleted = ks.delete(dst)?;
    if !items.is_empty() {
        let pairs: Vec<(f64, &[u8])> = items.iter().map(|(m, s)| (*s, &m[..])).collect();
        c.edit_with(dst, ValueType::ZSet, &mut |e| {
            zset::add(e, &pairs, ZAddOptions::default()).map(|_| ())
        })?;
    }
    notify_stored(shared, out, "zrangestore", dst, !items.is_empty(), deleted);
    out.count(items.len());
    Ok(())
}

/// The events of a command that stored its result at `destination` (after deleting what
/// was there): its own if it stored anything, else `del` if it deleted something.
pub(crate) fn notify_stored(
    shared: &Shared,
    out: &mut Reply,
    event: &'static str,
    destination: &[u8],
    stored: bool,
    deleted: bool,
) {
    if stored {
        shared.notify(out, class::ZSET, event, destination);
    } else if deleted {
        shared.notify(out, class::GENERIC, "del", destination);
    }
}

/// Pops up to `count` members with the lowest scores (or the highest, `max`) from the
/// sorted set at `key`, as one edit; also whether that emptied it.
pub(crate) fn pop_zset(
    ks: &dyn KeySpace,
    key: &[u8],
    count: usize,
    max: bool,
) -> Result<(Vec<zset::ScoredMember>, bool), CmdError> {
    let (mut popped, mut emptied) = (Vec::new(), false);
    ks.collections().edit_with(key, ValueType::ZSet, &mut |e| {
        popped = zset::pop(e, count, max);
        emptied = e.len() == 0;
        Ok(())
    })?;
    Ok((popped, emptied))
}

/// The events of a sorted-set pop that took something from `key`, as Redis's
/// `genericZpopCommand`: `zpopmin` or `zpopmax`, then `del` if it emptied the set.
pub(crate) fn notify_zpop(shared: &Shared, out: &mut Reply, key: &[u8], max: bool, emptied: bool) {
    let event = if max { "zpopmax" } else { "zpopmin" };
    shared.notify_removal(out, class::ZSET, event, key, emptied);
}

/// ZPOPMIN/ZPOPMAX key [count]
fn pop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply, max: bool) -> CmdResult {
    if a.len() > 3 {
        return Err(SYNTAX);
    }
    let count = if a.len() == 3 {
        Some(args::positive(a.get(2))?)
    } else {
        None
    };
    let (popped, emptied) = pop_zset(ks, a.get(1), count.unwrap_or(1), max)?;
    if !popped.is_empty() {
        notify_zpop(shared, out, a.get(1), max, emptied);
    }
    match count {
        // Without a count: one member and its score, flat in every protocol.
        None => {
            out.array(popped.len() * 2);
            for (m, s) in &popped {
                out.bulk(m);
                out.double(*s);
            }
        }
        Some(_) => reply_scored(out, &popped, true),
    }
    Ok(())
}

pub(crate) fn zpopmin(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, shared, a, out, false)
}

pub(crate) fn zpopmax(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    pop(ks, shared, a, out, true)
}

/// ZREMRANGEBYRANK / BYSCORE / BYLEX: `event` (the command's name) if `f` removed any.
fn remove_range(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    event: &'static str,
    f: &dyn Fn(&mut Edit<'_, '_, '_>) -> Result<usize, CmdError>,
) -> CmdResult {
    let (mut n, mut emptied) = (0, false);
    let mut failed = None;
    ks.collections()
        .edit_with(a.get(1), ValueType::ZSet, &mut |e| {
            match f(e) {
                Ok(k) => n = k,
                Err(err) => failed = Some(err),
            }
            emptied = e.len() == 0;
            Ok(())
        })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if n > 0 {
        shared.notify_removal(out, class::ZSET, event, a.get(1), emptied);
    }
    out.count(n);
    Ok(())
}

pub(crate) fn zremrangebyrank(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let (start, stop) = (args::int(a.get(2))?, args::int(a.get(3))?);
    remove_range(ks, shared, a, out, "zremrangebyrank", &|e| {
        Ok(zset::remove_by_rank(e, start, stop))
    })
}

pub(crate) fn zremrangebyscore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let range = ScoreRange::parse(a.get(2), a.get(3))?;
    remove_range(ks, shared, a, out, "zremrangebyscore", &|e| {
        Ok(zset::remove_by_score(e, &range))
    })
}

pub(crate) fn zremrangebylex(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let range = LexRange::parse(a.get(2), a.get(3))?;
    remove_range(ks, shared, a, out, "zremrangebylex", &|e| {
        Ok(zset::remove_by_lex(e, &range))
    })
}

/// BZPOPMIN inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn bzpopmin(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("bzpopmin", ks, shared, a, out)
}

/// BZPOPMAX inside MULTI (or run by EXEC): never waits, as in Redis.
pub(crate) fn bzpopmax(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    super::blocking::without_waiting("bzpopmax", ks, shared, a, out)
}
