//! The server at the byte level, mini-redis style: requests split at every byte, pipelined
//! batches, oversized and garbage input, inline commands, RESP3, and the exact error
//! replies Redis sends.

mod server_support;

use std::time::Duration;

use keg::SyncPolicy;
use keg::server::{Limits, ServerConfig};
use server_support::{Raw, TestServer, encode};

/// A request stream mixing RESP arrays, an inline command and binary data, whose replies
/// do not depend on earlier runs (it resets its counter first).
fn mixed_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(encode(&["SET", "c", "0"]));
    s.extend(encode(&["SET", "k", "v\r\nwith crlf"]));
    s.extend(encode(&["GET", "k"]));
    s.extend(b"INCR c\r\n");
    s.extend(encode(&["MGET", "k", "missing"]));
    s.extend(b"ECHO \"two words\"\r\n");
    s.extend(encode(&["PING"]));
    s
}

const MIXED_REPLIES: &[u8] = b"+OK\r\n+OK\r\n$12\r\nv\r\nwith crlf\r\n:1\r\n*2\r\n$12\r\nv\r\nwith crlf\r\n$-1\r\n$9\r\ntwo words\r\n+PONG\r\n";

fn read_replies(raw: &mut Raw, n: usize) -> Vec<u8> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.extend(raw.reply());
    }
    all
}

#[test]
fn requests_split_at_every_byte_get_the_same_replies() {
    let server = TestServer::start();
    let stream = mixed_stream();
    for cut in 0..=stream.len() {
        let mut raw = server.raw();
        raw.send(&stream[..cut]);
        raw.send(&stream[cut..]);
        assert_eq!(
            String::from_utf8_lossy(&read_replies(&mut raw, 7)),
            String::from_utf8_lossy(MIXED_REPLIES),
            "split at byte {cut}"
        );
    }
}

#[test]
fn a_request_sent_one_byte_at_a_time_is_answered_once() {
    let server = TestServer::start();
    let mut raw = server.raw();
    for b in mixed_stream() {
        raw.send(&[b]);
    }
    assert_eq!(read_replies(&mut raw, 7), MIXED_REPLIES);
}

#[test]
fn a_pipelined_batch_is_answered_in_order() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(encode(&["SET", &format!("key:{i}"), &format!("value:{i}")]));
        batch.extend(encode(&["INCR", "counter"]));
    }
    for i in 0..1000 {
        batch.extend(encode(&["GET", &format!("key:{i}")]));
    }
    raw.send(&batch);
    for i in 1..=1000 {
        assert_eq!(raw.reply(), b"+OK\r\n");
        assert_eq!(raw.reply(), format!(":{i}\r\n").into_bytes());
    }
    for i in 0..1000 {
        let value = format!("value:{i}");
        assert_eq!(
            raw.reply(),
            format!("${}\r\n{value}\r\n", value.len()).into_bytes()
        );
    }
}

#[test]
fn replies_keep_their_order_while_the_client_reads_late() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let big = "x".repeat(1 << 20);
    raw.command(&["SET", "big", &big]);
    assert_eq!(raw.reply(), b"+OK\r\n");
    // More replies than the kernel's socket buffers hold (but fewer than the 32 MiB that
    // gets a client disconnected), which the client does not read yet, so that they wait
    // in the server; then more requests, whose replies must queue behind them.
    let mut first = Vec::new();
    for i in 0..24 {
        first.extend(encode(&["GET", "big"]));
        first.extend(encode(&["ECHO", &format!("first {i}")]));
    }
    raw.send(&first);
    std::thread::sleep(Duration::from_millis(300));
    let mut second = Vec::new();
    for i in 0..40 {
        second.extend(encode(&["ECHO", &format!("second {i}")]));
    }
    raw.send(&second);
    std::thread::sleep(Duration::from_millis(300));
    let big_reply = format!("${}\r\n{big}\r\n", big.len()).into_bytes();
    for i in 0..24 {
        assert!(raw.reply() == big_reply, "GET {i}");
        let echo = format!("first {i}");
        assert_eq!(
            raw.reply(),
            format!("${}\r\n{echo}\r\n", echo.len()).into_bytes()
        );
    }
    for i in 0..40 {
        let echo = format!("second {i}");
        assert_eq!(
            raw.reply(),
            format!("${}\r\n{echo}\r\n", echo.len()).into_bytes()
        );
    }
}

