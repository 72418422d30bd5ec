//! The cursor of HSCAN, SSCAN and ZSCAN: which slots of a member table a page covers, and
//! the cursor of the next page. A member table is an `IndexSet` or `IndexMap`: members in
//! slots `0..len`, an insert appending at slot `len`, a removal (`swap_remove`) moving the
//! last member into the freed slot and nothing else.
//!
//! Slots are walked from the top down, and a cursor is the number of low slots not yet
//! visited: the first call (cursor 0) starts at the table's length, each page covers the
//! `count` slots below the cursor, and a next cursor of 0 ends the walk. This keeps SCAN's
//! guarantee — every member present from the first call to the last is returned at least
//! once — because every such member not returned yet sits in a slot below the cursor:
//!
//! - An insert appends at the top and moves nothing: the new member may be missed, which
//!   the guarantee allows.
//! - `swap_remove` moves only the member in the last slot. While that slot is at or above
//!   the cursor, its member was returned already (or came in since): moving it down can
//!   return it twice, never hide it. Once removals have shrunk the table below the cursor,
//!   the last slot is below the cursor too and its member moves to a lower slot, still
//!   below the cursor.
//! - A cursor above the length (members removed since) is clamped to the length: the slots
//!   above are empty.
//!
//! Walking upwards instead would lose members: a removal would move the last, unvisited
//! member into a visited slot. A sorted set's rank is no cursor either: a member added
//! with a lower score shifts every rank above it, and a member present throughout moves
//! from the unvisited ranks into the visited ones.
//!
//! A cursor is meaningful only for the table it came from: a reopened store rebuilds its
//! tables in another order, so a scan carried across a reopen may miss members (Redis's
//! cursors neither survive a restart: its hash seed is chosen at each start).

use std::ops::Range;

/// Up to this many members a collection is answered whole, with cursor 0, as Redis answers
/// its small encodings (`hash-max-listpack-entries`, `zset-max-listpack-entries` and, since
/// 7.2, `set-max-listpack-entries` are 128 by default).
pub(crate) const WHOLE_UP_TO: usize = 128;

/// What one call of a scan returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    /// Every member, and cursor 0.
    Whole,
    /// The members in `slots`, and `next` as the cursor (0 when the walk is done).
    Slots { slots: Range<usize>, next: u64 },
}

/// The page of a table of `len` members for `cursor`, about `count` members (at least 1).
/// Any cursor is accepted: one larger than the table is clamped to it.
pub(crate) fn page(len: usize, cursor: u64, count: usize) -> Page {
    if len <= WHOLE_UP_TO {
        return Page::Whole;
    }
    let top = match cursor {
        0 => len,
        c => usize::try_from(c).unwrap_or(usize::MAX).min(len),
    };
    let bottom = top.saturating_sub(count.max(1));
    Page::Slots {
        slots: bottom..top,
        next: bottom as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexSet;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// Walks `table` to the end, running `between(table, page_number)` before each page;
    /// returns what the pages held.
    fn walk(
        table: &mut IndexSet<u32>,
        count: usize,
        mut between: impl FnMut(&mut IndexSet<u32>, usize),
    ) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            between(table, round);
            round += 1;
            match page(table.len(), cursor, count) {
                Page::Whole => {
                    seen.extend(table.iter().copied());
                    return seen;
                }
                Page::Slots { slots, next } => {
                    seen.extend(slots.filter_map(|i| table.get_index(i).copied()));
                    if next == 0 {
                        return seen;
                    }
                    cursor = next;
                }
            }
        }
    }

    #[test]
    fn small_tables_come_whole() {
        assert_eq!(page(0, 0, 10), Page::Whole);
        assert_eq!(page(WHOLE_UP_TO, 7, 1), Page::Whole);
        assert_eq!(page(WHOLE_UP_TO, u64::MAX, 1), Page::Whole);
    }

    #[test]
    fn pages_walk_down_from_the_top() {
        let len = WHOLE_UP_TO + 5;
        assert_eq!(
            page(len, 0, 100),
            Page::Slots {
                slots: len - 100..len,
                next: (len - 100) as u64
            }
        );
        assert_eq!(
            page(len, 33, 100),
            Page::Slots {
                slots: 0..33,
                next: 0
            }
        );
        assert_eq!(
            page(len, 0, 1000),
            Page::Slots {
                slots: 0..len,
                next: 0
            }
        );
        // COUNT 0 is taken as 1, never as an empty page that would loop forever.
        assert_eq!(
            page(len, 3, 0),
            Page::Slots {
                slots: 2..3,
                next: 2
            }
        );
    }

    #[test]
    fn a_stale_cursor_is_clamped_to_the_table() {
        let len = WHOLE_UP_TO + 1;
        assert_eq!(
            page(len, u64::MAX, 10),
            Page::Slots {
                slots: len - 10..len,
                next: (len - 10) as u64
            }
        );
    }

    #[test]
    fn an_unchanged_table_is_walked_exactly_once() {
        let mut table: IndexSet<u32> = (0..1000).collect();
        let mut seen = walk(&mut table, 7, |_, _| {});
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    /// Between pages: `(insert, value)` adds `value` or swap-removes the member at slot
    /// `value % len`.
    fn changes() -> impl Strategy<Value = Vec<Vec<(bool, u32)>>> {
        prop::collection::vec(
            prop::collection::vec((any::<bool>(), any::<u32>()), 0..12),
            0..80,
        )
    }

    proptest! {
        #[test]
        fn members_present_throughout_are_returned(
            len in 129usize..400,
            count in 1usize..40,
            rounds in changes(),
        ) {
            let mut table: IndexSet<u32> = (0..len as u32).collect();
            let mut removed = HashSet::new();
            let seen: HashSet<u32> = walk(&mut table, count, |t, round| {
                for &(insert, value) in rounds.get(round).into_iter().flatten() {
                    if insert {
                        t.insert(value | 1 << 31);
                    } else if !t.is_empty() {
                        let slot = value as usize % t.len();
                        removed.extend(t.swap_remove_index(slot));
                    }
                }
            })
            .into_iter()
            .collect();
            for member in 0..len as u32 {
                prop_assert!(
                    removed.contains(&member) || seen.contains(&member),
                    "member {member} was present throughout and never returned"
                );
            }
        }
    }
}
