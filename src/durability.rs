//! fsync coordination, shared by everyone who needs records durable: write combiners under
//! [`SyncPolicy::Always`](crate::SyncPolicy::Always), explicit `sync()`, the interval thread
//! and `close`.
//!
//! One caller at a time leads: it fsyncs the active segment, which makes durable every
//! record appended before the fsync started, and wakes the callers that fsync covered.
//! Callers sleep on one of two condition variables: the one of the fsync in flight if it
//! covers them, otherwise the one of the next fsync, so finishing an fsync wakes only the
//! callers it covered (plus one of the next, to lead it).
//!
//! Lock order: durability state, then the writer lock (to read the last sequence number);
//! never the other way round. (Gathering writers into large groups happens before this, in
//! `combine.rs`.)

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::{Engine, lock};
use crate::error::Result;
use crate::options::SyncPolicy;

pub(crate) struct Durability {
    state: Mutex<SyncState>,
    /// Waiters for the fsync of generation `g` sleep on `covered[g % 2]`.
    covered: [Condvar; 2],
}

struct SyncState {
    /// Every record with a sequence number up to this one is on stable storage.
    synced_seq: u64,
    /// A leader is gathering or running an fsync.
    syncing: bool,
    /// The last sequence number the fsync in flight covers.
    in_flight_target: u64,
    /// Generation of the fsync in flight, or of the next one when none is.
    generation: u64,
    /// How long the last fsync took.
    last_fsync: Duration,
}

impl Durability {
    pub(crate) fn new(synced_seq: u64) -> Durability {
        Durability {
            state: Mutex::new(SyncState {
                synced_seq,
                syncing: false,
                in_flight_target: 0,
                generation: 0,
                last_fsync: Duration::ZERO,
            }),
            covered: [Condvar::new(), Condvar::new()],
        }
    }

    fn wait<'a>(cv: &Condvar, guard: MutexGuard<'a, SyncState>) -> MutexGuard<'a, SyncState> {
        cv.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// How long the last fsync took (zero before the first).
    pub(crate) fn last_fsync(&self) -> Duration {
        lock(&self.state).last_fsync
    }

    #[allow(clippy::indexing_slicing, reason = "index is a generation modulo 2")]
    fn covered_by(&self, generation: u64) -> &Condvar {
        &self.covered[(generation % 2) as usize]
    }
}

impl Engine {
    /// Returns once the write with sequence number `seq` is as durable as the policy
    /// promises: fsynced under `Always`, handed to the OS (already true) otherwise.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        match self.options.sync_policy {
            SyncPolicy::Always => self.sync_through(seq),
            SyncPolicy::Interval(_) | SyncPolicy::Never => Ok(()),
        }
    }

    /// fsyncs everything written so far.
    pub(crate) fn sync_all(&self) -> Result<()> {
        let target = self.lock_writer().last_seq();
        self.sync_through(target)
    }

    /// Returns once every record up to `seq` is durable, leading an fsync or waiting for
    /// the one that covers `seq`.
    fn sync_through(&self, seq: u64) -> Result<()> {
        let d = &self.durability;
        let mut state = lock(&d.state);
        loop {
            if state.synced_seq >= seq {
                return Ok(());
            }
            self.check_poisoned()?;
            if state.syncing {
                let generation = if seq <= state.in_flight_target {
                    state.generation
                } else {
                    state.generation + 1
                };
                state = Durability::wait(d.covered_by(generation), state);
                continue;
            }
            let (relocked, synced) = self.lead_fsync(state);
            state = relocked;
            // The leader reports its own fsync failure; other waiters see the poison.
            synced?;
        }
    }

    /// fsyncs once for every record written so far, records the result and wakes the
    /// callers it covered. Called and returns with the state locked; the fsync itself runs
    /// unlocked.
    fn lead_fsync<'a>(
        &'a self,
        mut state: MutexGuard<'a, SyncState>,
    ) -> (MutexGuard<'a, SyncState>, Result<()>) {
        let d = &self.durability;
        state.syncing = true;

        // Everyone waiting wrote its records before registering, so this snapshot covers
        // all of them.
        let (segment, target) = {
            let writer = self.lock_writer();
            (Arc::clone(&writer.active), writer.last_seq())
        };
        state.in_flight_target = target;
        let generation = state.generation;
        drop(state);

        let started = Instant::now();
        let synced = segment.sync();
        let took = started.elapsed();

        let mut state = lock(&d.state);
        state.syncing = false;
        state.generation += 1;
        state.last_fsync = took;
        match &synced {
            Ok(()) => {
                self.fsyncs.fetch_add(1, Ordering::Relaxed);
                state.synced_seq = state.synced_seq.max(target);
                d.covered_by(generation).notify_all();
                // Writers that arrived during this fsync need one of them to lead the next.
                d.covered_by(generation + 1).notify_one();
            }
            Err(e) => {
                // Every waiter must see the poison, covered or not.
                self.poison(e);
                d.covered_by(generation).notify_all();
                d.covered_by(generation + 1).notify_all();
            }
        }
        (state, synced)
    }
}
