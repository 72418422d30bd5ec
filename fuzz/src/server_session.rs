//! `server_session`: arbitrary bytes sent to the Redis-protocol server, through one
//! connection's session on a fresh store (`keg::server::replay_connection`: the event
//! loop's framing and command paths without a socket).
//!
//! Input: a byte giving how many bytes each read hands over (1 to 256: requests split
//! anywhere), then the bytes sent. Whatever they are, the session must not panic, what it
//! sends back must be whole RESP replies, and the store must close and reopen cleanly with
//! every key readable.

use std::time::Duration;

use keg::{MergePolicy, Options, Store, SyncPolicy};

/// Small enough that no input makes the fuzzer run out of memory (SETRANGE far out).
const MAX_VALUE: usize = 1 << 20;

pub(crate) fn open(dir: &std::path::Path) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_value_size(MAX_VALUE)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .expect("open the store")
}

pub fn check_server_session(data: &[u8]) {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
    let sent = keg::server::replay_connection(&store, input, usize::from(step) + 1);
    let mut at = 0;
    while at < sent.len() {
        at = reply_end(&sent, at).unwrap_or_else(|| {
            panic!(
                "not a whole RESP reply at byte {at} of the output: {:?}",
                String::from_utf8_lossy(&sent[at..sent.len().min(at + 200)])
            )
        });
    }
    store.close().expect("close");
    let store = open(dir.path());
    for key in store.keys() {
        store
            .value_type(&key)
            .expect("every key reads after a reopen");
    }
}

/// Where the RESP2/RESP3 reply that starts at `at` ends, if it is whole and well formed.
pub(crate) fn reply_end(buf: &[u8], at: usize) -> Option<usize> {
    let line_end = at + buf.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
    let kind = *buf.get(at)?;
    let line = std::str::from_utf8(buf.get(at + 1..line_end)?).ok()?;
    let next = line_end + 2;
    let count = || line.parse::<i64>().ok();
    match kind {
        b'+' | b'-' | b'_' | b',' | b'#' | b'(' | b':' => {
            if kind == b':' {
                count()?;
            }
            Some(next)
        }
        b'$' | b'=' | b'!' => {
            let len = count()?;
            if len < 0 {
                return (kind == b'$' && len == -1).then_some(next);
            }
            let end = next.checked_add(usize::try_from(len).ok()?)?;
            (buf.get(end..end + 2)? == b"\r\n").then_some(end + 2)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = count()?;
            if n < 0 {
                return (kind == b'*' && n == -1).then_some(next);
            }
            let items = if kind == b'%' { n * 2 } else { n };
            let mut at = next;
            for _ in 0..items {
                at = reply_end(buf, at)?;
            }
            Some(at)
        }
        _ => None,
    }
}
