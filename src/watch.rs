//! Watched keys (the server's WATCH): for each, a count of the writes to it since it was
//! first watched, so that an optimistic transaction can tell whether anything was written
//! to its keys between WATCH and EXEC.
//!
//! The write path counts every record it publishes for a watched key (a string, a
//! collection's header or one of its elements), under the writer lock. A key starts being
//! watched under the writer lock too, so each write is either before the watch (and seen
//! by whatever the watcher reads next) or counted. Only real writes count: a command that
//! changes nothing writes no record, so it aborts nobody, as in Redis — except the few
//! commands Redis counts as a change even when they change nothing (LTRIM of a list, LMOVE
//! of a one-element list onto itself), which the list operations count with
//! [`Engine::touch_watched_key`].

// Only the server watches keys; without it the write path's check is all that is left.
#![cfg_attr(not(feature = "server"), allow(dead_code))]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::datatypes::split_element_key;
use crate::engine::{Engine, lock};
use crate::error::Result;
use crate::format::RecordKind;

/// What a watcher saw when it started watching a key (see [`Engine::watch_key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WatchMark {
    /// The key's write count then.
    writes: u64,
    /// The key existed (unexpired) then.
    live: bool,
}

#[derive(Debug)]
struct Watched {
    /// Watchers of the key (WATCH of one key by several clients).
    watchers: usize,
    /// Writes to the key since it was first watched.
    writes: u64,
}

/// Every watched key.
#[derive(Debug, Default)]
pub(crate) struct WatchedKeys {
    /// Number of watched keys, read by every write without the lock (changed under both
    /// the writer lock and `keys`'s lock when a key starts being watched).
    count: AtomicUsize,
    keys: Mutex<HashMap<Box<[u8]>, Watched>>,
}

impl WatchedKeys {
    /// A record of `kind` for `key` was published (called under the writer lock).
    pub(crate) fn note_write(&self, kind: RecordKind, key: &[u8]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let key = match kind {
            RecordKind::ElementPut | RecordKind::ElementDelete => match split_element_key(key) {
                Some((collection, _, _)) => collection,
                None => return,
            },
            RecordKind::Put | RecordKind::Delete | RecordKind::Collection => key,
        };
        self.count_write(key);
    }

    fn count_write(&self, key: &[u8]) {
        if let Some(watched) = lock(&self.keys).get_mut(key) {
            watched.writes += 1;
        }
    }
}

impl Engine {
    /// Starts watching `key` (once per call: pair each with [`Engine::unwatch_key`]).
    pub(crate) fn watch_key(&self, key: &[u8]) -> Result<WatchMark> {
        self.check_open()?;
        if crate::store::inside_transaction(self) {
            return Err(crate::store::reentry_error());
        }
        self.write_refused_while_reading()?;
        // Under the writer lock: no record is being published meanwhile.
        let _writer = self.lock_writer();
        let w = &self.watched;
        let mut keys = lock(&w.keys);
        let watched = keys.entry(key.into()).or_insert_with(|| {
            w.count.fetch_add(1, Ordering::Relaxed);
            Watched {
                watchers: 0,
                writes: 0,
            }
        });
        watched.watchers += 1;
        Ok(WatchMark {
            writes: watched.writes,
            live: self.live_entry(key, None).is_some(),
        })
    }

    /// Counts a command that Redis treats as a write to `key` although it changed nothing
    /// (LTRIM that trims nothing): its watchers' EXEC aborts. (Needs no lock: the command
    /// changed nothing, so it may count as before or after any other.)
    pub(crate) fn touch_watched_key(&self, key: &[u8]) {
        if self.watched.count.load(Ordering::Relaxed) != 0 {
            self.watched.count_write(key);
        }
    }

    /// Stops one watch of `key`.
    pub(crate) fn unwatch_key(&self, key: &[u8]) {
        let w = &self.watched;
        let mut keys = lock(&w.keys);
        if let Some(watched) = keys.get_mut(key) {
            watched.watchers -= 1;
            if watched.watchers == 0 {
                keys.remove(key);
                w.count.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether `key`, watched since `mark`, was written since, or existed then and has
    /// expired (or gone) since: Redis's "a watched key was touched". Call it under the
    /// writer lock (inside a transaction) for an answer that holds until the lock is let go.
    pub(crate) fn watched_key_changed(&self, key: &[u8], mark: WatchMark) -> bool {
        let written = lock(&self.watched.keys)
            .get(key)
            .is_some_and(|w| w.writes != mark.writes);
        written || mark.live && self.live_entry(key, None).is_none()
    }
}

#[cfg(test)]
mod tests {
    use crate::datatypes::scratch_store as store;

    #[test]
    fn counts_the_writes_of_watched_keys_and_their_elements() {
        let (_dir, store) = store();
        let engine = store.engine();
        store.sadd(b"s", &[b"a"]).unwrap();
        let string = engine.watch_key(b"k").unwrap();
        let set = engine.watch_key(b"s").unwrap();
        store.set(b"other", b"1").unwrap();
        store.sadd(b"s", &[b"a"]).unwrap(); // already there: nothing written
        assert!(!engine.watched_key_changed(b"k", string));
        assert!(!engine.watched_key_changed(b"s", set));
        store.sadd(b"s", &[b"b"]).unwrap();
        assert!(engine.watched_key_changed(b"s", set));
        store.set(b"k", b"1").unwrap();
        store.delete(b"k").unwrap();
        assert!(
            engine.watched_key_changed(b"k", string),
            "created and deleted again"
        );
        // A second watcher of a key counts from its own start.
        let later = engine.watch_key(b"k").unwrap();
        assert!(!engine.watched_key_changed(b"k", later));
        engine.touch_watched_key(b"k");
        assert!(engine.watched_key_changed(b"k", later));
        // LTRIM of a list counts although it trims nothing; of a missing key it does not.
        store.rpush(b"l", &[b"a"]).unwrap();
        let list = engine.watch_key(b"l").unwrap();
        let missing = engine.watch_key(b"none").unwrap();
        store.ltrim(b"none", 0, -1).unwrap();
        assert!(!engine.watched_key_changed(b"none", missing));
        store.ltrim(b"l", 0, -1).unwrap();
        assert_eq!(store.llen(b"l").unwrap(), 1);
        assert!(engine.watched_key_changed(b"l", list));
    }

    #[test]
    fn the_last_unwatch_forgets_the_key() {
        let (_dir, store) = store();
        let engine = store.engine();
        let first = engine.watch_key(b"k").unwrap();
        let _second = engine.watch_key(b"k").unwrap();
        engine.unwatch_key(b"k");
        store.set(b"k", b"1").unwrap();
        assert!(
            engine.watched_key_changed(b"k", first),
            "one watcher is left"
        );
        engine.unwatch_key(b"k");
        assert!(engine.watched.keys.lock().unwrap().is_empty());
        assert_eq!(engine.watched.count.load(super::Ordering::Relaxed), 0);
        // Unwatched, writes are not counted and cost no lock.
        store.set(b"k", b"2").unwrap();
        engine.unwatch_key(b"k");
        assert!(engine.watched.keys.lock().unwrap().is_empty());
    }
}
