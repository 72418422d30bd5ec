//! A real redis-server to compare keg's server with (tests that use it skip with a note
//! where redis-server is not installed).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// A redis-server child on a free loopback port, without persistence, in a scratch
/// directory; only this child is killed when it is dropped.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one, or `None` (after a note on stderr) where redis-server cannot run.
    pub fn start() -> Option<RedisServer> {
        let server = Self::spawn();
        if server.is_none() {
            eprintln!(
                "note: redis-server is not installed; skipping (apt-get install redis-server)"
            );
        }
        server
    }

    fn spawn() -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--databases", "1"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        let stdout = server.child.stdout.take()?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines.next()?.ok()?;
            if line.contains("Ready to accept connections") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Some(server)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
