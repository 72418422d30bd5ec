//! A store of many segments holds only a few file descriptors when reading through maps:
//! sealed segments keep their mapping, not their descriptor, also across many merges.
//! (Alone in its file so that no other test opens files in this process meanwhile.)

mod common;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Both checks in one test: they count the process's descriptors, so nothing else may
/// open files meanwhile.
#[test]
fn descriptors_stay_bounded() {
    descriptors_do_not_grow_with_segments();
    descriptors_do_not_grow_across_a_thousand_merges();
}

fn descriptors_do_not_grow_with_segments() {
    let dir = tempfile::tempdir().unwrap();
    let before = open_fds();
    let store = common::fast_options()
        .max_segment_size(4096)
        .open(dir.path())
        .unwrap();
    for i in 0..2000u32 {
        store.set(&i.to_le_bytes(), &[9u8; 200]).unwrap();
    }
    let segments = common::segment_files(dir.path()).len();
    assert!(segments > 100, "{segments} segments");
    // The active segment and the lock file, plus slack for the test harness.
    assert!(
        open_fds() <= before + 4,
        "{} descriptors open",
        open_fds() - before
    );
    for i in (0..2000u32).step_by(97) {
        assert_eq!(store.get(&i.to_le_bytes()).unwrap(), Some(vec![9u8; 200]));
    }
    drop(store);

    let store = common::fast_options()
        .max_segment_size(4096)
        .open(dir.path())
        .unwrap();
    assert!(
        open_fds() <= before + 4,
        "{} descriptors open after reopen",
        open_fds() - before
    );
    assert_eq!(store.len(), 2000);
    drop(store);
    assert!(open_fds() <= before + 1);
}

fn descriptors_do_not_grow_across_a_thousand_merges() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fast_options()
        .max_segment_size(4096)
        .merge_policy(keg::MergePolicy {
            check_interval: std::time::Duration::ZERO,
            ..keg::MergePolicy::default()
        })
        .open(dir.path())
        .unwrap();
    for i in 0..200u32 {
        store.set(&i.to_le_bytes(), &[1u8; 100]).unwrap();
    }
    store.merge().unwrap();
    let before = open_fds();
    for round in 0..1000u32 {
        for i in 0..20u32 {
            store
                .set(&((round * 7 + i) % 200).to_le_bytes(), &[2u8; 100])
                .unwrap();
        }
        store.merge().unwrap();
    }
    assert!(
        open_fds() <= before + 2,
        "{} more descriptors",
        open_fds() - before
    );
    assert_eq!(store.len(), 200);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(files < 40, "{files} files left in the directory");
}
