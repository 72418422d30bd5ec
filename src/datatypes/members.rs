//! A collection's members in memory: a set of names for hashes and sets, the ordered
//! positions of a list.

use std::collections::{HashSet, VecDeque};

use crate::collections::zset_index::ZsetIndex;

/// Heap bytes of a boxed byte string: the allocation, rounded to the allocator's 16-byte
/// granularity.
fn boxed_bytes(len: usize) -> usize {
    len.div_ceil(16) * 16
}

/// A list element's member is its position, big-endian, so that byte order is list order.
pub(crate) fn position_member(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

/// A sorted-set element's value: its score, as the bits of an `f64`, little-endian.
pub(crate) fn score_value(score: f64) -> [u8; 8] {
    score.to_le_bytes()
}

/// The score a sorted-set element's value holds (`None` for other bytes, or NaN).
pub(crate) fn value_score(value: &[u8]) -> Option<f64> {
    let score = f64::from_le_bytes(value.try_into().ok()?);
    (!score.is_nan()).then_some(score)
}

/// The position a list element's member names, if it is one.
pub(crate) fn member_position(member: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(member.try_into().ok()?))
}

#[derive(Debug)]
pub(crate) enum Members {
    /// Hash fields or set members.
    Names(HashSet<Box<[u8]>>),
    /// List positions, ascending.
    Positions(VecDeque<u64>),
    /// Sorted-set members and their scores, in score order.
    Scored(ZsetIndex),
    /// Sorted-set members gathered at open, sorted once by [`Members::sort`].
    ScoredPending(Vec<(Box<[u8]>, f64)>),
}

impl Members {
    pub(crate) fn len(&self) -> usize {
        match self {
            Members::Names(names) => names.len(),
            Members::Positions(positions) => positions.len(),
            Members::Scored(index) => index.len(),
            Members::ScoredPending(pending) => pending.len(),
        }
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self {
            Members::Names(names) => names.contains(member),
            Members::Positions(positions) => {
                member_position(member).is_some_and(|p| positions.binary_search(&p).is_ok())
            }
            Members::Scored(index) => index.contains(member),
            Members::ScoredPending(pending) => pending.iter().any(|(m, _)| &m[..] == member),
        }
    }

    /// Adds `member` with the element's `value` (a score for a sorted set); true if it is
    /// new. Returns the heap bytes added too (names only; a sorted set counts its own).
    pub(crate) fn insert(&mut self, member: &[u8], value: &[u8]) -> (bool, usize) {
        match self {
            Members::Scored(index) => match value_score(value) {
                Some(score) => (matches!(index.insert(member, score), Ok(None)), 0),
                None => (false, 0),
            },
            Members::ScoredPending(pending) => match value_score(value) {
                Some(score) => {
                    pending.push((member.into(), score));
                    (true, 0)
                }
                None => (false, 0),
            },
            Members::Names(names) => {
                let added = names.insert(member.into());
                (added, if added { boxed_bytes(member.len()) } else { 0 })
            }
            Members::Positions(positions) => {
                let Some(p) = member_position(member) else {
                    return (false, 0);
                };
                // Pushes at either end are the common case: no search.
                if positions.back().is_none_or(|&last| last < p) {
                    positions.push_back(p);
                } else if positions.front().is_some_and(|&first| p < first) {
                    positions.push_front(p);
                } else {
                    match positions.binary_search(&p) {
                        Ok(_) => return (false, 0),
                        Err(i) => positions.insert(i, p),
                    }
                }
                (true, 0)
            }
        }
    }

    /// Adds `member` without keeping list positions sorted (rebuilding at open, where the
    /// elements come in hash order); [`Members::sort`] restores the order afterwards.
    pub(crate) fn insert_unsorted(&mut self, member: &[u8], value: &[u8]) -> (bool, usize) {
        match self {
            Members::Scored(_) => {
                *self = Members::ScoredPending(Vec::new());
                self.insert(member, value)
            }
            Members::Positions(positions) => match member_position(member) {
                Some(p) => {
                    positions.push_back(p);
                    (true, 0)
                }
                None => (false, 0),
            },
            Members::Names(_) | Members::ScoredPending(_) => self.insert(member, value),
        }
    }

    /// Sorts list positions after [`Members::insert_unsorted`].
    pub(crate) fn sort(&mut self) {
        match self {
            Members::Positions(positions) => positions.make_contiguous().sort_unstable(),
            Members::ScoredPending(pending) => {
                *self = Members::Scored(ZsetIndex::from_members(std::mem::take(pending)));
            }
            Members::Names(_) | Members::Scored(_) => {}
        }
    }

    /// Removes `member`; true if it was there. Returns the heap bytes freed too.
    pub(crate) fn remove(&mut self, member: &[u8]) -> (bool, usize) {
        match self {
            Members::Names(names) => {
                let removed = names.remove(member);
                (
                    removed,
                    if removed {
                        boxed_bytes(member.len())
                    } else {
                        0
                    },
                )
            }
            Members::Positions(positions) => {
                let Some(p) = member_position(member) else {
                    return (false, 0);
                };
                let removed = if positions.front() == Some(&p) {
                    positions.pop_front().is_some()
                } else if positions.back() == Some(&p) {
                    positions.pop_back().is_some()
                } else if let Ok(i) = positions.binary_search(&p) {
                    positions.remove(i).is_some()
                } else {
                    false
                };
                (removed, 0)
            }
            Members::Scored(index) => (index.remove(member).is_some(), 0),
            Members::ScoredPending(pending) => {
                let before = pending.len();
                pending.retain(|(m, _)| &m[..] != member);
                (pending.len() < before, 0)
            }
        }
    }

    /// Every member (list positions in order, as their member bytes).
    pub(crate) fn to_vec(&self) -> Vec<Vec<u8>> {
        match self {
            Members::Names(names) => names.iter().map(|m| m.to_vec()).collect(),
            Members::Positions(positions) => positions
                .iter()
                .map(|&p| position_member(p).to_vec())
                .collect(),
            Members::Scored(index) => index.iter().map(|(m, _)| m.to_vec()).collect(),
            Members::ScoredPending(pending) => pending.iter().map(|(m, _)| m.to_vec()).collect(),
        }
    }

    /// The sorted-set index, if these are a sorted set's members.
    pub(crate) fn zset(&self) -> Option<&ZsetIndex> {
        match self {
            Members::Scored(index) => Some(index),
            _ => None,
        }
    }

    /// List positions `range` (by index), ascending; empty for other types.
    pub(crate) fn positions(&self, range: std::ops::Range<usize>) -> Vec<u64> {
        match self {
            Members::Positions(positions) => positions.range(range).copied().collect(),
            _ => Vec::new(),
        }
    }

    /// Heap bytes per member beyond the names themselves: a hash-set slot (a boxed slice
    /// and a control byte, at 7/8 load) or a position.
    fn slot_bytes(&self) -> usize {
        match self {
            Members::Names(_) => 17 * 8 / 7,
            Members::Positions(_) => 8,
            Members::Scored(_) | Members::ScoredPending(_) => 0,
        }
    }

    /// Heap bytes beyond the member names counted at insert (a sorted set counts all of
    /// its own, names included).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Members::Scored(index) => index.memory_bytes(),
            _ => self.len() * self.slot_bytes(),
        }
    }
}
