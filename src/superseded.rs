//! Records a commit need not write: a put or delete that a later put or delete of the same
//! key, in the same atomic unit, replaces — string keys and collection elements alike.
//!
//! A unit is applied whole — by recovery (a crash keeps all of its records or none) and by
//! readers (a commit publishes to the index under the writer lock, and the state between two
//! records of one unit is never a committed state) — so only the last record of each key in
//! a unit matters. A transaction that writes one key or one field many times (the server
//! runs the commands of one event-loop turn as one transaction: a pipeline of SETs, INCRs or
//! HSETs on one key; an MSET naming a key twice) then appends it once.
//!
//! Collection headers are always written, and a commit that writes one drops nothing at
//! all: a new collection's generation is the sequence number its header was predicted to
//! get from its place in the transaction (`datatypes::write::Edit::begin`), which dropping
//! an earlier record would change — and generations must never repeat.

use std::collections::HashSet;

use crate::write::{Op, Staged};

/// Per staged record, whether a later record of its unit replaces it; `None` when none is
/// replaced (the common case, at no allocation).
pub(crate) fn superseded_in_units(staged: &[Staged<'_>]) -> Option<Vec<bool>> {
    if staged.len() < 2 || staged.iter().any(|s| matches!(s.op, Op::Collection { .. })) {
        return None;
    }
    let mut superseded = None;
    let mut start = 0;
    for (end, s) in staged.iter().enumerate() {
        // The last record ends its unit whether or not it says so (as in `commit`).
        if !s.ends_unit && end + 1 < staged.len() {
            continue;
        }
        if let Some(unit) = staged.get(start..=end) {
            mark_unit(unit, start, staged.len(), &mut superseded);
        }
        start = end + 1;
    }
    superseded
}

/// The key of a record that a later one of the same key replaces whole, and whether it is
/// an element key (element keys and string keys are separate spaces: the same bytes may
/// name one of each).
fn replaceable_key<'s>(op: &'s Op<'_>) -> Option<(bool, &'s [u8])> {
    match op {
        Op::Put { key, .. } | Op::Delete { key } => Some((false, key)),
        Op::ElementPut { key, .. } | Op::ElementDelete { key } => Some((true, key)),
        Op::Collection { .. } => None,
    }
}

/// Marks the records of `unit` (starting at index `start` of `total` records) that a later
/// record of the same key in the unit replaces.
fn mark_unit(unit: &[Staged<'_>], start: usize, total: usize, marks: &mut Option<Vec<bool>>) {
    if unit.len() < 2 {
        return;
    }
    let mut later: HashSet<(bool, &[u8]), foldhash::quality::RandomState> =
        HashSet::with_capacity_and_hasher(unit.len(), foldhash::quality::RandomState::default());
    for (i, s) in unit.iter().enumerate().rev() {
        if let Some(key) = replaceable_key(&s.op)
            && !later.insert(key)
            && let Some(mark) = marks
                .get_or_insert_with(|| vec![false; total])
                .get_mut(start + i)
        {
            *mark = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn put(key: &'static str, ends_unit: bool) -> Staged<'static> {
        Staged {
            op: Op::Put {
                key: Cow::Borrowed(key.as_bytes()),
                value: Cow::Borrowed(b"v"),
                expiry_ms: 0,
            },
            ends_unit,
        }
    }

    fn delete(key: &'static str, ends_unit: bool) -> Staged<'static> {
        Staged {
            op: Op::Delete {
                key: Cow::Borrowed(key.as_bytes()),
            },
            ends_unit,
        }
    }

    fn header(key: &'static str, ends_unit: bool) -> Staged<'static> {
        Staged {
            op: Op::Collection {
                key: Cow::Borrowed(key.as_bytes()),
                value: Cow::Borrowed(b"h"),
                expiry_ms: 0,
            },
            ends_unit,
        }
    }

    #[test]
    fn nothing_is_replaced_without_a_repeated_key() {
        assert_eq!(superseded_in_units(&[]), None);
        assert_eq!(superseded_in_units(&[put("a", true)]), None);
        assert_eq!(
            superseded_in_units(&[put("a", false), put("b", false), delete("c", true)]),
            None
        );
    }

    #[test]
    fn only_the_last_string_record_of_a_key_in_a_unit_is_kept() {
        let staged = [
            put("a", false),
            delete("a", false),
            put("b", false),
            put("a", true),
        ];
        assert_eq!(
            superseded_in_units(&staged),
            Some(vec![true, true, false, false])
        );
    }

    #[test]
    fn records_of_different_units_are_all_kept() {
        // Each job of a combined append is its own unit: a crash may keep the first only.
        let staged = [put("a", true), put("a", true), delete("a", false)];
        assert_eq!(superseded_in_units(&staged), None);
    }

    #[test]
    fn the_last_record_ends_its_unit_even_unmarked() {
        let staged = [put("a", true), put("b", false), put("b", false)];
        assert_eq!(superseded_in_units(&staged), Some(vec![false, true, false]));
    }

    fn element(key: &'static str, put: bool, ends_unit: bool) -> Staged<'static> {
        let key = Cow::Borrowed(key.as_bytes());
        let op = if put {
            Op::ElementPut {
                key,
                value: Cow::Borrowed(b"1"),
            }
        } else {
            Op::ElementDelete { key }
        };
        Staged { op, ends_unit }
    }

    #[test]
    fn elements_are_replaced_like_keys_but_never_by_a_key_of_the_same_bytes() {
        let staged = [
            element("e", true, false),
            put("e", false),
            element("e", false, false),
            element("e", true, true),
        ];
        assert_eq!(
            superseded_in_units(&staged),
            Some(vec![true, false, true, false])
        );
    }

    #[test]
    fn a_commit_that_writes_a_collection_header_drops_nothing() {
        let staged = [put("a", false), header("a", false), put("a", true)];
        assert_eq!(superseded_in_units(&staged), None);
        let staged = [put("b", false), put("b", true), header("a", true)];
        assert_eq!(superseded_in_units(&staged), None);
    }
}
