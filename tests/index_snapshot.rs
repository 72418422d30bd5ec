//! The index snapshot: a clean close writes the in-memory index, and the next open loads it
//! instead of rebuilding it — only while the segments are exactly the ones it describes.
//! A stale, foreign, damaged or half-written snapshot is refused (and deleted), and the
//! store opens from its hint files and segments with the same contents.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use keg::{Clock, IoHook, IoOp, ManualClock, MergePolicy, Options, Store, SyncPolicy};

fn options() -> Options {
    // Time stands still, so TTLs read the same in every open.
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_700_000_000_000));
    Options::new()
        .clock(clock)
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(64 << 10)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
}

/// Opens with a snapshot written at every close.
fn open(dir: &Path) -> Store {
    options().index_snapshot_min_bytes(0).open(dir).unwrap()
}

/// Opens with no snapshot written at close (one on disk is still read).
fn open_without_writing(dir: &Path) -> Store {
    options()
        .index_snapshot_min_bytes(u64::MAX)
        .open(dir)
        .unwrap()
}

fn snapshot(dir: &Path) -> PathBuf {
    dir.join("index.snapshot")
}

fn key(i: u32) -> Vec<u8> {
    format!("key:{i:05}").into_bytes()
}

/// Strings (some with TTLs, some overwritten or deleted over several segments) and one
/// collection of each kind; closed cleanly.
fn fill(dir: &Path, value: u8) {
    let store = open(dir);
    for i in 0..3000 {
        store.set(&key(i), &[value; 40]).unwrap();
    }
    for i in (0..3000).step_by(7) {
        store.delete(&key(i)).unwrap();
    }
    for i in (0..3000).step_by(5) {
        store
            .set_with_ttl(&key(i), &[value ^ 1; 30], Duration::from_secs(3600))
            .unwrap();
    }
    store.hset(b"hash", b"f1", b"v1").unwrap();
    store.hset(b"hash", b"f2", &[value]).unwrap();
    store.rpush(b"list", &[b"a", b"b", &[value]]).unwrap();
    store.zadd(b"zset", &[(1.5, b"x"), (-2.0, b"y")]).unwrap();
    store.sadd(b"set", &[b"m1", b"m2"]).unwrap();
    store.close().unwrap();
}

/// Everything a reader can see, and the per-segment figures merge relies on.
fn contents(store: &Store) -> String {
    let mut keys = store.keys();
    keys.sort();
    let mut out = String::new();
    for k in &keys {
        let ttl = store.ttl(k).unwrap();
        let value = match &k[..] {
            b"hash" => format!("{:?}", {
                let mut all = store.hgetall(k).unwrap();
                all.sort();
                all
            }),
            b"list" => format!("{:?}", store.lrange(k, 0, -1).unwrap()),
            b"zset" => format!("{:?}", store.zrange(k, 0, -1, false).unwrap()),
            b"set" => format!("{:?}", {
                let mut all = store.smembers(k).unwrap();
                all.sort();
                all
            }),
            _ => format!("{:?}", store.get(k).unwrap()),
        };
        // TTLs are compared to the second: the two opens happen a moment apart.
        let ttl = match ttl {
            keg::Ttl::ExpiresIn(d) => format!("ttl~{}", (d.as_millis() + 500) / 1000),
            other => format!("{other:?}"),
        };
        out.push_str(&format!("{k:?} {ttl} {value}\n"));
    }
    let stats = store.stats();
    let segments: Vec<(u32, u64)> = stats
        .segments
        .iter()
        .map(|s| (s.id, s.total_bytes))
        .collect();
    out.push_str(&format!(
        "segments {segments:?} seq {} collections {} elements {}",
        stats.last_seq, stats.collections, stats.elements
    ));
    out
}

/// The per-segment figures merge decides by. A snapshot keeps them as they were at close.
/// (They can differ from what a rebuild counts: a merge counts the tombstones it must keep
/// as live bytes of its output, a rebuild counts every tombstone as dead.)
fn usage(store: &Store) -> String {
    let stats = store.stats();
    format!(
        "{:?} live {} dead {}",
        stats.segments, stats.live_bytes, stats.dead_bytes
    )
}

