//! Per-command statistics (INFO commandstats): calls, microseconds, rejected calls (refused
//! before running: wrong argument count, NOAUTH, ...) and failed calls (ran and answered an
//! error), per command and per container subcommand (`client|id`), as Redis counts them.
//!
//! Each thread that runs commands (an event loop) counts in a block of its own, so that
//! loops serving the same command do not pass one cache line back and forth; INFO adds the
//! blocks up.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::frame::Args;
use super::reply::Reply;
use super::table::{self, Spec};
use crate::engine::lock;

/// How a command ended, for its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Ran and answered (not an error).
    Done,
    /// Ran and answered an error.
    Failed,
    /// Refused before running.
    Rejected,
}

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
    usec: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

/// One thread's counters, a slot per command and per container subcommand
/// (`table::stat_slot`).
struct Block {
    counters: Box<[Counter]>,
}

impl Block {
    fn new() -> Block {
        Block {
            counters: (0..table::stat_slots())
                .map(|_| Counter::default())
                .collect(),
        }
    }
}

/// Every thread's counters for one server.
pub(crate) struct CommandStats {
    /// Tells this server's blocks apart from another's in a thread that ran both.
    id: u64,
    blocks: Mutex<Vec<Arc<Block>>>,
}

thread_local! {
    /// This thread's block, and the id of the server it counts for.
    static BLOCK: RefCell<Option<(u64, Arc<Block>)>> = const { RefCell::new(None) };
}

impl Default for CommandStats {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        CommandStats {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            blocks: Mutex::new(Vec::new()),
        }
    }
}

impl CommandStats {
    /// Counts one command (`args` names a container's subcommand). A container called with
    /// an unknown subcommand is not counted, as in Redis.
    pub(crate) fn record(&self, spec: &Spec, args: &Args, took: Duration, outcome: Outcome) {
        let failed = u64::from(outcome == Outcome::Failed);
        self.count(spec, args, took, outcome == Outcome::Rejected, failed);
    }

    /// Counts one call (a rejection if `rejected`) that failed `failed` times: Redis counts
    /// a script's reply with several nested errors as more than one failure.
    fn count(&self, spec: &Spec, args: &Args, took: Duration, rejected: bool, failed: u64) {
        let Some(slot) = table::stat_slot(spec, args) else {
            return;
        };
        BLOCK.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.as_ref().is_none_or(|(id, _)| *id != self.id) {
                let block = Arc::new(Block::new());
                lock(&self.blocks).push(Arc::clone(&block));
                *cell = Some((self.id, block));
            }
            let Some(counter) = cell.as_ref().and_then(|(_, b)| b.counters.get(slot)) else {
                return;
            };
            let add = |c: &AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
            if rejected {
                add(&counter.rejected, 1);
                return;
            }
            add(&counter.calls, 1);
            add(
                &counter.usec,
                u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            );
            if failed > 0 {
                add(&counter.failed, failed);
            }
        });
    }

    /// Counts a command that ran and whose reply starts at `mark` of `out`: failed if that
    /// reply is an error, and once more per error a script's reply holds inside an array
    /// (`Reply::take_nested_failures`).
    pub(crate) fn record_reply(
        &self,
        spec: &Spec,
        args: &Args,
        took: Duration,
        out: &mut Reply,
        mark: usize,
    ) {
        let top = u64::from(out.bytes().get(mark) == Some(&b'-'));
        let failed = top + out.take_nested_failures(mark);
        self.count(spec, args, took, false, failed);
    }

    /// CONFIG RESETSTAT.
    pub(crate) fn reset(&self) {
        for block in lock(&self.blocks).iter() {
            for c in block.counters.iter() {
                for n in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                    n.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    /// INFO commandstats' fields: `cmdstat_<name>` and its figures, for every command that
    /// was called, rejected or failed since the start (or RESETSTAT).
    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let blocks = lock(&self.blocks).clone();
        let mut out = Vec::new();
        for slot in 0..table::stat_slots() {
            let total = |field: fn(&Counter) -> &AtomicU64| -> u64 {
                blocks
                    .iter()
                    .filter_map(|b| b.counters.get(slot))
                    .map(|c| field(c).load(Ordering::Relaxed))
                    .sum()
            };
            let calls = total(|c| &c.calls);
            let usec = total(|c| &c.usec);
            let rejected = total(|c| &c.rejected);
            let failed = total(|c| &c.failed);
            if calls + rejected + failed == 0 {
                continue;
            }
            let per_call = if calls == 0 {
                0.0
            } else {
                usec as f64 / calls as f64
            };
            out.push((
                format!("cmdstat_{}", table::stat_slot_name(slot)),
                format!(
                    "calls={calls},usec={usec},usec_per_call={per_call:.2},\
                     rejected_calls={rejected},failed_calls={failed}"
                ),
            ));
        }
        out
    }
}
