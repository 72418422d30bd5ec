//! The registry of connected clients: CLIENT LIST / KILL / ID, INFO clients, the
//! connection limit, and reaching every connection at shutdown.

use std::collections::BTreeMap;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::engine::lock;

/// What the server knows about one connection.
pub(crate) struct ClientEntry {
    pub(crate) id: u64,
    pub(crate) addr: String,
    pub(crate) laddr: String,
    created: Instant,
    /// Milliseconds since `created` of the last command.
    last_active_ms: AtomicU64,
    pub(crate) name: Mutex<Option<Vec<u8>>>,
    pub(crate) lib_name: Mutex<Option<Vec<u8>>>,
    pub(crate) lib_ver: Mutex<Option<Vec<u8>>>,
    pub(crate) last_command: Mutex<String>,
    pub(crate) channels: AtomicUsize,
    pub(crate) patterns: AtomicUsize,
    pub(crate) shard_channels: AtomicUsize,
    /// Commands queued in MULTI, or -1 outside one.
    pub(crate) multi: AtomicI64,
    pub(crate) protocol: AtomicU8,
    /// In MONITOR mode (flag `O` in CLIENT LIST).
    pub(crate) monitor: AtomicBool,
    /// CLIENT TRACKING: off (0), on (1), on in BCAST mode (2): flags `t` and `B`.
    pub(crate) tracking: AtomicU8,
    /// Where its invalidations go: -1 (not tracking), 0 (itself) or a client id.
    pub(crate) redirect: AtomicI64,
    /// The client it redirects to went away (flag `R`; TRACKINGINFO's `broken_redirect`).
    pub(crate) tracking_broken: AtomicBool,
    /// Waiting in a blocking pop (flag `b` in CLIENT LIST; CLIENT UNBLOCK's target).
    blocked: AtomicBool,
    /// How CLIENT UNBLOCK asked the blocked pop to end: 0 (not asked), or an [`Unblock`].
    unblock: AtomicU8,
    killed: AtomicBool,
    /// The connection's socket (none for a session replayed without one).
    stream: Option<TcpStream>,
}

impl ClientEntry {
    /// Whether the connection has subscriptions of any kind.
    pub(crate) fn is_subscribed(&self) -> bool {
        [&self.channels, &self.patterns, &self.shard_channels]
            .iter()
            .any(|n| n.load(Ordering::Relaxed) > 0)
    }

    /// Records activity (for `idle=` and the idle timeout).
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.store(ms, Ordering::Relaxed);
    }

    /// Seconds since the last command.
    pub(crate) fn idle_secs(&self) -> u64 {
        let now = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Marks the connection as waiting in a blocking pop, or no longer; either way a
    /// CLIENT UNBLOCK meant for an earlier wait is forgotten.
    pub(crate) fn set_blocked(&self, blocked: bool) {
        self.unblock.store(0, Ordering::Release);
        self.blocked.store(blocked, Ordering::Release);
    }

    /// CLIENT UNBLOCK: asks this connection's blocking pop to end as `how` says; false if
    /// it is not waiting in one.
    pub(crate) fn request_unblock(&self, how: Unblock) -> bool {
        if !self.blocked.load(Ordering::Acquire) {
            return false;
        }
        self.unblock.store(how as u8, Ordering::Release);
        true
    }

    /// The CLIENT UNBLOCK request waiting for this connection's pop, taken.
    pub(crate) fn take_unblock(&self) -> Option<Unblock> {
        match self.unblock.swap(0, Ordering::AcqRel) {
            1 => Some(Unblock::Timeout),
            2 => Some(Unblock::Error),
            _ => None,
        }
    }

    /// Closes the connection from the server's side: its thread sees the end of input.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        if let Some(stream) = &self.stream {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Whether CLIENT KILL (or an output limit) ended this client.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// One line of CLIENT LIST (without the newline), in Redis's field order.
    pub(crate) fn describe(&self) -> String {
        let text = |m: &Mutex<Option<Vec<u8>>>| {
            lock(m)
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let channels = self.channels.load(Ordering::Relaxed);
        let patterns = self.patterns.load(Ordering::Relaxed);
        let shard_channels = self.shard_channels.load(Ordering::Relaxed);
        let multi = self.multi.load(Ordering::Relaxed);
        let mut flags = if self.monitor.load(Ordering::Relaxed) {
            "O"
        } else if self.blocked.load(Ordering::Relaxed) {
            "b"
        } else {
            match (self.is_subscribed(), multi >= 0) {
                (true, _) => "P",
                (false, true) => "x",
                (false, false) => "",
            }
        }
        .to_string();
        match self.tracking.load(Ordering::Relaxed) {
            0 => {}
            1 => flags.push('t'),
            _ => flags.push_str("tB"),
        }
        if self.tracking_broken.load(Ordering::Relaxed) {
            flags.insert(flags.find('t').map_or(flags.len(), |t| t + 1), 'R');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={flags} db=0 sub={channels} \
             psub={patterns} ssub={shard_channels} multi={multi} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 \
             rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir={} resp={} \
             lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            text(&self.name),
            self.created.elapsed().as_secs(),
            self.idle_secs(),
            lock(&self.last_command),
            self.redirect.load(Ordering::Relaxed),
            self.protocol.load(Ordering::Relaxed),
            text(&self.lib_name),
            text(&self.lib_ver),
        )
    }
}

/// How CLIENT UNBLOCK ends a blocking pop: as if it timed out, or with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unblock {
    Timeout = 1,
    Error = 2,
}

