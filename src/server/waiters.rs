//! The queue of blocking pops across every event loop: a waiter may take data from a key
//! only when no waiter that started earlier waits on that key, so waiters are served in
//! the order they started, whichever event loop each runs on.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::lock;

/// Waiting blocking pops, by ticket (ascending = oldest first), with their keys.
#[derive(Default)]
pub(crate) struct Waiters {
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, Vec<Vec<u8>>>>,
}

impl Waiters {
    /// Whether a new pop on `keys` would overtake a waiter.
    pub(crate) fn anyone_waiting_on(&self, keys: &[&[u8]]) -> bool {
        lock(&self.waiting)
            .values()
            .any(|theirs| theirs.iter().any(|k| keys.contains(&k.as_slice())))
    }

    /// Queues a waiter on `keys`; returns its ticket.
    pub(crate) fn enqueue(&self, keys: &[&[u8]]) -> u64 {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.waiting).insert(ticket, keys.iter().map(|k| k.to_vec()).collect());
        ticket
    }

    /// Whether the waiter with `ticket` is the oldest on every one of its keys.
    pub(crate) fn may_take(&self, ticket: u64) -> bool {
        let waiting = lock(&self.waiting);
        let Some(mine) = waiting.get(&ticket) else {
            return true;
        };
        !waiting
            .range(..ticket)
            .any(|(_, theirs)| theirs.iter().any(|k| mine.contains(k)))
    }

    pub(crate) fn remove(&self, ticket: u64) {
        lock(&self.waiting).remove(&ticket);
    }
}
