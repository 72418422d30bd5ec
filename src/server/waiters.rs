//! The queue of blocking pops across every event loop: a waiter may take data from a key
//! only when no waiter that started earlier waits on that key, so waiters are served in
//! the order they started, whichever event loop each runs on. It also knows which event
//! loops have a waiter, so that a write on one loop wakes the others at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::pubsub::Notifier;
use crate::engine::lock;

/// Waiting blocking pops, by ticket (ascending = oldest first), with their keys.
#[derive(Default)]
pub(crate) struct Waiters {
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, Vec<Vec<u8>>>>,
    /// Event loops (by index) with a waiting pop, and how to wake each.
    parked: Mutex<Vec<(usize, Arc<Notifier>)>>,
    /// `parked.len()`, read without the lock on every turn of every loop.
    parked_loops: AtomicUsize,
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

    /// Records whether event loop `index` has a waiting pop (`notifier` wakes it).
    pub(crate) fn set_parked(&self, index: usize, notifier: &Arc<Notifier>, parked: bool) {
        let mut loops = lock(&self.parked);
        loops.retain(|(i, _)| *i != index);
        if parked {
            loops.push((index, Arc::clone(notifier)));
        }
        self.parked_loops.store(loops.len(), Ordering::Release);
    }

    /// Wakes every event loop but `index` that has a waiting pop: a write on `index` may
    /// be what they wait for. Without this they would try again only at their next poll
    /// timeout.
    /// Wakes every event loop with a waiting pop (CLIENT UNBLOCK, which may come from any
    /// loop, for a pop on any of them).
    pub(crate) fn wake_all(&self) {
        self.wake_others(usize::MAX);
    }

    pub(crate) fn wake_others(&self, index: usize) {
        if self.parked_loops.load(Ordering::Acquire) == 0 {
            return;
        }
        for (i, notifier) in lock(&self.parked).iter() {
            if *i != index {
                let _ = notifier.waker.wake();
            }
        }
    }
}
