//! `Store::hscan`, `sscan` and `zscan`: paged scans with Redis's SCAN guarantee. A full
//! scan returns every member present from its first call to its last at least once, even
//! while other members are added and removed and scores change between pages; it ends with
//! cursor 0; any cursor ends cleanly; pages hold at most COUNT members, and small
//! collections (or ones the scanning transaction changed) come whole.

use std::collections::{BTreeMap, BTreeSet};

use keg::{CollectionPage, Error, Options, Store, SyncPolicy};
use proptest::prelude::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir.path())
        .unwrap();
    (dir, store)
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Hash,
    Set,
    ZSet,
}

const KEY: &[u8] = b"c";

fn member(i: usize) -> Vec<u8> {
    format!("m{i:05}").into_bytes()
}

fn value_of(member: &[u8]) -> Vec<u8> {
    [b"v:", member].concat()
}

fn add(store: &Store, kind: Kind, members: &[Vec<u8>]) {
    match kind {
        Kind::Hash => {
            let values: Vec<Vec<u8>> = members.iter().map(|m| value_of(m)).collect();
            let fields: Vec<(&[u8], &[u8])> = members
                .iter()
                .zip(&values)
                .map(|(m, v)| (&m[..], &v[..]))
                .collect();
            store.hset_many(KEY, &fields).unwrap();
        }
        Kind::Set => {
            let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
            store.sadd(KEY, &refs).unwrap();
        }
        Kind::ZSet => {
            // Scores run against insertion order: later members rank lower.
            let items: Vec<(f64, &[u8])> = members
                .iter()
                .enumerate()
                .map(|(i, m)| (-(i as f64), &m[..]))
                .collect();
            store.zadd(KEY, &items).unwrap();
        }
    }
}

fn remove(store: &Store, kind: Kind, member: &[u8]) {
    match kind {
        Kind::Hash => store.hdel(KEY, &[member]).map(drop).unwrap(),
        Kind::Set => store.srem(KEY, &[member]).map(drop).unwrap(),
        Kind::ZSet => store.zrem(KEY, &[member]).map(drop).unwrap(),
    }
}

/// One page, as members only (values and scores checked against what was written).
fn page(store: &Store, kind: Kind, cursor: u64, count: usize) -> CollectionPage<Vec<u8>> {
    match kind {
        Kind::Hash => {
            let page = store.hscan(KEY, cursor, count).unwrap();
            for (field, value) in &page.items {
                assert_eq!(value, &value_of(field));
            }
            let items = page.items.into_iter().map(|(f, _)| f).collect();
            CollectionPage {
                cursor: page.cursor,
                items,
            }
        }
        Kind::Set => store.sscan(KEY, cursor, count).unwrap(),
        Kind::ZSet => {
            let page = store.zscan(KEY, cursor, count).unwrap();
            for (member, score) in &page.items {
                assert_eq!(store.zscore(KEY, member).unwrap(), Some(*score));
            }
            let items = page.items.into_iter().map(|(m, _)| m).collect();
            CollectionPage {
                cursor: page.cursor,
                items,
            }
        }
    }
}

/// A full scan from cursor 0, running `between(page_number)` before each page; returns
/// every page.
fn full_scan(
    store: &Store,
    kind: Kind,
    count: usize,
    mut between: impl FnMut(usize),
) -> Vec<CollectionPage<Vec<u8>>> {
    let mut pages = Vec::new();
    let mut cursor = 0;
    loop {
        between(pages.len());
        let p = page(store, kind, cursor, count);
        cursor = p.cursor;
        pages.push(p);
        if cursor == 0 {
            return pages;
        }
        assert!(pages.len() < 100_000, "the scan does not end");
    }
}

fn filled(kind: Kind, n: usize) -> (tempfile::TempDir, Store, Vec<Vec<u8>>) {
    let (dir, store) = store();
    let members: Vec<Vec<u8>> = (0..n).map(member).collect();
    add(&store, kind, &members);
    (dir, store, members)
}

