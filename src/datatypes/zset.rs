//! Sorted sets: unique members ordered by score (Redis's ZADD, ZRANGE, ZPOPMIN, ...).
//! Each member is an element record whose value is its score (an `f64`, 8 bytes); the
//! ordered index (`collections::zset_index`) lives in memory and is rebuilt at open.

use super::ValueType;
use super::members::{PickBytes, check_pick_count, random_indexes, score_value, value_score};
use super::view::CollectionView;
use super::write::Edit;
use std::ops::Bound;

use crate::collections::range::{LexBound, LexRange, Limit, ScoreBound, ScoreRange};
use crate::collections::score::increment_score;
use crate::collections::zset_index::ZsetIndex;
use crate::error::{Error, Result};

const ZSET: ValueType = ValueType::ZSet;

/// A member and its score.
pub type ScoredMember = (Vec<u8>, f64);

/// ZADD's conditions (Redis's NX, XX, GT, LT, CH).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    /// Only add new members (NX).
    pub only_new: bool,
    /// Only update existing members (XX).
    pub only_existing: bool,
    /// Update only when the new score is greater (GT).
    pub only_greater: bool,
    /// Update only when the new score is less (LT).
    pub only_less: bool,
    /// Count changed members too, not only added ones (CH).
    pub count_changed: bool,
}

impl ZAddOptions {
    fn check(&self) -> Result<()> {
        let conflicting = (self.only_new && self.only_existing)
            || (self.only_greater && self.only_less)
            || (self.only_new && (self.only_greater || self.only_less));
        if conflicting {
            return Err(Error::InvalidArgument {
                reason: "NX, XX, GT and LT do not combine that way".into(),
            });
        }
        Ok(())
    }
}

/// The score range between two bounds (unbounded = -inf / +inf).
pub(crate) fn score_range(min: Bound<f64>, max: Bound<f64>) -> ScoreRange {
    let bound = |b: Bound<f64>, infinite: f64| match b {
        Bound::Included(value) => ScoreBound {
            value,
            exclusive: false,
        },
        Bound::Excluded(value) => ScoreBound {
            value,
            exclusive: true,
        },
        Bound::Unbounded => ScoreBound {
            value: infinite,
            exclusive: false,
        },
    };
    ScoreRange {
        min: bound(min, f64::NEG_INFINITY),
        max: bound(max, f64::INFINITY),
    }
}

/// The lex range between two bounds (unbounded = `-` / `+`).
pub(crate) fn lex_range<'a>(min: Bound<&'a [u8]>, max: Bound<&'a [u8]>) -> LexRange<'a> {
    let bound = |b: Bound<&'a [u8]>, unbounded: LexBound<'a>| match b {
        Bound::Included(m) => LexBound::Inclusive(m),
        Bound::Excluded(m) => LexBound::Exclusive(m),
        Bound::Unbounded => unbounded,
    };
    LexRange {
        min: bound(min, LexBound::Min),
        max: bound(max, LexBound::Max),
    }
}

fn not_a_number() -> Error {
    Error::InvalidArgument {
        reason: "resulting score is not a number (NaN)".into(),
    }
}

/// Adds or updates one member by `options`; with `increment` the score is added to the
/// current one. Returns whether it was added, whether its score changed, and its score now
/// (`None` when a condition refused it).
fn add_one(
    edit: &mut Edit<'_, '_, '_>,
    member: &[u8],
    score: f64,
    increment: bool,
    options: ZAddOptions,
) -> Result<(bool, bool, Option<f64>)> {
    if score.is_nan() {
        return Err(not_a_number());
    }
    // -0 is stored as 0, as Redis stores it in the small sets most applications have
    // (though a new member's ZINCRBY -0 answers -0 there, from the number it was given).
    let given = score;
    let score = if score == 0.0 { 0.0 } else { score };
    let current = edit.get(member)?.as_deref().and_then(value_score);
    match current {
        Some(_) if options.only_new => Ok((false, false, None)),
        None if options.only_existing => Ok((false, false, None)),
        Some(old) => {
            let new = if increment {
                increment_score(old, score).map_err(|_| not_a_number())?
            } else {
                score
            };
            let new = if new == 0.0 { 0.0 } else { new };
            if (options.only_greater && new <= old) || (options.only_less && new >= old) {
                return Ok((false, false, None));
            }
            if new != old {
                edit.put(member, score_value(new).to_vec())?;
            }
            Ok((false, new != old, Some(new)))
        }
        None => {
            edit.put(member, score_value(score).to_vec())?;
            Ok((true, false, Some(given)))
        }
    }
}

/// ZADD: returns the members added (or added and changed, with CH).
pub(crate) fn add(
    edit: &mut Edit<'_, '_, '_>,
    items: &[(f64, &[u8])],
    options: ZAddOptions,
) -> Result<usize> {
    options.check()?;
    let mut count = 0;
    for &(score, member) in items {
        let (added, changed, _) = add_one(edit, member, score, false, options)?;
        if added || (options.count_changed && changed) {
            count += 1;
        }
    }
    Ok(count)
}

/// ZADD INCR / ZINCRBY: the member's new score, `None` if a condition refused it.
pub(crate) fn incr(
    edit: &mut Edit<'_, '_, '_>,
    member: &[u8],
    delta: f64,
    options: ZAddOptions,
) -> Result<Option<f64>> {
    options.check()?;
    Ok(add_one(edit, member, delta, true, options)?.2)
}

pub(crate) fn remove(edit: &mut Edit<'_, '_, '_>, members: &[&[u8]]) -> Result<usize> {
    Ok(members.iter().filter(|m| edit.remove(m)).count())
}

