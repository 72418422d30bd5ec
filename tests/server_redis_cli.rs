//! The server driven by redis-cli (skipped, with a note, where redis-cli is not installed;
//! `.ci/run` installs it): one-shot commands, `--scan`, `-r`/`-i` loops, commands from
//! standard input, RESP3 (`-3`) and `--pipe` mass insertion.

mod server_support;

use std::io::Write;
use std::process::{Command, Stdio};

use server_support::TestServer;

fn have_redis_cli() -> bool {
    let found = Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("note: redis-cli is not installed; skipping (apt-get install redis-tools)");
    }
    found
}

/// Runs redis-cli against the server with `args` and `stdin`; returns standard output.
fn cli(server: &TestServer, args: &[&str], stdin: &[u8]) -> String {
    let port = server.addr.port().to_string();
    let mut child = Command::new("timeout")
        .args(["20", "redis-cli", "-h", "127.0.0.1", "-p", &port])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let output = child.wait_with_output().expect("redis-cli output");
    assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn redis_cli_works_against_the_server() {
    if !have_redis_cli() {
        return;
    }
    let server = TestServer::start();
    assert_eq!(
        cli(&server, &["set", "greeting", "hello world"], b""),
        "OK\n"
    );
    assert_eq!(cli(&server, &["get", "greeting"], b""), "hello world\n");
    assert_eq!(cli(&server, &["ping"], b""), "PONG\n");
    assert_eq!(cli(&server, &["incrby", "n", "5"], b""), "5\n");
    assert_eq!(cli(&server, &["ttl", "greeting"], b""), "-1\n");
    assert_eq!(
        cli(&server, &["get"], b""),
        // redis-cli follows an error with an empty line.
        "ERR wrong number of arguments for 'get' command\n\n"
    );

    // Loops: -r repeats, -i waits between repeats.
    assert_eq!(
        cli(&server, &["-r", "5", "incr", "c"], b""),
        "1\n2\n3\n4\n5\n"
    );
    assert_eq!(
        cli(&server, &["-r", "3", "-i", "0.01", "incr", "d"], b""),
        "1\n2\n3\n"
    );

    // Commands from standard input, one per line.
    assert_eq!(
        cli(&server, &[], b"set a 1\nincr a\nget a\nmget a missing\n"),
        "OK\n2\n2\n2\n\n"
    );

    // --scan walks the keyspace with SCAN.
    for i in 0..150 {
        cli(&server, &["set", &format!("user:{i}"), "x"], b"");
        if i % 50 == 0 {
            cli(&server, &["set", &format!("other:{i}"), "x"], b"");
        }
    }
    let scanned = cli(&server, &["--scan", "--pattern", "user:*"], b"");
    let mut keys: Vec<&str> = scanned.lines().collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 150, "{scanned}");
    assert!(keys.iter().all(|k| k.starts_with("user:")));

    // RESP3.
    assert_eq!(cli(&server, &["-3", "get", "missing"], b""), "\n");
    assert!(cli(&server, &["-3", "hello", "3"], b"").contains("proto 3\n"));

    assert!(cli(&server, &["info", "keyspace"], b"").contains("db0:keys=158,"));
    assert_eq!(cli(&server, &["dbsize"], b""), "158\n");
}

#[test]
fn redis_cli_pipe_mass_insertion() {
    if !have_redis_cli() {
        return;
    }
    let server = TestServer::start();
    let mut input = Vec::new();
    for i in 0..5000 {
        input.extend(server_support::encode(&[
            "SET",
            &format!("bulk:{i}"),
            &i.to_string(),
        ]));
    }
    let out = cli(&server, &["--pipe"], &input);
    assert!(out.contains("errors: 0, replies: 5000"), "{out}");
    assert_eq!(cli(&server, &["get", "bulk:4999"], b""), "4999\n");
}

/// `redis-cli monitor` prints each command the server runs until it is stopped.
#[test]
fn redis_cli_monitor_prints_the_commands_run() {
    use std::io::{BufRead, BufReader};
    if !have_redis_cli() {
        return;
    }
    let server = TestServer::start();
    let port = server.addr.port().to_string();
    // Killed below; should the test fail first, it exits when the server (dropped) closes
    // its connection.
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port, "monitor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run redis-cli monitor");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "OK");
    let mut other = server.raw();
    other.call(&["SET", "watched key", "v\n1"]);
    other.call(&["INCR", "n"]);
    let set = lines.next().unwrap().unwrap();
    let incr = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(set.ends_with(r#"] "SET" "watched key" "v\n1""#), "{set}");
    assert!(incr.ends_with(r#"] "INCR" "n""#), "{incr}");
    assert!(set.contains(" [0 127.0.0.1:"), "{set}");
}
