//! A thousand connections held open while a bounded load runs: no errors, every idle
//! connection still answers afterwards, and memory stays bounded.

mod server_support;

use redis::Commands;
use server_support::{Raw, TestServer};

const IDLE_CONNECTIONS: usize = 1000;

/// The process's resident memory in bytes (from /proc; 0 where there is none).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The soft limit on open files, from /proc.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn a_thousand_idle_connections_and_a_load_at_once() {
    // Each connection takes two descriptors in this process (client and server side).
    if open_files_limit().is_some_and(|n| n < 2 * IDLE_CONNECTIONS as u64 + 200) {
        eprintln!("note: the open-files limit is too low for 1000 connections; skipping");
        return;
    }
    let server = TestServer::start();
    let before = resident_bytes();
    // Opened a hundred at a time, each answering before the next hundred: a burst larger
    // than the listen backlog (128 for std's listeners) would wait for SYN retransmits.
    let mut idle: Vec<Raw> = Vec::with_capacity(IDLE_CONNECTIONS);
    while idle.len() < IDLE_CONNECTIONS {
        let start = idle.len();
        idle.extend((0..100).map(|_| server.raw()));
        for raw in &mut idle[start..] {
            assert_eq!(raw.call(&["PING"]), "+PONG\r\n");
        }
    }
    let with_connections = resident_bytes();

    // The load: bounded in operations; each thread checks every reply.
    let threads = 8;
    let ops = 500;
    std::thread::scope(|s| {
        for t in 0..threads {
            let server = &server;
            s.spawn(move || {
                let mut con = server.redis();
                for i in 0..ops {
                    let key = format!("load:{t}:{}", i % 100);
                    let () = con.set(&key, i).expect("set");
                    assert_eq!(con.get::<_, i64>(&key).expect("get"), i as i64);
                    let _: i64 = con.incr("load:counter", 1).expect("incr");
                }
            });
        }
        // Meanwhile, some of the idle connections speak up.
        for (i, raw) in idle.iter_mut().enumerate().step_by(10) {
            assert_eq!(
                raw.call(&["ECHO", &i.to_string()]),
                format!("${}\r\n{i}\r\n", i.to_string().len())
            );
        }
    });
    let after_load = resident_bytes();

    let mut con = server.redis();
    assert_eq!(
        con.get::<_, i64>("load:counter").unwrap(),
        (threads * ops) as i64
    );
    let info: String = redis::cmd("INFO").arg("clients").query(&mut con).unwrap();
    let connected: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(connected > IDLE_CONNECTIONS, "{info}");
    for raw in &mut idle {
        assert_eq!(raw.call(&["PING"]), "+PONG\r\n");
    }

    // Bounded memory: a connection costs tens of KiB (its read buffer and the touched part
    // of its thread's stack), and the load adds little.
    let per_connection = with_connections.saturating_sub(before) / IDLE_CONNECTIONS as u64;
    eprintln!(
        "resident: {} MiB before, {} MiB with {IDLE_CONNECTIONS} connections ({} KiB each), {} MiB after the load",
        before >> 20,
        with_connections >> 20,
        per_connection >> 10,
        after_load >> 20
    );
    assert!(
        per_connection < 256 << 10,
        "{per_connection} bytes per connection"
    );
    assert!(after_load.saturating_sub(with_connections) < 128 << 20);
}
