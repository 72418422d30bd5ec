//! Client-side caching (Redis's CLIENT TRACKING): the server remembers which keys each
//! tracking client read, and when one of them changes it sends that client an
//! `invalidate` message, so that the client can drop the copy it cached. In broadcast
//! mode (BCAST) nothing is remembered: a client hears of every changed key that starts
//! with one of its prefixes.
//!
//! Messages go to the client itself as a RESP3 push (`>2 invalidate [keys]`), or, with
//! REDIRECT, to another connection: a RESP3 one as the same push, a RESP2 one subscribed
//! to `__redis__:invalidate` as a message on that channel — Redis's two forms. A RESP2
//! client without REDIRECT has nowhere to receive them, as in Redis.
//!
//! The changed keys come from the keyspace events commands note (see `notify`): those
//! are published once the writes commit, and so are the invalidations.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::notify::Event;
use super::pubsub::{Kind, Subscriber};
use super::reply::{Protocol, Reply};
use super::shared::Shared;
use crate::engine::lock;

/// The channel a RESP2 connection subscribes to for the invalidations redirected to it.
pub(crate) const CHANNEL: &[u8] = b"__redis__:invalidate";

/// Redis's `tracking-table-max-keys` default: past this many remembered keys, the oldest
/// are forgotten (their clients told to drop them first).
pub(crate) const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// How a client tracks, as CLIENT TRACKING ON set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mode {
    pub(crate) bcast: bool,
    pub(crate) optin: bool,
    pub(crate) optout: bool,
    pub(crate) noloop: bool,
    /// The client id invalidations go to (0: the client itself).
    pub(crate) redirect: u64,
    /// BCAST's prefixes (the empty one for every key).
    pub(crate) prefixes: Vec<Vec<u8>>,
}

/// A tracking client: its mode, and where messages for it are queued (the outbox of the
/// connection, which RESP3 pushes go through).
struct Tracker {
    mode: Mode,
    own: Arc<Subscriber>,
}

#[derive(Default)]
struct State {
    clients: HashMap<u64, Tracker>,
    /// Keys read by clients tracking in the default mode, with those clients, in the order
    /// they were first remembered (the oldest are forgotten first past the limit).
    keys: remembered::RememberedKeys,
    /// BCAST prefixes, with their clients.
    prefixes: BTreeMap<Vec<u8>, HashSet<u64>>,
    max_keys: usize,
}

/// Every tracking client and what they track.
pub(crate) struct Tracking {
    state: Mutex<State>,
    /// How many clients track: while none does, writes note nothing for tracking.
    clients: AtomicUsize,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            state: Mutex::new(State {
                max_keys: DEFAULT_MAX_KEYS,
                ..State::default()
            }),
            clients: AtomicUsize::new(0),
        }
    }
}

/// What to tell a client: these keys changed, or everything did (a flush).
enum Invalidation<'a> {
    Keys(&'a [&'a [u8]]),
    All,
}