/// A full scan of an unchanged collection of 1000 returns each member exactly once, in
/// pages of at most `count`, and ends with cursor 0.
fn unchanged_scan_returns_each_member_once(kind: Kind) {
    let (_dir, store, members) = filled(kind, 1000);
    for count in [1, 7, 10, 333, 999, 5000] {
        let pages = full_scan(&store, kind, count, |_| {});
        assert!(
            pages.iter().all(|p| p.items.len() <= count),
            "{kind:?} {count}"
        );
        assert_eq!(pages.last().map(|p| p.cursor), Some(0));
        assert_eq!(pages.len(), 1000usize.div_ceil(count), "{kind:?} {count}");
        let mut seen: Vec<Vec<u8>> = pages.into_iter().flat_map(|p| p.items).collect();
        seen.sort();
        assert_eq!(seen, members, "{kind:?} {count}");
    }
}

#[test]
fn hash_scan_returns_every_field_once() {
    unchanged_scan_returns_each_member_once(Kind::Hash);
}

#[test]
fn set_scan_returns_every_member_once() {
    unchanged_scan_returns_each_member_once(Kind::Set);
}

#[test]
fn zset_scan_returns_every_member_once_with_its_score() {
    unchanged_scan_returns_each_member_once(Kind::ZSet);
}

#[test]
fn small_collections_come_whole_with_cursor_zero() {
    for kind in [Kind::Hash, Kind::Set, Kind::ZSet] {
        let (_dir, store, members) = filled(kind, 128);
        // Any cursor, as Redis answers its small encodings.
        for cursor in [0, 5, u64::MAX] {
            let p = page(&store, kind, cursor, 10);
            assert_eq!(p.cursor, 0, "{kind:?}");
            let mut seen = p.items;
            seen.sort();
            assert_eq!(seen, members, "{kind:?}");
        }
    }
}

#[test]
fn a_small_sorted_set_comes_in_score_order() {
    let (_dir, store) = store();
    store
        .zadd(KEY, &[(2.0, &b"b"[..]), (1.0, b"a"), (3.0, b"c")])
        .unwrap();
    let page = store.zscan(KEY, 0, 10).unwrap();
    assert_eq!(
        page.items,
        vec![
            (b"a".to_vec(), 1.0),
            (b"b".to_vec(), 2.0),
            (b"c".to_vec(), 3.0)
        ]
    );
}

#[test]
fn a_missing_key_is_an_empty_last_page() {
    let (_dir, store) = store();
    assert_eq!(store.hscan(b"nope", 0, 10).unwrap().items, vec![]);
    let page = store.sscan(b"nope", 17, 10).unwrap();
    assert_eq!((page.cursor, page.items.len()), (0, 0));
    assert_eq!(store.zscan(b"nope", 0, 10).unwrap().cursor, 0);
}

#[test]
fn a_key_of_another_type_is_wrongtype() {
    let (_dir, store) = store();
    store.sadd(b"s", &[b"x"]).unwrap();
    store.set(b"str", b"x").unwrap();
    assert!(matches!(store.hscan(b"s", 0, 10), Err(Error::WrongType)));
    assert!(matches!(store.zscan(b"s", 0, 10), Err(Error::WrongType)));
    assert!(matches!(store.sscan(b"str", 0, 10), Err(Error::WrongType)));
}

#[test]
fn a_stale_huge_cursor_ends_cleanly() {
    for kind in [Kind::Hash, Kind::Set, Kind::ZSet] {
        let (_dir, store, _) = filled(kind, 1000);
        let mut cursor = u64::MAX;
        let mut pages = 0;
        loop {
            let p = page(&store, kind, cursor, 100);
            assert!(p.items.len() <= 100);
            pages += 1;
            cursor = p.cursor;
            if cursor == 0 {
                break;
            }
            assert!(pages <= 10, "{kind:?}: a stale cursor must not loop");
        }
    }
}

#[test]
fn a_cursor_of_a_collection_that_shrank_still_ends() {
    for kind in [Kind::Hash, Kind::Set, Kind::ZSet] {
        let (_dir, store, members) = filled(kind, 1000);
        let cursor = page(&store, kind, 0, 50).cursor;
        assert_eq!(cursor, 950);
        for m in &members[200..] {
            remove(&store, kind, m);
        }
        // Above the 200 left: clamped, a page from the top.
        let p = page(&store, kind, cursor, 50);
        assert_eq!((p.cursor, p.items.len()), (150, 50), "{kind:?}");
        for m in &members[100..200] {
            remove(&store, kind, m);
        }
        // Small now: the rest whole.
        let p = page(&store, kind, 150, 50);
        assert_eq!((p.cursor, p.items.len()), (0, 100), "{kind:?}");
    }
}

