//! Lists changed many times inside one transaction — what a pipeline of list commands is on
//! the server — against a `VecDeque` model. A transaction keeps a list's positions as a
//! cheap shape while it only pushes and pops at the ends and falls back to walking its
//! staged changes after an edit inside the list; every step reads the whole list back
//! inside the transaction, and after the commit (and a reopen) the store must agree.

use std::collections::VecDeque;

use keg::{Error, Options, Store, SyncPolicy};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Push {
        left: bool,
        value: u8,
    },
    Pop {
        left: bool,
        count: u8,
    },
    Set {
        index: i8,
        value: u8,
    },
    InsertAfter {
        pivot: u8,
        value: u8,
    },
    RemoveFirst {
        value: u8,
    },
    Trim {
        start: i8,
        stop: i8,
    },
    /// Tail to head of the same list.
    Rotate,
    /// Commit what is staged and start another transaction.
    Commit,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<bool>(), 0u8..4).prop_map(|(left, value)| Step::Push { left, value }),
        6 => (any::<bool>(), 0u8..3).prop_map(|(left, count)| Step::Pop { left, count }),
        1 => (-3i8..3, 0u8..4).prop_map(|(index, value)| Step::Set { index, value }),
        1 => (0u8..4, 0u8..4).prop_map(|(pivot, value)| Step::InsertAfter { pivot, value }),
        1 => (0u8..4).prop_map(|value| Step::RemoveFirst { value }),
        1 => (-3i8..3, -3i8..3).prop_map(|(start, stop)| Step::Trim { start, stop }),
        2 => Just(Step::Rotate),
        2 => Just(Step::Commit),
    ]
}

fn value(v: u8) -> Vec<u8> {
    vec![b'v', b'0' + v]
}

/// Redis's index normalisation: `Some` index inside `0..len`.
fn index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).unwrap();
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then(|| usize::try_from(i).unwrap())
}

/// Applies `step` to the model and returns what the store must answer, as an i64.
fn model_step(list: &mut VecDeque<Vec<u8>>, step: &Step) -> i64 {
    match *step {
        Step::Push { left, value: v } => {
            if left {
                list.push_front(value(v));
            } else {
                list.push_back(value(v));
            }
            i64::try_from(list.len()).unwrap()
        }
        Step::Pop { left, count } => {
            let n = usize::from(count).min(list.len());
            for _ in 0..n {
                if left {
                    list.pop_front();
                } else {
                    list.pop_back();
                }
            }
            i64::try_from(n).unwrap()
        }
        Step::Set { index: i, value: v } => {
            if list.is_empty() {
                return -2;
            }
            match index(i64::from(i), list.len()) {
                Some(i) => {
                    list[i] = value(v);
                    0
                }
                None => -1,
            }
        }
        Step::InsertAfter { pivot, value: v } => {
            if list.is_empty() {
                return 0;
            }
            match list.iter().position(|x| *x == value(pivot)) {
                Some(at) => {
                    list.insert(at + 1, value(v));
                    i64::try_from(list.len()).unwrap()
                }
                None => -1,
            }
        }
        Step::RemoveFirst { value: v } => match list.iter().position(|x| *x == value(v)) {
            Some(at) => {
                list.remove(at);
                1
            }
            None => 0,
        },
        Step::Trim { start, stop } => {
            let len = i64::try_from(list.len()).unwrap();
            let start = if start < 0 {
                (len + i64::from(start)).max(0)
            } else {
                i64::from(start)
            };
            let stop = if stop < 0 {
                len + i64::from(stop)
            } else {
                i64::from(stop).min(len - 1)
            };
            let kept: VecDeque<Vec<u8>> = if start > stop || start >= len {
                VecDeque::new()
            } else {
                list.range(usize::try_from(start).unwrap()..=usize::try_from(stop).unwrap())
                    .cloned()
                    .collect()
            };
            *list = kept;
            0
        }
        Step::Rotate => match list.pop_back() {
            Some(last) => {
                list.push_front(last);
                1
            }
            None => 0,
        },
        Step::Commit => 0,
    }
}