impl Tracking {
    /// Whether any client tracks (writes then note the keys they change).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    /// Turns tracking on (or changes its mode) for client `id`, whose messages without a
    /// redirect go to `own`.
    pub(crate) fn enable(&self, id: u64, mode: Mode, own: Arc<Subscriber>) {
        let mut state = lock(&self.state);
        state.forget_prefixes(id);
        for prefix in &mode.prefixes {
            state.prefixes.entry(prefix.clone()).or_default().insert(id);
        }
        if state.clients.insert(id, Tracker { mode, own }).is_none() {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Turns tracking off for client `id` (CLIENT TRACKING OFF, RESET, disconnection). The
    /// keys it read stay remembered until they change (as in Redis): they are dropped then.
    pub(crate) fn disable(&self, id: u64) {
        let mut state = lock(&self.state);
        state.forget_prefixes(id);
        if state.clients.remove(&id).is_some() {
            self.clients.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Remembers that client `id` read `keys` (default mode), telling the clients of the
    /// keys forgotten to stay within the limit to drop them.
    pub(crate) fn remember(&self, id: u64, keys: &[&[u8]], shared: &Shared) {
        let mut state = lock(&self.state);
        for key in keys {
            state.keys.insert(key, id);
        }
        while state.keys.len() > state.max_keys {
            let Some((key, ids)) = state.keys.pop_oldest() else {
                break;
            };
            state.send_to_each(&ids, None, &Invalidation::Keys(&[&key]), shared);
        }
    }

    /// The limit on remembered keys (CONFIG `tracking-table-max-keys`; 0: none).
    pub(crate) fn set_max_keys(&self, max: usize) {
        lock(&self.state).max_keys = if max == 0 { usize::MAX } else { max };
    }

    pub(crate) fn max_keys(&self) -> usize {
        match lock(&self.state).max_keys {
            usize::MAX => 0,
            n => n,
        }
    }

    /// INFO's figures: tracking clients, remembered keys, (key, client) pairs, prefixes.
    pub(crate) fn figures(&self) -> (usize, usize, usize, usize) {
        let state = lock(&self.state);
        (
            state.clients.len(),
            state.keys.len(),
            state.keys.items(),
            state.prefixes.len(),
        )
    }

    /// Tells the clients concerned that the keys of `events` changed (a flush event: that
    /// every key did), written by client `writer` (0: by the server, an expiry).
    pub(crate) fn invalidate(&self, events: &[Event], writer: u64, shared: &Shared) {
        let mut state = lock(&self.state);
        // Each key once, in the order first changed (BCAST gathers them all, those
        // before a flush too, as Redis does until its event loop's turn ends).
        let mut changed: Vec<&[u8]> = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for event in events {
            if event.is_flush() {
                let ids: HashSet<u64> = state.clients.keys().copied().collect();
                state.keys.clear();
                state.send_to_each(&ids, None, &Invalidation::All, shared);
                continue;
            }
            let key = event.key.as_slice();
            if seen.insert(key) {
                changed.push(key);
            }
            if let Some(ids) = state.keys.remove(key) {
                state.send_to_each(&ids, Some(writer), &Invalidation::Keys(&[key]), shared);
            }
        }
        if !state.prefixes.is_empty() {
            state.broadcast(&changed, writer, shared);
        }
    }
}

impl State {
    fn forget_prefixes(&mut self, id: u64) {
        self.prefixes.retain(|_, ids| {
            ids.remove(&id);
            !ids.is_empty()
        });
    }

    /// BCAST: to each client, per prefix of its that some of `changed` start with, one
    /// message with those keys (sorted, as Redis gathers them).
    fn broadcast(&self, changed: &[&[u8]], writer: u64, shared: &Shared) {
        for (prefix, ids) in &self.prefixes {
            let mut keys: Vec<&[u8]> = changed
                .iter()
                .copied()
                .filter(|k| k.starts_with(prefix))
                .collect();
            if keys.is_empty() {
                continue;
            }
            keys.sort_unstable();
            for &id in ids {
                self.send(id, Some(writer), &Invalidation::Keys(&keys), shared);
            }
        }
    }

    fn send_to_each(
        &self,
        ids: &HashSet<u64>,
        writer: Option<u64>,
        what: &Invalidation<'_>,
        shared: &Shared,
    ) {
        for &id in ids {
            self.send(id, writer, what, shared);
        }
    }

    /// Sends `what` to client `id` (or where it redirects), unless it no longer tracks or
    /// wrote the change itself with NOLOOP.
    fn send(&self, id: u64, writer: Option<u64>, what: &Invalidation<'_>, shared: &Shared) {
        let Some(tracker) = self.clients.get(&id) else {
            return;
        };
        if tracker.mode.noloop && writer == Some(id) {
            return;
        }
        let target = match tracker.mode.redirect {
            0 => Some(Arc::clone(&tracker.own)),
            to => self
                .clients
                .get(&to)
                .map(|t| Arc::clone(&t.own))
                .or_else(|| shared.pubsub.subscriber(Kind::Channel, CHANNEL, to)),
        };
        let Some(target) = target else {
            if shared.clients.get(tracker.mode.redirect).is_none() {
                Self::report_broken_redirect(tracker);
            }
            return;
        };
        let protocol = target.outbox.protocol();
        let subscribed = || {
            (shared.pubsub)
                .subscriber(Kind::Channel, CHANNEL, target.client.id)
                .is_some()
        };
        let mut out = Reply::new(protocol);
        match protocol {
            Protocol::Resp3 => {
                out.push(2);
                out.bulk(b"invalidate");
            }
            // RESP2 has no pushes: a redirect target subscribed to the channel gets a
            // message on it; anyone else, nothing (as in Redis).
            Protocol::Resp2 if tracker.mode.redirect != 0 && subscribed() => {
                out.array(3);
                out.bulk(b"message");
                out.bulk(CHANNEL);
            }
            Protocol::Resp2 => return,
        }
        match what {
            Invalidation::Keys(keys) => {
                out.array(keys.len());
                for key in keys.iter() {
                    out.bulk(key);
                }
            }
            Invalidation::All => out.null(),
        }
        if !target.outbox.send(out.take()) {
            target.client.kill();
        }
    }

    /// The client `tracker` redirects to is gone: the tracking client is told, for each
    /// message it misses (a RESP3 push, as Redis 7.0 sends it), and its TRACKINGINFO and
    /// CLIENT LIST say so.
    fn report_broken_redirect(tracker: &Tracker) {
        let own = &tracker.own;
        own.client.tracking_broken.store(true, Ordering::Relaxed);
        if own.outbox.protocol() == Protocol::Resp3 {
            let mut out = Reply::new(Protocol::Resp3);
            out.push(2);
            out.bulk(b"tracking-redir-broken");
            out.int(tracker.mode.redirect as i64);
            if !own.outbox.send(out.take()) {
                own.client.kill();
            }
        }
    }
}

/// The remembered keys: key -> clients, oldest first.
mod remembered {
    use std::collections::{HashMap, HashSet, VecDeque};

    #[derive(Default)]
    pub(super) struct RememberedKeys {
        map: HashMap<Vec<u8>, HashSet<u64>>,
        /// Keys in the order they were first remembered; may hold keys removed since (they
        /// are skipped when popped, and the queue is rebuilt when mostly stale).
        order: VecDeque<Vec<u8>>,
        items: usize,
    }

    impl RememberedKeys {
        pub(super) fn len(&self) -> usize {
            self.map.len()
        }

        pub(super) fn items(&self) -> usize {
            self.items
        }

        pub(super) fn insert(&mut self, key: &[u8], id: u64) {
            match self.map.get_mut(key) {
                Some(ids) => {
                    if ids.insert(id) {
                        self.items += 1;
                    }
                }
                None => {
                    self.map.insert(key.to_vec(), HashSet::from([id]));
                    self.order.push_back(key.to_vec());
                    self.items += 1;
                }
            }
        }

        pub(super) fn remove(&mut self, key: &[u8]) -> Option<HashSet<u64>> {
            let ids = self.map.remove(key)?;
            self.items -= ids.len();
            if self.order.len() > 2 * self.map.len() + 64 {
                let map = &self.map;
                self.order.retain(|k| map.contains_key(k));
            }
            Some(ids)
        }

        pub(super) fn pop_oldest(&mut self) -> Option<(Vec<u8>, HashSet<u64>)> {
            while let Some(key) = self.order.pop_front() {
                if let Some(ids) = self.map.remove(&key) {
                    self.items -= ids.len();
                    return Some((key, ids));
                }
            }
            None
        }

        pub(super) fn clear(&mut self) {
            self.map.clear();
            self.order.clear();
            self.items = 0;
        }
    }
}
