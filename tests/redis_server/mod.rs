//! A real redis-server to compare keg's server with (tests that use it skip with a note
//! where redis-server is not installed).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// A redis-server child on a free loopback port, without persistence, in a scratch
/// directory; only this child is stopped when it is dropped. It runs under a small shell
/// that stops it when this test process is gone, so that a test killed part way (a
/// timeout, ^C) leaves no redis-server behind.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The shell around redis-server: starts it with the arguments after `$0`, and stops it
/// when the process `$PARENT` (the test) is gone; exits when it exits.
const WATCHER: &str = r#"redis-server "$@" & server=$!
while kill -0 "$PARENT" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
kill "$server" 2>/dev/null
wait "$server""#;

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
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .ok()?
            .success()
            .then_some(())?;
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let child = Command::new("sh")
            .args(["-c", WATCHER, "redis-server-watcher"])
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--databases", "1"])
            .arg("--dir")
            .arg(dir.path())
            .env("PARENT", std::process::id().to_string())
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
        // SHUTDOWN ends redis-server, and with it the watcher; killing the watcher alone
        // would leave redis-server running.
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.write_all(b"SHUTDOWN NOSAVE\r\n");
            let _ = stream.read(&mut [0u8; 64]);
        }
        let _ = self.child.wait();
    }
}
