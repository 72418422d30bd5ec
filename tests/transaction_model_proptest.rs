//! Transactions that write the same few string keys over and over (what a pipeline of SETs,
//! INCRs and DELs is on the server) against a `BTreeMap` model. A commit appends only the
//! last record of each key of a transaction; the store must agree with the model after
//! every commit, after a reopen, and after a crash that cuts the last transaction anywhere
//! (then it must be as before that transaction: all of it or none).

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
    /// A collection write in the same transaction (a commit that writes a collection
    /// header keeps every record).
    Hset {
        key: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..3, 0u8..4).prop_map(|(key, value)| Step::Set { key, value }),
        2 => (0u8..3).prop_map(|key| Step::Delete { key }),
        4 => (0u8..3, -3i8..4).prop_map(|(key, by)| Step::Incr { key, by }),
        1 => (0u8..2).prop_map(|key| Step::Hset { key }),
    ]
}

/// String keys `s0..s2` take sets and deletes, `n0..n2` increments and deletes (so an
/// increment never meets a non-number), `h0..h1` are hashes.
fn key(prefix: u8, k: u8) -> Vec<u8> {
    vec![prefix, b'0' + k]
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

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
            Step::Hset { key: k } => {
                // Hashes are checked by HLEN below; the model keeps a marker per field.
                let h = key(b'h', k);
                let len = model.get(&h).map_or(0, |v| v.len());
                model.insert(h, vec![b'f'; len + 1]);
            }
        }
    }
}

/// Runs `steps` as transaction number `t` (hash fields are named by both, so each `Hset`
/// adds a field).
fn apply_store(store: &Store, t: usize, steps: &[Step]) {
    store
        .transaction(|tx| {
            for (i, s) in steps.iter().enumerate() {
                match *s {
                    Step::Set { key: k, value } => tx.set(&key(b's', k), &[b'v', b'0' + value])?,
                    Step::Delete { key: k } => {
                        tx.delete(&key(b's', k))?;
                        tx.delete(&key(b'n', k))?;
                    }
                    Step::Incr { key: k, by } => {
                        tx.incr_by(&key(b'n', k), i64::from(by))?;
                    }
                    Step::Hset { key: k } => {
                        tx.hset(&key(b'h', k), format!("field{t}-{i}").as_bytes(), b"x")?;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

/// The store's contents in the model's shape (a hash as one marker byte per field).
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
        let len = store.hlen(&key(b'h', k)).unwrap();
        if len > 0 {
            out.insert(key(b'h', k), vec![b'f'; len]);
        }
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
            for (t, steps) in transactions.iter().enumerate() {
                before_last = model.clone();
                last_start = std::fs::metadata(common::newest_segment(dir.path())).unwrap().len();
                apply_model(&mut model, steps);
                apply_store(&store, t, steps);
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
