//! Model test: random sequences of set / set-with-TTL / delete / get / expire / persist /
//! incr / batch / clock advance / purge / merge / crash-in-merge / reopen (with or without
//! an index snapshot at the close before) / torn-write-then-reopen against a
//! `BTreeMap` model, with shrinking. Keys come from a small alphabet so overwrites and
//! deletes of present keys are frequent; segments are small so rotation happens; time is a
//! manual clock.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::{Clock, Error, ManualClock, Options, Store, SyncPolicy, Ttl, WriteBatch};
use proptest::prelude::*;

const T0: u64 = 1_000_000;

#[derive(Clone, Debug)]
enum Op {
    Set(u8, Vec<u8>),
    /// Set with a TTL in ms (1..).
    SetTtl(u8, Vec<u8>, u64),
    Delete(u8),
    Get(u8),
    /// Expire after ms (0 deletes).
    Expire(u8, u64),
    Persist(u8),
    Incr(u8, i64),
    /// Sets (`Some`) and deletes (`None`) applied atomically.
    Batch(Vec<(u8, Option<Vec<u8>>)>),
    /// Move the clock forward by ms.
    Advance(u64),
    /// Run the expiry cycle to the end.
    Purge,
    /// Close cleanly and reopen; the store opened writes an index snapshot at its own
    /// close (every close from then on, until the next `Reopen(false)`) if `true`. A
    /// snapshot left by an earlier close then goes stale under later writes.
    Reopen(bool),
    /// Drop without close, append bytes a crash could leave (a torn record), reopen.
    CrashWithTornTail(Vec<u8>),
    /// Merge now.
    Merge,
    /// Merge, with the machine stopping after this many I/O operations; reopen.
    CrashInMerge(usize),
}

fn key(k: u8) -> Vec<u8> {
    // Lengths 0..=3: the empty key is a key too.
    vec![b'a' + k % 4; (k / 4) as usize % 4]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => (-1000i64..1000).prop_map(|n| n.to_string().into_bytes()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..16, value()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => (0u8..16, value(), 1u64..3000).prop_map(|(k, v, t)| Op::SetTtl(k, v, t)),
        4 => (0u8..16).prop_map(Op::Delete),
        4 => (0u8..16).prop_map(Op::Get),
        2 => (0u8..16, 0u64..3000).prop_map(|(k, t)| Op::Expire(k, t)),
        1 => (0u8..16).prop_map(Op::Persist),
        3 => (0u8..16, -5i64..5).prop_map(|(k, d)| Op::Incr(k, d)),
        2 => proptest::collection::vec((0u8..16, proptest::option::of(value())), 1..6)
            .prop_map(Op::Batch),
        2 => (0u64..2000).prop_map(Op::Advance),
        1 => Just(Op::Purge),
        1 => any::<bool>().prop_map(Op::Reopen),
        1 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Op::CrashWithTornTail),
        2 => Just(Op::Merge),
        1 => (0usize..40).prop_map(Op::CrashInMerge),
    ]
}

/// The model: each key's value and expiry (unix ms, 0 = never).
#[derive(Default)]
struct Model {
    keys: BTreeMap<Vec<u8>, (Vec<u8>, u64)>,
}

impl Model {
    fn live(&self, now: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.keys
            .iter()
            .filter(|(_, (_, e))| *e == 0 || *e > now)
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }

    fn get(&self, k: &[u8], now: u64) -> Option<&(Vec<u8>, u64)> {
        self.keys.get(k).filter(|(_, e)| *e == 0 || *e > now)
    }

    fn ttl(&self, k: &[u8], now: u64) -> Ttl {
        match self.get(k, now) {
            None => Ttl::Missing,
            Some((_, 0)) => Ttl::NoExpiry,
            Some((_, e)) => Ttl::ExpiresIn(Duration::from_millis(e - now)),
        }
    }
}

fn open(
    dir: &Path,
    clock: &Arc<ManualClock>,
    crash: &Arc<common::Crash>,
    snapshots: bool,
) -> Store {
    Options::new()
        .index_snapshot_min_bytes(if snapshots { 0 } else { u64::MAX })
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(4096)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(keg::MergePolicy {
            check_interval: Duration::ZERO,
            ..keg::MergePolicy::default()
        })
        .io_hook(Arc::clone(crash) as Arc<dyn keg::IoHook>)
        .open(dir)
        .unwrap()
}