/// Asserts two `contents` agree, naming the first line that differs.
#[track_caller]
fn assert_same(got: &str, want: &str, what: &str) {
    let first = got
        .lines()
        .zip(want.lines())
        .find(|(g, w)| g != w)
        .map(|(g, w)| format!("\ngot  {g}\nwant {w}"));
    assert!(
        got == want,
        "{what}: {}",
        first.unwrap_or_else(|| format!(
            "{} vs {} lines",
            got.lines().count(),
            want.lines().count()
        ))
    );
}

/// What the store holds when opened without any snapshot (hint files and scans).
fn contents_rebuilt(dir: &Path) -> String {
    let kept = std::fs::read(snapshot(dir)).ok();
    let _ = std::fs::remove_file(snapshot(dir));
    let store = open_without_writing(dir);
    assert!(!store.stats().opened_from_index_snapshot);
    let seen = contents(&store);
    store.close().unwrap();
    if let Some(bytes) = kept {
        std::fs::write(snapshot(dir), bytes).unwrap();
    }
    seen
}

#[test]
fn a_clean_close_writes_a_snapshot_and_the_next_open_loads_it_with_the_same_contents() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    assert!(common::segment_files(dir.path()).len() > 2);
    assert!(snapshot(dir.path()).exists());
    let rebuilt = contents_rebuilt(dir.path());

    let rebuilt_usage = {
        let _ = std::fs::rename(snapshot(dir.path()), dir.path().join("aside"));
        let store = open_without_writing(dir.path());
        let seen = usage(&store);
        store.close().unwrap();
        std::fs::rename(dir.path().join("aside"), snapshot(dir.path())).unwrap();
        seen
    };

    assert_eq!(
        keg::check(dir.path()).unwrap().index_snapshot,
        Some(keg::SnapshotCheck::Current)
    );

    let store = open(dir.path());
    assert!(store.stats().opened_from_index_snapshot);
    assert_same(&contents(&store), &rebuilt, "contents");
    assert_same(&usage(&store), &rebuilt_usage, "usage");
    // The loaded index keeps working: writes, deletes, collections, a merge.
    store.set(&key(1), b"new").unwrap();
    store.delete(&key(2)).unwrap();
    store.hset(b"hash", b"f3", b"v3").unwrap();
    store.merge().unwrap();
    let after_writes = contents(&store);
    let usage_at_close = usage(&store);
    store.close().unwrap();

    let store = open(dir.path());
    assert!(store.stats().opened_from_index_snapshot);
    assert_same(&contents(&store), &after_writes, "contents");
    assert_same(&usage(&store), &usage_at_close, "usage");
    drop(store);
    assert_same(&contents_rebuilt(dir.path()), &after_writes, "rebuilt");
}

#[test]
fn an_index_below_the_threshold_writes_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = options().open(dir.path()).unwrap();
    for i in 0..100 {
        store.set(&key(i), b"v").unwrap();
    }
    store.close().unwrap();
    assert!(!snapshot(dir.path()).exists());
    assert!(
        !options()
            .open(dir.path())
            .unwrap()
            .stats()
            .opened_from_index_snapshot
    );
}

/// Writes and a merge after the snapshot (whose store then closes without writing a new
/// one) leave it describing segments that changed: it is refused and deleted.
#[test]
fn a_snapshot_is_refused_after_writes_or_a_merge_since_it_was_written() {
    for merge in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 3);
        let store = open_without_writing(dir.path());
        assert!(store.stats().opened_from_index_snapshot);
        for i in 0..1000 {
            store.set(&key(i), b"changed").unwrap();
        }
        if merge {
            store.merge().unwrap();
        }
        let want = contents(&store);
        store.close().unwrap();
        assert!(
            snapshot(dir.path()).exists(),
            "the stale snapshot is still there"
        );
        assert_eq!(
            keg::check(dir.path()).unwrap().index_snapshot,
            Some(keg::SnapshotCheck::Stale)
        );

        let store = open(dir.path());
        assert!(!store.stats().opened_from_index_snapshot, "merge: {merge}");
        assert!(!snapshot(dir.path()).exists(), "and refused at open");
        assert_same(&contents(&store), &want, "contents");
    }
}

