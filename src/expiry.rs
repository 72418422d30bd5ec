//! The active expiry cycle: finds keys whose expiry has passed and deletes them (a tombstone
//! each), so they leave memory and, through merge, the disk without anyone reading them.
//!
//! Reads never need it — every read path checks expiry itself (lazy expiry) — but without
//! it, keys nobody reads again would hold index memory forever. Each shard counts its
//! entries per expiry instant, so a cycle visits only shards that hold expired keys.
//!
//! Deleting with a tombstone (as Redis propagates a `DEL`) keeps expiry final: if the wall
//! clock later jumps backwards, a key the cycle deleted stays deleted, also after a reopen.
//! A key that expired but was not deleted yet reappears if the clock jumps back before its
//! expiry: that is what the new time says.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::error::Result;
use crate::ops::{Job, Outcome};

/// Keys deleted per write job: small enough to keep each append short.
const KEYS_PER_JOB: usize = 512;

impl Engine {
    /// Deletes expired keys until none is left or `budget` is spent (`Duration::MAX`: until
    /// none is left). Returns how many it deleted.
    pub(crate) fn expire_cycle(&self, budget: Duration) -> Result<u64> {
        let started = Instant::now();
        let mut deleted = 0;
        loop {
            let now = self.now_ms();
            let start = self.expiry_cursor.load(Ordering::Relaxed);
            let (keys, next) = self.keydir.expired_keys(now, start, KEYS_PER_JOB);
            self.expiry_cursor.store(next, Ordering::Relaxed);
            if keys.is_empty() {
                break;
            }
            if let Outcome::Keys(reaped) = self.run(Job::Reap { keys })? {
                let n = reaped.len() as u64;
                deleted += n;
                self.expired_deleted.fetch_add(n, Ordering::Relaxed);
                // Told once the deletions are written, outside every lock.
                let listener = self
                    .expiry_listener
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                if let Some(listener) = listener {
                    reaped.iter().for_each(|key| listener(key));
                }
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        Ok(deleted)
    }
}
