//! Data written over the wire survives a restart of `kvctl serve`: after SHUTDOWN, after
//! SIGTERM (drain: stop accepting, finish, sync, exit 0), and after kill -9 under
//! `--appendfsync always` (every acknowledged write is on disk before its reply); function
//! libraries survive kill -9 too.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use redis::Commands;

/// A `kvctl serve` child on a free port.
struct ServeProcess {
    child: Child,
    url: String,
}

impl ServeProcess {
    fn start(dir: &Path, appendfsync: &str) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kvctl"))
            .arg("--dir")
            .arg(dir)
            .args(["serve", "--port", "0", "--appendfsync", appendfsync])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kvctl serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("kvctl serve printed its address")
                .expect("read stderr");
            if let Some(rest) = line.split(" listening on ").nth(1) {
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServeProcess {
            child,
            url: format!("redis://{addr}/"),
        }
    }

    fn connect(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// Waits for the process to exit and returns its status code.
    fn wait(mut self) -> Option<i32> {
        self.child.wait().expect("wait").code()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn write_keys(con: &mut redis::Connection, n: usize) {
    for i in 0..n {
        let () = con
            .set(format!("key:{i}"), format!("value:{i}"))
            .expect("set");
    }
    let _: i64 = con.incr("counter", n).expect("incr");
    let () = redis::cmd("SET")
        .arg("expiring")
        .arg("soon")
        .arg("EX")
        .arg(1000)
        .query(con)
        .expect("set ex");
}

fn check_keys(con: &mut redis::Connection, n: usize) {
    for i in 0..n {
        let v: Option<String> = con.get(format!("key:{i}")).expect("get");
        assert_eq!(v, Some(format!("value:{i}")), "key:{i}");
    }
    assert_eq!(con.get::<_, usize>("counter").expect("counter"), n);
    let ttl: i64 = con.ttl("expiring").expect("ttl");
    assert!(ttl > 900 && ttl <= 1000, "{ttl}");
}

#[test]
fn data_survives_shutdown_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), "everysec");
    let mut con = server.connect();
    write_keys(&mut con, 200);
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut con);
    assert_eq!(server.wait(), Some(0), "SHUTDOWN exits 0");

    let server = ServeProcess::start(dir.path(), "everysec");
    check_keys(&mut server.connect(), 200);
}

#[test]
fn sigterm_drains_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), "no");
    let mut con = server.connect();
    write_keys(&mut con, 100);
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    assert_eq!(server.wait(), Some(0), "SIGTERM exits 0");

    let server = ServeProcess::start(dir.path(), "no");
    check_keys(&mut server.connect(), 100);
}

#[test]
fn kill_9_under_always_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServeProcess::start(dir.path(), "always");
    let mut con = server.connect();
    write_keys(&mut con, 300);
    // A pipelined batch too: acknowledged together, after one fsync.
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.set(format!("piped:{i}"), i).ignore();
    }
    let () = pipe.query(&mut con).expect("pipeline");
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reap");

    let server = ServeProcess::start(dir.path(), "always");
    let mut con = server.connect();
    check_keys(&mut con, 300);
    for i in 0..100 {
        assert_eq!(con.get::<_, i64>(format!("piped:{i}")).expect("get"), i);
    }
}

/// FUNCTION LOAD replies only after its library is in the store's `functions` file: a kill
/// -9 right after the reply keeps it, and a temporary file a crash left half-written (the
/// file is written to `functions.tmp`, then renamed) is not read in its place.
#[test]
fn kill_9_keeps_function_libraries_loaded_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServeProcess::start(dir.path(), "everysec");
    let mut con = server.connect();
    let library = "#!lua name=kept\nredis.register_function('double', function(keys, args) return args[1] * 2 end)";
    let name: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(library)
        .query(&mut con)
        .expect("FUNCTION LOAD");
    assert_eq!(name, "kept");
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reap");
    std::fs::write(dir.path().join("functions.tmp"), b"half-written").unwrap();

    let server = ServeProcess::start(dir.path(), "everysec");
    let mut con = server.connect();
    let doubled: i64 = redis::cmd("FCALL")
        .arg("double")
        .arg(0)
        .arg(21)
        .query(&mut con)
        .expect("FCALL after the restart");
    assert_eq!(doubled, 42);
}
