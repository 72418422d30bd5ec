//! Write combining under [`SyncPolicy::Always`]: concurrent writers queue their jobs, and
//! one of them — the leader — appends the whole queue with one `write(2)`, waits once for
//! the fsync, and wakes every owner. "One write and one fsync for everything queued."
//! (Under the other policies there is no fsync to share: writers take turns at the writer
//! lock, each appending its own job.)
//!
//! - **Fast path.** A writer that is the only one in flight appends its own job directly
//!   under the writer lock (no allocation, no hand-off) and then waits for durability. A lone
//!   writer always takes this path; concurrent writers queue, so their fsyncs are shared.
//! - **Queueing.** Otherwise it queues an owned copy of its job and parks until the job is
//!   done. The first to queue when there is no leader becomes the leader.
//! - **Gathering.** Under `Always`, a leader first waits — at most as long as the last fsync
//!   took — until as many jobs are queued as its predecessor's batch had. Without this, the
//!   writers woken by one fsync re-queue just after the next batch was taken, and batches
//!   alternate between a few jobs and the rest.
//! - **Hand-off.** A leader leads one batch. If jobs are queued when it is done, it hands the
//!   lead to the owner of the oldest, so every queued job has a leader on its way.
//!
//! Each job is its own atomic unit in the log (a batch frame), so a crash keeps or drops
//! each job whole; jobs of one combined append are not bound to each other.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::engine::{Engine, lock};
use crate::error::{Error, Result};
use crate::ops::{Job, Outcome, Txn};
use crate::options::SyncPolicy;
use crate::write::Writer;

/// Most jobs one combiner appends in one go.
const MAX_BATCH_JOBS: usize = 256;
/// Most payload bytes one combiner appends in one go (always at least one job).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// A parked writer re-checks this often even without a wake-up (a safety net only).
const PARK_TIMEOUT: Duration = Duration::from_millis(50);
/// Longest a leader waits for its batch to fill.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// A queued job and where its result goes.
struct Request {
    job: Job<'static>,
    owner: Thread,
    result: Mutex<Option<Result<Outcome>>>,
    /// Set when the lead is handed to this request's owner.
    lead: AtomicBool,
}

impl Request {
    fn complete(&self, result: Result<Outcome>) {
        *lock(&self.result) = Some(result);
        self.owner.unpark();
    }

    fn take_result(&self) -> Option<Result<Outcome>> {
        lock(&self.result).take()
    }
}

#[derive(Default)]
struct QueueState {
    pending: VecDeque<Arc<Request>>,
    /// Someone leads (or has been handed the lead and is waking up).
    leader: bool,
    /// A leader is waiting on `arrived` for its batch to fill.
    gathering: bool,
    /// Jobs in the last batch.
    last_batch: usize,
}

/// Jobs waiting for a leader.
#[derive(Default)]
pub(crate) struct WriteQueue {
    /// Writers inside `run`. A writer that finds none is alone: no job is queued and no one
    /// leads, so it may take the fast path without looking at the queue.
    in_flight: AtomicUsize,
    state: Mutex<QueueState>,
    /// Wakes a gathering leader when its batch has filled.
    arrived: Condvar,
}

impl WriteQueue {
    /// Takes jobs from the front, up to the batch limits.
    fn drain(state: &mut QueueState) -> Vec<Arc<Request>> {
        let mut taken = Vec::new();
        let mut bytes = 0;
        while let Some(front) = state.pending.front() {
            let len = front.job.payload_len();
            if !taken.is_empty() && (taken.len() >= MAX_BATCH_JOBS || bytes + len > MAX_BATCH_BYTES)
            {
                break;
            }
            bytes += len;
            if let Some(request) = state.pending.pop_front() {
                taken.push(request);
            }
        }
        taken
    }
}