#[test]
fn a_collection_changed_in_the_transaction_comes_whole() {
    let (_dir, store, members) = filled(Kind::Hash, 1000);
    let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
    store.sadd(b"s", &refs).unwrap();
    let items: Vec<(f64, &[u8])> = refs.iter().map(|m| (0.0, *m)).collect();
    store.zadd(b"z", &items).unwrap();
    store
        .transaction(|tx| {
            // Unchanged here: paged as committed.
            let page = tx.sscan(b"s", 0, 10)?;
            assert_eq!((page.cursor, page.items.len()), (990, 10));
            tx.hset(KEY, b"new", b"v")?;
            tx.hdel(KEY, &[members[3].as_slice()])?;
            let page = tx.hscan(KEY, 500, 10)?;
            assert_eq!(page.cursor, 0);
            let fields: BTreeSet<Vec<u8>> = page.items.into_iter().map(|(f, _)| f).collect();
            assert_eq!(fields.len(), 1000);
            assert!(fields.contains(&b"new"[..]) && !fields.contains(&members[3]));
            // A sorted set changed here comes whole, in score order.
            tx.zincr_by(b"z", &members[0], 1.0)?;
            let page = tx.zscan(b"z", 500, 10)?;
            assert_eq!((page.cursor, page.items.len()), (0, 1000));
            assert_eq!(page.items.last(), Some(&(members[0].clone(), 1.0)));
            Ok(())
        })
        .unwrap();
}

/// What happens between two pages of a scan.
#[derive(Clone, Debug)]
enum Change {
    /// Adds a member that was not there at the start.
    AddNew(u16),
    /// Removes the member at this index of the initial ones.
    Remove(u16),
    /// Adds back one of the initial members (removed before, perhaps).
    AddBack(u16),
    /// Moves an initial member's score (sorted sets; others ignore it): its rank changes.
    Rescore(u16, i16),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => any::<u16>().prop_map(Change::AddNew),
        3 => any::<u16>().prop_map(Change::Remove),
        1 => any::<u16>().prop_map(Change::AddBack),
        3 => (any::<u16>(), any::<i16>()).prop_map(|(i, d)| Change::Rescore(i, d)),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Hash), Just(Kind::Set), Just(Kind::ZSet)]
}

/// Applies `change`, noting the initial members it disturbs in `disturbed`.
fn apply(
    store: &Store,
    kind: Kind,
    initial: &[Vec<u8>],
    change: &Change,
    disturbed: &mut BTreeSet<Vec<u8>>,
) {
    let pick = |i: u16| &initial[usize::from(i) % initial.len()];
    match *change {
        Change::AddNew(i) => add(store, kind, &[format!("new{i}").into_bytes()]),
        Change::Remove(i) => {
            remove(store, kind, pick(i));
            disturbed.insert(pick(i).clone());
        }
        Change::AddBack(i) => add(store, kind, std::slice::from_ref(pick(i))),
        Change::Rescore(i, delta) => {
            if matches!(kind, Kind::ZSet) && store.zscore(KEY, pick(i)).unwrap().is_some() {
                store.zincr_by(KEY, pick(i), f64::from(delta)).unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every initial member never removed during the scan is returned, whatever else
    /// comes and goes; nothing is returned that was never there.
    #[test]
    fn members_present_throughout_are_returned_while_others_change(
        kind in kind(),
        len in 129usize..600,
        count in 1usize..60,
        rounds in prop::collection::vec(prop::collection::vec(change(), 0..10), 1..60),
    ) {
        let (_dir, store, initial) = filled(kind, len);
        let mut disturbed = BTreeSet::new();
        let pages = full_scan(&store, kind, count, |round| {
            for change in rounds.get(round).into_iter().flatten() {
                apply(&store, kind, &initial, change, &mut disturbed);
            }
        });
        let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        for page in &pages {
            for m in &page.items {
                *seen.entry(m.clone()).or_default() += 1;
            }
        }
        for m in &initial {
            prop_assert!(
                disturbed.contains(m) || seen.contains_key(m),
                "{:?} {} present throughout, never returned",
                kind,
                String::from_utf8_lossy(m)
            );
        }
        for m in seen.keys() {
            prop_assert!(initial.contains(m) || m.starts_with(b"new"), "phantom member");
        }
    }
}
