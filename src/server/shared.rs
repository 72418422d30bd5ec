//! The state every connection shares: the store, settings that CONFIG SET may change,
//! clients, subscriptions, watches and statistics.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::clients::Clients;
use super::config::ServerConfig;
use super::frame::Limits;
use super::pubsub::Broker;
use super::reply::Reply;
use crate::Store;
use crate::engine::lock;

/// Settings CONFIG SET can change while the server runs.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) requirepass: Option<String>,
    pub(crate) maxclients: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) limits: Limits,
}

/// Running totals for INFO stats.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) connections_received: AtomicU64,
    pub(crate) commands_processed: AtomicU64,
    pub(crate) rejected_connections: AtomicU64,
    pub(crate) keyspace_hits: AtomicU64,
    pub(crate) keyspace_misses: AtomicU64,
    pub(crate) net_input_bytes: AtomicU64,
    pub(crate) net_output_bytes: AtomicU64,
    /// Connections waiting in a blocking pop (INFO's blocked_clients).
    pub(crate) blocked_clients: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The shutdown request, as a flag threads check and a condition the owner waits on.
#[derive(Default)]
pub(crate) struct Stop {
    requested: AtomicBool,
    done: Mutex<bool>,
    finished: Condvar,
}

impl Stop {
    pub(crate) fn request(&self) -> bool {
        !self.requested.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    pub(crate) fn mark_finished(&self) {
        *lock(&self.done) = true;
        self.finished.notify_all();
    }

    pub(crate) fn wait_finished(&self) {
        let mut done = lock(&self.done);
        while !*done {
            done = self
                .finished
                .wait(done)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

pub(crate) struct Shared {
    pub(crate) store: Store,
    /// Blocking pops waiting, in the order they started (all event loops).
    pub(crate) waiters: super::waiters::Waiters,
    pub(crate) settings: RwLock<Settings>,
    pub(crate) drain_timeout: Duration,
    /// See [`ServerConfig::blocked_retry`].
    pub(crate) blocked_retry: Duration,
    pub(crate) local_addr: SocketAddr,
    pub(crate) clients: Clients,
    pub(crate) pubsub: Broker,
    pub(crate) monitors: super::monitor::Monitors,
    pub(crate) counters: Counters,
    pub(crate) started: Instant,
    /// INFO replication's `master_replid`: 40 random hex digits chosen at start, as Redis.
    pub(crate) replication_id: String,
    pub(crate) stop: Stop,
    /// Unix seconds of the last completed SAVE (or of the start).
    pub(crate) last_save: AtomicU64,
    /// A BGREWRITEAOF (merge) is running.
    pub(crate) merging: Arc<AtomicBool>,
    /// Lua scripts (EVAL, SCRIPT LOAD) and the one running.
    pub(crate) scripts: Arc<super::script::Scripts>,
    /// See [`ServerConfig::script_time_limit`].
    pub(crate) script_time_limit: Duration,
    /// Commands that ran long (SLOWLOG).
    pub(crate) slowlog: super::slowlog::SlowLog,
    /// INFO commandstats.
    pub(crate) command_stats: super::cmdstats::CommandStats,
    /// INFO errorstats and `total_error_replies`: the replies of every connection and of
    /// the commands scripts run count here.
    pub(crate) error_stats: Arc<super::errorstats::ErrorStats>,
    /// Function libraries (FUNCTION LOAD), kept in the store's directory.
    pub(crate) functions: super::script::functions::Functions,
    /// `notify-keyspace-events`: which keyspace events are published.
    pub(crate) keyspace_events: super::notify::KeyspaceEvents,
    /// Client-side caching: who tracks which keys (CLIENT TRACKING).
    pub(crate) tracking: super::tracking::Tracking,
}

impl Shared {
    pub(crate) fn new(store: Store, config: &ServerConfig, local_addr: SocketAddr) -> Shared {
        let functions = super::script::functions::Functions::new(Some(
            store.path().join(super::script::functions::FUNCTIONS_FILE),
        ));
        Shared {
            store,
            waiters: super::waiters::Waiters::default(),
            settings: RwLock::new(Settings {
                requirepass: config.requirepass.clone(),
                maxclients: config.maxclients,
                idle_timeout: config.idle_timeout,
                limits: config.limits,
            }),
            drain_timeout: config.drain_timeout,
            blocked_retry: config.blocked_retry,
            local_addr,
            clients: Clients::default(),
            pubsub: Broker::default(),
            monitors: super::monitor::Monitors::default(),
            counters: Counters::default(),
            started: Instant::now(),
            replication_id: super::info::new_replication_id(),
            stop: Stop::default(),
            last_save: AtomicU64::new(super::args::unix_now().as_secs()),
            merging: Arc::new(AtomicBool::new(false)),
            scripts: Arc::default(),
            script_time_limit: config.script_time_limit,
            functions,
            slowlog: super::slowlog::SlowLog::default(),
            command_stats: super::cmdstats::CommandStats::default(),
            error_stats: Arc::default(),
            keyspace_events: super::notify::KeyspaceEvents::default(),
            tracking: super::tracking::Tracking::default(),
        }
    }

    /// Notes keyspace event `name` of `class` on `key` in `out`, to be published once the
    /// command's write is committed: as a keyspace event if that class is wanted, and to
    /// the clients tracking `key` if any client tracks. Costs two relaxed loads while
    /// neither is on.
    #[inline]
    pub(crate) fn notify(&self, out: &mut Reply, class: u32, name: &'static str, key: &[u8]) {
        let publish = self.keyspace_events.wants(class);
        if publish || self.tracking.is_active() {
            out.note_event(super::notify::Event {
                name,
                key: key.to_vec(),
                publish,
            });
        }
    }

    /// Notes that `key` changed without a keyspace event (Redis's `signalModifiedKey`
    /// alone, as PFCOUNT's rewrite of its cached count): only tracking clients hear of it.
    pub(crate) fn notify_modified(&self, out: &mut Reply, key: &[u8]) {
        if self.tracking.is_active() {
            out.note_event(super::notify::Event {
                name: "modified",
                key: key.to_vec(),
                publish: false,
            });
        }
    }

    /// Whether events of `class` are noted: published, or wanted by tracking clients.
    /// Commands that need a read to know which events to note read only then.
    #[inline]
    pub(crate) fn notes(&self, class: u32) -> bool {
        self.keyspace_events.wants(class) || self.tracking.is_active()
    }

    /// Notes a flush (every key changed) for the tracking clients.
    pub(crate) fn notify_flush(&self, out: &mut Reply) {
        if self.tracking.is_active() {
            out.note_event(super::notify::Event::flush());
        }
    }

    /// The events of a command that removed elements of the collection at `key`: its own
    /// event, then `del` if that emptied the collection (and so deleted the key), in
    /// Redis's order.
    pub(crate) fn notify_removal(
        &self,
        out: &mut Reply,
        class: u32,
        name: &'static str,
        key: &[u8],
        emptied: bool,
    ) {
        self.notify(out, class, name, key);
        if emptied {
            self.notify(out, super::notify::class::GENERIC, "del", key);
        }
    }

    /// Publishes the `expired` event of `key`, which the store's expiry cycle deleted.
    pub(crate) fn notify_expired(&self, key: &[u8]) {
        let publish = self.keyspace_events.wants(super::notify::class::EXPIRED);
        if publish || self.tracking.is_active() {
            let events = [super::notify::Event {
                name: "expired",
                key: key.to_vec(),
                publish,
            }];
            self.keyspace_events.publish(&self.pubsub, &events);
            self.tracking.invalidate(&events, 0, self);
        }
    }

    /// Publishes the keyspace events noted in `out`, whose writes (by client `writer`) are
    /// committed, and tells the tracking clients of the keys they changed.
    pub(crate) fn publish_events(&self, out: &mut Reply, writer: u64) {
        let events = out.take_events();
        self.publish_keyspace_events(&events);
        self.invalidate_tracked(&events, writer);
    }

    /// Publishes `events` (those of committed writes) as keyspace events, as far as the
    /// setting asks.
    pub(crate) fn publish_keyspace_events(&self, events: &[super::notify::Event]) {
        if !events.is_empty() {
            self.keyspace_events.publish(&self.pubsub, events);
        }
    }

    /// Tells the tracking clients that the keys of `events` (written by client `writer`)
    /// changed.
    pub(crate) fn invalidate_tracked(&self, events: &[super::notify::Event], writer: u64) {
        if !events.is_empty() && self.tracking.is_active() {
            self.tracking.invalidate(events, writer, self);
        }
    }

    /// A copy of the current settings.
    pub(crate) fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        let mut settings = self
            .settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut settings);
    }

    /// Whether clients must authenticate.
    pub(crate) fn password_required(&self) -> bool {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requirepass
            .is_some()
    }
}