/// Runs `step` in the transaction and returns its answer as `model_step` does.
fn store_step(tx: &keg::Transaction<'_>, step: &Step) -> keg::Result<i64> {
    const KEY: &[u8] = b"list";
    Ok(match *step {
        Step::Push { left, value: v } => {
            let len = if left {
                tx.lpush(KEY, &[&value(v)])?
            } else {
                tx.rpush(KEY, &[&value(v)])?
            };
            i64::try_from(len).unwrap()
        }
        Step::Pop { left, count } => {
            let popped = if left {
                tx.lpop(KEY, usize::from(count))?
            } else {
                tx.rpop(KEY, usize::from(count))?
            };
            i64::try_from(popped.len()).unwrap()
        }
        Step::Set { index, value: v } => match tx.lset(KEY, i64::from(index), &value(v)) {
            Ok(()) => 0,
            Err(Error::NoSuchKey) => -2,
            Err(Error::IndexOutOfRange) => -1,
            Err(e) => return Err(e),
        },
        Step::InsertAfter { pivot, value: v } => {
            tx.linsert(KEY, false, &value(pivot), &value(v))?
        }
        Step::RemoveFirst { value: v } => i64::try_from(tx.lrem(KEY, 1, &value(v))?).unwrap(),
        Step::Trim { start, stop } => {
            tx.ltrim(KEY, i64::from(start), i64::from(stop))?;
            0
        }
        Step::Rotate => i64::from(tx.lmove(KEY, KEY, false, true)?.is_some()),
        Step::Commit => 0,
    })
}

fn open(dir: &std::path::Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir)
        .unwrap()
}

fn run(initial: Vec<u8>, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model: VecDeque<Vec<u8>> = initial.iter().map(|&v| value(v % 4)).collect();
    if !model.is_empty() {
        let values: Vec<&[u8]> = model.iter().map(Vec::as_slice).collect();
        store.rpush(b"list", &values).unwrap();
    }
    for chunk in steps.split(|s| matches!(s, Step::Commit)) {
        let mut next = model.clone();
        store
            .transaction(|tx| {
                for step in chunk {
                    let want = model_step(&mut next, step);
                    let got = store_step(tx, step)?;
                    assert_eq!(got, want, "{step:?}");
                    let list: Vec<Vec<u8>> = next.iter().cloned().collect();
                    assert_eq!(tx.lrange(b"list", 0, -1)?, list, "after {step:?}");
                    assert_eq!(tx.llen(b"list")?, list.len());
                    assert_eq!(tx.lindex(b"list", -1)?, list.last().cloned());
                    assert_eq!(tx.lindex(b"list", 0)?, list.first().cloned());
                }
                Ok(())
            })
            .unwrap();
        model = next;
        let list: Vec<Vec<u8>> = model.iter().cloned().collect();
        prop_assert_eq!(store.lrange(b"list", 0, -1).unwrap(), list);
    }
    store.close().unwrap();
    let store = open(dir.path());
    let list: Vec<Vec<u8>> = model.iter().cloned().collect();
    prop_assert_eq!(store.lrange(b"list", 0, -1).unwrap(), list);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn list_transactions_match_a_deque(
        initial in proptest::collection::vec(any::<u8>(), 0..6),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        run(initial, steps)?;
    }
}

#[test]
fn an_insert_after_pops_in_one_transaction_reads_in_order() {
    run(
        vec![0, 1, 2, 3],
        vec![
            Step::Pop {
                left: true,
                count: 1,
            },
            Step::Push {
                left: false,
                value: 0,
            },
            Step::InsertAfter { pivot: 2, value: 1 },
            Step::Pop {
                left: true,
                count: 2,
            },
            Step::Push {
                left: true,
                value: 3,
            },
        ],
    )
    .unwrap();
}