/// Removes the members `select` picks from the set as it was before the edit.
fn remove_selected(
    edit: &mut Edit<'_, '_, '_>,
    select: impl FnOnce(&ZsetIndex) -> Vec<ScoredMember>,
) -> Vec<ScoredMember> {
    let mut selected = Vec::new();
    let mut select = Some(select);
    edit.with_zset_before(&mut |index| {
        if let Some(f) = select.take() {
            selected = f(index);
        }
    });
    for (member, _) in &selected {
        edit.remove(member);
    }
    selected
}

fn owned<'a>(entries: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<ScoredMember> {
    entries.map(|(m, s)| (m.to_vec(), s)).collect()
}

/// ZPOPMIN / ZPOPMAX.
pub(crate) fn pop(edit: &mut Edit<'_, '_, '_>, count: usize, max: bool) -> Vec<ScoredMember> {
    remove_selected(edit, |index| {
        if count == 0 {
            return Vec::new();
        }
        let stop = i64::try_from(count - 1).unwrap_or(i64::MAX);
        owned(index.range_by_rank(0, stop, max))
    })
}

/// ZREMRANGEBYRANK.
pub(crate) fn remove_by_rank(edit: &mut Edit<'_, '_, '_>, start: i64, stop: i64) -> usize {
    remove_selected(edit, |index| owned(index.range_by_rank(start, stop, false))).len()
}

/// ZREMRANGEBYSCORE.
pub(crate) fn remove_by_score(edit: &mut Edit<'_, '_, '_>, range: &ScoreRange) -> usize {
    remove_selected(edit, |index| {
        owned(index.range_by_score(range, false, Limit::ALL))
    })
    .len()
}

/// ZREMRANGEBYLEX.
pub(crate) fn remove_by_lex(edit: &mut Edit<'_, '_, '_>, range: &LexRange<'_>) -> usize {
    remove_selected(edit, |index| {
        owned(index.range_by_lex(range, false, Limit::ALL))
    })
    .len()
}

/// Runs `f` on the index of the sorted set at `key` (`None` if absent).
fn query<T>(
    v: &dyn CollectionView,
    key: &[u8],
    f: impl FnOnce(&ZsetIndex) -> T,
) -> Result<Option<T>> {
    let Some(found) = v.collection(key, ZSET)? else {
        return Ok(None);
    };
    let mut out = None;
    let mut f = Some(f);
    v.with_zset(key, found.generation, &mut |index| {
        if let Some(f) = f.take() {
            out = Some(f(index));
        }
    });
    Ok(out)
}

/// `count` random members with their scores (ZRANDMEMBER): distinct ones (at most all of
/// them), or with repetition.
pub(crate) fn random(
    v: &dyn CollectionView,
    key: &[u8],
    count: usize,
    distinct: bool,
) -> Result<Vec<ScoredMember>> {
    check_pick_count(count, distinct)?;
    let picked = query(v, key, |index| {
        let mut bytes = PickBytes::new(distinct);
        random_indexes(index.len(), count, distinct)
            .into_iter()
            .filter_map(|rank| index.get_by_rank(rank, false))
            .map(|(member, score)| Ok((bytes.copy(member)?, score)))
            .collect::<Result<Vec<ScoredMember>>>()
    })?;
    picked.unwrap_or_else(|| Ok(Vec::new()))
}

pub(crate) fn score(v: &dyn CollectionView, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
    Ok(query(v, key, |i| i.score(member))?.flatten())
}

pub(crate) fn scores(
    v: &dyn CollectionView,
    key: &[u8],
    members: &[&[u8]],
) -> Result<Vec<Option<f64>>> {
    Ok(
        query(v, key, |i| members.iter().map(|m| i.score(m)).collect())?
            .unwrap_or_else(|| vec![None; members.len()]),
    )
}

pub(crate) fn card(v: &dyn CollectionView, key: &[u8]) -> Result<usize> {
    Ok(v.collection(key, ZSET)?.map_or(0, |f| f.len))
}

pub(crate) fn count(v: &dyn CollectionView, key: &[u8], range: &ScoreRange) -> Result<usize> {
    Ok(query(v, key, |i| i.count_by_score(range))?.unwrap_or(0))
}

pub(crate) fn lex_count(v: &dyn CollectionView, key: &[u8], range: &LexRange<'_>) -> Result<usize> {
    Ok(query(v, key, |i| i.count_by_lex(range))?.unwrap_or(0))
}

pub(crate) fn rank(
    v: &dyn CollectionView,
    key: &[u8],
    member: &[u8],
    reverse: bool,
) -> Result<Option<usize>> {
    Ok(query(v, key, |i| i.rank(member, reverse))?.flatten())
}

pub(crate) fn range_by_rank(
    v: &dyn CollectionView,
    key: &[u8],
    start: i64,
    stop: i64,
    reverse: bool,
) -> Result<Vec<ScoredMember>> {
    Ok(query(v, key, |i| owned(i.range_by_rank(start, stop, reverse)))?.unwrap_or_default())
}

pub(crate) fn range_by_score(
    v: &dyn CollectionView,
    key: &[u8],
    range: &ScoreRange,
    reverse: bool,
    limit: Limit,
) -> Result<Vec<ScoredMember>> {
    Ok(query(v, key, |i| owned(i.range_by_score(range, reverse, limit)))?.unwrap_or_default())
}

pub(crate) fn range_by_lex(
    v: &dyn CollectionView,
    key: &[u8],
    range: &LexRange<'_>,
    reverse: bool,
    limit: Limit,
) -> Result<Vec<ScoredMember>> {
    Ok(query(v, key, |i| owned(i.range_by_lex(range, reverse, limit)))?.unwrap_or_default())
}