fn check_all(store: &Store, model: &Model, now: u64) -> Result<(), TestCaseError> {
    let live = model.live(now);
    prop_assert_eq!(store.len(), live.len());
    let mut keys = store.keys();
    keys.sort();
    prop_assert_eq!(keys, live.keys().cloned().collect::<Vec<_>>());
    for (k, v) in &live {
        prop_assert_eq!(store.get(k).unwrap(), Some(v.clone()));
        prop_assert_eq!(store.ttl(k).unwrap(), model.ttl(k, now));
    }
    Ok(())
}

/// Runs `ops` against a store and the model, checking every answer; then checks the whole
/// contents, before and after a final reopen.
fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let crash = Arc::new(common::Crash::default());
    let mut snapshots = false;
    let mut store = open(dir.path(), &clock, &crash, snapshots);
    let mut model = Model::default();
    for op in ops {
        let now = clock.now_ms();
        match op {
            Op::Set(k, v) => {
                store.set(&key(k), &v).unwrap();
                model.keys.insert(key(k), (v, 0));
            }
            Op::SetTtl(k, v, t) => {
                store
                    .set_with_ttl(&key(k), &v, Duration::from_millis(t))
                    .unwrap();
                model.keys.insert(key(k), (v, now + t));
            }
            Op::Delete(k) => {
                let existed = model.get(&key(k), now).is_some();
                prop_assert_eq!(store.delete(&key(k)).unwrap(), existed);
                if existed {
                    model.keys.remove(&key(k));
                }
            }
            Op::Get(k) => {
                let want = model.get(&key(k), now).map(|(v, _)| v.clone());
                prop_assert_eq!(store.contains(&key(k)), want.is_some());
                prop_assert_eq!(store.get(&key(k)).unwrap(), want);
                prop_assert_eq!(store.ttl(&key(k)).unwrap(), model.ttl(&key(k), now));
            }
            Op::Expire(k, t) => {
                let present = model.get(&key(k), now).cloned();
                prop_assert_eq!(
                    store.expire(&key(k), Duration::from_millis(t)).unwrap(),
                    present.is_some()
                );
                if let Some((v, _)) = present {
                    if t == 0 {
                        model.keys.remove(&key(k));
                    } else {
                        model.keys.insert(key(k), (v, now + t));
                    }
                }
            }
            Op::Persist(k) => {
                let present = model.get(&key(k), now).cloned();
                let had_ttl = present.as_ref().is_some_and(|(_, e)| *e != 0);
                prop_assert_eq!(store.persist(&key(k)).unwrap(), had_ttl);
                if let (Some((v, _)), true) = (present, had_ttl) {
                    model.keys.insert(key(k), (v, 0));
                }
            }
            Op::Incr(k, d) => {
                let current = model.get(&key(k), now).cloned();
                let parsed = match &current {
                    None => Some(0i64),
                    Some((v, _)) => std::str::from_utf8(v)
                        .ok()
                        .filter(|s| {
                            *s == "0"
                                || (!s.starts_with('0')
                                    && !s.starts_with("-0")
                                    && !s.starts_with('+'))
                        })
                        .and_then(|s| s.parse::<i64>().ok()),
                };
                match (parsed, store.incr_by(&key(k), d)) {
                    (Some(old), Ok(new)) => {
                        prop_assert_eq!(new, old + d);
                        let expiry = current.map_or(0, |(_, e)| e);
                        model
                            .keys
                            .insert(key(k), (new.to_string().into_bytes(), expiry));
                    }
                    (None, Err(Error::NotAnInteger)) => {}
                    (want, got) => prop_assert!(
                        false,
                        "incr {:?}: model {:?}, store {:?}",
                        key(k),
                        want,
                        got
                    ),
                }
            }
            Op::Batch(ops) => {
                let mut batch = WriteBatch::new();
                for (k, v) in &ops {
                    match v {
                        Some(v) => {
                            batch.set(&key(*k), v);
                        }
                        None => {
                            batch.delete(&key(*k));
                        }
                    }
                }
                store.write(&batch).unwrap();
                for (k, v) in ops {
                    match v {
                        Some(v) => {
                            model.keys.insert(key(k), (v, 0));
                        }
                        // Deleting an expired key is a no-op: the expiry cycle still sees
                        // (and counts) it.
                        None if model.get(&key(k), now).is_some() => {
                            model.keys.remove(&key(k));
                        }
                        None => {}
                    }
                }
            }
            Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
            Op::Purge => {
                // A merge may already have dropped some expired keys: at most these remain.
                let expired = model.keys.len() - model.live(now).len();
                prop_assert!(store.purge_expired().unwrap() <= expired as u64);
                model.keys.retain(|_, (_, e)| *e == 0 || *e > now);
            }
            Op::Reopen(snapshot) => {
                store.close().unwrap();
                let wrote_snapshot = snapshots;
                snapshots = snapshot;
                store = open(dir.path(), &clock, &crash, snapshots);
                // (Without one written at this close, an older one may still match.)
                if wrote_snapshot {
                    prop_assert!(store.stats().opened_from_index_snapshot);
                }
                check_all(&store, &model, now)?;
            }
            Op::Merge => {
                store.merge().unwrap();
                check_all(&store, &model, now)?;
            }
            Op::CrashInMerge(after) => {
                crash.arm(after);
                let _ = store.merge();
                drop(store);
                crash.disarm();
                store = open(dir.path(), &clock, &crash, snapshots);
                check_all(&store, &model, now)?;
            }
            Op::CrashWithTornTail(junk) => {
                drop(store);
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(common::newest_segment(dir.path()))
                    .unwrap();
                // A torn record: fewer bytes than a record header.
                let torn = &junk[..junk.len().min(keg::format::RECORD_HEADER_LEN - 1)];
                f.write_all(torn).unwrap();
                drop(f);
                store = open(dir.path(), &clock, &crash, snapshots);
                check_all(&store, &model, now)?;
            }
        }
    }
    let now = clock.now_ms();
    check_all(&store, &model, now)?;
    drop(store);
    check_all(&open(dir.path(), &clock, &crash, snapshots), &model, now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_btreemap(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops)?;
    }

    /// INCR on a value that is not an integer, or that would overflow, never changes it.
    #[test]
    fn failed_increments_change_nothing(value in proptest::collection::vec(any::<u8>(), 0..24), delta in any::<i64>()) {
        let dir = tempfile::tempdir().unwrap();
        let store = common::open_fast(dir.path());
        store.set(b"k", &value).unwrap();
        let seq = store.stats().last_seq;
        match store.incr_by(b"k", delta) {
            Ok(n) => {
                let old: i64 = std::str::from_utf8(&value).unwrap().parse().unwrap();
                prop_assert_eq!(old.checked_add(delta), Some(n));
            }
            Err(Error::NotAnInteger | Error::Overflow) => {
                prop_assert_eq!(store.get(b"k").unwrap(), Some(value));
                prop_assert_eq!(store.stats().last_seq, seq, "nothing written");
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

/// Frozen cases found or worth keeping; each must stay green.
mod regressions {
    use super::*;

    #[test]
    fn delete_then_reopen_does_not_resurrect_from_an_older_segment() {
        // The tombstone lands in a later segment than the put it shadows.
        let mut ops = vec![Op::Set(1, vec![1; 100])];
        ops.extend((0..60).map(|i| Op::Set(2 + (i % 10), vec![i; 100])));
        ops.push(Op::Delete(1));
        ops.push(Op::Reopen(false));
        ops.push(Op::Get(1));
        run(ops).unwrap();
    }

    #[test]
    fn empty_key_survives_reopen() {
        run(vec![
            Op::Set(0, vec![]),
            Op::Reopen(false),
            Op::Get(0),
            Op::Delete(0),
            Op::Reopen(false),
            Op::Get(0),
        ])
        .unwrap();
    }

    #[test]
    fn torn_tail_after_a_delete_keeps_the_delete() {
        run(vec![
            Op::Set(3, vec![7; 10]),
            Op::Delete(3),
            Op::CrashWithTornTail(vec![0xff; 40]),
            Op::Get(3),
        ])
        .unwrap();
    }

    #[test]
    fn an_expired_key_purged_before_a_reopen_stays_gone() {
        run(vec![
            Op::SetTtl(2, b"v".to_vec(), 10),
            Op::Advance(10),
            Op::Purge,
            Op::Reopen(false),
            Op::Get(2),
        ])
        .unwrap();
    }

    /// A close writes an index snapshot; the store opened from it writes and deletes
    /// without writing a new one at its close: the next open must see the snapshot is
    /// stale (the active segment grew) and read the segments instead.
    #[test]
    fn a_snapshot_left_behind_by_an_earlier_close_is_not_trusted_after_later_writes() {
        run(vec![
            Op::Set(1, vec![1; 10]),
            Op::Set(2, vec![2; 10]),
            Op::Reopen(true),
            Op::Reopen(false),
            Op::Delete(1),
            Op::Set(2, vec![3; 10]),
            Op::Reopen(false),
            Op::Get(1),
            Op::Get(2),
        ])
        .unwrap();
    }
}
