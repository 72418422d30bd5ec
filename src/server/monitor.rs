//! MONITOR: every command the server runs, as one line to each monitoring connection.
//!
//! As Redis does, a command is shown once it has run (whatever its result), with the
//! arguments the client sent: a command refused before running (unknown, wrong arity,
//! NOAUTH, queued by MULTI) is not shown, a queued one is shown when EXEC runs it, and EXEC
//! after the commands it ran. Administration commands (CONFIG, SAVE, SHUTDOWN, CLIENT KILL,
//! ...) are never shown, and passwords are shown as `(redacted)`. Lines reach a monitor
//! through its outbox, as pub/sub messages do; a monitor that stops reading is disconnected
//! once 256 MiB wait for it (Redis's replica output limit). The commands a script calls
//! follow its EVAL line, marked `[0 lua]`, as in Redis.
//!
//! A server that nobody monitors pays one relaxed atomic load per command.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::args::unix_now;
use super::clients::ClientEntry;
use super::frame::Args;
use super::pubsub::Subscriber;
use super::table::{Spec, flag};
use crate::engine::lock;

thread_local! {
    /// Lines of the commands the script running on this thread called, shown after the
    /// script's own line (which is only shown once the script has run).
    static SCRIPT_LINES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Most bytes waiting for one monitor before it is disconnected.
pub(crate) const MONITOR_OUTBOX_LIMIT: usize = 256 << 20;

/// The monitoring connections.
#[derive(Default)]
pub(crate) struct Monitors {
    count: AtomicUsize,
    list: Mutex<Vec<Arc<Subscriber>>>,
}

impl Monitors {
    /// Starts sending lines to `monitor` (once, however often it asks).
    pub(crate) fn add(&self, monitor: Arc<Subscriber>) {
        let mut list = lock(&self.list);
        if list.iter().all(|m| m.client.id != monitor.client.id) {
            list.push(monitor);
            self.count.store(list.len(), Ordering::Relaxed);
        }
    }

    /// Stops sending lines to the client `id`.
    pub(crate) fn remove(&self, id: u64) {
        let mut list = lock(&self.list);
        list.retain(|m| m.client.id != id);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Shows a command `client` ran to every monitor, unless it is one never shown.
    pub(crate) fn feed(&self, client: &ClientEntry, spec: &Spec, args: &Args) {
        if self.count.load(Ordering::Relaxed) == 0 || !shown(spec, args) {
            return;
        }
        let mut line = line(&client.addr, spec, args);
        if spec.has(flag::SCRIPT) {
            SCRIPT_LINES.with(|lines| line.append(&mut lines.borrow_mut()));
        }
        let mut list = lock(&self.list);
        list.retain(|monitor| {
            let sent = monitor.outbox.send(line.clone());
            if !sent {
                monitor.client.kill();
            }
            sent
        });
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Forgets script lines a script before left unshown (it failed before its line).
    pub(crate) fn script_starts(&self) {
        SCRIPT_LINES.with(|lines| lines.borrow_mut().clear());
    }

    /// Keeps a command the running script called, to show after the script's line.
    pub(crate) fn feed_from_script(&self, spec: &Spec, args: &Args) {
        if self.count.load(Ordering::Relaxed) == 0 || !shown(spec, args) {
            return;
        }
        let line = line("lua", spec, args);
        SCRIPT_LINES.with(|lines| lines.borrow_mut().extend_from_slice(&line));
    }
}

/// Whether a command is shown: not administration (Redis's `admin` flag, which CLIENT
/// KILL and CLIENT LIST carry among CLIENT's subcommands).
fn shown(spec: &Spec, args: &Args) -> bool {
    if spec.has(flag::ADMIN) {
        return false;
    }
    if spec.name == "client" && args.len() > 1 {
        let sub = args.get(1);
        return !sub.eq_ignore_ascii_case(b"kill") && !sub.eq_ignore_ascii_case(b"list");
    }
    true
}

/// The index of the first argument shown as `(redacted)`, and how many: a password.
fn redacted(spec: &Spec, args: &Args) -> Option<(usize, usize)> {
    match spec.name {
        "auth" => Some((1, args.len().saturating_sub(1))),
        // HELLO protover AUTH username password [SETNAME name]
        "hello" => (2..args.len())
            .find(|&i| args.get(i).eq_ignore_ascii_case(b"auth"))
            .map(|i| (i + 1, 2)),
        _ => None,
    }
}

/// `+<unix seconds>.<microseconds> [0 <client address>] "arg" "arg" ...` and CRLF.
fn line(addr: &str, spec: &Spec, args: &Args) -> Vec<u8> {
    let now = unix_now();
    let mut out = format!("+{}.{:06} [0 {addr}]", now.as_secs(), now.subsec_micros()).into_bytes();
    let hidden = redacted(spec, args);
    for (i, arg) in args.iter().enumerate() {
        out.push(b' ');
        match hidden {
            Some((first, count)) if i >= first && i < first + count => {
                out.extend_from_slice(b"\"(redacted)\"");
            }
            _ => quote(arg, &mut out),
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `bytes` in double quotes with Redis's escapes (`sdscatrepr`): `\\`, `\"`, `\n`, `\r`,
/// `\t`, `\a`, `\b`, printable ASCII as is, any other byte as `\xhh`.
fn quote(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::table;

    fn shown_line(parts: &[&[u8]]) -> Option<String> {
        let a = Args::from_slices(parts);
        let spec = table::lookup(a.get(0)).unwrap();
        shown(spec, &a).then(|| {
            let line = String::from_utf8(line("127.0.0.1:5000", spec, &a)).unwrap();
            // Drop the timestamp.
            line.split_once(' ').unwrap().1.to_string()
        })
    }

    /// A monitor that does not read is disconnected once its outbox is full, and no longer
    /// fed; the others go on receiving lines.
    #[test]
    fn a_monitor_past_its_outbox_limit_is_disconnected_and_dropped() {
        use crate::server::clients::Clients;
        use crate::server::pubsub::Outbox;
        use crate::server::reply::Protocol;
        let clients = Clients::default();
        let monitor = |limit: usize| {
            Arc::new(Subscriber {
                client: clients.register_detached().unwrap(),
                outbox: Arc::new(Outbox::new(Protocol::Resp2, limit)),
            })
        };
        let (slow, roomy) = (monitor(100), monitor(1 << 20));
        let monitors = Monitors::default();
        monitors.add(Arc::clone(&slow));
        monitors.add(Arc::clone(&roomy));
        monitors.add(Arc::clone(&roomy));
        assert_eq!(monitors.count.load(Ordering::Relaxed), 2, "added once");
        let writer = clients.register_detached().unwrap();
        let set = Args::from_slices(&[b"SET".as_slice(), b"key", &[b'v'; 200]]);
        let spec = table::lookup(b"set").unwrap();
        monitors.feed(&writer, spec, &set);
        assert!(slow.client.is_killed());
        assert!(!roomy.client.is_killed());
        assert_eq!(monitors.count.load(Ordering::Relaxed), 1);
        monitors.feed(&writer, spec, &set);
        let mut received = Vec::new();
        roomy.outbox.drain_into(&mut received);
        assert_eq!(
            String::from_utf8_lossy(&received)
                .matches("\"SET\"")
                .count(),
            2
        );
    }

    #[test]
    fn arguments_are_quoted_with_redis_escapes() {
        assert_eq!(
            shown_line(&[b"SET", b"k", b"\x01\x7f\xc3\xa9 \\\"\n\r\t\x07\x08"]).as_deref(),
            Some(
                "[0 127.0.0.1:5000] \"SET\" \"k\" \"\\x01\\x7f\\xc3\\xa9 \\\\\\\"\\n\\r\\t\\a\\b\"\r\n"
            )
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            shown_line(&[b"auth", b"user", b"secret"]).as_deref(),
            Some("[0 127.0.0.1:5000] \"auth\" \"(redacted)\" \"(redacted)\"\r\n")
        );
        assert_eq!(
            shown_line(&[b"HELLO", b"3", b"AUTH", b"u", b"p", b"SETNAME", b"n"]).as_deref(),
            Some(
                "[0 127.0.0.1:5000] \"HELLO\" \"3\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"
            )
        );
    }

    #[test]
    fn administration_is_not_shown() {
        assert_eq!(shown_line(&[b"CONFIG", b"GET", b"port"]), None);
        assert_eq!(shown_line(&[b"client", b"kill", b"id", b"1"]), None);
        assert_eq!(shown_line(&[b"CLIENT", b"LIST"]), None);
        assert_eq!(shown_line(&[b"SHUTDOWN"]), None);
        assert_eq!(shown_line(&[b"MONITOR"]), None);
        assert!(shown_line(&[b"CLIENT", b"SETNAME", b"x"]).is_some());
        assert!(shown_line(&[b"INFO"]).is_some());
    }

    #[test]
    fn a_timestamp_with_microseconds_leads_the_line() {
        let a = Args::from_slices(&[b"PING"]);
        let spec = table::lookup(a.get(0)).unwrap();
        let line = String::from_utf8(line("127.0.0.1:5000", spec, &a)).unwrap();
        let stamp = line.strip_prefix('+').unwrap().split(' ').next().unwrap();
        let (secs, micros) = stamp.split_once('.').unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_600_000_000);
        assert_eq!(micros.len(), 6);
    }
}
