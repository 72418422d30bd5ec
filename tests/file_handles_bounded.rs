//! A store of many segments holds only a few file descriptors when reading through maps:
//! sealed segments keep their mapping, not their descriptor. (Alone in its file so that no
//! other test opens files in this process meanwhile.)

mod common;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
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
