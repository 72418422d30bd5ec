//! One connection's session driven by bytes in memory instead of a socket: what the fuzz
//! target `server_session` runs (any bytes on the wire must get replies or a clean close,
//! never a panic), through the same framing and command paths as the event loop.

use std::net::SocketAddr;
use std::sync::Arc;

use super::config::ServerConfig;
use super::reply::Reply;
use super::session::Session;
use super::shared::Shared;
use crate::Store;

/// Runs `input` through a fresh connection's session on `store`, handed to it `step` bytes
/// at a time (at least one) as reads from a socket would be, and returns the bytes the
/// connection would have sent back. It stops early where a connection would stop reading:
/// when the session closes (QUIT, a protocol error) or waits in a blocking pop. A
/// subscribed or monitoring session's output is read from its outbox, as the event loop
/// does. For fuzzing and tests: not a stable API.
#[doc(hidden)]
pub fn replay_connection(store: &Store, input: &[u8], step: usize) -> Vec<u8> {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    // A generated script that never ends is stopped soon, so that one input cannot stall
    // a fuzzing run for the default 5 s.
    let config = ServerConfig::default().script_time_limit(std::time::Duration::from_millis(100));
    let shared = Arc::new(Shared::new(store.clone(), &config, local));
    let Some(client) = shared.clients.register_detached() else {
        return Vec::new();
    };
    let mut session = Session::new(Arc::clone(&shared), client);
    let mut out = Reply::counting(session.protocol, Arc::clone(&shared.error_stats));
    let mut sent: Vec<u8> = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    'reads: for chunk in input.chunks(step.max(1)) {
        pending.extend_from_slice(chunk);
        // As `Conn::read` then `Conn::run`: frame what arrived, run it, frame more.
        let consumed = session.take_requests(&pending);
        pending.drain(..consumed);
        loop {
            let had = session.has_requests();
            if had {
                session.run_inbox(&mut out);
            }
            if let Some(seq) = session.undurable_seq.take() {
                // The event loop's one durability wait per turn (its failure is reported
                // by the store's next write).
                let _ = store.wait_durable(seq);
            }
            shared.publish_events(&mut out, session.client.id);
            collect_output(&session, &mut out, &mut sent);
            if session.closing || session.blocked.is_some() {
                break 'reads;
            }
            let consumed = session.take_requests(&pending);
            pending.drain(..consumed);
            if !session.has_requests() || (consumed == 0 && !had) {
                break;
            }
        }
    }
    collect_output(&session, &mut out, &mut sent);
    session.end();
    sent
}

/// Moves the replies to what the connection sent, through the outbox when the session has
/// one (as `Conn::collect_output`).
fn collect_output(session: &Session, out: &mut Reply, sent: &mut Vec<u8>) {
    match &session.subscriber {
        Some(subscriber) => {
            subscriber.outbox.send(out.take());
            subscriber.outbox.drain_into(sent);
        }
        None => sent.extend_from_slice(&out.take()),
    }
}

#[cfg(test)]
mod tests {
    use super::replay_connection;
    use crate::{Options, SyncPolicy};

    #[test]
    fn replies_as_a_connection_would_whatever_the_read_size() {
        let dir = tempfile::tempdir().unwrap();
        let store = Options::new()
            .sync_policy(SyncPolicy::Never)
            .open(dir.path())
            .unwrap();
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nGET a\r\nINCR a\r\n";
        for step in [1, 2, 7, 1000] {
            store.delete(b"a").unwrap();
            assert_eq!(
                replay_connection(&store, input, step),
                b"+OK\r\n$1\r\n1\r\n:2\r\n",
                "{step} bytes a read"
            );
        }
        // A connection stops reading at QUIT, at a protocol error and while blocked.
        assert_eq!(
            replay_connection(&store, b"QUIT\r\nPING\r\n", 3),
            b"+OK\r\n"
        );
        let garbage = replay_connection(&store, b"*1\r\n$x\r\nPING\r\n", 1);
        assert!(garbage.starts_with(b"-ERR Protocol error"), "{garbage:?}");
        assert_eq!(
            replay_connection(&store, b"BLPOP none 0\r\nPING\r\n", 5),
            b""
        );
        // A monitoring session's replies and lines come out of its outbox, in order.
        let monitored = replay_connection(&store, b"PING\r\nMONITOR\r\nPING\r\n", 4);
        let text = String::from_utf8(monitored).unwrap();
        assert!(text.starts_with("+PONG\r\n+OK\r\n+PONG\r\n+"), "{text:?}");
        assert!(text.ends_with(" [0 ] \"PING\"\r\n"), "{text:?}");
    }
}
