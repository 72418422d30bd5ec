//! fsync coordination: group commit for [`SyncPolicy::Always`](crate::SyncPolicy::Always)
//! and explicit `sync()`.
//!
//! Writers append under the writer lock and release it before waiting here. One waiter at a
//! time leads: it fsyncs the active segment, which makes durable every record appended
//! before the fsync started, and wakes the writers that fsync covered. Three details make
//! the groups large:
//!
//! - **Gathering.** A new leader first waits (briefly, bounded by the duration of the last
//!   fsync) until as many records are pending as the last fsync covered. Without this, the
//!   writers woken by one fsync re-arrive just after the next one started and the groups
//!   alternate between a few and the rest.
//! - **Targeted wake-ups.** Waiters sleep on one of two condition variables: the one of the
//!   fsync in flight if it covers them, otherwise the one of the next fsync. Finishing an
//!   fsync wakes only the writers it covered (plus one waiter of the next, to lead it), not
//!   every thread waiting.
//! - **Lock order.** Durability state, then the writer lock (to read the last sequence
//!   number); never the other way round.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::{Engine, lock};
use crate::error::Result;
use crate::options::SyncPolicy;

/// Upper bound on how long a leader waits for its group to assemble.
const MAX_GATHER: Duration = Duration::from_millis(2);

pub(crate) struct Durability {
    state: Mutex<SyncState>,
    /// Waiters for the fsync of generation `g` sleep on `covered[g % 2]`.
    covered: [Condvar; 2],
    /// Wakes a gathering leader when another writer starts waiting.
    arrived: Condvar,
}

struct SyncState {
    /// Every record with a sequence number up to this one is on stable storage.
    synced_seq: u64,
    /// A leader is gathering or running an fsync.
    syncing: bool,
    /// The last sequence number the fsync in flight covers; `u64::MAX` while its leader is
    /// still gathering (everyone waiting then will be covered).
    in_flight_target: u64,
    /// Generation of the fsync in flight, or of the next one when none is.
    generation: u64,
    /// How many records the last fsync covered.
    last_group: u64,
    /// How long the last fsync took.
    last_fsync: Duration,
    /// A leader is waiting on `arrived`.
    gathering: bool,
}

impl Durability {
    pub(crate) fn new(synced_seq: u64) -> Durability {
        Durability {
            state: Mutex::new(SyncState {
                synced_seq,
                syncing: false,
                in_flight_target: 0,
                generation: 0,
                last_group: 1,
                last_fsync: Duration::ZERO,
                gathering: false,
            }),
            covered: [Condvar::new(), Condvar::new()],
            arrived: Condvar::new(),
        }
    }

    fn wait<'a>(cv: &Condvar, guard: MutexGuard<'a, SyncState>) -> MutexGuard<'a, SyncState> {
        cv.wait(guard).unwrap_or_else(PoisonError::into_inner)
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
                if state.gathering {
                    d.arrived.notify_one();
                }
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

    /// Gathers a group, fsyncs once for all of it, records the result and wakes the group.
    /// Called and returns with the state locked; the fsync itself runs unlocked.
    fn lead_fsync<'a>(
        &'a self,
        mut state: MutexGuard<'a, SyncState>,
    ) -> (MutexGuard<'a, SyncState>, Result<()>) {
        let d = &self.durability;
        state.syncing = true;
        state.in_flight_target = u64::MAX;

        let deadline = Instant::now() + state.last_fsync.min(MAX_GATHER);
        loop {
            let pending = self
                .written_seq
                .load(Ordering::Acquire)
                .saturating_sub(state.synced_seq);
            let now = Instant::now();
            if pending >= state.last_group || now >= deadline {
                break;
            }
            state.gathering = true;
            state = d
                .arrived
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.gathering = false;
        }

        // Everyone waiting wrote its record before registering, so this snapshot covers
        // the whole group.
        let (segment, target) = {
            let writer = self.lock_writer();
            (Arc::clone(&writer.active), writer.last_seq())
        };
        state.in_flight_target = target;
        let group = target.saturating_sub(state.synced_seq);
        let generation = state.generation;
        drop(state);

        let started = Instant::now();
        let synced = segment.sync();
        let took = started.elapsed();

        let mut state = lock(&d.state);
        state.syncing = false;
        state.generation += 1;
        state.last_fsync = took;
        state.last_group = group.max(1);
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
