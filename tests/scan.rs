//! `Store::scan`: a cursor walk returns every key present throughout exactly once, whatever
//! is written, deleted or grown in between; expired keys are left out; pages are about
//! `count` keys and never empty before the end.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use keg::{ManualClock, Options, Store, SyncPolicy};

fn full_scan(store: &Store, count: usize) -> (Vec<Vec<u8>>, usize) {
    let mut keys = Vec::new();
    let mut pages = 0;
    let mut cursor = 0;
    loop {
        let page = store.scan(cursor, count);
        pages += 1;
        assert!(
            !page.keys.is_empty() || page.cursor == 0,
            "an empty page before the end"
        );
        keys.extend(page.keys);
        cursor = page.cursor;
        if cursor == 0 {
            return (keys, pages);
        }
        assert!(pages < 1_000_000, "the scan does not end");
    }
}

fn key(i: u32) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

#[test]
fn an_empty_store_scans_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let page = store.scan(0, 10);
    assert_eq!(page.cursor, 0);
    assert!(page.keys.is_empty());
}

#[test]
fn every_key_exactly_once_at_any_page_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    for i in 0..5_000 {
        store.set(&key(i), b"v").unwrap();
    }
    for count in [1, 10, 100, 10_000] {
        let (keys, pages) = full_scan(&store, count);
        let mut times: HashMap<Vec<u8>, usize> = HashMap::new();
        for k in keys {
            *times.entry(k).or_default() += 1;
        }
        assert_eq!(times.len(), 5_000, "count {count}");
        assert!(
            times.values().all(|&n| n == 1),
            "count {count}: a key twice"
        );
        // Pages hold about `count` keys (hashes spread evenly).
        let expected_pages = 5_000usize.div_ceil(count);
        assert!(
            pages <= expected_pages * 3 + 2 && pages * 3 + 2 >= expected_pages,
            "count {count}: {pages} pages, expected about {expected_pages}"
        );
    }
}

#[test]
fn keys_present_throughout_are_returned_despite_writes_deletes_and_growth() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let stable: HashSet<Vec<u8>> = (0..2_000).map(key).collect();
    for k in &stable {
        store.set(k, b"v").unwrap();
    }
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut cursor = 0;
    let mut round = 0u32;
    loop {
        let page = store.scan(cursor, 20);
        for k in page.keys {
            *seen.entry(k).or_default() += 1;
        }
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
        // Between pages: grow the index a lot, then delete what was added (tables
        // grow, shrink and rehash under the cursor).
        let base = 10_000 + round * 200;
        for i in base..base + 200 {
            store.set(&key(i), b"x").unwrap();
        }
        if round % 5 == 4 {
            for i in (base - 800)..(base + 200) {
                store.delete(&key(i)).unwrap();
            }
        }
        round += 1;
        assert!(round < 100_000);
    }
    for k in &stable {
        assert_eq!(seen.get(k), Some(&1), "{:?} not returned exactly once", k);
    }
}

#[test]
fn expired_keys_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(Arc::clone(&clock) as Arc<dyn keg::Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir.path())
        .unwrap();
    for i in 0..100 {
        store.set(&key(i), b"v").unwrap();
    }
    for i in 100..200 {
        store
            .set_with_ttl(&key(i), b"v", Duration::from_secs(1))
            .unwrap();
    }
    assert_eq!(full_scan(&store, 10).0.len(), 200);
    clock.advance(Duration::from_secs(1));
    let (keys, _) = full_scan(&store, 10);
    assert_eq!(keys.len(), 100);
    assert!(keys.iter().all(|k| store.contains(k)));
}

#[test]
fn any_cursor_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    for i in 0..100 {
        store.set(&key(i), b"v").unwrap();
    }
    for cursor in [1, 12345, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
        let mut c = cursor;
        let mut n = 0;
        loop {
            let page = store.scan(c, 7);
            n += page.keys.len();
            c = page.cursor;
            if c == 0 {
                break;
            }
        }
        assert!(n <= 100);
    }
}
