//! A list's positions as a transaction sees them, kept while the transaction has only
//! pushed and popped at the list's ends — what a pipeline of LPUSH/RPOP/LMOVE does. The
//! list is then the committed positions `lo..hi` (by index) with the positions pushed at
//! its head and tail around them, so finding the next element to pop, or any range, costs
//! no walk past the elements already popped. Any other change (LINSERT, LREM, LTRIM, ...)
//! drops the shape and the transaction's view walks the committed positions with its
//! staged changes instead (`view.rs`).

use std::collections::VecDeque;

use super::members::member_position;

/// One member change as an edit stages it: position, whether the member is there after
/// the edit, and whether it was there before.
pub(crate) struct PositionChange {
    pub(crate) position: u64,
    pub(crate) present: bool,
    pub(crate) existed: bool,
}

impl PositionChange {
    /// The change of a list member, or `None` if the member is not a position.
    pub(crate) fn new(member: &[u8], present: bool, existed: bool) -> Option<Self> {
        Some(PositionChange {
            position: member_position(member)?,
            present,
            existed,
        })
    }
}

/// The positions of one generation of a list in a transaction that changed it only at its
/// ends: `head ++ committed[lo..hi] ++ tail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListShape {
    pub(crate) generation: u64,
    /// Positions pushed at the head and still there, head first.
    head: VecDeque<u64>,
    /// The committed positions still there, by index into the committed list.
    lo: usize,
    hi: usize,
    /// Positions pushed at the tail and still there, head first.
    tail: VecDeque<u64>,
}

impl ListShape {
    /// The shape of a list no change has touched yet: its `committed_len` committed
    /// positions.
    pub(crate) fn untouched(generation: u64, committed_len: usize) -> ListShape {
        ListShape {
            generation,
            head: VecDeque::new(),
            lo: 0,
            hi: committed_len,
            tail: VecDeque::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.head.len() + (self.hi - self.lo) + self.tail.len()
    }

    /// The position at `index` (head first).
    fn at(&self, committed: &VecDeque<u64>, index: usize) -> Option<u64> {
        let middle = self.hi - self.lo;
        if index < self.head.len() {
            self.head.get(index).copied()
        } else if index < self.head.len() + middle {
            committed.get(self.lo + index - self.head.len()).copied()
        } else {
            self.tail.get(index - self.head.len() - middle).copied()
        }
    }

    /// The positions `range` (by index, clamped to the length), ascending.
    pub(crate) fn positions(
        &self,
        committed: &VecDeque<u64>,
        range: std::ops::Range<usize>,
    ) -> Vec<u64> {
        let end = range.end.min(self.len());
        (range.start.min(end)..end)
            .filter_map(|i| self.at(committed, i))
            .collect()
    }

    fn first(&self, committed: &VecDeque<u64>) -> Option<u64> {
        self.at(committed, 0)
    }

    fn last(&self, committed: &VecDeque<u64>) -> Option<u64> {
        self.at(committed, self.len().checked_sub(1)?)
    }

    fn pop_front(&mut self) {
        if self.head.pop_front().is_none() {
            if self.lo < self.hi {
                self.lo += 1;
            } else {
                self.tail.pop_front();
            }
        }
    }

    fn pop_back(&mut self) {
        if self.tail.pop_back().is_none() {
            if self.lo < self.hi {
                self.hi -= 1;
            } else {
                self.head.pop_back();
            }
        }
    }

    /// Applies one edit's changes, in the order the edit made them. False if a change is
    /// not at an end (the shape no longer describes the list and must be dropped).
    pub(crate) fn apply(
        &mut self,
        committed: &VecDeque<u64>,
        changes: impl IntoIterator<Item = PositionChange>,
    ) -> bool {
        for change in changes {
            match (change.existed, change.present) {
                // A new value for an element that stays (LSET): positions are unchanged.
                (true, true) | (false, false) => {}
                (true, false) => {
                    if self.first(committed) == Some(change.position) {
                        self.pop_front();
                    } else if self.last(committed) == Some(change.position) {
                        self.pop_back();
                    } else {
                        return false;
                    }
                }
                (false, true) => match (self.first(committed), self.last(committed)) {
                    (None, _) | (_, None) => self.tail.push_back(change.position),
                    (Some(first), _) if change.position < first => {
                        self.head.push_front(change.position)
                    }
                    (_, Some(last)) if change.position > last => {
                        self.tail.push_back(change.position)
                    }
                    _ => return false,
                },
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(position: u64, present: bool, existed: bool) -> PositionChange {
        PositionChange {
            position,
            present,
            existed,
        }
    }

    #[test]
    fn pops_and_pushes_at_both_ends_follow_the_list() {
        let committed: VecDeque<u64> = [10, 20, 30, 40].into_iter().collect();
        let mut shape = ListShape::untouched(1, committed.len());
        assert!(shape.apply(&committed, [change(10, false, true)]));
        assert!(shape.apply(&committed, [change(40, false, true)]));
        assert!(shape.apply(
            &committed,
            [change(5, true, false), change(50, true, false)]
        ));
        assert_eq!(shape.positions(&committed, 0..10), vec![5, 20, 30, 50]);
        // Popping past the committed part reaches what was pushed at the other end.
        for p in [5, 20, 30] {
            assert!(shape.apply(&committed, [change(p, false, true)]));
        }
        assert_eq!(shape.positions(&committed, 0..10), vec![50]);
        assert!(shape.apply(&committed, [change(50, false, true)]));
        assert_eq!(shape.len(), 0);
        assert!(shape.apply(&committed, [change(7, true, false)]));
        assert_eq!(shape.positions(&committed, 0..1), vec![7]);
    }

    #[test]
    fn a_change_inside_the_list_drops_the_shape() {
        let committed: VecDeque<u64> = [10, 20, 30].into_iter().collect();
        let mut shape = ListShape::untouched(1, committed.len());
        assert!(!shape.apply(&committed, [change(20, false, true)]));
        let mut shape = ListShape::untouched(1, committed.len());
        assert!(!shape.apply(&committed, [change(15, true, false)]));
        // A new value in place keeps it.
        let mut shape = ListShape::untouched(1, committed.len());
        assert!(shape.apply(&committed, [change(20, true, true)]));
        assert_eq!(shape.positions(&committed, 1..2), vec![20]);
    }
}
