//! Publish/subscribe: channel and pattern subscriptions, and the outbox through which
//! messages reach a subscriber without the publisher ever waiting on its socket.
//!
//! A publisher queues a message in each subscriber's [`Outbox`] and wakes the event loop
//! serving the subscriber, which moves it to the connection's output. The subscribed
//! connection sends its own replies through the same outbox, so replies and messages stay
//! in order. More than the limit waiting (Redis's `client-output-buffer-limit pubsub`,
//! 32 MiB) means the subscriber is not reading: it is disconnected, as Redis does.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::clients::ClientEntry;
use super::glob;
use super::reply::{Protocol, Reply};
use crate::engine::lock;

/// Most bytes an outbox holds before its client is disconnected.
pub(crate) const OUTBOX_LIMIT: usize = 32 << 20;

#[derive(Default)]
struct OutboxState {
    chunks: VecDeque<Vec<u8>>,
    bytes: usize,
    closed: bool,
}

/// Tells an event loop that an outbox has bytes for one of its connections.
pub(crate) struct Notifier {
    pub(crate) waker: mio::Waker,
    /// Connections (by token) whose outboxes have bytes.
    pub(crate) ready: Mutex<Vec<usize>>,
}

impl Notifier {
    fn notify(&self, token: usize) {
        lock(&self.ready).push(token);
        // A failed wake leaves the bytes queued until the loop's next turn.
        let _ = self.waker.wake();
    }
}

/// Bytes on their way to one subscribed connection's socket.
pub(crate) struct Outbox {
    state: Mutex<OutboxState>,
    resp3: AtomicBool,
    limit: usize,
    /// The event loop serving the connection, once it has taken the outbox on.
    notify: Mutex<Option<(Arc<Notifier>, usize)>>,
}

impl Outbox {
    pub(crate) fn new(protocol: Protocol, limit: usize) -> Outbox {
        Outbox {
            state: Mutex::new(OutboxState::default()),
            resp3: AtomicBool::new(protocol == Protocol::Resp3),
            limit,
            notify: Mutex::new(None),
        }
    }

    /// The protocol messages to this connection are encoded in.
    pub(crate) fn protocol(&self) -> Protocol {
        if self.resp3.load(Ordering::Acquire) {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    pub(crate) fn set_protocol(&self, protocol: Protocol) {
        self.resp3
            .store(protocol == Protocol::Resp3, Ordering::Release);
    }

    /// Queues `bytes`; false if the outbox is closed or would exceed its limit (its
    /// client is not reading).
    pub(crate) fn send(&self, bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return true;
        }
        {
            let mut state = lock(&self.state);
            if state.closed || state.bytes + bytes.len() > self.limit {
                return false;
            }
            state.bytes += bytes.len();
            state.chunks.push_back(bytes);
        }
        if let Some((notifier, token)) = lock(&self.notify).as_ref() {
            notifier.notify(*token);
        }
        true
    }

    /// Connects the outbox to the event loop serving its connection (`token`).
    pub(crate) fn bind(&self, notifier: &Arc<Notifier>, token: usize) {
        *lock(&self.notify) = Some((Arc::clone(notifier), token));
    }

    /// No more bytes will be queued.
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
        lock(&self.notify).take();
    }

    /// Moves every queued byte to the end of `out`.
    pub(crate) fn drain_into(&self, out: &mut Vec<u8>) {
        let mut state = lock(&self.state);
        state.bytes = 0;
        for chunk in state.chunks.drain(..) {
            out.extend_from_slice(&chunk);
        }
    }
}

/// A subscribed connection as the broker sees it.
pub(crate) struct Subscriber {
    pub(crate) client: Arc<ClientEntry>,
    pub(crate) outbox: Arc<Outbox>,
}

/// Subscribers of each name, by client id.
type Subscriptions = HashMap<Vec<u8>, HashMap<u64, Arc<Subscriber>>>;

#[derive(Default)]
struct BrokerState {
    channels: Subscriptions,
    patterns: Subscriptions,
    shard_channels: Subscriptions,
}

/// How a published message reaches one subscriber.
enum Delivery {
    /// `message`: it subscribed to the channel.
    Channel,
    /// `pmessage`: it subscribed to this pattern, which matches the channel.
    Pattern(Vec<u8>),
    /// `smessage`: it subscribed to the shard channel.
    Shard,
}

/// Every subscription of every connection.
#[derive(Default)]
pub(crate) struct Broker {
    state: Mutex<BrokerState>,
}

