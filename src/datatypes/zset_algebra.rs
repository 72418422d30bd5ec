//! Sorted-set algebra: the union, intersection and difference of sorted sets (Redis's
//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD), over a [`CollectionView`].
//!
//! The arithmetic is Redis 7.0's (`zunionInterDiffGenericCommand` in `t_zset.c`), corners
//! included, so that replies match it byte for byte:
//! - a plain set is an input whose members score 1; a missing key is an empty input;
//! - a weighted score that is NaN (`inf * 0`) counts as 0 where a member is first met;
//! - SUM of `+inf` and `-inf` is 0; a NaN met later (intersection) leaves MIN and MAX as
//!   they were and turns SUM into 0;
//! - union and intersection visit their inputs from the smallest to the largest (ties in
//!   the order given), which decides the order of the additions, and the result of SUM
//!   when infinities cancel.

use super::ValueType;
use super::members::score_value;
use super::view::{CollectionView, Found};
use super::write::Edit;
use super::zset::ScoredMember;
use crate::SetCombine;
use crate::error::{Error, Result};

/// How [`Store::zunion`](crate::Store::zunion) and
/// [`Store::zinter`](crate::Store::zinter) combine the weighted scores a member has in
/// several inputs (Redis's AGGREGATE). Default: [`ZAggregate::Sum`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZAggregate {
    /// The sum of the scores (`+inf` plus `-inf` is 0).
    #[default]
    Sum,
    /// The lowest score.
    Min,
    /// The highest score.
    Max,
}

impl ZAggregate {
    /// Redis's `zunionInterAggregate`: folds `value` into `target`.
    fn fold(self, target: f64, value: f64) -> f64 {
        match self {
            ZAggregate::Sum => {
                let sum = target + value;
                if sum.is_nan() { 0.0 } else { sum }
            }
            // Written as Redis writes them: a NaN `value` leaves `target` as it is.
            ZAggregate::Min => {
                if value < target {
                    value
                } else {
                    target
                }
            }
            ZAggregate::Max => {
                if value > target {
                    value
                } else {
                    target
                }
            }
        }
    }
}

/// One input: what its key holds.
#[derive(Clone, Copy)]
enum Input<'k> {
    Missing,
    Set(&'k [u8], Found),
    ZSet(&'k [u8], Found),
}

impl<'k> Input<'k> {
    /// A sorted set, a set, or nothing; `Error::WrongType` for any other type.
    fn at(v: &dyn CollectionView, key: &'k [u8]) -> Result<Input<'k>> {
        match v.collection(key, ValueType::ZSet) {
            Ok(Some(found)) => Ok(Input::ZSet(key, found)),
            Ok(None) => Ok(Input::Missing),
            Err(Error::WrongType) => Ok(v
                .collection(key, ValueType::Set)?
                .map_or(Input::Missing, |found| Input::Set(key, found))),
            Err(e) => Err(e),
        }
    }

    fn len(self) -> usize {
        match self {
            Input::Missing => 0,
            Input::Set(_, found) | Input::ZSet(_, found) => found.len,
        }
    }

    /// Every member with its score (1 for a set's members).
    fn members(self, v: &dyn CollectionView) -> Vec<ScoredMember> {
        match self {
            Input::Missing => Vec::new(),
            Input::Set(key, found) => v
                .members(key, found.generation)
                .into_iter()
                .map(|m| (m, 1.0))
                .collect(),
            Input::ZSet(key, found) => {
                let mut out = Vec::with_capacity(found.len);
                v.with_zset(key, found.generation, &mut |index| {
                    out.extend(index.iter().map(|(m, s)| (m.to_vec(), s)));
                });
                out
            }
        }
    }

    /// The score of each of `members` here, `None` where absent.
    fn scores(self, v: &dyn CollectionView, members: &[ScoredMember]) -> Vec<Option<f64>> {
        match self {
            Input::Missing => vec![None; members.len()],
            Input::Set(key, found) => members
                .iter()
                .map(|(m, _)| v.contains(key, found.generation, m).then_some(1.0))
                .collect(),
            Input::ZSet(key, found) => {
                let mut out = Vec::new();
                v.with_zset(key, found.generation, &mut |index| {
                    out = members.iter().map(|(m, _)| index.score(m)).collect();
                });
                out
            }
        }
    }
}

/// The inputs at `keys`, each with its weight; checks every key's type first, as Redis
/// does before it reads any option.
fn inputs<'k>(
    v: &dyn CollectionView,
    keys: &[&'k [u8]],
    weights: Option<&[f64]>,
) -> Result<Vec<(Input<'k>, f64)>> {
    if let Some(w) = weights {
        if w.len() != keys.len() {
            return Err(Error::InvalidArgument {
                reason: format!("{} weights for {} keys", w.len(), keys.len()),
            });
        }
        if w.iter().any(|x| x.is_nan()) {
            return Err(Error::InvalidArgument {
                reason: "a weight is NaN".into(),
            });
        }
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let weight = weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0);
            Ok((Input::at(v, key)?, weight))
        })
        .collect()
}

