//! A Redis-protocol server for a [`Store`](crate::Store) (feature `server`): redis-cli,
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
//! Concurrency: a thread per connection, with blocking socket I/O. Store calls block (an
//! fsync under [`SyncPolicy::Always`](crate::SyncPolicy::Always)), and the store's group
//! commit shares one fsync among all the threads waiting at once, which is what gives
//! `always` its throughput. Pipelined commands that write are coalesced into one store
//! transaction per read, so a pipeline costs one append and (under `always`) one fsync.
//!
//! Durability: a reply to a write is sent only after the store call returned, i.e. after
//! the fsync under `Always`; under `Interval` a power loss may take the last interval.
//! Shutdown (SHUTDOWN, [`ServerHandle::shutdown`], or SIGINT/SIGTERM in `kvctl serve`)
//! stops accepting, lets every connection finish the commands it has received, syncs the
//! store and returns.

mod args;
mod clients;
mod commands;
mod config;
mod connection;
mod error;
pub mod frame;
mod glob;
mod info;
mod inline;
mod keyspace;
mod pubsub;
mod reply;
mod session;
mod shared;
mod table;
mod watch;

pub use config::{DEFAULT_MAXCLIENTS, ServerConfig};
pub use frame::Limits;

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Store;
use crate::engine::lock;
use shared::{Counters, Shared};

/// Stack size of connection threads: command handling needs little, and a thousand
/// connections should not reserve gigabytes.
const CONNECTION_STACK: usize = 512 << 10;

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
    let outcome = Arc::new(Mutex::new(None));
    let accepting = Arc::clone(&shared);
    let result = Arc::clone(&outcome);
    let acceptor = std::thread::Builder::new()
        .name("keg-accept".into())
        .spawn(move || {
            let threads = accept_loop(&accepting, &listener);
            drop(listener);
            let synced = drain(&accepting, threads);
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

/// Accepts connections until a shutdown is requested; returns the connection threads.
fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) -> Vec<JoinHandle<()>> {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let accepted = listener.accept();
        if shared.stop.is_requested() {
            break;
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
        threads.retain(|t| !t.is_finished());
        let serving = Arc::clone(shared);
        let id = client.id;
        let spawned = std::thread::Builder::new()
            .name("keg-conn".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || connection::serve(serving, client, stream));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(_) => shared.clients.remove(id),
        }
    }
    threads
}

/// The drain after the accept loop: stop reading from every client, give connections the
/// drain timeout to finish, close the rest, and sync the store.
fn drain(shared: &Shared, threads: Vec<JoinHandle<()>>) -> crate::Result<()> {
    for client in shared.clients.all() {
        client.stop_reading();
    }
    let deadline = Instant::now() + shared.drain_timeout;
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    for client in shared.clients.all() {
        client.kill();
    }
    for thread in threads {
        let _ = thread.join();
    }
    shared.store.sync()
}
