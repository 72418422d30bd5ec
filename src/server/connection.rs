//! One connection's thread: read, run what arrived, write the replies, repeat.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use super::clients::ClientEntry;
use super::reply::Reply;
use super::session::Session;
use super::shared::{Counters, Shared};

/// Bytes read at a time (the buffer grows beyond this only for a request that needs it).
const READ_CHUNK: usize = 16 << 10;

/// The input buffer: bytes received and not yet consumed.
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Input {
    fn new() -> Input {
        Input {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Room to read into: moves pending bytes to the front, grows when full.
    fn space(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK / 2 {
            let grown = (self.buf.len() * 2).max(READ_CHUNK);
            self.buf.resize(grown, 0);
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > 4 * READ_CHUNK {
                self.buf = vec![0; READ_CHUNK];
            }
        }
    }
}

/// Serves one client until it leaves, is killed, or the server drains.
pub(crate) fn serve(shared: Arc<Shared>, client: Arc<ClientEntry>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut session = Session::new(Arc::clone(&shared), Arc::clone(&client));
    let mut input = Input::new();
    let mut out = Reply::new(session.protocol);
    let mut writer: Option<std::thread::JoinHandle<()>> = None;
    let mut last_input = Instant::now();
    loop {
        let timeout = shared.settings().idle_timeout;
        let _ = stream.set_read_timeout((!timeout.is_zero()).then_some(timeout));
        let read = stream.read(input.space());
        match read {
            Ok(0) => break,
            Ok(n) => {
                input.end += n;
                last_input = Instant::now();
                Counters::add(&shared.counters.net_input_bytes, n as u64);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Subscribers are exempt from the idle timeout, as in Redis.
                if session.is_subscribed() || last_input.elapsed() < timeout {
                    continue;
                }
                break;
            }
            Err(_) => break,
        }
        let consumed = session.handle(input.pending(), &mut out);
        input.consume(consumed);
        if !out.is_empty() {
            Counters::add(&shared.counters.net_output_bytes, out.len() as u64);
            if !send(&mut session, &mut stream, &mut out, &mut writer) {
                break;
            }
        }
        if session.closing || client.is_killed() {
            break;
        }
    }
    session.end();
    if let Some(sub) = &session.subscriber {
        sub.outbox.close();
    }
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let _ = stream.flush();
}

/// Sends the replies: straight to the socket, or through the outbox once the connection
/// has subscribed (starting its writer thread then). False if the connection is gone.
fn send(
    session: &mut Session,
    stream: &mut TcpStream,
    out: &mut Reply,
    writer: &mut Option<std::thread::JoinHandle<()>>,
) -> bool {
    let Some(sub) = &session.subscriber else {
        let sent = stream.write_all(out.bytes()).is_ok();
        out.clear();
        return sent;
    };
    if writer.is_none() {
        let Ok(clone) = stream.try_clone() else {
            return false;
        };
        let outbox = Arc::clone(&sub.outbox);
        let spawned = std::thread::Builder::new()
            .name("keg-sub-writer".into())
            .stack_size(64 << 10)
            .spawn(move || outbox.drain_into(clone));
        match spawned {
            Ok(handle) => *writer = Some(handle),
            Err(_) => return false,
        }
    }
    sub.outbox.send(out.take())
}
