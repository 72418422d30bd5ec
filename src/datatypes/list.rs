//! Lists: values pushed and popped at both ends (Redis's LPUSH, RPOP, LRANGE, ...).
//!
//! Each element is an element record whose member is its *position*, a `u64`: the first
//! push takes `START`, pushes at the head take positions `STEP` lower, at the tail `STEP`
//! higher, so a push or pop is one record and the in-memory index keeps only the sorted
//! positions. LINSERT takes the midpoint between its neighbours; when they are adjacent it
//! moves the elements on its left down to make room (Redis's LINSERT is O(N) too).

use super::ValueType;
use super::members::position_member;
use super::view::CollectionView;
use super::write::Edit;
use crate::collections::range::{normalize_index, normalize_range};
use crate::error::{Error, Result};

const LIST: ValueType = ValueType::List;
/// Position of the first element of a new list: the middle of the range.
const START: u64 = 1 << 63;
/// Distance between pushed elements: room for 16 LINSERTs at one place before a move.
const STEP: u64 = 1 << 16;

fn exhausted() -> Error {
    Error::InvalidArgument {
        reason: "the list has no room left for positions at this end".into(),
    }
}

/// Pushes `values` one after the other at the head (`left`) or tail; returns the new length.
pub(crate) fn push(edit: &mut Edit<'_, '_, '_>, values: &[&[u8]], left: bool) -> Result<usize> {
    let len = edit.len_before();
    let end = if left {
        edit.positions_before(0..1).first().copied()
    } else {
        edit.positions_before(len.saturating_sub(1)..len)
            .first()
            .copied()
    };
    let mut next = match end {
        None => Some(START),
        Some(p) if left => p.checked_sub(STEP),
        Some(p) => p.checked_add(STEP),
    };
    for value in values {
        let position = next.ok_or_else(exhausted)?;
        edit.put(&position_member(position), value.to_vec())?;
        next = if left {
            position.checked_sub(STEP)
        } else {
            position.checked_add(STEP)
        };
    }
    Ok(edit.len())
}

/// Pops up to `count` values from the head (`left`) or tail, in pop order.
pub(crate) fn pop(edit: &mut Edit<'_, '_, '_>, count: usize, left: bool) -> Result<Vec<Vec<u8>>> {
    let len = edit.len_before();
    let count = count.min(len);
    // The positions to pop and, after them, the next two at this end: the next pops read
    // those (a pipeline pops the same end many times in a row, and the far end of a long
    // list is rarely in cache). One look at the list for both.
    let ahead = (count + 2).min(len);
    let mut positions = if left {
        edit.positions_before(0..ahead)
    } else {
        edit.positions_before(len - ahead..len)
    };
    if !left {
        positions.reverse();
    }
    let (popped, next) = positions.split_at(count.min(positions.len()));
    let mut values = Vec::with_capacity(popped.len());
    for &p in popped {
        if let Some(value) = edit.take(&position_member(p))? {
            values.push(value);
        }
    }
    // Fetch the index entry of the next one, whose index line the previous pop asked for,
    // and the index line of the one after it, while the reply is written.
    if let Some(&p) = next.first() {
        edit.prefetch_before(&position_member(p), true);
    }
    if let Some(&p) = next.get(1) {
        edit.prefetch_before(&position_member(p), false);
    }
    Ok(values)
}

/// Sets the element at `index` (LSET).
pub(crate) fn set(edit: &mut Edit<'_, '_, '_>, index: i64, value: &[u8]) -> Result<()> {
    let len = edit.len_before();
    if len == 0 {
        return Err(Error::NoSuchKey);
    }
    let i = normalize_index(index, len).ok_or(Error::IndexOutOfRange)?;
    let position = edit
        .positions_before(i..i + 1)
        .first()
        .copied()
        .ok_or(Error::IndexOutOfRange)?;
    edit.put(&position_member(position), value.to_vec())?;
    Ok(())
}

/// Every position and value, head first.
fn all(edit: &Edit<'_, '_, '_>) -> Result<Vec<(u64, Vec<u8>)>> {
    let positions = edit.positions_before(0..edit.len_before());
    let mut out = Vec::with_capacity(positions.len());
    for p in positions {
        if let Some(value) = edit.get(&position_member(p))? {
            out.push((p, value));
        }
    }
    Ok(out)
}