/// A crash after the snapshot (writes without a close) leaves the active segment longer
/// than the snapshot says.
#[test]
fn a_snapshot_is_refused_after_a_crash_that_appended_to_the_active_segment() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let store = open(dir.path());
    store.set(&key(4), b"after the snapshot").unwrap();
    store.delete(&key(8)).unwrap();
    let want = contents(&store);
    // What a crash leaves: every file as the writes left it (they reached the OS), and no
    // close.
    let crashed = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != keg::LOCK_FILE {
            std::fs::copy(&path, crashed.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    drop(store);

    let store = open(crashed.path());
    assert!(!store.stats().opened_from_index_snapshot);
    assert_same(&contents(&store), &want, "contents");
}

/// Two stores with the same history of key and value lengths have segments of the same
/// lengths: a snapshot copied from one to the other must still be refused (the segments'
/// last bytes differ), or the second store would read the first one's index.
#[test]
fn a_snapshot_of_another_store_with_segments_of_the_same_lengths_is_refused() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    fill(a.path(), 3);
    fill(b.path(), 4);
    let lengths = |dir: &Path| -> Vec<u64> {
        common::segment_files(dir)
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect()
    };
    assert_eq!(lengths(a.path()), lengths(b.path()));
    let want = contents_rebuilt(b.path());
    std::fs::copy(snapshot(a.path()), snapshot(b.path())).unwrap();

    let store = open(b.path());
    assert!(!store.stats().opened_from_index_snapshot);
    assert_same(&contents(&store), &want, "contents");
}

#[test]
fn a_damaged_or_cut_snapshot_is_refused_and_the_store_opens_the_same() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let want = contents_rebuilt(dir.path());
    let good = std::fs::read(snapshot(dir.path())).unwrap();
    let len = good.len();
    let flips = [0, 9, 20, 40, 100, len / 3, len / 2, len - 5, len - 1];
    let cuts = [0, 31, len / 2, len - 4, len - 1];
    let damaged = flips
        .iter()
        .map(|&at| {
            let mut bytes = good.clone();
            bytes[at] ^= 0x10;
            (format!("bit flipped at {at}"), bytes)
        })
        .chain(
            cuts.iter()
                .map(|&at| (format!("cut at {at}"), good[..at].to_vec())),
        );
    for (what, bytes) in damaged {
        std::fs::write(snapshot(dir.path()), &bytes).unwrap();
        let store = open_without_writing(dir.path());
        assert!(!store.stats().opened_from_index_snapshot, "{what}");
        assert!(!snapshot(dir.path()).exists(), "{what}: deleted");
        assert_same(&contents(&store), &want, &what);
        store.close().unwrap();
    }
    std::fs::write(snapshot(dir.path()), &good).unwrap();
    assert!(open(dir.path()).stats().opened_from_index_snapshot);
}

/// Fails every operation on the snapshot's temporary file from the `n`th on.
#[derive(Default)]
struct FailSnapshotWrite {
    seen: std::sync::atomic::AtomicUsize,
    fail_from: usize,
}

impl IoHook for FailSnapshotWrite {
    fn before(&self, op: &IoOp<'_>) -> std::io::Result<()> {
        let path = match op {
            IoOp::CreateFile { path }
            | IoOp::Write { path, .. }
            | IoOp::SyncFile { path }
            | IoOp::RemoveFile { path } => *path,
            IoOp::Rename { from, .. } => *from,
            _ => return Ok(()),
        };
        if !path.ends_with("index.snapshot.tmp") || matches!(op, IoOp::RemoveFile { .. }) {
            return Ok(());
        }
        let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n >= self.fail_from {
            return Err(std::io::Error::other("simulated failure"));
        }
        Ok(())
    }
}