/// Whether a subscription is to a channel, to a pattern, or to a shard channel (Redis 7's
/// sharded pub/sub: a namespace of its own, reached with SPUBLISH, never by patterns; with
/// one node, one shard holds them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Broker {
    fn table(state: &mut BrokerState, kind: Kind) -> &mut Subscriptions {
        match kind {
            Kind::Channel => &mut state.channels,
            Kind::Pattern => &mut state.patterns,
            Kind::Shard => &mut state.shard_channels,
        }
    }

    fn table_ref(state: &BrokerState, kind: Kind) -> &Subscriptions {
        match kind {
            Kind::Channel => &state.channels,
            Kind::Pattern => &state.patterns,
            Kind::Shard => &state.shard_channels,
        }
    }

    /// Client `id`'s subscription to `name`, if it has one.
    pub(crate) fn subscriber(&self, kind: Kind, name: &[u8], id: u64) -> Option<Arc<Subscriber>> {
        let state = lock(&self.state);
        Self::table_ref(&state, kind).get(name)?.get(&id).cloned()
    }

    pub(crate) fn subscribe(&self, kind: Kind, name: &[u8], subscriber: &Arc<Subscriber>) {
        let mut state = lock(&self.state);
        Self::table(&mut state, kind)
            .entry(name.to_vec())
            .or_default()
            .insert(subscriber.client.id, Arc::clone(subscriber));
    }

    pub(crate) fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) {
        let mut state = lock(&self.state);
        let table = Self::table(&mut state, kind);
        if let Some(subs) = table.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                table.remove(name);
            }
        }
    }

    /// Sends `message` on `channel` to every subscriber of the channel and of every
    /// matching pattern; returns how many deliveries were made. Subscribers whose outbox
    /// is over its limit are disconnected.
    pub(crate) fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        let mut deliveries: Vec<(Arc<Subscriber>, Delivery)> = Vec::new();
        {
            let state = lock(&self.state);
            if let Some(subs) = state.channels.get(channel) {
                deliveries.extend(subs.values().map(|s| (Arc::clone(s), Delivery::Channel)));
            }
            for (pattern, subs) in &state.patterns {
                if glob::matches(pattern, channel) {
                    deliveries.extend(
                        subs.values()
                            .map(|s| (Arc::clone(s), Delivery::Pattern(pattern.clone()))),
                    );
                }
            }
        }
        Self::deliver(&deliveries, channel, message)
    }

    /// SPUBLISH: sends `message` to every subscriber of the shard channel `channel` (as
    /// `smessage`; patterns do not see shard channels); returns how many were sent.
    pub(crate) fn publish_shard(&self, channel: &[u8], message: &[u8]) -> usize {
        let deliveries: Vec<(Arc<Subscriber>, Delivery)> = lock(&self.state)
            .shard_channels
            .get(channel)
            .map(|subs| {
                subs.values()
                    .map(|s| (Arc::clone(s), Delivery::Shard))
                    .collect()
            })
            .unwrap_or_default();
        Self::deliver(&deliveries, channel, message)
    }

    /// Queues `message` on `channel` in each subscriber's outbox, in the form its
    /// subscription asks for; disconnects those over their outbox limit.
    fn deliver(
        deliveries: &[(Arc<Subscriber>, Delivery)],
        channel: &[u8],
        message: &[u8],
    ) -> usize {
        for (subscriber, delivery) in deliveries {
            let mut out = Reply::new(subscriber.outbox.protocol());
            match delivery {
                Delivery::Channel => {
                    out.push(3);
                    out.bulk(b"message");
                }
                Delivery::Pattern(pattern) => {
                    out.push(4);
                    out.bulk(b"pmessage");
                    out.bulk(pattern);
                }
                Delivery::Shard => {
                    out.push(3);
                    out.bulk(b"smessage");
                }
            }
            out.bulk(channel);
            out.bulk(message);
            if !subscriber.outbox.send(out.take()) {
                subscriber.client.kill();
            }
        }
        deliveries.len()
    }

    /// Channels (or shard channels) with subscribers, optionally only those matching
    /// `pattern`.
    pub(crate) fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let state = lock(&self.state);
        Self::table_ref(&state, kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c)))
            .cloned()
            .collect()
    }

    /// How many channels (or shard channels) have subscribers.
    pub(crate) fn channel_count(&self, kind: Kind) -> usize {
        Self::table_ref(&lock(&self.state), kind).len()
    }

    /// Subscribers of `channel` (or of the shard channel; pattern subscriptions not
    /// counted, as in Redis).
    pub(crate) fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        Self::table_ref(&lock(&self.state), kind)
            .get(channel)
            .map_or(0, HashMap::len)
    }
}
