//! The active segment is sealed at `max_segment_size` and the data spans many files; reads
//! and recovery work across all of them.

mod common;

use keg::Options;

fn small_segments() -> Options {
    common::fast_options().max_segment_size(4096)
}

#[test]
fn writes_rotate_into_many_segments_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_segments().open(dir.path()).unwrap();
    let value = [7u8; 100];
    for i in 0..1000u32 {
        store.set(format!("key-{i:05}").as_bytes(), &value).unwrap();
    }
    let files = common::segment_files(dir.path());
    assert!(files.len() > 30, "only {} segments", files.len());
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() <= 4096, "{f:?} too big");
    }
    let stats = store.stats();
    assert_eq!(stats.segments.len(), files.len());
    assert_eq!(stats.segments.iter().filter(|s| s.active).count(), 1);
    assert!(stats.segments.last().unwrap().active);
    // Reads reach sealed segments and the active one.
    for i in (0..1000u32).step_by(7) {
        assert_eq!(
            store
                .get(format!("key-{i:05}").as_bytes())
                .unwrap()
                .as_deref(),
            Some(&value[..])
        );
    }
    drop(store);
    let store = small_segments().open(dir.path()).unwrap();
    assert_eq!(store.len(), 1000);
    assert_eq!(common::segment_files(dir.path()).len(), files.len());
    for i in 0..1000u32 {
        assert!(store.contains(format!("key-{i:05}").as_bytes()));
    }
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_segments().open(dir.path()).unwrap();
    store.set(b"small", b"x").unwrap();
    let big = vec![0xAB; 20_000];
    store.set(b"big", &big).unwrap();
    store.set(b"after", b"y").unwrap();
    assert_eq!(store.get(b"big").unwrap(), Some(big.clone()));
    drop(store);
    let store = small_segments().open(dir.path()).unwrap();
    assert_eq!(store.get(b"big").unwrap(), Some(big));
    assert_eq!(store.get(b"small").unwrap(), Some(b"x".to_vec()));
    assert_eq!(store.get(b"after").unwrap(), Some(b"y".to_vec()));
}

#[test]
fn newest_segment_keeps_receiving_appends_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_segments().open(dir.path()).unwrap();
    store.set(b"a", b"1").unwrap();
    drop(store);
    let store = small_segments().open(dir.path()).unwrap();
    store.set(b"b", b"2").unwrap();
    assert_eq!(
        common::segment_files(dir.path()).len(),
        1,
        "no new file per open"
    );
    drop(store);
    let store = small_segments().open(dir.path()).unwrap();
    assert_eq!(store.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get(b"b").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn a_smaller_segment_size_on_reopen_rotates_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    for i in 0..100u32 {
        store.set(&i.to_le_bytes(), &[1u8; 100]).unwrap();
    }
    drop(store);
    let store = small_segments().open(dir.path()).unwrap();
    store.set(b"next", b"v").unwrap();
    assert_eq!(common::segment_files(dir.path()).len(), 2);
    assert_eq!(store.len(), 101);
}

/// Found by the `collection_model` fuzz target: a value larger than a whole segment,
/// written first into an empty segment whose read mapping was sized by
/// `max_segment_size` (a new store's first segment, or one made at open), could not be
/// read back ("record outside mapping"). Such a write now goes to a segment mapped for it.
#[test]
fn a_value_larger_than_a_segment_written_into_an_empty_one_reads_back() {
    for use_mmap in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let options = || {
            keg::Options::new()
                .max_segment_size(keg::MIN_SEGMENT_SIZE)
                .use_mmap(use_mmap)
        };
        let big = vec![b'z'; 3 * keg::MIN_SEGMENT_SIZE as usize];
        let store = options().open(dir.path()).unwrap();
        store.set(b"first", &big).unwrap();
        assert_eq!(store.get(b"first").unwrap().as_deref(), Some(&big[..]));
        store.close().unwrap();
        let store = options().open(dir.path()).unwrap();
        assert_eq!(store.get(b"first").unwrap().as_deref(), Some(&big[..]));
        store.append(b"first", b"tail").unwrap();
        store.set(b"second", &big).unwrap();
        let mut longer = big.clone();
        longer.extend_from_slice(b"tail");
        assert_eq!(store.get(b"first").unwrap().as_deref(), Some(&longer[..]));
        assert_eq!(store.get(b"second").unwrap().as_deref(), Some(&big[..]));
    }
}
