//! Helpers for the server tests: an in-process server on 127.0.0.1 port 0 over a fresh
//! store, and a raw-bytes client that reads whole replies.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use keg::server::{Server, ServerConfig, serve};
use keg::{Options, Store, SyncPolicy};

/// A server over a store in a temporary directory.
pub struct TestServer {
    pub dir: Option<tempfile::TempDir>,
    pub store: Store,
    pub server: Option<Server>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Default config, store without fsyncs (these tests check behaviour, not the disk).
    pub fn start() -> TestServer {
        TestServer::with(ServerConfig::default(), SyncPolicy::Never)
    }

    pub fn with(config: ServerConfig, policy: SyncPolicy) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        TestServer::in_dir(dir, config, policy)
    }

    /// A server over the store in `dir` (opened or created).
    pub fn in_dir(dir: tempfile::TempDir, config: ServerConfig, policy: SyncPolicy) -> TestServer {
        let store = Options::new()
            .sync_policy(policy)
            .open(dir.path())
            .expect("open store");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let server = serve(listener, store.clone(), config).expect("serve");
        let addr = server.local_addr();
        TestServer {
            dir: Some(dir),
            store,
            server: Some(server),
            addr,
        }
    }

    /// A raw connection.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    /// A `redis` crate client connection.
    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// Stops the server (drains, syncs) and closes the store; returns the directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(server) = self.server.take() {
            server.shutdown().expect("clean shutdown");
        }
        self.store.clone().close().expect("close store");
        self.dir.take().expect("directory")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.shutdown();
        }
    }
}

/// A connection that sends bytes and reads replies as raw bytes.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends a command as a RESP array of bulk strings.
    pub fn command(&mut self, args: &[&str]) {
        self.send(&encode(args));
    }

    /// Reads one whole reply and returns its bytes.
    pub fn reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(len) = reply_len(&self.buf) {
                return self.buf.drain(..len).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(
                n > 0,
                "connection closed with {:?} pending",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and returns its reply as text.
    pub fn call(&mut self, args: &[&str]) -> String {
        self.command(args);
        String::from_utf8_lossy(&self.reply()).into_owned()
    }

    /// Reads one reply, or what arrived before the server closed the connection.
    pub fn until_closed_or_reply(&mut self) -> Vec<u8> {
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(len) = reply_len(&self.buf) {
                return self.buf.drain(..len).collect();
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return std::mem::take(&mut self.buf),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the server closes the connection; returns what arrived.
    pub fn until_closed(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return all,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A command as a RESP array of bulk strings.
pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the whole RESP2/RESP3 reply at the start of `buf`, if it is all there.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let head = std::str::from_utf8(&buf[1..line_end]).ok()?;
    let after = line_end + 2;
    match buf.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = head.parse().ok()?;
            let items = if matches!(buf[0], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items.max(0) {
                pos += reply_len(&buf[pos..])?;
            }
            Some(pos)
        }
        _ => panic!("not a reply: {:?}", String::from_utf8_lossy(buf)),
    }
}

/// INFO commandstats' `cmdstat_` lines without their times (`usec`, `usec_per_call`),
/// sorted: what two servers sent the same commands must agree on.
pub fn commandstats_without_times(info: &str) -> Vec<String> {
    let mut lines: Vec<String> = info
        .lines()
        .filter_map(|l| {
            let (head, rest) = l.trim_end().split_once(",usec=")?;
            let (_, counts) = rest.split_once(",rejected_calls=")?;
            head.starts_with("cmdstat_")
                .then(|| format!("{head},rejected_calls={counts}"))
        })
        .collect();
    lines.sort();
    lines
}

/// The error counts of an `INFO errorstats` or `INFO` reply: its `errorstat_` lines in
/// their order, and `total_error_replies` (from the stats section, when present).
pub fn error_counts(info: &str) -> Vec<String> {
    info.lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with("errorstat_") || l.starts_with("total_error_replies:"))
        .map(str::to_string)
        .collect()
}
