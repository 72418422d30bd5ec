//! One I/O failure at every I/O operation of a workload, in turn: the same workload (sets,
//! deletes, counters, TTLs, batches, merges, syncs, segment rotation) runs once per
//! operation index, and that operation fails — EIO for an fsync or a read, ENOSPC for
//! anything else, and every other failed write first stores part of its bytes, as a short
//! write before a full disk does. Then:
//!
//! - the failing call returns `Error::Io` (naming the action) or `Error::Poisoned`;
//! - its effect is all or nothing: the store shows the state before it or after it;
//! - a failed fsync of a data segment poisons the store (the next write is refused),
//!   unless the segment was new and is deleted again;
//! - every other call is answered as the model says;
//! - after reopening (at once when poisoned, and at the end), the store holds exactly the
//!   model: nothing acknowledged is lost, nothing failed is half-applied.
//!
//! `KEG_SEED` replays another workload.

mod common;

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::rng::seed;
use common::workload::{
    Generator, Mix, State, Step, T0, apply, contents, expected_answer, perform,
};
use keg::{Clock, Error, IoHook, IoOp, ManualClock, MergePolicy, Options, Store, SyncPolicy};

/// Fails the `n`-th I/O operation (1-based) after it is armed; counts every operation.
#[derive(Default)]
struct FailOne {
    countdown: AtomicUsize,
    seen: AtomicUsize,
    torn: std::sync::atomic::AtomicBool,
    failed: Mutex<Option<String>>,
}

impl FailOne {
    fn arm(&self, n: usize, torn: bool) {
        self.torn.store(torn, Ordering::SeqCst);
        self.countdown.store(n, Ordering::SeqCst);
    }

    fn take_failed(&self) -> Option<String> {
        self.failed.lock().unwrap().take()
    }
}

impl IoHook for FailOne {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        let hit = self
            .countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            == Ok(1);
        if !hit {
            return Ok(());
        }
        *self.failed.lock().unwrap() = Some(format!("{op:?}").chars().take(120).collect());
        let eio = io::Error::from_raw_os_error(5);
        let enospc = io::Error::from_raw_os_error(28);
        match *op {
            IoOp::SyncFile { .. } | IoOp::SyncDir { .. } | IoOp::Read { .. } => Err(eio),
            IoOp::Write { path, offset, data } if self.torn.load(Ordering::SeqCst) => {
                let part = &data[..data.len() / 2];
                let file = std::fs::OpenOptions::new().write(true).open(path)?;
                file.write_all_at(part, offset)?;
                Err(enospc)
            }
            _ => Err(enospc),
        }
    }
}

fn options(policy: SyncPolicy) -> Options {
    Options::new()
        .sync_policy(policy)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .clock(Arc::new(ManualClock::new(T0)) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
}

fn open(dir: &std::path::Path, policy: SyncPolicy, hook: &Arc<FailOne>) -> Store {
    options(policy)
        .io_hook(Arc::clone(hook) as Arc<dyn IoHook>)
        .open(dir)
        .unwrap()
}

/// Runs `steps` with the `fail_at`-th I/O operation failing (0: none). Returns how many
/// I/O operations ran, and panics on any violation.
fn run(steps: &[Step], policy: SyncPolicy, fail_at: usize, torn: bool) -> usize {
    // fsyncs cost nothing there: only their failures matter here.
    let dir = common::memory_tempdir();
    let hook = Arc::new(FailOne::default());
    let mut store = open(dir.path(), policy, &hook);
    hook.arm(fail_at, torn);
    let mut model = State::new();
    for (i, step) in steps.iter().enumerate() {
        let before = model.clone();
        let context = || format!("{policy:?}, failing I/O operation {fail_at}, step {i} {step:?}");
        match perform(&store, step) {
            Ok(answer) => {
                assert_eq!(answer, expected_answer(&before, step), "{}", context());
                apply(&mut model, step);
            }
            Err(err) => {
                let failed = hook.take_failed();
                assert!(
                    matches!(err, Error::Io { .. } | Error::Poisoned { .. }),
                    "{}: unexpected error {err:?}",
                    context()
                );
                let live = contents(&store);
                let mut after = before.clone();
                apply(&mut after, step);
                assert!(
                    live == before || live == after,
                    "{}: the failed call ({err}; injected: {failed:?}) is half-applied",
                    context()
                );
                model = live;
                // (A new segment whose first fsync failed is deleted again: nothing in it
                // needs the page cache.)
                let data_fsync = matches!(
                    &err,
                    Error::Io { action: "fsync", path, .. }
                        if path.extension().is_some_and(|e| e == "data") && path.exists()
                );
                if data_fsync {
                    assert!(
                        matches!(store.set(b"probe", b""), Err(Error::Poisoned { .. })),
                        "{}: a failed fsync did not poison the store",
                        context()
                    );
                }
                if data_fsync || matches!(err, Error::Poisoned { .. }) {
                    drop(store);
                    store = open(dir.path(), policy, &hook);
                    assert_eq!(
                        contents(&store),
                        model,
                        "{}: contents after reopening a poisoned store",
                        context()
                    );
                }
            }
        }
    }
    let ops = hook.seen.load(Ordering::SeqCst);
    // Closing fsyncs: the failure may fall there, and must be reported.
    if let Err(err) = store.close() {
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "fsync",
                    ..
                }
            ),
            "{policy:?}, failing I/O operation {fail_at}: close failed with {err:?}"
        );
    }
    let reopened = options(policy).open(dir.path()).unwrap();
    assert_eq!(
        contents(&reopened),
        model,
        "{policy:?}, failing I/O operation {fail_at}: contents after the final reopen"
    );
    ops
}

fn fail_every_operation_in_turn(policy: SyncPolicy, steps: usize, default_seed: u64) {
    let seed = seed(default_seed);
    let mix = Mix {
        merges: true,
        syncs: true,
        max_value: 500,
        collections: true,
    };
    let steps = Generator::new(seed, "", mix).steps(steps);
    let total = run(&steps, policy, 0, false);
    assert!(total > 50, "{total} I/O operations");
    for fail_at in 1..=total {
        run(&steps, policy, fail_at, fail_at % 2 == 0);
    }
    eprintln!(
        "{policy:?}: {} steps, {total} I/O operations, each failed in turn (seed {seed})",
        steps.len()
    );
}

#[test]
fn a_failure_at_every_io_operation_under_always() {
    fail_every_operation_in_turn(SyncPolicy::Always, 120, 11);
}

#[test]
fn a_failure_at_every_io_operation_under_never() {
    fail_every_operation_in_turn(SyncPolicy::Never, 120, 12);
}
