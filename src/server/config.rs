//! [`ServerConfig`]: the server's settings, with Redis's defaults where Redis has one.

use std::time::Duration;

use super::frame::Limits;

/// Settings of a [`Server`](super::Server). `ServerConfig::default()` gives the documented
/// defaults.
///
/// ```
/// use std::time::Duration;
/// let config = keg::server::ServerConfig::default()
///     .requirepass(Some("s3cret".into()))
///     .maxclients(100)
///     .idle_timeout(Duration::from_secs(300));
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) requirepass: Option<String>,
    pub(crate) maxclients: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) limits: Limits,
    pub(crate) drain_timeout: Duration,
    pub(crate) event_loops: usize,
    pub(crate) blocked_retry: Duration,
    pub(crate) script_time_limit: Duration,
}

/// Default connection limit (Redis's `maxclients`).
pub const DEFAULT_MAXCLIENTS: usize = 10_000;

/// How often waiting blocking pops are tried again when nothing wakes them (the default
/// of [`ServerConfig::blocked_retry`]).
pub const DEFAULT_BLOCKED_RETRY: Duration = Duration::from_millis(5);

/// How long a Lua script may run before it is stopped (the default of
/// [`ServerConfig::script_time_limit`]): Redis's `busy-reply-threshold`, 5 s.
pub const DEFAULT_SCRIPT_TIME_LIMIT: Duration = Duration::from_secs(5);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            requirepass: None,
            maxclients: DEFAULT_MAXCLIENTS,
            idle_timeout: Duration::ZERO,
            limits: Limits::default(),
            drain_timeout: Duration::from_secs(10),
            event_loops: 0,
            blocked_retry: DEFAULT_BLOCKED_RETRY,
            script_time_limit: DEFAULT_SCRIPT_TIME_LIMIT,
        }
    }
}

impl ServerConfig {
    /// The password clients must send with AUTH (or HELLO ... AUTH) before anything else.
    /// Default: none (every client may run every command).
    pub fn requirepass(mut self, password: Option<String>) -> Self {
        self.requirepass = password.filter(|p| !p.is_empty());
        self
    }

    /// Most clients connected at once; one more is told `-ERR max number of clients
    /// reached` and disconnected. Default: 10,000.
    pub fn maxclients(mut self, max: usize) -> Self {
        self.maxclients = max;
        self
    }

    /// Disconnects a client idle this long (Redis's `timeout`; subscribers are exempt, as in
    /// Redis). `Duration::ZERO` never does. Default: zero.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Request size limits. Default: [`Limits::default`] (Redis's: 512 MiB bulk strings,
    /// 1,048,576 arguments, 64 KiB inline commands).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Event-loop threads serving connections; 0 picks one per two cores (at least one, at
    /// most four).
    /// Default: 0.
    pub fn event_loops(mut self, loops: usize) -> Self {
        self.event_loops = loops;
        self
    }

    /// How often a waiting blocking pop (BLPOP, BRPOP, ...) is tried again when nothing
    /// wakes it. A write on any event loop wakes the waiters at once; this is the backstop
    /// (a waiter ahead of it that went away, a write from outside the server). Default:
    /// [`DEFAULT_BLOCKED_RETRY`], 5 ms.
    pub fn blocked_retry(mut self, interval: Duration) -> Self {
        self.blocked_retry = interval;
        self
    }

    /// How long a Lua script (EVAL) may run. Past it, the script is stopped with an error
    /// and keeps the writes it made before, as a script that fails does: a script that
    /// never ends would otherwise hold the store's writer lock for good. (Redis lets it run
    /// and answers BUSY to everyone else until SCRIPT KILL.) Default:
    /// [`DEFAULT_SCRIPT_TIME_LIMIT`], 5 s.
    pub fn script_time_limit(mut self, limit: Duration) -> Self {
        self.script_time_limit = limit;
        self
    }

    /// How long a shutdown waits for connections to finish their last commands before it
    /// closes them. Default: 10 s.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}
