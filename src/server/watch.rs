//! WATCH: which clients watch which keys, and the flag that aborts their EXEC.
//!
//! Every write command marks the keys it names *before* it runs, and FLUSHDB marks every
//! watched key. Marking first is what makes the check sound: EXEC checks its flag inside
//! its store transaction (holding the writer lock), so a write either marked the flag
//! before the check — EXEC aborts — or runs after EXEC's transaction, which is then simply
//! the earlier of the two. A write that turns out to change nothing (a failed `SET NX`)
//! still marks: EXEC may abort more often than Redis's, never less.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::engine::lock;

/// A client's "a watched key was touched" flag.
pub(crate) type DirtyFlag = Arc<AtomicBool>;

/// The clients watching one key: their ids and flags.
type Watchers = Vec<(u64, DirtyFlag)>;

/// Watched keys and their watchers.
#[derive(Default)]
pub(crate) struct Watches {
    /// Keys with at least one watcher; read without the lock so that writes cost nothing
    /// while nobody watches.
    watched_keys: AtomicUsize,
    by_key: Mutex<HashMap<Vec<u8>, Watchers>>,
}

impl Watches {
    /// Client `id` watches `key`.
    pub(crate) fn watch(&self, id: u64, key: &[u8], flag: &DirtyFlag) {
        let mut by_key = lock(&self.by_key);
        let watchers = by_key.entry(key.to_vec()).or_default();
        if watchers.is_empty() {
            self.watched_keys.fetch_add(1, Ordering::AcqRel);
        }
        if !watchers.iter().any(|(w, _)| *w == id) {
            watchers.push((id, Arc::clone(flag)));
        }
    }

    /// Client `id` stops watching `keys`.
    pub(crate) fn unwatch(&self, id: u64, keys: &[Vec<u8>]) {
        let mut by_key = lock(&self.by_key);
        for key in keys {
            if let Some(watchers) = by_key.get_mut(key) {
                watchers.retain(|(w, _)| *w != id);
                if watchers.is_empty() {
                    by_key.remove(key);
                    self.watched_keys.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }

    /// `key` is about to be written: its watchers' transactions must abort.
    pub(crate) fn touch(&self, key: &[u8]) {
        if self.watched_keys.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Some(watchers) = lock(&self.by_key).get(key) {
            for (_, flag) in watchers {
                flag.store(true, Ordering::Release);
            }
        }
    }

    /// Every key is about to go (FLUSHDB): every watcher's transaction must abort.
    pub(crate) fn touch_all(&self) {
        if self.watched_keys.load(Ordering::Acquire) == 0 {
            return;
        }
        for watchers in lock(&self.by_key).values() {
            for (_, flag) in watchers {
                flag.store(true, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_a_watched_key_sets_only_its_watchers_flags() {
        let w = Watches::default();
        let a: DirtyFlag = Arc::default();
        let b: DirtyFlag = Arc::default();
        w.watch(1, b"k", &a);
        w.watch(2, b"other", &b);
        w.touch(b"k");
        assert!(a.load(Ordering::Acquire));
        assert!(!b.load(Ordering::Acquire));
        w.unwatch(2, &[b"other".to_vec()]);
        w.touch(b"other");
        assert!(!b.load(Ordering::Acquire));
        w.touch_all();
        assert!(!b.load(Ordering::Acquire));
    }
}
