//! fsync coordination: group commit for [`SyncPolicy::Always`](crate::SyncPolicy::Always)
//! and explicit `sync()`.
//!
//! Writers append under the writer lock and release it before waiting here, so while one
//! fsync runs, other writers keep appending. When it finishes, one waiter becomes the next
//! leader and a single fsync covers everything appended meanwhile: N concurrent writers
//! share fsyncs instead of queueing N of them.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

use crate::engine::{Engine, lock};
use crate::error::Result;
use crate::options::SyncPolicy;

pub(crate) struct Durability {
    state: Mutex<SyncState>,
    synced: Condvar,
}

struct SyncState {
    /// Every record with a sequence number up to this one is on stable storage.
    synced_seq: u64,
    /// A leader is running an fsync right now.
    syncing: bool,
}

impl Durability {
    pub(crate) fn new(synced_seq: u64) -> Durability {
        Durability {
            state: Mutex::new(SyncState {
                synced_seq,
                syncing: false,
            }),
            synced: Condvar::new(),
        }
    }

    /// Records that everything up to `seq` is durable (e.g. a sealed segment was fsynced).
    pub(crate) fn mark_synced(&self, seq: u64) {
        let mut state = lock(&self.state);
        if seq > state.synced_seq {
            state.synced_seq = seq;
            self.synced.notify_all();
        }
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

    /// Returns once every record up to `seq` is durable, leading an fsync if none is
    /// running, or waiting for the running one (and then checking again) otherwise.
    fn sync_through(&self, seq: u64) -> Result<()> {
        let mut state = lock(&self.durability.state);
        loop {
            if state.synced_seq >= seq {
                return Ok(());
            }
            self.check_poisoned()?;
            if state.syncing {
                state = self
                    .durability
                    .synced
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            drop(state);
            let result = self.sync_active_segment();
            state = lock(&self.durability.state);
            state.syncing = false;
            self.durability.synced.notify_all();
            let covered = result?;
            state.synced_seq = state.synced_seq.max(covered);
        }
    }

    /// fsyncs the active segment; returns the last sequence number that fsync covers.
    /// Older segments were fsynced when they were sealed.
    fn sync_active_segment(&self) -> Result<u64> {
        let (segment, covered) = {
            let writer = self.lock_writer();
            (Arc::clone(&writer.active), writer.last_seq())
        };
        match segment.sync() {
            Ok(()) => {
                self.fsyncs.fetch_add(1, Ordering::Relaxed);
                Ok(covered)
            }
            Err(e) => {
                self.poison(&e);
                Err(e)
            }
        }
    }
}