fn small_limits_server() -> TestServer {
    let limits = Limits {
        max_bulk_len: 1024,
        max_args: 8,
        max_inline_len: 256,
    };
    TestServer::with(ServerConfig::default().limits(limits), SyncPolicy::Never)
}

#[test]
fn oversized_frames_get_redis_errors_and_the_connection_closes() {
    let server = small_limits_server();
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$2000\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*9\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            &[b'a'; 300],
            "-ERR Protocol error: too big inline request\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n",
            "-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"SET \"k v\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut raw = server.raw();
        raw.send(input);
        assert_eq!(
            String::from_utf8_lossy(&raw.until_closed()),
            *want,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
    // Replies to the complete requests before the bad one are still sent.
    let mut raw = server.raw();
    raw.send(b"PING\r\n*1\r\n$5000\r\n");
    assert_eq!(
        raw.until_closed(),
        b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
    // A value right at the limit is fine.
    let mut raw = server.raw();
    assert_eq!(raw.call(&["SET", "k", &"x".repeat(1024)]), "+OK\r\n");
}

#[test]
fn garbage_never_takes_the_server_down() {
    let server = small_limits_server();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"*$\r\n-+:0123456789abcSETGET \"'\\x";
    for _ in 0..200 {
        let len = (next() % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if r % 4 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect();
        let mut raw = server.raw();
        raw.send(&bytes);
        // End the stream so that an incomplete request does not wait forever.
        raw.stream.shutdown(std::net::Shutdown::Write).unwrap();
        let _ = raw.until_closed();
    }
    let mut raw = server.raw();
    assert_eq!(raw.call(&["PING"]), "+PONG\r\n");
}

/// The server stops reading a socket after a read that did not fill its buffer (the rest
/// raises a new event), but the end of the stream raises no event of its own once taken:
/// a client that half-closes must still get its replies and then the close, whether the
/// end arrives with its requests or after them.
#[test]
fn a_client_that_half_closes_gets_its_replies_then_the_close() {
    let server = TestServer::start();
    for pause_ms in [0, 50] {
        let mut raw = server.raw();
        raw.send(b"PING\r\nECHO x\r\n");
        std::thread::sleep(Duration::from_millis(pause_ms));
        raw.stream.shutdown(std::net::Shutdown::Write).unwrap();
        let start = std::time::Instant::now();
        assert_eq!(
            raw.until_closed(),
            b"+PONG\r\n$1\r\nx\r\n",
            "pause {pause_ms} ms"
        );
        // `until_closed` gives up after the 10 s read timeout: the close must come first.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "pause {pause_ms} ms"
        );
    }
}

#[test]
fn inline_commands_follow_redis_quoting() {
    let server = TestServer::start();
    let mut raw = server.raw();
    raw.send(b"SET k \"a b\\x41\"\r\nGET k\r\nset q 'it\\'s'\r\nget q\r\n\r\n   \r\nEXISTS k q\n");
    assert_eq!(raw.reply(), b"+OK\r\n");
    assert_eq!(raw.reply(), b"$4\r\na bA\r\n");
    assert_eq!(raw.reply(), b"+OK\r\n");
    assert_eq!(raw.reply(), b"$4\r\nit's\r\n");
    assert_eq!(raw.reply(), b":2\r\n");
}

#[test]
fn resp3_after_hello_3() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let hello = raw.call(&["HELLO", "3"]);
    assert!(
        hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello}"
    );
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"), "{hello}");
    assert_eq!(raw.call(&["GET", "missing"]), "_\r\n");
    assert_eq!(raw.call(&["MGET", "missing"]), "*1\r\n_\r\n");
    assert_eq!(
        raw.call(&["CONFIG", "GET", "maxclients"]),
        "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert!(raw.call(&["INFO", "server"]).starts_with('='));
    // Subscriptions and messages are pushes; other commands still work meanwhile.
    assert_eq!(
        raw.call(&["SUBSCRIBE", "news"]),
        ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(raw.call(&["GET", "missing"]), "_\r\n");
    let mut publisher = server.raw();
    assert_eq!(publisher.call(&["PUBLISH", "news", "hi"]), ":1\r\n");
    assert_eq!(
        String::from_utf8_lossy(&raw.reply()),
        ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    // Back to RESP2.
    assert!(raw.call(&["HELLO", "2"]).starts_with("*14\r\n"));
    assert_eq!(
        raw.call(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n"
    );
    assert_eq!(raw.call(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        raw.call(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
}

/// HELLO inside MULTI is queued, as in Redis (it was refused): EXEC's array is announced in
/// the protocol of its start, and the replies after HELLO's come in the new one.
#[test]
fn hello_inside_multi_switches_the_protocol_for_the_replies_after_it() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(raw.call(&["GET", "missing"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["HELLO", "3"]), "+QUEUED\r\n");
    assert_eq!(raw.call(&["GET", "missing"]), "+QUEUED\r\n");
    let exec = raw.call(&["EXEC"]);
    assert!(exec.starts_with("*3\r\n$-1\r\n%7\r\n"), "{exec}");
    assert!(exec.ends_with("*0\r\n_\r\n"), "{exec}");
    assert_eq!(raw.call(&["GET", "missing"]), "_\r\n");
}

#[test]
fn command_help_lists_the_subcommands_served() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let help = raw.call(&["COMMAND", "HELP"]);
    assert!(
        help.starts_with(
            "*19\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ),
        "{help}"
    );
    for served in [
        "+COUNT\r\n",
        "+LIST\r\n",
        "+GETKEYS <full-command>\r\n",
        "+HELP\r\n",
    ] {
        assert!(help.contains(served), "{served} in {help}");
    }
    assert!(!help.contains("GETKEYSANDFLAGS"), "{help}");
}

#[test]
fn error_replies_are_redis_s_byte_for_byte() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let cases: &[(&[&str], &str)] = &[
        (
            &["GET"],
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            &["NOSUCH", "a", "b"],
            "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n",
        ),
        (
            &["SET", "k", "v", "EX", "0"],
            "-ERR invalid expire time in 'set' command\r\n",
        ),
        (
            &["SET", "k", "v", "EX", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (&["SET", "k", "v", "NX", "XX"], "-ERR syntax error\r\n"),
        (&["SET", "n", "x"], "+OK\r\n"),
        (
            &["INCR", "n"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["INCRBYFLOAT", "n", "1"],
            "-ERR value is not a valid float\r\n",
        ),
        (&["SET", "m", "9223372036854775807"], "+OK\r\n"),
        (
            &["INCR", "m"],
            "-ERR increment or decrement would overflow\r\n",
        ),
        (
            &["DECRBY", "m", "-9223372036854775808"],
            "-ERR decrement would overflow\r\n",
        ),
        (&["RENAME", "nokey", "x"], "-ERR no such key\r\n"),
        (
            &["EXPIRE", "m", "10", "NX", "XX"],
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
        ),
        (
            &["EXPIRE", "m", "10", "GT", "LT"],
            "-ERR GT and LT options at the same time are not compatible\r\n",
        ),
        (
            &["EXPIRE", "m", "10", "YY"],
            "-ERR Unsupported option YY\r\n",
        ),
        (
            &["SETRANGE", "m", "-1", "x"],
            "-ERR offset is out of range\r\n",
        ),
        (&["SELECT", "1"], "-ERR DB index is out of range\r\n"),
        (&["SCAN", "x"], "-ERR invalid cursor\r\n"),
        (
            &["AUTH", "pw"],
            "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
        ),
        (&["EXEC"], "-ERR EXEC without MULTI\r\n"),
        (&["DISCARD"], "-ERR DISCARD without MULTI\r\n"),
        (
            &["CLIENT", "NOPE"],
            "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n",
        ),
        (
            &["CLIENT", "SETNAME", "a b"],
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        ),
        (
            &["CONFIG", "SET", "nope", "1"],
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n",
        ),
        (
            &["XADD", "x", "*", "f", "v"],
            "-ERR unsupported command 'xadd': keg stores strings, hashes, sets, lists and sorted sets (with bitmaps, HyperLogLogs and geo on them); streams are not supported\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(raw.call(args), *want, "{args:?}");
    }
}

#[test]
fn transaction_errors_and_watch() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        raw.call(&["MULTI"]),
        "-ERR MULTI calls can not be nested\r\n"
    );
    assert_eq!(raw.call(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(
        raw.call(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        raw.call(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(raw.call(&["EXISTS", "a"]), ":0\r\n");
    // A command that fails at run time does not undo the others (Redis's EXEC).
    raw.call(&["MULTI"]);
    raw.call(&["SET", "a", "x"]);
    raw.call(&["INCR", "a"]);
    raw.call(&["SET", "b", "2"]);
    assert_eq!(
        raw.call(&["EXEC"]),
        "*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    );
    // WATCH: a write by another client between WATCH and EXEC aborts it.
    let mut other = server.raw();
    assert_eq!(raw.call(&["WATCH", "b"]), "+OK\r\n");
    assert_eq!(other.call(&["SET", "b", "3"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    raw.call(&["SET", "b", "4"]);
    assert_eq!(raw.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(raw.call(&["GET", "b"]), "$1\r\n3\r\n");
    // Unwatched keys do not abort; after EXEC the watch is gone.
    raw.call(&["WATCH", "b"]);
    other.call(&["SET", "unrelated", "1"]);
    raw.call(&["MULTI"]);
    raw.call(&["SET", "b", "5"]);
    assert_eq!(raw.call(&["EXEC"]), "*1\r\n+OK\r\n");
    other.call(&["SET", "b", "6"]);
    raw.call(&["MULTI"]);
    raw.call(&["GET", "b"]);
    assert_eq!(raw.call(&["EXEC"]), "*1\r\n$1\r\n6\r\n");
    // FLUSHDB deletes the watched key.
    raw.call(&["WATCH", "b"]);
    other.call(&["FLUSHDB"]);
    raw.call(&["MULTI"]);
    raw.call(&["SET", "b", "7"]);
    assert_eq!(raw.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(raw.call(&["WATCH", "x"]), "+OK\r\n");
    raw.call(&["MULTI"]);
    assert_eq!(
        raw.call(&["WATCH", "x"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(raw.call(&["DISCARD"]), "+OK\r\n");
}

/// WATCH counts what really changes a watched key, however it happens: a write through the
/// library API by other code of the same process, an element write to a collection, a
/// watched key's expiry (as Redis 7), a pipelined write; and not a command that changes
/// nothing (which used to abort the EXEC).
#[test]
fn watch_sees_every_change_to_a_key_and_only_changes() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let mut other = server.raw();
    let exec_ping = |raw: &mut Raw| {
        assert_eq!(raw.call(&["MULTI"]), "+OK\r\n");
        assert_eq!(raw.call(&["PING"]), "+QUEUED\r\n");
        raw.call(&["EXEC"])
    };
    let (ran, aborted) = ("*1\r\n+PONG\r\n", "*-1\r\n");

    raw.call(&["WATCH", "lib"]);
    server.store.set(b"lib", b"from the library").unwrap();
    assert_eq!(exec_ping(&mut raw), aborted, "a library write");

    other.call(&["HSET", "h", "f", "1"]);
    raw.call(&["WATCH", "h"]);
    other.call(&["HSET", "h", "g", "2"]);
    assert_eq!(exec_ping(&mut raw), aborted, "an element write");
    raw.call(&["WATCH", "h"]);
    other.call(&["HDEL", "h", "nosuch"]);
    other.call(&["HSETNX", "h", "f", "9"]);
    assert_eq!(
        exec_ping(&mut raw),
        ran,
        "element commands that change nothing"
    );

    other.call(&["SET", "ttl", "1", "PX", "40"]);
    raw.call(&["WATCH", "ttl"]);
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(exec_ping(&mut raw), aborted, "a watched key that expired");

    raw.call(&["WATCH", "p"]);
    let mut pipeline = encode(&["SET", "q", "1"]);
    pipeline.extend(encode(&["INCR", "p"]));
    other.send(&pipeline);
    other.reply();
    other.reply();
    assert_eq!(exec_ping(&mut raw), aborted, "a pipelined write");

    raw.call(&["WATCH", "p"]);
    other.call(&["MULTI"]);
    other.call(&["INCR", "p"]);
    assert_eq!(other.call(&["EXEC"]), "*1\r\n:2\r\n");
    assert_eq!(exec_ping(&mut raw), aborted, "a write inside another EXEC");

    // The watches end with EXEC: writes after it abort nothing.
    other.call(&["INCR", "p"]);
    assert_eq!(exec_ping(&mut raw), ran);
    raw.call(&["WATCH", "p"]);
    raw.call(&["UNWATCH"]);
    other.call(&["INCR", "p"]);
    assert_eq!(exec_ping(&mut raw), ran, "UNWATCH forgets");
}

/// CLIENT, INFO, CONFIG, BGSAVE and BGREWRITEAOF are served inside MULTI, as in Redis (they
/// were refused): EXEC runs them once its transaction has committed, each reply in its
/// place and in the protocol of its place.
#[test]
fn server_commands_run_inside_exec_after_the_transaction() {
    let server = TestServer::start();
    let mut raw = server.raw();
    raw.call(&["MULTI"]);
    for command in [
        &["SET", "a", "1"][..],
        &["INFO", "keyspace"],
        &["CLIENT", "SETNAME", "inside"],
        &["GET", "a"],
        &["HELLO", "3"],
        &["CONFIG", "GET", "maxclients"],
        &["BGSAVE"],
        &["BGREWRITEAOF"],
        &["CLIENT", "GETNAME"],
    ] {
        assert_eq!(raw.call(command), "+QUEUED\r\n", "{command:?}");
    }
    let reply = raw.call(&["EXEC"]);
    let (head, rest) = reply.split_once("\r\n").unwrap();
    assert_eq!(head, "*9");
    assert!(rest.starts_with("+OK\r\n$"), "{reply}");
    let info_at = rest.find("keys=1").expect("INFO sees the committed key");
    let get_at = rest.find("$1\r\n1\r\n").unwrap();
    assert!(info_at < get_at, "INFO keeps its place: {reply}");
    assert!(
        rest.contains("+OK\r\n$1\r\n1\r\n%"),
        "SETNAME's reply, GET's, then HELLO's map: {reply}"
    );
    assert!(
        rest.contains("%1\r\n$10\r\nmaxclients\r\n"),
        "CONFIG GET after HELLO 3 is a map: {reply}"
    );
    assert!(
        rest.ends_with(
            "+Background saving started\r\n+Background append only file rewriting started\r\n$6\r\ninside\r\n"
        ),
        "{reply}"
    );
    // A wrong subcommand is refused when queued, and EXEC then aborts.
    raw.call(&["MULTI"]);
    assert!(
        raw.call(&["CONFIG", "NOSUCH"])
            .starts_with("-ERR unknown subcommand")
    );
    assert!(raw.call(&["EXEC"]).starts_with("-EXECABORT"));
    // SAVE and SHUTDOWN stay refused inside MULTI, as in Redis.
    raw.call(&["MULTI"]);
    assert_eq!(
        raw.call(&["SAVE"]),
        "-ERR Command not allowed inside a transaction\r\n"
    );
    raw.call(&["DISCARD"]);
}

#[test]
fn requirepass_gates_every_command_but_auth() {
    let config = ServerConfig::default().requirepass(Some("s3cret".into()));
    let server = TestServer::with(config, SyncPolicy::Never);
    let mut raw = server.raw();
    assert_eq!(
        raw.call(&["GET", "k"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        raw.call(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(raw.call(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(raw.call(&["GET", "k"]), "$-1\r\n");
    // Before AUTH, large requests are refused as in Redis.
    let mut other = server.raw();
    other.send(b"*20\r\n");
    assert_eq!(
        other.until_closed(),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut hello = server.raw();
    assert!(
        hello
            .call(&["HELLO", "3", "AUTH", "default", "s3cret"])
            .starts_with("%7")
    );
}

#[test]
fn one_client_over_maxclients_is_refused() {
    let server = TestServer::with(ServerConfig::default().maxclients(2), SyncPolicy::Never);
    let mut a = server.raw();
    let mut b = server.raw();
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
    let mut c = server.raw();
    assert_eq!(c.until_closed(), b"-ERR max number of clients reached\r\n");
    drop(a);
    // The slot frees when the first client's thread has ended; retry a bounded number
    // of times.
    let mut admitted = false;
    for _ in 0..200 {
        let mut d = Raw::connect(server.addr);
        d.command(&["PING"]);
        let got = d.until_closed_or_reply();
        if got == b"+PONG\r\n" {
            admitted = true;
            break;
        }
    }
    assert!(admitted, "a freed slot is reused");
}

#[test]
fn idle_clients_are_disconnected_after_the_timeout() {
    let config = ServerConfig::default().idle_timeout(Duration::from_millis(100));
    let server = TestServer::with(config, SyncPolicy::Never);
    let mut raw = server.raw();
    assert_eq!(raw.call(&["PING"]), "+PONG\r\n");
    // The server closes the connection by itself: the read ends instead of timing out.
    assert_eq!(raw.until_closed(), b"");
}

/// WAIT: keg has no replicas. Asked for none, 0 at once; asked for some, 0 once the
/// timeout has passed; with timeout 0, never (as a Redis server without replicas).
#[test]
fn wait_for_replicas_answers_zero_after_its_timeout() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(raw.call(&["WAIT", "0", "0"]), ":0\r\n");
    let started = std::time::Instant::now();
    assert_eq!(raw.call(&["WAIT", "2", "300"]), ":0\r\n");
    assert!(started.elapsed() >= Duration::from_millis(300));
    raw.command(&["WAIT", "1", "0"]);
    raw.command(&["PING"]);
    raw.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(&mut raw.stream, &mut byte);
    assert!(read.is_err(), "WAIT 1 0 answered: {read:?} {byte:?}");
    // Other connections are served meanwhile.
    assert_eq!(server.raw().call(&["PING"]), "+PONG\r\n");
}

/// A server over a store whose values may be at most 1 KiB.
fn server_with_1_kib_values() -> (tempfile::TempDir, keg::server::Server) {
    let dir = tempfile::tempdir().unwrap();
    let store = keg::Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_value_size(1024)
        .open(dir.path())
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = keg::server::serve(listener, store, ServerConfig::default()).unwrap();
    (dir, server)
}

/// A bit past the store's value size limit is an error that writes nothing (SETBIT,
/// BITFIELD and SETRANGE alike), and a bit inside it works.
#[test]
fn bit_writes_past_the_value_size_limit_are_refused_whole() {
    let (_dir, server) = server_with_1_kib_values();
    let mut raw = Raw::connect(server.local_addr());
    assert_eq!(raw.call(&["SETBIT", "b", "8191", "1"]), ":0\r\n");
    assert_eq!(raw.call(&["STRLEN", "b"]), ":1024\r\n");
    for command in [
        &["SETBIT", "b", "8192", "1"][..],
        &["BITFIELD", "b", "SET", "u8", "#1024", "1"],
        &["SETRANGE", "b", "1024", "x"],
    ] {
        let reply = raw.call(command);
        assert!(
            reply.starts_with("-ERR") && reply.contains("1024"),
            "{command:?}: {reply}"
        );
    }
    assert_eq!(raw.call(&["STRLEN", "b"]), ":1024\r\n");
    assert_eq!(raw.call(&["BITCOUNT", "b"]), ":1\r\n");
    server.shutdown().unwrap();
}

/// Peak resident memory of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A bit offset or SETRANGE offset may ask for a string of up to 512 MiB (Redis's limit);
/// one past the store's value size limit is refused before the string is built, so a
/// client cannot make the server allocate and zero half a gigabyte for a write the store
/// would refuse anyway.
#[test]
fn far_offsets_are_refused_before_the_string_is_built() {
    let (_dir, server) = server_with_1_kib_values();
    let mut raw = Raw::connect(server.local_addr());
    let before = peak_rss_kib();
    for command in [
        &["SETBIT", "far", "4294967295", "1"][..],
        &["BITFIELD", "far", "SET", "u8", "#536870911", "1"],
        &["SETRANGE", "far", "536870911", "x"],
    ] {
        assert_eq!(
            raw.call(command),
            "-ERR value is 536870912 bytes; the limit is 1024\r\n",
            "{command:?}"
        );
    }
    let grown_mib = (peak_rss_kib() - before) / 1024;
    assert!(grown_mib < 256, "peak memory grew by {grown_mib} MiB");
    assert_eq!(raw.call(&["EXISTS", "far"]), ":0\r\n");
    server.shutdown().unwrap();
}

/// BLMPOP and BZMPOP wait on several keys and take from the first that gets data, from
/// another connection, up to COUNT.
#[test]
fn multi_key_blocking_pops_wait_for_another_connection() {
    let server = TestServer::start();
    let mut waiter = server.raw();
    let mut writer = server.raw();
    waiter.command(&["BLMPOP", "5", "2", "wl1", "wl2", "RIGHT", "COUNT", "2"]);
    // Once the waiter is blocked (CLIENT LIST shows its command, as Redis's does), the
    // push wakes it.
    assert!(
        (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(2));
            writer.call(&["CLIENT", "LIST"]).contains("cmd=blmpop")
        }),
        "CLIENT LIST shows the waiting BLMPOP"
    );
    assert_eq!(writer.call(&["RPUSH", "wl2", "a", "b", "c"]), ":3\r\n");
    assert_eq!(
        String::from_utf8(waiter.reply()).unwrap(),
        "*2\r\n$3\r\nwl2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    waiter.command(&["BZMPOP", "5", "1", "wz", "MIN"]);
    assert!(
        (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(2));
            writer.call(&["CLIENT", "LIST"]).contains("cmd=bzmpop")
        }),
        "CLIENT LIST shows the waiting BZMPOP"
    );
    assert_eq!(writer.call(&["ZADD", "wz", "2", "m", "1", "n"]), ":2\r\n");
    assert_eq!(
        String::from_utf8(waiter.reply()).unwrap(),
        "*2\r\n$2\r\nwz\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n"
    );
    assert_eq!(writer.call(&["ZCARD", "wz"]), ":1\r\n");
}

/// Geo searches test every member against the area, so one across the ±180° meridian is
/// found (Redis's cell search misses it there: docs/server.md).
#[test]
fn geo_searches_cross_the_antimeridian() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(
        raw.call(&[
            "GEOADD", "g", "179.95", "0", "east", "-179.95", "0", "west", "0", "0", "far"
        ]),
        ":3\r\n"
    );
    assert_eq!(
        raw.call(&[
            "GEOSEARCH",
            "g",
            "FROMLONLAT",
            "-179.99",
            "0",
            "BYRADIUS",
            "20",
            "km",
            "ASC"
        ]),
        "*2\r\n$4\r\nwest\r\n$4\r\neast\r\n"
    );
    assert_eq!(
        raw.call(&[
            "GEORADIUSBYMEMBER",
            "g",
            "east",
            "20",
            "km",
            "DESC",
            "WITHDIST"
        ]),
        "*2\r\n*2\r\n$4\r\nwest\r\n$7\r\n11.1224\r\n*2\r\n$4\r\neast\r\n$6\r\n0.0000\r\n"
    );
}

/// INFO without arguments shows Redis 7.0's sections in its order,
/// replication as a primary without replicas (a random 40-hex-digit id, fixed for the
/// server's life), CPU time in seconds that grows with work, and cluster support off.
#[test]
fn info_has_redis_s_sections_with_real_figures() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let field = |text: &str, name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .trim_end()
            .to_string()
    };
    let all = raw.call(&["INFO"]);
    let titles: Vec<&str> = all.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(
        titles,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
        ]
    );
    let replication = raw.call(&["INFO", "replication"]);
    assert_eq!(field(&replication, "role"), "master");
    assert_eq!(field(&replication, "connected_slaves"), "0");
    let id = field(&replication, "master_replid");
    assert!(
        id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(
        field(&raw.call(&["INFO", "replication"]), "master_replid"),
        id
    );
    assert_eq!(field(&replication, "master_repl_offset"), "0");
    let cpu_seconds = |raw: &mut Raw| -> f64 {
        let cpu = raw.call(&["INFO", "cpu"]);
        for name in ["used_cpu_sys_children", "used_cpu_user_children"] {
            assert_eq!(field(&cpu, name), "0.000000");
        }
        ["used_cpu_sys", "used_cpu_user"]
            .iter()
            .map(|name| {
                let text = field(&cpu, name);
                let (whole, micros) = text.split_once('.').expect("seconds.micros");
                assert_eq!(micros.len(), 6, "{text}");
                whole.parse::<f64>().unwrap() + micros.parse::<f64>().unwrap() / 1e6
            })
            .sum()
    };
    let before = cpu_seconds(&mut raw);
    // Work enough for the process's CPU time to move past its 10 ms resolution.
    let value = "v".repeat(1000);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while cpu_seconds(&mut raw) <= before {
        assert!(std::time::Instant::now() < deadline, "CPU time never grew");
        for i in 0..200 {
            raw.call(&["SET", &format!("k{i}"), &value]);
        }
    }
    assert_eq!(
        raw.call(&["INFO", "cluster"]),
        "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    );
}

/// CONFIG says what keg does about eviction (none) as Redis says it when so configured,
/// and refuses to turn it on with a clear error; notify-keyspace-events takes Redis's
/// classes, reads back as Redis spells them, and refuses the key-miss and new-key classes
/// keg does not send (and, as Redis, unknown ones), changing nothing.
#[test]
fn config_refuses_eviction_and_unsent_keyspace_event_classes() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(
        raw.call(&["CONFIG", "GET", "maxmemory-policy"]),
        "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n"
    );
    assert_eq!(
        raw.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - keg does not evict keys: its policy is noeviction\r\n"
    );
    let get = |raw: &mut Raw| raw.call(&["CONFIG", "GET", "notify-keyspace-events"]);
    assert_eq!(
        get(&mut raw),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$0\r\n\r\n"
    );
    assert_eq!(
        raw.call(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]),
        "+OK\r\n"
    );
    assert_eq!(
        get(&mut raw),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$2\r\nxE\r\n"
    );
    for refused in ["KEm", "KEn"] {
        assert_eq!(
            raw.call(&["CONFIG", "SET", "notify-keyspace-events", refused]),
            "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - keg does not send key-miss (m) or new-key (n) events\r\n"
        );
    }
    assert_eq!(
        raw.call(&["CONFIG", "SET", "notify-keyspace-events", "KEw"]),
        "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n"
    );
    assert_eq!(
        get(&mut raw),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$2\r\nxE\r\n"
    );
}

/// MEMORY USAGE: what a key costs the store (its records and index entries), nil for a
/// missing key; a collection's elements sampled (the first 5 unless SAMPLES says, 0 for
/// all) and scaled to its length, so uniform elements give the same answer sampled or not.
#[test]
fn memory_usage_counts_a_key_s_records_and_index_entries() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let usage = |raw: &mut Raw, args: &[&str]| -> i64 {
        let reply = raw.call(&[&["MEMORY", "USAGE"][..], args].concat());
        reply
            .strip_prefix(':')
            .and_then(|n| n.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("{reply:?}"))
    };
    assert_eq!(raw.call(&["MEMORY", "USAGE", "missing"]), "$-1\r\n");
    raw.call(&["SET", "s", &"v".repeat(1000)]);
    // The record (33-byte header, key, value), the index entry (24 fixed bytes and the
    // key, padded to 4) and a table slot's share (64-byte groups of 12 slots).
    assert_eq!(usage(&mut raw, &["s"]), 33 + 1 + 1000 + 28 + 6);
    for i in 0..100 {
        let (field, v) = (format!("field{i:03}"), "x".repeat(10));
        raw.call(&["HSET", "h", &field, &v]);
        raw.call(&["RPUSH", "l", &v]);
        raw.call(&["SADD", "t", &field]);
        raw.call(&["ZADD", "z", &i.to_string(), &field]);
        raw.call(&["HSET", "g", &field, &"x".repeat(110)]);
    }
    for key in ["h", "l", "t", "z"] {
        let sampled = usage(&mut raw, &[key]);
        let all = usage(&mut raw, &[key, "SAMPLES", "0"]);
        assert_eq!(sampled, all, "{key}");
        // A hundred element records of more than 33 + 10 bytes each.
        assert!(all > 100 * (33 + 10), "{key}: {all}");
    }
    // An expiry adds its 8 bytes to the key's index entry.
    raw.call(&["SET", "e", &"v".repeat(1000), "EX", "100"]);
    assert_eq!(usage(&mut raw, &["e"]), 33 + 1 + 1000 + 28 + 8 + 6);
    // A hash under a key of the same length whose every value is 100 bytes longer.
    let grown = usage(&mut raw, &["g"]) - usage(&mut raw, &["h"]);
    assert_eq!(grown, 100 * 100);
}

/// REPLICAOF / SLAVEOF NO ONE: OK (keg is always a primary, and stays one); following
/// another server is refused with a clear error, and the server goes on serving writes.
#[test]
fn replicaof_no_one_is_served_and_following_another_server_refused() {
    let server = TestServer::start();
    let mut raw = server.raw();
    assert_eq!(raw.call(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(raw.call(&["SLAVEOF", "no", "one"]), "+OK\r\n");
    assert_eq!(
        raw.call(&["REPLICAOF", "127.0.0.1", "6380"]),
        "-ERR keg does not replicate: only REPLICAOF NO ONE is served\r\n"
    );
    assert_eq!(raw.call(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(raw.call(&["ROLE"]), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
}

/// Under CLIENT REPLY OFF a protocol error is silenced like any reply: the connection is
/// closed with nothing sent. (Redis sends nothing either, and leaves the connection open
/// until the client goes.)
#[test]
fn a_protocol_error_under_client_reply_off_closes_without_a_reply() {
    let server = TestServer::start();
    let mut raw = server.raw();
    raw.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*1\r\n$x\r\n");
    assert_eq!(raw.until_closed(), b"");
}