impl Engine {
    fn try_lock_writer(&self) -> Option<MutexGuard<'_, Writer>> {
        match self.writer.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Runs `job`: appended (possibly together with other writers' jobs), published, and
    /// durable as the policy promises when this returns.
    pub(crate) fn run(&self, job: Job<'_>) -> Result<Outcome> {
        if crate::store::inside_transaction(self) {
            return Err(crate::store::reentry_error());
        }
        self.write_refused_while_reading()?;
        if self.options.sync_policy != SyncPolicy::Always {
            // Without an fsync to share, handing jobs to a leader only adds wake-ups:
            // contending writers just take turns at the lock (4x faster at 8 threads).
            return self.run_alone(self.lock_writer(), job);
        }
        let alone = self.queue.in_flight.fetch_add(1, Ordering::AcqRel) == 0;
        let writer = if alone { self.try_lock_writer() } else { None };
        let result = match writer {
            Some(writer) => self.run_alone(writer, job),
            None => self.run_queued(job),
        };
        self.queue.in_flight.fetch_sub(1, Ordering::AcqRel);
        result
    }

    /// The slow path: queue the job and wait for a leader (possibly this thread) to run it.
    fn run_queued(&self, job: Job<'_>) -> Result<Outcome> {
        let mut queue = lock(&self.queue.state);
        let request = Arc::new(Request {
            job: job.to_owned_job(),
            owner: std::thread::current(),
            result: Mutex::new(None),
            lead: AtomicBool::new(false),
        });
        queue.pending.push_back(Arc::clone(&request));
        // Wake a gathering leader only once its batch is full, not for every arrival: each
        // needless wake-up is a context switch on the cores the writers need (at 64 writers
        // this halved the time a leader spends gathering).
        if queue.gathering && queue.pending.len() >= queue.last_batch {
            self.queue.arrived.notify_one();
        }
        let lead_now = !queue.leader;
        queue.leader = true;
        drop(queue);
        if lead_now {
            self.lead_batch();
        }
        loop {
            if let Some(result) = request.take_result() {
                return result;
            }
            if request.lead.swap(false, Ordering::AcqRel) {
                self.lead_batch();
                continue;
            }
            std::thread::park_timeout(PARK_TIMEOUT);
        }
    }

    /// The fast path: append `job` under the lock already held, release, wait for durability.
    fn run_alone(&self, mut writer: MutexGuard<'_, Writer>, job: Job<'_>) -> Result<Outcome> {
        self.check_writable()?;
        let mut txn = Txn::new(self);
        let outcome = txn.apply(&job);
        let last_seq = match txn.staged() {
            [] => None,
            staged => Some(self.commit(&mut writer, staged)?),
        };
        // Released before the wait so that others append during this fsync.
        drop(writer);
        if let Some(seq) = last_seq {
            self.wait_durable(seq)?;
        }
        outcome
    }

    /// Leads one batch: gathers, appends the queue with one write, waits once for
    /// durability, completes every job, and hands the lead on if jobs are waiting.
    fn lead_batch(&self) {
        let batch = {
            let mut queue = lock(&self.queue.state);
            let deadline = Instant::now() + self.durability.last_fsync().min(MAX_GATHER);
            while queue.pending.len() < queue.last_batch {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                queue.gathering = true;
                queue = self
                    .queue
                    .arrived
                    .wait_timeout(queue, deadline - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
                queue.gathering = false;
            }
            let batch = WriteQueue::drain(&mut queue);
            queue.last_batch = batch.len();
            batch
        };

        let jobs: Vec<&Job<'static>> = batch.iter().map(|r| &r.job).collect();
        let executed = {
            let mut writer = self.lock_writer();
            self.execute_refs(&mut writer, &jobs)
        };
        let results: Vec<Result<Outcome>> = match executed {
            Ok((outcomes, None)) => outcomes,
            Ok((outcomes, Some(last_seq))) => match self.wait_durable(last_seq) {
                Ok(()) => outcomes,
                Err(e) => outcomes.iter().map(|_| Err(e.duplicate())).collect(),
            },
            Err(e) => jobs.iter().map(|_| Err(e.duplicate())).collect(),
        };
        for (request, result) in batch.iter().zip(results) {
            request.complete(result);
        }

        let mut queue = lock(&self.queue.state);
        match queue.pending.front() {
            Some(next) => {
                next.lead.store(true, Ordering::Release);
                next.owner.unpark();
            }
            None => queue.leader = false,
        }
    }

    /// Decides each job against the current state and appends their records (one write).
    /// Returns each job's outcome and the last sequence number written, if anything was.
    fn execute_refs<'s>(&self, writer: &mut Writer, jobs: &[&'s Job<'s>]) -> Result<Executed> {
        self.check_writable()?;
        let mut txn = Txn::new(self);
        let outcomes: Vec<Result<Outcome>> = jobs.iter().map(|job| txn.apply(job)).collect();
        if txn.staged().is_empty() {
            return Ok((outcomes, None));
        }
        let last_seq = self.commit(writer, txn.staged())?;
        Ok((outcomes, Some(last_seq)))
    }
}

/// Each job's outcome, and the last sequence number of the append (if it wrote anything).
type Executed = (Vec<Result<Outcome>>, Option<u64>);

impl Error {
    /// An equivalent error for another job of the same failed batch (I/O errors are not
    /// `Clone`; the copy keeps the kind and the message).
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => Error::Io {
                path: path.clone(),
                action,
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Error::Corrupted {
                file,
                offset,
                reason,
            } => Error::Corrupted {
                file: file.clone(),
                offset: *offset,
                reason: reason.clone(),
            },
            Error::UnsupportedVersion { file, version } => Error::UnsupportedVersion {
                file: file.clone(),
                version: *version,
            },
            Error::Locked { path, holder_pid } => Error::Locked {
                path: path.clone(),
                holder_pid: *holder_pid,
            },
            Error::Poisoned { reason } => Error::Poisoned {
                reason: reason.clone(),
            },
            Error::KeyTooLarge { len, max } => Error::KeyTooLarge {
                len: *len,
                max: *max,
            },
            Error::ValueTooLarge { len, max } => Error::ValueTooLarge {
                len: *len,
                max: *max,
            },
            Error::InvalidOptions { reason } => Error::InvalidOptions {
                reason: reason.clone(),
            },
            Error::Closed => Error::Closed,
            Error::InvalidArgument { reason } => Error::InvalidArgument {
                reason: reason.clone(),
            },
            Error::NotAnInteger => Error::NotAnInteger,
            Error::NotAFloat => Error::NotAFloat,
            Error::Overflow => Error::Overflow,
            Error::NanOrInfinity => Error::NanOrInfinity,
            Error::WrongType => Error::WrongType,
            Error::NoSuchKey => Error::NoSuchKey,
            Error::IndexOutOfRange => Error::IndexOutOfRange,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_io_error_keeps_kind_message_and_path() {
        let original = std::io::Error::from_raw_os_error(28);
        let kind = original.kind();
        let e = Error::io(std::path::Path::new("/x"), "write", original);
        let d = e.duplicate();
        assert_eq!(d.to_string(), e.to_string());
        match d {
            Error::Io { source, .. } => assert_eq!(source.kind(), kind),
            other => panic!("{other:?}"),
        }
    }
}