/// `Error::WrongType` if a key at `keys` holds neither a sorted set nor a set.
pub(crate) fn check_inputs(v: &dyn CollectionView, keys: &[&[u8]]) -> Result<()> {
    inputs(v, keys, None).map(|_| ())
}

/// `weight * score`, with NaN (`inf * 0`) as 0: how Redis weighs a member where it first
/// meets it.
fn weighed(weight: f64, score: f64) -> f64 {
    let product = weight * score;
    if product.is_nan() { 0.0 } else { product }
}

/// The union, intersection or difference of the sorted sets (or sets) at `keys`, each
/// score multiplied by its key's weight (all 1 without `weights`) and combined by
/// `aggregate`; ordered by score, then member. The difference takes the first input's
/// scores, unweighted. No keys give an empty result.
pub(crate) fn combine(
    v: &dyn CollectionView,
    keys: &[&[u8]],
    how: SetCombine,
    weights: Option<&[f64]>,
    aggregate: ZAggregate,
) -> Result<Vec<ScoredMember>> {
    let mut inputs = inputs(v, keys, weights)?;
    let mut result = match how {
        SetCombine::Union => {
            inputs.sort_by_key(|(input, _)| input.len());
            union(v, &inputs, aggregate)
        }
        SetCombine::Intersection => {
            inputs.sort_by_key(|(input, _)| input.len());
            intersection(v, &inputs, aggregate, usize::MAX)
        }
        SetCombine::Difference => difference(v, &inputs),
    };
    result.sort_by(|(m1, s1), (m2, s2)| {
        s1.partial_cmp(s2)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| m1.cmp(m2))
    });
    Ok(result)
}

/// How many members the intersection of the inputs at `keys` has, capped at `limit`
/// (ZINTERCARD; the whole intersection is computed first, where Redis stops early).
pub(crate) fn intersection_len(
    v: &dyn CollectionView,
    keys: &[&[u8]],
    limit: Option<usize>,
) -> Result<usize> {
    let mut inputs = inputs(v, keys, None)?;
    inputs.sort_by_key(|(input, _)| input.len());
    let limit = limit.unwrap_or(usize::MAX);
    Ok(intersection(v, &inputs, ZAggregate::Sum, limit).len())
}

fn union(
    v: &dyn CollectionView,
    inputs: &[(Input<'_>, f64)],
    aggregate: ZAggregate,
) -> Vec<ScoredMember> {
    let mut scores: indexmap::IndexMap<Vec<u8>, f64> = indexmap::IndexMap::new();
    for &(input, weight) in inputs {
        for (member, score) in input.members(v) {
            let score = weighed(weight, score);
            scores
                .entry(member)
                .and_modify(|s| *s = aggregate.fold(*s, score))
                .or_insert(score);
        }
    }
    scores.into_iter().collect()
}

/// The members of the first (smallest) input found in every other, at most `limit` of
/// them.
fn intersection(
    v: &dyn CollectionView,
    inputs: &[(Input<'_>, f64)],
    aggregate: ZAggregate,
    limit: usize,
) -> Vec<ScoredMember> {
    let Some((&(first, weight), others)) = inputs.split_first() else {
        return Vec::new();
    };
    let mut result: Vec<ScoredMember> = first
        .members(v)
        .into_iter()
        .map(|(m, s)| (m, weighed(weight, s)))
        .collect();
    for &(input, weight) in others {
        if result.is_empty() {
            break;
        }
        let found = input.scores(v, &result);
        let mut found = found.into_iter();
        result.retain_mut(|(_, score)| match found.next().flatten() {
            // Not `weighed`: Redis lets a NaN here reach the aggregate.
            Some(s) => {
                *score = aggregate.fold(*score, s * weight);
                true
            }
            None => false,
        });
    }
    result.truncate(limit);
    result
}

/// The members of the first input in none of the others, with their scores there.
fn difference(v: &dyn CollectionView, inputs: &[(Input<'_>, f64)]) -> Vec<ScoredMember> {
    let Some((&(first, _), others)) = inputs.split_first() else {
        return Vec::new();
    };
    let mut result = first.members(v);
    for &(input, _) in others {
        if result.is_empty() {
            break;
        }
        let found = input.scores(v, &result);
        let mut found = found.into_iter();
        result.retain(|_| found.next().flatten().is_none());
    }
    result
}

/// Writes `members` into the (emptied) sorted set being edited; returns its size. A `-0`
/// is stored as 0, as elsewhere (`zset::add`).
pub(crate) fn store(edit: &mut Edit<'_, '_, '_>, members: &[ScoredMember]) -> Result<usize> {
    for (member, score) in members {
        let score = if *score == 0.0 { 0.0 } else { *score };
        edit.put(member, score_value(score).to_vec())?;
    }
    Ok(edit.len())
}
