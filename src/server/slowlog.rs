//! SLOWLOG GET / LEN / RESET / HELP: the commands that ran longer than
//! `slowlog-log-slower-than` microseconds (default 10,000; negative logs none, 0 logs
//! every command), the newest `slowlog-max-len` of them (default 128), as Redis keeps them.
//! A command's time is its own execution, without reading the request, writing the reply
//! or waiting for durability.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::args::is;
use super::clients::ClientEntry;
use super::error::{CmdError, CmdResult};
use super::frame::Args;
use super::reply::Reply;
use super::session::Session;
use crate::engine::lock;

/// Redis's defaults.
pub(crate) const DEFAULT_SLOWER_THAN_US: i64 = 10_000;
pub(crate) const DEFAULT_MAX_LEN: usize = 128;
/// Arguments kept per entry (the last one says how many more there were).
const MAX_ARGS: usize = 32;
/// Bytes kept per argument (then how many more there were).
const MAX_ARG_BYTES: usize = 128;

/// One slow command.
struct Entry {
    id: u64,
    unix_secs: u64,
    micros: u64,
    args: Vec<Vec<u8>>,
    addr: String,
    name: Vec<u8>,
}

/// The log, shared by every event loop.
pub(crate) struct SlowLog {
    slower_than_us: AtomicI64,
    max_len: AtomicUsize,
    next_id: AtomicU64,
    entries: Mutex<VecDeque<Entry>>,
}

