//! A crash at any point of a merge opens to exactly the same contents; deleted keys never
//! come back (the Bitcask #82 scenario); readers see correct values throughout; file
//! handles stay bounded across many merges.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Crash;
use keg::{MergePolicy, Options, Store, SyncPolicy};

fn options(hook: Option<Arc<Crash>>) -> Options {
    let o = Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(8 * 1024)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .expiry_cycle_interval(Duration::ZERO);
    match hook {
        Some(h) => o.io_hook(h),
        None => o,
    }
}

fn contents(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store
        .keys()
        .into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

/// Overwrites, deletes and TTL'd keys spread over many segments.
fn populate(store: &Store) {
    for round in 0..4u32 {
        for k in 0..120u32 {
            store
                .set(
                    format!("k{k:03}").as_bytes(),
                    format!("{round}-{k}-").repeat(6).as_bytes(),
                )
                .unwrap();
        }
    }
    for k in (0..120u32).step_by(3) {
        store.delete(format!("k{k:03}").as_bytes()).unwrap();
    }
    for k in 0..20u32 {
        store
            .set_with_ttl(
                format!("t{k:02}").as_bytes(),
                b"v",
                Duration::from_secs(3600),
            )
            .unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_crash_at_every_point_of_a_merge_opens_to_the_same_contents() {
    let base = tempfile::tempdir().unwrap();
    let pristine = base.path().join("pristine");
    {
        let store = options(None).open(&pristine).unwrap();
        populate(&store);
    }
    let expected = contents(&options(None).open(&pristine).unwrap());

    // Count the I/O operations of a whole merge.
    let hook = Arc::new(Crash::default());
    let total = {
        let dir = base.path().join("count");
        copy_dir(&pristine, &dir);
        let store = options(Some(Arc::clone(&hook))).open(&dir).unwrap();
        hook.arm(usize::MAX);
        let report = store.merge().unwrap();
        assert!(report.merged.len() > 3, "{report:?}");
        hook.disarm()
    };
    assert!(total > 10, "{total} operations");
    eprintln!("a merge of this store makes {total} I/O operations; crashing at each");

    for crash_at in 0..=total {
        let dir = base.path().join(format!("crash-{crash_at}"));
        copy_dir(&pristine, &dir);
        let hook = Arc::new(Crash::default());
        {
            let store = options(Some(Arc::clone(&hook))).open(&dir).unwrap();
            hook.arm(crash_at);
            let _ = store.merge();
            // The "machine" is dead: dropping the store cannot write anything either.
        }
        let store = options(None).open(&dir).unwrap();
        assert_eq!(
            contents(&store),
            expected,
            "crash at operation {crash_at} of {total}"
        );
        // And the store works on: a full merge completes, contents unchanged.
        store.merge().unwrap();
        assert_eq!(
            contents(&store),
            expected,
            "merge after recovering from {crash_at}"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Bitcask issue #82: a key deleted before a merge that was interrupted must not come back
/// after a restart.
#[test]
fn a_deleted_key_stays_deleted_after_an_interrupted_merge_and_restart() {
    for crash_at in [0usize, 3, 6, 9, 12, 20, 40, usize::MAX] {
        let dir = tempfile::tempdir().unwrap();
        let hook = Arc::new(Crash::default());
        {
            let store = options(Some(Arc::clone(&hook))).open(dir.path()).unwrap();
            store.set(b"doomed", &[1u8; 500]).unwrap();
            for i in 0..200u32 {
                store.set(&i.to_le_bytes(), &[2u8; 100]).unwrap();
            }
            assert!(store.delete(b"doomed").unwrap());
            for i in 0..200u32 {
                store.set(&i.to_le_bytes(), &[3u8; 100]).unwrap();
            }
            hook.arm(crash_at);
            let _ = store.merge();
        }
        let store = options(None).open(dir.path()).unwrap();
        assert_eq!(store.get(b"doomed").unwrap(), None, "crash at {crash_at}");
        store.merge().unwrap();
        drop(store);
        let store = options(None).open(dir.path()).unwrap();
        assert_eq!(
            store.get(b"doomed").unwrap(),
            None,
            "after another merge, crash at {crash_at}"
        );
    }
}

#[test]
fn readers_see_correct_values_while_merges_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = options(None).open(dir.path()).unwrap();
    for k in 0..300u32 {
        store.set(&k.to_le_bytes(), &value(k, 0)).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for k in 0..300u32 {
                        let v = store.get(&k.to_le_bytes()).unwrap().unwrap();
                        assert_eq!(&v[..4], &k.to_le_bytes(), "value of another key");
                        assert!(v[4..].iter().all(|&b| b == v[4]), "torn value");
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();
    for round in 1..=20u8 {
        for k in 0..300u32 {
            store.set(&k.to_le_bytes(), &value(k, round)).unwrap();
        }
        store.merge().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    for k in 0..300u32 {
        assert_eq!(store.get(&k.to_le_bytes()).unwrap(), Some(value(k, 20)));
    }
}

fn value(k: u32, round: u8) -> Vec<u8> {
    let mut v = k.to_le_bytes().to_vec();
    v.extend(std::iter::repeat_n(round, 60));
    v
}
