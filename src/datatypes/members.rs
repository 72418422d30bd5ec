//! A collection's members in memory: a set of names for hashes and sets, the ordered
//! positions of a list.

use std::collections::{HashSet, VecDeque};

/// Heap bytes of a boxed byte string: the allocation, rounded to the allocator's 16-byte
/// granularity.
fn boxed_bytes(len: usize) -> usize {
    len.div_ceil(16) * 16
}

/// A list element's member is its position, big-endian, so that byte order is list order.
pub(crate) fn position_member(position: u64) -> [u8; 8] {
    position.to_be_bytes()
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
}

impl Members {
    pub(crate) fn len(&self) -> usize {
        match self {
            Members::Names(names) => names.len(),
            Members::Positions(positions) => positions.len(),
        }
    }

    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self {
            Members::Names(names) => names.contains(member),
            Members::Positions(positions) => {
                member_position(member).is_some_and(|p| positions.binary_search(&p).is_ok())
            }
        }
    }

    /// Adds `member`; true if it is new. Returns the heap bytes added too.
    pub(crate) fn insert(&mut self, member: &[u8]) -> (bool, usize) {
        match self {
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
    pub(crate) fn insert_unsorted(&mut self, member: &[u8]) -> (bool, usize) {
        match self {
            Members::Positions(positions) => match member_position(member) {
                Some(p) => {
                    positions.push_back(p);
                    (true, 0)
                }
                None => (false, 0),
            },
            Members::Names(_) => self.insert(member),
        }
    }

    /// Sorts list positions after [`Members::insert_unsorted`].
    pub(crate) fn sort(&mut self) {
        if let Members::Positions(positions) = self {
            positions.make_contiguous().sort_unstable();
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
        }
    }

    /// List positions `range` (by index), ascending; empty for other types.
    pub(crate) fn positions(&self, range: std::ops::Range<usize>) -> Vec<u64> {
        match self {
            Members::Positions(positions) => positions.range(range).copied().collect(),
            Members::Names(_) => Vec::new(),
        }
    }

    /// Heap bytes per member beyond the names themselves: a hash-set slot (a boxed slice
    /// and a control byte, at 7/8 load) or a position.
    pub(crate) fn slot_bytes(&self) -> usize {
        match self {
            Members::Names(_) => 17 * 8 / 7,
            Members::Positions(_) => 8,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.len() * self.slot_bytes()
    }
}
