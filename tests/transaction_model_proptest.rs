//! Transactions that write the same few string keys and hash fields over and over (what a
//! pipeline of SETs, INCRs, DELs, HSETs and HDELs is on the server) against a `BTreeMap`
//! model. A commit appends only the last record of each key or element of a transaction;
//! the store must agree with the model after every commit, after a reopen, and after a crash
//! that cuts the last transaction anywhere (then it must be as before that transaction: all
//! of it or none).

mod common;

use std::collections::BTreeMap;

use keg::Store;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Set {
        key: u8,
        value: u8,
    },
    Delete {
        key: u8,
    },
    Incr {
        key: u8,
        by: i8,
    },
    /// Hash writes: a new hash's header makes its commit keep every record; the fields of
    /// an existing hash are elements, replaced like string keys.
    Hset {
        key: u8,
        field: u8,
        value: u8,
    },
    Hdel {
        key: u8,
        field: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..3, 0u8..4).prop_map(|(key, value)| Step::Set { key, value }),
        2 => (0u8..3).prop_map(|key| Step::Delete { key }),
        4 => (0u8..3, -3i8..4).prop_map(|(key, by)| Step::Incr { key, by }),
        3 => (0u8..2, 0u8..3, 0u8..4)
            .prop_map(|(key, field, value)| Step::Hset { key, field, value }),
        1 => (0u8..2, 0u8..3).prop_map(|(key, field)| Step::Hdel { key, field }),
    ]
}

/// String keys `s0..s2` take sets and deletes, `n0..n2` increments and deletes (so an
/// increment never meets a non-number), `h0..h1` are hashes of fields `f0..f2`.
fn key(prefix: u8, k: u8) -> Vec<u8> {
    vec![prefix, b'0' + k]
}

/// Every key's value; a hash's is its fields and values, a byte each, in field order.
type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn hash_of(model: &Model, k: u8) -> BTreeMap<u8, u8> {
    model
        .get(&key(b'h', k))
        .map(|v| v.chunks(2).map(|p| (p[0], p[1])).collect())
        .unwrap_or_default()
}

fn set_hash(model: &mut Model, k: u8, fields: &BTreeMap<u8, u8>) {
    if fields.is_empty() {
        model.remove(&key(b'h', k));
    } else {
        let value = fields.iter().flat_map(|(&f, &v)| [f, v]).collect();
        model.insert(key(b'h', k), value);
    }
}

fn apply_model(model: &mut Model, steps: &[Step]) {
    for s in steps {
        match *s {
            Step::Set { key: k, value } => {
                model.insert(key(b's', k), vec![b'v', b'0' + value]);
            }
            Step::Delete { key: k } => {
                model.remove(&key(b's', k));
                model.remove(&key(b'n', k));
            }
            Step::Incr { key: k, by } => {
                let n = key(b'n', k);
                let now: i64 = model
                    .get(&n)
                    .map_or(0, |v| std::str::from_utf8(v).unwrap().parse().unwrap());
                model.insert(n, (now + i64::from(by)).to_string().into_bytes());
            }
            Step::Hset {
                key: k,
                field,
                value,
            } => {
                let mut fields = hash_of(model, k);
                fields.insert(field, value);
                set_hash(model, k, &fields);
            }
            Step::Hdel { key: k, field } => {
                let mut fields = hash_of(model, k);
                fields.remove(&field);
                set_hash(model, k, &fields);
            }
        }
    }
}

fn apply_store(store: &Store, steps: &[Step]) {
    store
        .transaction(|tx| {
            for s in steps {
                match *s {
                    Step::Set { key: k, value } => tx.set(&key(b's', k), &[b'v', b'0' + value])?,
                    Step::Delete { key: k } => {
                        tx.delete(&key(b's', k))?;
                        tx.delete(&key(b'n', k))?;
                    }
                    Step::Incr { key: k, by } => {
                        tx.incr_by(&key(b'n', k), i64::from(by))?;
                    }
                    Step::Hset {
                        key: k,
                        field,
                        value,
                    } => {
                        tx.hset(&key(b'h', k), &[field], &[value])?;
                    }
                    Step::Hdel { key: k, field } => {
                        tx.hdel(&key(b'h', k), &[&[field][..]])?;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// The store's contents in the model's shape.
fn contents(store: &Store) -> Model {
    let mut out = Model::new();
    for k in 0..3 {
        for prefix in [b's', b'n'] {
            if let Some(v) = store.get(&key(prefix, k)).unwrap() {
                out.insert(key(prefix, k), v);
            }
        }
    }
    for k in 0..2 {
        let fields: BTreeMap<u8, u8> = (store.hgetall(&key(b'h', k)).unwrap().into_iter())
            .map(|(f, v)| (f[0], v[0]))
            .collect();
        set_hash(&mut out, k, &fields);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn repeated_writes_in_transactions_match_the_model_across_reopen_and_a_torn_commit(
        transactions in proptest::collection::vec(proptest::collection::vec(step(), 1..24), 1..8),
        cut in any::<proptest::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut model = Model::new();
        let mut before_last = Model::new();
        let mut last_start = 0;
        {
            let store = common::open_fast(dir.path());
            for steps in &transactions {
                before_last = model.clone();
                last_start = std::fs::metadata(common::newest_segment(dir.path())).unwrap().len();
                apply_model(&mut model, steps);
                apply_store(&store, steps);
                prop_assert_eq!(contents(&store), model.clone());
            }
        }
        let store = common::open_fast(dir.path());
        prop_assert_eq!(contents(&store), model.clone());
        drop(store);

        // A crash in the middle of the last commit: cut its bytes anywhere.
        let segment = common::newest_segment(dir.path());
        let end = std::fs::metadata(&segment).unwrap().len();
        prop_assume!(end > last_start);
        let at = last_start + cut.index(usize::try_from(end - last_start).unwrap()) as u64;
        let file = std::fs::OpenOptions::new().write(true).open(&segment).unwrap();
        file.set_len(at).unwrap();
        drop(file);
        let store = common::open_fast(dir.path());
        prop_assert_eq!(contents(&store), before_last);
    }
}