/// Removes elements equal to `value`: the first `count` from the head (count > 0), from
/// the tail (count < 0), or all (0). Returns how many (LREM).
pub(crate) fn remove(edit: &mut Edit<'_, '_, '_>, count: i64, value: &[u8]) -> Result<usize> {
    let mut elements = all(edit)?;
    if count < 0 {
        elements.reverse();
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
    };
    let mut removed = 0;
    for (p, v) in elements {
        if removed == limit {
            break;
        }
        if v == value {
            edit.remove(&position_member(p));
            removed += 1;
        }
    }
    Ok(removed)
}

/// Keeps only the elements `start..=stop` (LTRIM).
pub(crate) fn trim(edit: &mut Edit<'_, '_, '_>, start: i64, stop: i64) -> Result<()> {
    let len = edit.len_before();
    let keep = normalize_range(start, stop, len);
    let positions = edit.positions_before(0..len);
    for (i, p) in positions.into_iter().enumerate() {
        if keep.is_none_or(|(a, b)| i < a || i > b) {
            edit.remove(&position_member(p));
        }
    }
    Ok(())
}

/// Inserts `value` before or after the first element equal to `pivot`. Returns the new
/// length, -1 if there is no such element, 0 if the list does not exist (LINSERT).
pub(crate) fn insert(
    edit: &mut Edit<'_, '_, '_>,
    before: bool,
    pivot: &[u8],
    value: &[u8],
) -> Result<i64> {
    if edit.len_before() == 0 {
        return Ok(0);
    }
    let elements = all(edit)?;
    let Some(at) = elements.iter().position(|(_, v)| v == pivot) else {
        return Ok(-1);
    };
    // The new element goes between `left` (index) and `left + 1`.
    let left = if before { at.checked_sub(1) } else { Some(at) };
    let low = left.and_then(|i| elements.get(i)).map(|(p, _)| *p);
    let high = elements.get(left.map_or(0, |i| i + 1)).map(|(p, _)| *p);
    let position = match (low, high) {
        (Some(lo), Some(hi)) if hi - lo >= 2 => lo + (hi - lo) / 2,
        (None, Some(hi)) => hi.checked_sub(STEP).ok_or_else(exhausted)?,
        (Some(lo), None) => lo.checked_add(STEP).ok_or_else(exhausted)?,
        (Some(_), Some(hi)) => {
            // Adjacent neighbours: move the elements up to `left` down, STEP apart below
            // `hi`, and take the gap this leaves under `hi`.
            let moved = left.map_or(0, |i| i + 1);
            let room = STEP.checked_mul(moved as u64 + 1).ok_or_else(exhausted)?;
            if hi < room {
                return Err(exhausted());
            }
            for (p, _) in elements.iter().take(moved) {
                edit.remove(&position_member(*p));
            }
            for (j, (_, v)) in elements.iter().take(moved).enumerate() {
                let new = hi - STEP * (moved - j) as u64;
                edit.put(&position_member(new), v.clone())?;
            }
            hi - STEP / 2
        }
        (None, None) => START,
    };
    edit.put(&position_member(position), value.to_vec())?;
    Ok(i64::try_from(edit.len()).unwrap_or(i64::MAX))
}

pub(crate) fn len(v: &dyn CollectionView, key: &[u8]) -> Result<usize> {
    Ok(v.collection(key, LIST)?.map_or(0, |f| f.len))
}

/// The element at `index` (negative counts from the tail; LINDEX).
pub(crate) fn index(v: &dyn CollectionView, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
    let Some(found) = v.collection(key, LIST)? else {
        return Ok(None);
    };
    let Some(i) = normalize_index(index, found.len) else {
        return Ok(None);
    };
    match v.list_positions(key, found.generation, i..i + 1).first() {
        Some(&p) => v.value(key, found.generation, &position_member(p)),
        None => Ok(None),
    }
}

/// The elements `start..=stop` (LRANGE).
pub(crate) fn range(
    v: &dyn CollectionView,
    key: &[u8],
    start: i64,
    stop: i64,
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    range_each(v, key, start, stop, &mut |item| match item {
        RangeItem::Len(n) => out.reserve_exact(n),
        RangeItem::Value(value) => out.push(value.to_vec()),
    })?;
    Ok(out)
}

/// What [`range_each`] lends its caller: first how many elements the range holds, then each
/// value in order.
pub(crate) enum RangeItem<'a> {
    Len(usize),
    Value(&'a [u8]),
}