/// A snapshot whose writing fails at any step (create, write, fsync, rename) is only an
/// optimisation lost: close still succeeds, no temporary file is left, and the next open
/// rebuilds the index — also when an earlier, now stale, snapshot is on disk.
#[test]
fn a_snapshot_write_that_fails_at_any_step_leaves_a_store_that_opens_the_same() {
    for fail_from in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 3);
        let hook = Arc::new(FailSnapshotWrite {
            fail_from,
            ..FailSnapshotWrite::default()
        });
        let store = options()
            .index_snapshot_min_bytes(0)
            .io_hook(hook)
            .open(dir.path())
            .unwrap();
        assert!(store.stats().opened_from_index_snapshot);
        store.set(&key(1), b"after").unwrap();
        let want = contents(&store);
        store.close().unwrap();
        assert!(!dir.path().join("index.snapshot.tmp").exists());

        let store = open(dir.path());
        assert!(
            !store.stats().opened_from_index_snapshot,
            "step {fail_from}"
        );
        assert_same(&contents(&store), &want, "contents");
    }
}

#[test]
fn a_temporary_snapshot_left_by_a_crash_is_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let temp = dir.path().join("index.snapshot.tmp");
    std::fs::write(&temp, b"half written").unwrap();
    let store = open(dir.path());
    assert!(store.stats().opened_from_index_snapshot);
    assert!(!temp.exists());
}

/// The snapshot says which segments had hint files; one deleted since is not taken for
/// present, so the merge thread writes it again.
#[test]
fn a_hint_deleted_after_the_snapshot_is_written_again() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let store = open(dir.path());
    store.merge().unwrap();
    store.close().unwrap();
    let hints: Vec<PathBuf> = common::segment_files(dir.path())
        .iter()
        .map(|p| p.with_extension("hint"))
        .filter(|h| h.exists())
        .collect();
    assert!(!hints.is_empty());
    std::fs::remove_file(&hints[0]).unwrap();

    // A merge thread that never merges (no trigger can fire), only writes missing hints.
    let store = options()
        .index_snapshot_min_bytes(0)
        .merge_policy(MergePolicy {
            check_interval: Duration::from_millis(10),
            fragmentation_trigger: 100,
            dead_bytes_trigger: u64::MAX,
            ..MergePolicy::default()
        })
        .open(dir.path())
        .unwrap();
    assert!(store.stats().opened_from_index_snapshot);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !hints[0].exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(hints[0].exists());
}

/// A close with nothing changed keeps the snapshot it loaded, but writes it again if it was
/// deleted meanwhile.
#[test]
fn an_unchanged_store_keeps_its_snapshot_and_rewrites_a_deleted_one() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 3);
    let written = std::fs::metadata(snapshot(dir.path()))
        .unwrap()
        .modified()
        .unwrap();
    let store = open(dir.path());
    assert!(store.stats().opened_from_index_snapshot);
    store.close().unwrap();
    let kept = std::fs::metadata(snapshot(dir.path()))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        kept, written,
        "an unchanged store does not write its snapshot again"
    );

    let store = open(dir.path());
    std::fs::remove_file(snapshot(dir.path())).unwrap();
    store.close().unwrap();
    assert!(snapshot(dir.path()).exists());
    assert!(open(dir.path()).stats().opened_from_index_snapshot);
}

/// The same for the active segment's hint, which a clean close writes for a big segment.
#[test]
fn an_active_hint_deleted_after_the_snapshot_is_written_again_at_close() {
    let dir = tempfile::tempdir().unwrap();
    let open_big = || {
        options()
            .max_segment_size(8 << 20)
            .index_snapshot_min_bytes(0)
            .open(dir.path())
            .unwrap()
    };
    let store = open_big();
    for i in 0..12_000 {
        store.set(&key(i), &[7; 100]).unwrap();
    }
    store.close().unwrap();
    let active_hint = common::newest_segment(dir.path()).with_extension("hint");
    assert!(
        active_hint.exists(),
        "a clean close writes the big active segment's hint"
    );
    std::fs::remove_file(&active_hint).unwrap();

    let store = open_big();
    assert!(store.stats().opened_from_index_snapshot);
    store.close().unwrap();
    assert!(active_hint.exists());
}
