//! A Redis-protocol server for a [`Store`] (feature `server`): redis-cli,
//! redis-benchmark and Redis client libraries work against durable keg storage unchanged.
//!
//! ```no_run
//! use std::net::TcpListener;
//! use keg::server::{serve, ServerConfig};
//!
//! let store = keg::Store::open("data")?;
//! let listener = TcpListener::bind("127.0.0.1:6379")?;
//! let server = serve(listener, store.clone(), ServerConfig::default())?;
//! // ... until something calls server.handle().shutdown() or a client sends SHUTDOWN:
//! server.wait()?;
//! store.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Protocol: RESP2, RESP3 after `HELLO 3`, inline commands, pipelining; requests are framed
//! by [`frame::check`] / [`frame::parse`] under Redis's size limits. Commands: strings,
//! counters, keys and TTLs, SCAN, MULTI/EXEC/WATCH, pub/sub, and the connection and server
//! commands clients need (see `docs/server.md` for the list and the differences from Redis).
//!
//! Concurrency: a few event-loop threads (one per two cores, at most four), each serving many
//! connections through epoll readiness, as Redis's event loop does. Each turn of a loop
//! runs the data commands that arrived on all its ready connections as one store
//! transaction: one append, and under [`SyncPolicy::Always`](crate::SyncPolicy::Always)
//! one fsync for all of them before any reply leaves — Redis's fsync per event-loop turn.
//!
//! Durability: a reply to a write is sent only after the store call returned, i.e. after
//! the fsync under `Always`; under `Interval` a power loss may take the last interval.
//! Shutdown (SHUTDOWN, [`ServerHandle::shutdown`], or SIGINT/SIGTERM in `kvctl serve`)
//! stops accepting, lets every connection finish the commands it has received, syncs the
//! store and returns.

mod args;
mod clients;
mod cmdstats;
mod commands;
mod config;
mod error;
mod errorstats;
mod event_loop;
pub mod frame;
mod glob;
mod info;
mod inline;
mod input;
mod keyspace;
mod monitor;
mod notify;
mod pubsub;
mod rdb;
mod rdb_compact;
mod replay;
mod reply;
mod script;
mod session;
mod shared;
mod slowlog;
mod table;
mod tracking;
mod waiters;

pub use config::{
    DEFAULT_BLOCKED_RETRY, DEFAULT_MAXCLIENTS, DEFAULT_SCRIPT_TIME_LIMIT, ServerConfig,
};
pub use frame::Limits;
#[doc(hidden)]
pub use rdb::seal_dump_payload;
#[doc(hidden)]
pub use replay::replay_connection;
pub use script::functions::FUNCTIONS_FILE;

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use event_loop::LoopHandle;

use crate::Store;
use crate::engine::lock;
use shared::{Counters, Shared};

/// A running server. Dropping it does not stop it; call [`shutdown`](Server::shutdown)
/// or [`wait`](Server::wait).
pub struct Server {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    outcome: Arc<Mutex<Option<crate::Result<()>>>>,
}

/// A handle that stops a [`Server`] from anywhere (another thread, a signal handler's
/// thread). Cheap to clone.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.shared.local_addr)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.shared.local_addr)
            .finish_non_exhaustive()
    }
}

/// Serves `store` on `listener` (already bound: tests bind port 0) from a background
/// thread, and returns at once.
///
/// The caller keeps ownership of the store's lifetime: after the server stops, close the
/// store (the server has synced it).
pub fn serve(listener: TcpListener, store: Store, config: ServerConfig) -> io::Result<Server> {
    let local_addr = listener.local_addr()?;
    listener.set_nonblocking(false)?;
    let shared = Arc::new(Shared::new(store, &config, local_addr));
    // The function libraries the server kept: one that no longer loads stops the start.
    shared.functions.load_kept()?;
    // `expired` keyspace events come from the store's expiry cycle; the listener holds the
    // server weakly, and is removed when the server stops.
    let events = Arc::downgrade(&shared);
    shared
        .store
        .set_expiry_listener(Some(Arc::new(move |key: &[u8]| {
            if let Some(shared) = events.upgrade() {
                shared.notify_expired(key);
            }
        })));
    let count = match config.event_loops {
        0 => event_loop::default_loops(),
        n => n,
    };
    let loops = (0..count)
        .map(|i| event_loop::spawn(Arc::clone(&shared), i))
        .collect::<io::Result<Vec<LoopHandle>>>()?;
    let outcome = Arc::new(Mutex::new(None));
    let accepting = Arc::clone(&shared);
    let result = Arc::clone(&outcome);
    let acceptor = std::thread::Builder::new()
        .name("keg-accept".into())
        .spawn(move || {
            accept_loop(&accepting, &listener, &loops);
            drop(listener);
            let synced = drain(&accepting, loops);
            accepting.store.set_expiry_listener(None);
            *lock(&result) = Some(synced);
            accepting.stop.mark_finished();
        })?;
    Ok(Server {
        shared,
        acceptor: Some(acceptor),
        outcome,
    })
}

impl Server {
    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// A handle to stop the server with.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops the server (see [`ServerHandle::shutdown`]) and waits until it has drained.
    pub fn shutdown(self) -> crate::Result<()> {
        self.handle().shutdown();
        self.wait()
    }

    /// Waits until the server stops — by [`ServerHandle::shutdown`] or a client's
    /// SHUTDOWN — and has drained: every connection closed, the store synced. Returns the
    /// sync's outcome.
    pub fn wait(mut self) -> crate::Result<()> {
        self.shared.stop.wait_finished();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        lock(&self.outcome).take().unwrap_or(Ok(()))
    }
}

impl ServerHandle {
    /// Asks the server to stop: it stops accepting connections, stops reading from the
    /// connected ones, lets each finish and answer the commands it has received (closing
    /// those still busy after the drain timeout), and syncs the store. Returns at once;
    /// [`Server::wait`] waits for the end.
    pub fn shutdown(&self) {
        request_shutdown(&self.shared);
    }

    /// Whether a shutdown has been requested.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.stop.is_requested()
    }
}

/// Starts the shutdown (once): sets the flag and wakes the accept loop.
pub(crate) fn request_shutdown(shared: &Shared) {
    if !shared.stop.request() {
        return;
    }
    let mut addr = shared.local_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    // The accept loop is blocked in accept(2): a connection wakes it to see the flag.
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}

/// Accepts connections until a shutdown is requested, handing them to the event loops
/// in turn.
fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener, loops: &[LoopHandle]) {
    let mut next = 0usize;
    loop {
        let accepted = listener.accept();
        if shared.stop.is_requested() {
            return;
        }
        let mut stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                // Out of descriptors or a transient network error: back off briefly
                // rather than spin; existing connections keep being served.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        Counters::add(&shared.counters.connections_received, 1);
        let max = shared.settings().maxclients;
        let Some(client) = shared.clients.register(&stream, max) else {
            Counters::add(&shared.counters.rejected_connections, 1);
            let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        };
        let Some(target) = loops.get(next % loops.len().max(1)) else {
            return;
        };
        next = next.wrapping_add(1);
        let id = client.id;
        if !target.hand_over((stream, client)) {
            shared.clients.remove(id);
        }
    }
}

/// The drain after the accept loop: every event loop runs what it has received, sends
/// what it owes (within the drain timeout) and closes its connections; then the store is
/// synced.
fn drain(shared: &Shared, loops: Vec<LoopHandle>) -> crate::Result<()> {
    for handle in &loops {
        handle.wake();
    }
    for handle in loops {
        let _ = handle.thread.join();
    }
    shared.store.sync()
}
