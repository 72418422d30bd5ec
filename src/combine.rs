//! Write combining: concurrent writers queue their jobs, and one of them — the leader —
//! appends the whole queue with one `write(2)`, waits once for the fsync the policy
//! requires, and wakes every owner. "One write and one fsync for everything queued."
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
use crate::options::SyncPolicy;
use crate::write::{Op, Staged, Writer};

/// Most jobs one combiner appends in one go.
const MAX_BATCH_JOBS: usize = 256;
/// Most payload bytes one combiner appends in one go (always at least one job).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// A parked writer re-checks this often even without a wake-up (a safety net only).
const PARK_TIMEOUT: Duration = Duration::from_millis(50);
/// Longest a leader waits for its batch to fill.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// A write job: what one API call asks the writer to do.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Job<'a> {
    /// Set `key` to `value`.
    Set {
        key: &'a [u8],
        value: &'a [u8],
        expiry_ms: u64,
    },
    /// Delete `key` if present.
    Delete { key: &'a [u8] },
}

/// What a job did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The value was written.
    Written,
    /// A delete ran; whether the key existed.
    Deleted(bool),
}

/// An owned copy of a job, for the queue.
enum OwnedJob {
    Set {
        key: Vec<u8>,
        value: Vec<u8>,
        expiry_ms: u64,
    },
    Delete {
        key: Vec<u8>,
    },
}

impl OwnedJob {
    fn from_job(job: Job<'_>) -> OwnedJob {
        match job {
            Job::Set {
                key,
                value,
                expiry_ms,
            } => OwnedJob::Set {
                key: key.to_vec(),
                value: value.to_vec(),
                expiry_ms,
            },
            Job::Delete { key } => OwnedJob::Delete { key: key.to_vec() },
        }
    }

    fn as_job(&self) -> Job<'_> {
        match self {
            OwnedJob::Set {
                key,
                value,
                expiry_ms,
            } => Job::Set {
                key,
                value,
                expiry_ms: *expiry_ms,
            },
            OwnedJob::Delete { key } => Job::Delete { key },
        }
    }
}

impl Job<'_> {
    fn payload_len(&self) -> usize {
        match self {
            Job::Set { key, value, .. } => key.len() + value.len(),
            Job::Delete { key } => key.len(),
        }
    }
}

/// A queued job and where its result goes.
struct Request {
    job: OwnedJob,
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
    /// Wakes a gathering leader when a job is queued.
    arrived: Condvar,
}

impl WriteQueue {
    /// Takes jobs from the front, up to the batch limits.
    fn drain(state: &mut QueueState) -> Vec<Arc<Request>> {
        let mut taken = Vec::new();
        let mut bytes = 0;
        while let Some(front) = state.pending.front() {
            let len = front.job.as_job().payload_len();
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
            job: OwnedJob::from_job(job),
            owner: std::thread::current(),
            result: Mutex::new(None),
            lead: AtomicBool::new(false),
        });
        queue.pending.push_back(Arc::clone(&request));
        if queue.gathering {
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
        let mut staged = None;
        let outcome = self.stage(job, &[], |s| staged = Some(s));
        let last_seq = match staged {
            Some(s) => Some(self.commit(&mut writer, &[s])?),
            None => None,
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
            if self.options.sync_policy == SyncPolicy::Always {
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
            }
            let batch = WriteQueue::drain(&mut queue);
            queue.last_batch = batch.len();
            batch
        };

        let jobs: Vec<Job<'_>> = batch.iter().map(|r| r.job.as_job()).collect();
        let executed = {
            let mut writer = self.lock_writer();
            self.execute(&mut writer, &jobs)
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

    /// Turns jobs into records and appends them (one write). Returns each job's outcome and
    /// the last sequence number written, if anything was.
    fn execute(
        &self,
        writer: &mut Writer,
        jobs: &[Job<'_>],
    ) -> Result<(Vec<Result<Outcome>>, Option<u64>)> {
        self.check_writable()?;
        let mut staged: Vec<Staged<'_>> = Vec::with_capacity(jobs.len());
        let mut outcomes = Vec::with_capacity(jobs.len());
        for &job in jobs {
            let mut op = None;
            outcomes.push(self.stage(job, &staged, |s| op = Some(s)));
            staged.extend(op);
        }
        if staged.is_empty() {
            return Ok((outcomes, None));
        }
        let last_seq = self.commit(writer, &staged)?;
        Ok((outcomes, Some(last_seq)))
    }
}

impl Engine {
    /// Decides what `job` appends, given the ops `before` it in the same append, passes the
    /// ops to `push` and returns the job's outcome.
    fn stage<'a>(
        &self,
        job: Job<'a>,
        before: &[Staged<'a>],
        mut push: impl FnMut(Staged<'a>),
    ) -> Result<Outcome> {
        match job {
            Job::Set {
                key,
                value,
                expiry_ms,
            } => {
                push(Staged::whole(Op::Put {
                    key,
                    value,
                    expiry_ms,
                }));
                Ok(Outcome::Written)
            }
            Job::Delete { key } => {
                let exists = match staged_state(before, key) {
                    Some(present) => present,
                    None => self.keydir.get(key).is_some(),
                };
                if exists {
                    push(Staged::whole(Op::Delete { key }));
                }
                Ok(Outcome::Deleted(exists))
            }
        }
    }
}

/// Whether `key` is present after the ops staged so far in this batch (`None` if none of
/// them touches it).
fn staged_state(staged: &[Staged<'_>], key: &[u8]) -> Option<bool> {
    staged.iter().rev().find_map(|s| match s.op {
        Op::Put { key: k, .. } if k == key => Some(true),
        Op::Delete { key: k } if k == key => Some(false),
        _ => None,
    })
}

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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_state_sees_the_last_op_on_a_key() {
        let put = |key| {
            Staged::whole(Op::Put {
                key,
                value: b"v",
                expiry_ms: 0,
            })
        };
        let del = |key| Staged::whole(Op::Delete { key });
        assert_eq!(staged_state(&[], b"k"), None);
        assert_eq!(staged_state(&[put(b"k"), put(b"j")], b"k"), Some(true));
        assert_eq!(staged_state(&[put(b"k"), del(b"k")], b"k"), Some(false));
        assert_eq!(staged_state(&[del(b"k"), put(b"k")], b"k"), Some(true));
        assert_eq!(staged_state(&[put(b"j")], b"k"), None);
    }

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