/// The elements `start..=stop` (LRANGE) lent to `f` one by one, without collecting them.
/// Returns the length it announced and how many values it lent: fewer only if elements were
/// popped by another writer meanwhile (the caller then reads the range again).
pub(crate) fn range_each(
    v: &dyn CollectionView,
    key: &[u8],
    start: i64,
    stop: i64,
    f: &mut dyn FnMut(RangeItem<'_>),
) -> Result<(usize, usize)> {
    let Some(found) = v.collection(key, LIST)? else {
        f(RangeItem::Len(0));
        return Ok((0, 0));
    };
    let Some((a, b)) = normalize_range(start, stop, found.len) else {
        f(RangeItem::Len(0));
        return Ok((0, 0));
    };
    let positions = v.list_positions(key, found.generation, a..b + 1);
    f(RangeItem::Len(positions.len()));
    let lent = v.list_values_each(key, found.generation, &positions, &mut |value| {
        f(RangeItem::Value(value));
    })?;
    Ok((positions.len(), lent))
}

/// Indexes of elements equal to `value` (LPOS): starting at the `rank`-th match (negative
/// searches from the tail), at most `count` of them (0 = all), looking at no more than
/// `max_len` elements (0 = all).
pub(crate) fn positions_of(
    v: &dyn CollectionView,
    key: &[u8],
    value: &[u8],
    rank: i64,
    count: usize,
    max_len: usize,
) -> Result<Vec<usize>> {
    if rank == 0 {
        return Err(Error::InvalidArgument {
            reason: "rank can't be zero".into(),
        });
    }
    let Some(found) = v.collection(key, LIST)? else {
        return Ok(Vec::new());
    };
    // Only the elements MAXLEN lets it look at, from the end RANK names.
    let scanned = if max_len == 0 {
        found.len
    } else {
        max_len.min(found.len)
    };
    let first = if rank > 0 { 0 } else { found.len - scanned };
    let positions = v.list_positions(key, found.generation, first..first + scanned);
    let mut skip = rank.unsigned_abs() - 1;
    let mut out = Vec::new();
    let mut equal = Vec::with_capacity(LPOS_CHUNK);
    // Chunk by chunk from the searched end, each chunk's records read together.
    let n = positions.len();
    for c in 0..n.div_ceil(LPOS_CHUNK) {
        let (start, end) = if rank > 0 {
            (c * LPOS_CHUNK, ((c + 1) * LPOS_CHUNK).min(n))
        } else {
            (n.saturating_sub((c + 1) * LPOS_CHUNK), n - c * LPOS_CHUNK)
        };
        let chunk = positions.get(start..end).unwrap_or_default();
        mark_equal(v, key, found.generation, chunk, value, &mut equal)?;
        let order: Box<dyn Iterator<Item = (usize, &bool)>> = if rank > 0 {
            Box::new(equal.iter().enumerate())
        } else {
            Box::new(equal.iter().enumerate().rev())
        };
        for (j, _) in order.filter(|&(_, &is_equal)| is_equal) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            out.push(first + start + j);
            if count != 0 && out.len() == count {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Elements LPOS compares per read: their records are fetched together (see
/// `CollectionView::list_values_each`).
const LPOS_CHUNK: usize = 64;

/// Sets `equal` to whether each element at `positions` equals `value`, in order.
fn mark_equal(
    v: &dyn CollectionView,
    key: &[u8],
    generation: u64,
    positions: &[u64],
    value: &[u8],
    equal: &mut Vec<bool>,
) -> Result<()> {
    equal.clear();
    let lent = v.list_values_each(key, generation, positions, &mut |element| {
        equal.push(element == value);
    })?;
    if lent != positions.len() {
        // An element is missing (never, while the list and its records agree): compare
        // one at a time, so that each answer stays at its element's index.
        equal.clear();
        for &p in positions {
            let element = v.value(key, generation, &position_member(p))?;
            equal.push(element.as_deref() == Some(value));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_text(item: RangeItem<'_>) -> String {
        match item {
            RangeItem::Len(n) => format!("len {n}"),
            RangeItem::Value(v) => String::from_utf8_lossy(v).into_owned(),
        }
    }

    #[test]
    fn a_range_lends_fewer_values_than_it_announced_when_an_element_vanishes() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.rpush(b"l", &[b"a", b"b", b"c"]).unwrap();
        crate::datatypes::forget_list_element(&store, b"l", 1);
        let mut items = Vec::new();
        let counts = store
            .lrange_each(b"l", 0, -1, &mut |item| items.push(item_text(item)))
            .unwrap();
        assert_eq!(counts, (3, 2));
        assert_eq!(items, ["len 3", "a", "c"]);
        assert_eq!(store.lrange(b"l", 0, -1).unwrap(), [b"a", b"c"]);
    }

    #[test]
    fn a_range_of_several_batches_lends_every_value_in_order() {
        let (_dir, store) = crate::datatypes::scratch_store();
        let values: Vec<String> = (0..150).map(|i| format!("v{i}")).collect();
        let refs: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        store.rpush(b"l", &refs).unwrap();
        crate::datatypes::forget_list_element(&store, b"l", 70);
        let mut items = Vec::new();
        let counts = store
            .lrange_each(b"l", 1, -2, &mut |item| items.push(item_text(item)))
            .unwrap();
        assert_eq!(counts, (148, 147));
        let mut expected = vec!["len 148".to_string()];
        expected.extend((1..149).filter(|&i| i != 70).map(|i| format!("v{i}")));
        assert_eq!(items, expected);
    }

    /// LPOS over `list` as written out in Redis's documentation: `None` is an element that
    /// cannot be read (it matches nothing but keeps its index).
    fn lpos_model(
        list: &[Option<String>],
        value: &str,
        rank: i64,
        count: usize,
        max_len: usize,
    ) -> Vec<usize> {
        let order: Vec<usize> = if rank > 0 {
            (0..list.len()).collect()
        } else {
            (0..list.len()).rev().collect()
        };
        let limit = if max_len == 0 { list.len() } else { max_len };
        let matches = order
            .into_iter()
            .take(limit)
            .filter(|&i| list[i].as_deref() == Some(value));
        let matches = matches.skip(rank.unsigned_abs() as usize - 1);
        if count == 0 {
            matches.collect()
        } else {
            matches.take(count).collect()
        }
    }

    /// Every RANK / COUNT / MAXLEN combination that matters for a list of several LPOS
    /// chunks, against the model: read committed, inside a transaction that changed the
    /// list, and with an element that cannot be read.
    #[test]
    fn lpos_over_several_chunks_matches_the_model_from_both_ends() {
        let (_dir, store) = crate::datatypes::scratch_store();
        let mut model: Vec<Option<String>> =
            (0..300).map(|i| Some(format!("v{}", i % 7))).collect();
        let refs: Vec<String> = model.iter().flatten().cloned().collect();
        let refs: Vec<&[u8]> = refs.iter().map(|v| v.as_bytes()).collect();
        store.rpush(b"l", &refs).unwrap();
        let combinations = || {
            let mut all = Vec::new();
            for rank in [1, 2, 5, 40, 43, 44, 100, -1, -2, -5, -40, -43, -44, -100] {
                for count in [0, 1, 3, 50] {
                    for max_len in [0, 1, 63, 64, 65, 129, 299, 300, 1000] {
                        all.push((rank, count, max_len));
                    }
                }
            }
            all
        };
        let check = |store: &crate::Store, model: &[Option<String>]| {
            for (rank, count, max_len) in combinations() {
                for value in ["v0", "v3", "absent"] {
                    assert_eq!(
                        store
                            .lpos(b"l", value.as_bytes(), rank, count, max_len)
                            .unwrap(),
                        lpos_model(model, value, rank, count, max_len),
                        "{value} rank {rank} count {count} maxlen {max_len}"
                    );
                }
            }
        };
        check(&store, &model);

        // Inside a transaction that pushed at both ends, the staged view answers.
        store
            .transaction(|tx| {
                tx.lpush(b"l", &[b"v3"])?;
                tx.rpush(b"l", &[b"v0", b"v3"])?;
                let mut staged = model.clone();
                staged.insert(0, Some("v3".into()));
                staged.extend([Some("v0".into()), Some("v3".into())]);
                for (rank, count, max_len) in combinations() {
                    assert_eq!(
                        tx.lpos(b"l", b"v3", rank, count, max_len)?,
                        lpos_model(&staged, "v3", rank, count, max_len),
                        "staged: rank {rank} count {count} maxlen {max_len}"
                    );
                }
                Err::<(), _>(crate::Error::InvalidArgument {
                    reason: "roll back".into(),
                })
            })
            .unwrap_err();

        // An element whose record cannot be read matches nothing; the others keep their
        // indexes.
        crate::datatypes::forget_list_element(&store, b"l", 70);
        model[70] = None;
        check(&store, &model);
    }

    fn list_values(store: &crate::Store, key: &[u8]) -> Vec<String> {
        (store.lrange(key, 0, -1).unwrap().iter())
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// Places of every element's record, in list order.
    fn places(store: &crate::Store, key: &[u8]) -> Vec<Option<(u32, u32)>> {
        let (_, places) = crate::datatypes::list_places(store, key);
        places.into_iter().map(|(_, place)| place).collect()
    }

    #[test]
    fn list_record_places_follow_every_write_a_merge_and_each_way_of_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let open = || {
            crate::Options::new()
                .sync_policy(crate::SyncPolicy::Never)
                .max_segment_size(4096)
                .index_snapshot_min_bytes(0)
                .open(dir.path())
                .unwrap()
        };
        let check = |store: &crate::Store, expected: &[String]| {
            crate::datatypes::assert_list_places_match_index(store, b"l");
            assert_eq!(list_values(store, b"l"), expected);
        };
        let store = open();
        let mut model: Vec<String> = (0..200).map(|i| format!("value-{i}")).collect();
        let refs: Vec<&[u8]> = model.iter().map(|v| v.as_bytes()).collect();
        store.rpush(b"l", &refs).unwrap();
        check(&store, &model);
        store.lpush(b"l", &[b"head-1", b"head-2"]).unwrap();
        model.splice(0..0, ["head-2".to_string(), "head-1".to_string()]);
        check(&store, &model);
        store.lset(b"l", 5, b"rewritten").unwrap();
        model[5] = "rewritten".into();
        check(&store, &model);
        store.linsert(b"l", true, b"value-50", b"inserted").unwrap();
        let at = model.iter().position(|v| v == "value-50").unwrap();
        model.insert(at, "inserted".into());
        check(&store, &model);
        store.lrem(b"l", 1, b"value-20").unwrap();
        model.retain(|v| v != "value-20");
        check(&store, &model);
        assert_eq!(store.lpop(b"l", 3).unwrap().len(), 3);
        assert_eq!(store.rpop(b"l", 3).unwrap().len(), 3);
        model.drain(..3);
        model.truncate(model.len() - 3);
        check(&store, &model);
        store.ltrim(b"l", 1, -2).unwrap();
        model.remove(0);
        model.pop();
        check(&store, &model);

        // A merge copies the records: the list reads them where they went.
        let before = places(&store, b"l");
        store.merge().unwrap();
        let after = places(&store, b"l");
        assert!(
            before
                .iter()
                .zip(&after)
                .any(|(b, a)| b.unwrap().0 != a.unwrap().0),
            "the merge moved no element of the list"
        );
        check(&store, &model);
        store.close().unwrap();

        // From the index snapshot, from hint files, and from a scan of the data files.
        let store = open();
        assert!(store.stats().opened_from_index_snapshot);
        check(&store, &model);
        store.close().unwrap();
        std::fs::remove_file(dir.path().join("index.snapshot")).unwrap();
        let store = open();
        check(&store, &model);
        store.close().unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .extension()
                .is_some_and(|x| x == "hint" || x == "snapshot")
            {
                std::fs::remove_file(path).unwrap();
            }
        }
        let store = open();
        check(&store, &model);
    }

    #[test]
    fn a_list_element_whose_record_is_not_at_its_listed_place_is_read_through_the_index() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.rpush(b"l", &[b"a", b"b", b"c", b"d"]).unwrap();
        let (generation, places) = crate::datatypes::list_places(&store, b"l");
        let (p1, p3) = (places[1].0, places[3].0);
        let (id, offset) = places[2].1.unwrap();
        // Element 1 listed at element 2's record (another key), element 3 in a segment
        // that does not exist: both are read through the element index.
        let at = crate::datatypes::members::record_at;
        let member = crate::datatypes::members::position_member;
        let mut collections = store.engine().write_collections();
        collections.relocate_member(b"l", generation, &member(p1), at(id, offset));
        collections.relocate_member(b"l", generation, &member(p3), at(id + 1000, offset));
        drop(collections);
        assert_eq!(list_values(&store, b"l"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn lists_read_without_memory_maps_go_through_the_element_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Options::new()
            .sync_policy(crate::SyncPolicy::Never)
            .use_mmap(false)
            .open(dir.path())
            .unwrap();
        let values: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
        let refs: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        store.rpush(b"l", &refs).unwrap();
        assert_eq!(list_values(&store, b"l"), values);
    }

    #[test]
    fn a_range_in_a_transaction_lends_staged_and_committed_values_in_order() {
        let (_dir, store) = crate::datatypes::scratch_store();
        store.rpush(b"l", &[b"b", b"c"]).unwrap();
        store
            .transaction(|tx| {
                tx.lpush(b"l", &[b"a"])?;
                tx.lset(b"l", 2, b"C")?;
                let mut items = Vec::new();
                let counts =
                    tx.lrange_each(b"l", 0, -1, &mut |item| items.push(item_text(item)))?;
                assert_eq!(counts, (3, 3));
                assert_eq!(items, ["len 3", "a", "b", "C"]);
                let mut items = Vec::new();
                tx.lrange_each(b"missing", 0, -1, &mut |item| items.push(item_text(item)))?;
                assert_eq!(items, ["len 0"]);
                Ok(())
            })
            .unwrap();
    }
}