/// Every connected client, by id.
#[derive(Default)]
pub(crate) struct Clients {
    next_id: AtomicU64,
    by_id: Mutex<BTreeMap<u64, Arc<ClientEntry>>>,
}

impl Clients {
    /// Registers a new connection, unless `max` clients are connected already.
    pub(crate) fn register(&self, stream: &TcpStream, max: usize) -> Option<Arc<ClientEntry>> {
        let addr = |a: std::io::Result<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
        let stream = stream.try_clone().ok()?;
        let (peer, local) = (addr(stream.peer_addr()), addr(stream.local_addr()));
        self.add(Some(stream), peer, local, max)
    }

    /// Registers a session that has no socket (`replay_connection`).
    pub(crate) fn register_detached(&self) -> Option<Arc<ClientEntry>> {
        self.add(None, String::new(), String::new(), usize::MAX)
    }

    fn add(
        &self,
        stream: Option<TcpStream>,
        addr: String,
        laddr: String,
        max: usize,
    ) -> Option<Arc<ClientEntry>> {
        let mut by_id = lock(&self.by_id);
        if by_id.len() >= max {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::AcqRel) + 1;
        let entry = Arc::new(ClientEntry {
            id,
            addr,
            laddr,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            last_command: Mutex::new("NULL".into()),
            channels: AtomicUsize::new(0),
            patterns: AtomicUsize::new(0),
            shard_channels: AtomicUsize::new(0),
            multi: AtomicI64::new(-1),
            protocol: AtomicU8::new(2),
            monitor: AtomicBool::new(false),
            tracking: AtomicU8::new(0),
            redirect: AtomicI64::new(-1),
            tracking_broken: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            unblock: AtomicU8::new(0),
            killed: AtomicBool::new(false),
            stream,
        });
        by_id.insert(id, Arc::clone(&entry));
        Some(entry)
    }

    /// Forgets a connection that ended.
    pub(crate) fn remove(&self, id: u64) {
        lock(&self.by_id).remove(&id);
    }

    /// How many clients are connected.
    pub(crate) fn len(&self) -> usize {
        lock(&self.by_id).len()
    }

    /// The connected client with `id`.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<ClientEntry>> {
        lock(&self.by_id).get(&id).cloned()
    }

    /// Every connected client, in id order.
    pub(crate) fn all(&self) -> Vec<Arc<ClientEntry>> {
        lock(&self.by_id).values().cloned().collect()
    }

    /// Every connected client with subscriptions.
    pub(crate) fn subscribers(&self) -> usize {
        lock(&self.by_id)
            .values()
            .filter(|c| c.is_subscribed())
            .count()
    }
}