impl Default for SlowLog {
    fn default() -> SlowLog {
        SlowLog {
            slower_than_us: AtomicI64::new(DEFAULT_SLOWER_THAN_US),
            max_len: AtomicUsize::new(DEFAULT_MAX_LEN),
            next_id: AtomicU64::new(0),
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl SlowLog {
    /// Whether commands are timed at all (`slowlog-log-slower-than` not negative).
    pub(crate) fn enabled(&self) -> bool {
        self.slower_than_us.load(Ordering::Relaxed) >= 0
    }

    pub(crate) fn slower_than_us(&self) -> i64 {
        self.slower_than_us.load(Ordering::Relaxed)
    }

    pub(crate) fn set_slower_than_us(&self, us: i64) {
        self.slower_than_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn max_len(&self) -> usize {
        self.max_len.load(Ordering::Relaxed)
    }

    pub(crate) fn set_max_len(&self, len: usize) {
        self.max_len.store(len, Ordering::Relaxed);
        let mut entries = lock(&self.entries);
        entries.truncate(len);
    }

    /// Logs the command `args` of `client` if it took `elapsed` or longer than the limit.
    pub(crate) fn note(&self, elapsed: Duration, args: &Args, client: &ClientEntry) {
        let limit = self.slower_than_us.load(Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if limit < 0 || micros < limit.unsigned_abs() {
            return;
        }
        let max_len = self.max_len.load(Ordering::Relaxed);
        if max_len == 0 {
            return;
        }
        let entry = Entry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            unix_secs: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            micros,
            args: kept_args(args),
            addr: client.addr.clone(),
            name: lock(&client.name).clone().unwrap_or_default(),
        };
        let mut entries = lock(&self.entries);
        entries.push_front(entry);
        entries.truncate(max_len);
    }
}

/// Times commands run one after another with one clock read per command: each lap is the
/// time since the previous one (or since the start), for the slow log and INFO
/// commandstats.
pub(crate) struct Stopwatch {
    last: Instant,
    /// Whether laps go to the slow log (it is on, and the commands timed are not EXEC's).
    logged: bool,
}

impl Stopwatch {
    /// Started; its laps go to `log` if the log is on.
    pub(crate) fn start(log: &SlowLog) -> Stopwatch {
        Stopwatch {
            last: Instant::now(),
            logged: log.enabled(),
        }
    }

    /// One whose laps are not logged (EXEC: its commands are, one by one).
    pub(crate) fn unlogged() -> Stopwatch {
        Stopwatch {
            last: Instant::now(),
            logged: false,
        }
    }

    /// The command `args` of `client` just ended: logged if it was slow. Returns how long
    /// it took.
    pub(crate) fn lap(&mut self, log: &SlowLog, args: &Args, client: &ClientEntry) -> Duration {
        let now = Instant::now();
        let took = now.duration_since(self.last);
        if self.logged {
            log.note(took, args, client);
        }
        self.last = now;
        took
    }
}

/// The arguments as an entry keeps them: at most 32, each at most 128 bytes, with what
/// was left out said in the last one.
fn kept_args(args: &Args) -> Vec<Vec<u8>> {
    let shown = if args.len() > MAX_ARGS {
        MAX_ARGS - 1
    } else {
        args.len()
    };
    // Passwords are not logged, as in Redis: AUTH's arguments, HELLO's after AUTH.
    let secret = |i: usize| {
        let command = args.get(0);
        (command.eq_ignore_ascii_case(b"auth") && i > 0)
            || (command.eq_ignore_ascii_case(b"hello")
                && i >= 2
                && (i >= 3 && args.get(i - 2).eq_ignore_ascii_case(b"auth")
                    || args.get(i - 1).eq_ignore_ascii_case(b"auth")))
    };
    let mut kept: Vec<Vec<u8>> = args
        .iter()
        .take(shown)
        .enumerate()
        .map(|(i, arg)| {
            if secret(i) {
                b"(redacted)".as_slice()
            } else {
                arg
            }
        })
        .map(|arg| match arg.get(..MAX_ARG_BYTES) {
            Some(head) if arg.len() > MAX_ARG_BYTES => {
                let mut text = head.to_vec();
                text.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes(),
                );
                text
            }
            _ => arg.to_vec(),
        })
        .collect();
    if args.len() > MAX_ARGS {
        kept.push(format!("... ({} more arguments)", args.len() - shown).into_bytes());
    }
    kept
}

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// SLOWLOG GET [count] | LEN | RESET | HELP
pub(crate) fn slowlog(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = super::table::subcommand_error("slowlog", a) {
        return Err(e);
    }
    let log = &s.shared.slowlog;
    let sub = a.get(1);
    if is(sub, "get") {
        let count = if a.len() == 3 {
            match crate::numeric::parse_i64(a.get(2)) {
                Some(-1) => usize::MAX,
                Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(CmdError::fixed(
                        "ERR count should be greater than or equal to -1",
                    ));
                }
            }
        } else {
            10
        };
        let entries = lock(&log.entries);
        let shown = entries.len().min(count);
        out.array(shown);
        for entry in entries.iter().take(shown) {
            out.array(6);
            out.int(i64::try_from(entry.id).unwrap_or(i64::MAX));
            out.int(i64::try_from(entry.unix_secs).unwrap_or(i64::MAX));
            out.int(i64::try_from(entry.micros).unwrap_or(i64::MAX));
            out.array(entry.args.len());
            for arg in &entry.args {
                out.bulk(arg);
            }
            out.bulk(entry.addr.as_bytes());
            out.bulk(&entry.name);
        }
    } else if is(sub, "len") {
        out.count(lock(&log.entries).len());
    } else if is(sub, "reset") {
        lock(&log.entries).clear();
        out.ok();
    } else if is(sub, "help") {
        out.simple_lines(HELP);
    } else {
        return Err(super::error::unknown_subcommand(sub, "slowlog"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_cut_as_redis_cuts_them() {
        let mut args = Args::new();
        args.push(b"SET");
        args.push(&[b'x'; 130]);
        let kept = kept_args(&args);
        assert_eq!(kept.len(), 2);
        let mut want = vec![b'x'; 128];
        want.extend_from_slice(b"... (2 more bytes)");
        assert_eq!(kept.get(1), Some(&want));
        let mut many = Args::new();
        for i in 0..40 {
            many.push(i.to_string().as_bytes());
        }
        let kept = kept_args(&many);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept.last(), Some(&b"... (9 more arguments)".to_vec()));
    }
}
