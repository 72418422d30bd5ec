//! Model test: random sequences of set / delete / get / reopen / torn-write-then-reopen
//! against a `BTreeMap`, with shrinking. Keys come from a small alphabet so overwrites and
//! deletes of present keys are frequent; segments are small so rotation happens.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use keg::Store;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Set(u8, Vec<u8>),
    Delete(u8),
    Get(u8),
    /// Close cleanly and reopen.
    Reopen,
    /// Drop without close, append bytes a crash could leave (a torn record), reopen.
    CrashWithTornTail(Vec<u8>),
}

fn key(k: u8) -> Vec<u8> {
    // Lengths 0..=3: the empty key is a key too.
    vec![b'a' + k % 4; (k / 4) as usize % 4]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0u8..16, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(k, v)| Op::Set(k, v)),
        4 => (0u8..16).prop_map(Op::Delete),
        4 => (0u8..16).prop_map(Op::Get),
        1 => Just(Op::Reopen),
        1 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Op::CrashWithTornTail),
    ]
}

fn open(dir: &Path) -> Store {
    common::fast_options()
        .max_segment_size(4096)
        .open(dir)
        .unwrap()
}

fn check_all(store: &Store, model: &BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), TestCaseError> {
    prop_assert_eq!(store.len(), model.len());
    let mut keys = store.keys();
    keys.sort();
    prop_assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
    for (k, v) in model {
        prop_assert_eq!(store.get(k).unwrap(), Some(v.clone()));
    }
    Ok(())
}

/// Runs `ops` against a store and the model, checking every answer; then checks the whole
/// contents, before and after a final reopen.
fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Set(k, v) => {
                store.set(&key(k), &v).unwrap();
                model.insert(key(k), v);
            }
            Op::Delete(k) => {
                prop_assert_eq!(
                    store.delete(&key(k)).unwrap(),
                    model.remove(&key(k)).is_some()
                );
            }
            Op::Get(k) => {
                prop_assert_eq!(store.get(&key(k)).unwrap(), model.get(&key(k)).cloned());
                prop_assert_eq!(store.contains(&key(k)), model.contains_key(&key(k)));
            }
            Op::Reopen => {
                store.close().unwrap();
                store = open(dir.path());
                check_all(&store, &model)?;
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
                store = open(dir.path());
                check_all(&store, &model)?;
            }
        }
    }
    check_all(&store, &model)?;
    drop(store);
    check_all(&open(dir.path()), &model)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_btreemap(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops)?;
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
        ops.push(Op::Reopen);
        ops.push(Op::Get(1));
        run(ops).unwrap();
    }

    #[test]
    fn empty_key_survives_reopen() {
        run(vec![
            Op::Set(0, vec![]),
            Op::Reopen,
            Op::Get(0),
            Op::Delete(0),
            Op::Reopen,
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
}
