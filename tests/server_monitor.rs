//! MONITOR: what a monitoring connection is shown, against the transcript a real
//! redis-server gives for the same script (where redis-server is installed) and against
//! that transcript written out (everywhere).

mod redis_server;
mod server_support;

use std::net::SocketAddr;

use redis_server::RedisServer;
use server_support::{Raw, TestServer, encode};

/// What the monitors received while `script` ran, each reply as text, with the
/// timestamps cut and the clients' addresses replaced by their names (A, B, C, M).
fn monitor_transcript(addr: SocketAddr) -> Vec<String> {
    let mut m = Raw::connect(addr);
    let mut a = Raw::connect(addr);
    let mut b = Raw::connect(addr);
    let mut c = Raw::connect(addr);
    let mut m3 = Raw::connect(addr);
    let names: Vec<(String, &str)> = [(&m, "M"), (&a, "A"), (&b, "B"), (&c, "C"), (&m3, "M3")]
        .into_iter()
        .map(|(raw, name)| (raw.stream.local_addr().unwrap().to_string(), name))
        .collect();
    let normalize = |reply: &[u8]| -> String {
        let mut text = String::from_utf8_lossy(reply).into_owned();
        if let Some(rest) = text.strip_prefix('+')
            && let Some((stamp, line)) = rest.split_once(' ')
            && stamp.parse::<f64>().is_ok()
        {
            text = format!("+{line}");
        }
        for (addr, name) in &names {
            text = text.replace(addr.as_str(), name);
        }
        text
    };
    let mut transcript = Vec::new();
    // Reads the monitor's replies until the line of `ECHO <mark>` from A.
    let read_until = |m: &mut Raw, mark: &str, transcript: &mut Vec<String>| {
        let end = format!("+[0 A] \"ECHO\" \"{mark}\"\r\n");
        for _ in 0..200 {
            let line = normalize(&m.reply());
            let done = line == end;
            transcript.push(line);
            if done {
                return;
            }
        }
        panic!("no line for ECHO {mark}: {transcript:?}");
    };

    assert_eq!(m.call(&["MONITOR"]), "+OK\r\n");
    for command in [
        &["SET", "k", "v"][..],
        &["set", "a b", "x\ny"],
        &["SET", "bin", "\u{1}\u{7f}\u{e9}\t\\\""],
        &["AUTH", "nopass-configured"],
        &["CONFIG", "GET", "port"],
        &["CLIENT", "SETNAME", "nm"],
        &["CLIENT", "LIST"],
        &["CLIENT", "KILL", "ID", "999999"],
        &["CLIENT", "GETNAME"],
        &["MULTI"],
        &["SET", "m", "1"],
        &["INCR", "m"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "m", "2"],
        &["GET"],
        &["EXEC"],
        &["GET", "k", "extra"],
        &["NOSUCHCOMMAND", "x"],
        &["BLPOP", "nolist", "0.01"],
        &["HELLO", "2", "AUTH", "default", "secret"],
        &["PUBLISH", "ch", "msg"],
        &["BGREWRITEAOF"],
        &["WATCH", "w"],
    ] {
        a.call(command);
    }
    b.call(&["SET", "w", "changed"]);
    for command in [&["MULTI"][..], &["GET", "w"], &["EXEC"]] {
        a.call(command);
    }
    // Scripts: the commands a script calls follow its line, marked lua (also one that
    // fails part way, and a command a script may not call, which is not run).
    let set_get = "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])";
    a.call(&["EVAL", set_get, "1", "sk", "sv"]);
    a.call(&[
        "EVAL",
        "redis.call('set', 'e', '1') return redis.call('incr', KEYS[1])",
        "1",
        "sk",
    ]);
    a.call(&["EVAL", "return redis.pcall('monitor')", "0"]);
    // A pipeline in one write (coalesced into one transaction by keg), scripts among it.
    let mut batch = encode(&["SET", "p1", "1"]);
    batch.extend(encode(&["EVAL", "return redis.call('incr', 'p1')", "0"]));
    batch.extend(encode(&["SET", "p2", "2"]));
    batch.extend(encode(&[
        "EVAL",
        "return redis.call('mget', 'p1', 'p2')",
        "0",
    ]));
    batch.extend(encode(&["MGET", "p1", "p2"]));
    a.send(&batch);
    for _ in 0..5 {
        a.reply();
    }
    // MONITOR inside MULTI is queued, and refused by EXEC.
    for command in [&["MULTI"][..], &["MONITOR"], &["EXEC"]] {
        transcript.push(format!("C got {}", normalize(c.call(command).as_bytes())));
    }
    a.call(&["ECHO", "one"]);
    read_until(&mut m, "one", &mut transcript);

    // The monitor's own commands: keys are refused, a second MONITOR answers nothing.
    let mut own = encode(&["PING"]);
    own.extend(encode(&["GET", "k"]));
    own.extend(encode(&["MONITOR"]));
    m.send(&own);
    for _ in 0..3 {
        transcript.push(normalize(&m.reply()));
    }
    a.call(&["ECHO", "two"]);
    read_until(&mut m, "two", &mut transcript);

    // A second monitor, in RESP3; RESET ends the first one's monitoring.
    m3.call(&["HELLO", "3"]);
    assert_eq!(m3.call(&["MONITOR"]), "+OK\r\n");
    transcript.push(format!("M got {}", normalize(&m.reply())));
    transcript.push(format!(
        "M got {}",
        normalize(m.call(&["RESET"]).as_bytes())
    ));
    a.call(&["SET", "after", "reset"]);
    for _ in 0..2 {
        transcript.push(format!("M3 got {}", normalize(&m3.reply())));
    }
    // Had M still been monitoring, the SET's line would come before the PONG.
    transcript.push(format!("M got {}", normalize(m.call(&["PING"]).as_bytes())));
    transcript
}

/// The transcript as redis-server 7.0 gives it.
const EXPECTED: &[&str] = &[
    "C got +OK\r\n",
    "C got +QUEUED\r\n",
    "C got *1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
    "+[0 A] \"SET\" \"k\" \"v\"\r\n",
    "+[0 A] \"set\" \"a b\" \"x\\ny\"\r\n",
    "+[0 A] \"SET\" \"bin\" \"\\x01\\x7f\\xc3\\xa9\\t\\\\\\\"\"\r\n",
    "+[0 A] \"AUTH\" \"(redacted)\"\r\n",
    "+[0 A] \"CLIENT\" \"SETNAME\" \"nm\"\r\n",
    "+[0 A] \"CLIENT\" \"GETNAME\"\r\n",
    "+[0 A] \"MULTI\"\r\n",
    "+[0 A] \"SET\" \"m\" \"1\"\r\n",
    "+[0 A] \"INCR\" \"m\"\r\n",
    "+[0 A] \"EXEC\"\r\n",
    "+[0 A] \"MULTI\"\r\n",
    "+[0 A] \"EXEC\"\r\n",
    "+[0 A] \"BLPOP\" \"nolist\" \"0.01\"\r\n",
    "+[0 A] \"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n",
    "+[0 A] \"PUBLISH\" \"ch\" \"msg\"\r\n",
    "+[0 A] \"WATCH\" \"w\"\r\n",
    "+[0 B] \"SET\" \"w\" \"changed\"\r\n",
    "+[0 A] \"MULTI\"\r\n",
    "+[0 A] \"EXEC\"\r\n",
    "+[0 A] \"EVAL\" \"redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])\" \"1\" \"sk\" \"sv\"\r\n",
    "+[0 lua] \"set\" \"sk\" \"sv\"\r\n",
    "+[0 lua] \"get\" \"sk\"\r\n",
    "+[0 A] \"EVAL\" \"redis.call('set', 'e', '1') return redis.call('incr', KEYS[1])\" \"1\" \"sk\"\r\n",
    "+[0 lua] \"set\" \"e\" \"1\"\r\n",
    "+[0 lua] \"incr\" \"sk\"\r\n",
    "+[0 A] \"EVAL\" \"return redis.pcall('monitor')\" \"0\"\r\n",
    "+[0 A] \"SET\" \"p1\" \"1\"\r\n",
    "+[0 A] \"EVAL\" \"return redis.call('incr', 'p1')\" \"0\"\r\n",
    "+[0 lua] \"incr\" \"p1\"\r\n",
    "+[0 A] \"SET\" \"p2\" \"2\"\r\n",
    "+[0 A] \"EVAL\" \"return redis.call('mget', 'p1', 'p2')\" \"0\"\r\n",
    "+[0 lua] \"mget\" \"p1\" \"p2\"\r\n",
    "+[0 A] \"MGET\" \"p1\" \"p2\"\r\n",
    "+[0 C] \"MULTI\"\r\n",
    "+[0 C] \"EXEC\"\r\n",
    "+[0 A] \"ECHO\" \"one\"\r\n",
    "+PONG\r\n",
    "+[0 M] \"PING\"\r\n",
    "-ERR Replica can't interact with the keyspace\r\n",
    "+[0 A] \"ECHO\" \"two\"\r\n",
    "M got +[0 M3] \"HELLO\" \"3\"\r\n",
    "M got +RESET\r\n",
    "M3 got +[0 M] \"RESET\"\r\n",
    "M3 got +[0 A] \"SET\" \"after\" \"reset\"\r\n",
    "M got +PONG\r\n",
];

#[test]
fn a_monitor_is_shown_what_redis_shows() {
    let server = TestServer::start();
    let transcript = monitor_transcript(server.addr);
    assert_eq!(transcript, EXPECTED);
}

#[test]
fn the_transcript_is_redis_servers() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let transcript = monitor_transcript(format!("127.0.0.1:{}", redis.port).parse().unwrap());
    assert_eq!(transcript, EXPECTED);
}

#[test]
fn client_list_flags_a_monitor_and_a_closed_monitor_is_forgotten() {
    let server = TestServer::start();
    let mut m = server.raw();
    assert_eq!(m.call(&["MONITOR"]), "+OK\r\n");
    let mut a = server.raw();
    let list = a.call(&["CLIENT", "LIST"]);
    assert_eq!(list.matches("flags=O").count(), 1, "{list}");
    drop(m);
    // The server notices the closed monitor; until then CLIENT LIST still shows it.
    let mut gone = false;
    for _ in 0..200 {
        if !a.call(&["CLIENT", "LIST"]).contains("flags=O") {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(gone, "the closed monitor is still listed");
    // Commands go on being served, and a new monitor is shown them.
    let mut m2 = server.raw();
    assert_eq!(m2.call(&["MONITOR"]), "+OK\r\n");
    assert_eq!(a.call(&["SET", "x", "1"]), "+OK\r\n");
    let line = String::from_utf8(m2.reply()).unwrap();
    assert!(line.ends_with("\"SET\" \"x\" \"1\"\r\n"), "{line}");
}

/// Pipelines of two connections that reach the server together run as one transaction
/// shared by both (when they land in the same event-loop turn): each command is shown
/// once, in its connection's order.
#[test]
fn commands_of_connections_served_together_are_all_shown() {
    let server = TestServer::start();
    let mut m = server.raw();
    assert_eq!(m.call(&["MONITOR"]), "+OK\r\n");
    let mut p = server.raw();
    let mut q = server.raw();
    const ROUNDS: usize = 100;
    for round in 0..ROUNDS {
        for (raw, name) in [(&mut p, "p"), (&mut q, "q")] {
            let mut batch = Vec::new();
            for i in 0..3 {
                batch.extend(encode(&["SET", &format!("{name}{round}-{i}"), "v"]));
            }
            raw.send(&batch);
        }
        for raw in [&mut p, &mut q] {
            for _ in 0..3 {
                assert_eq!(raw.reply(), b"+OK\r\n");
            }
        }
    }
    let mut shown = std::collections::HashMap::<String, Vec<String>>::new();
    for _ in 0..ROUNDS * 6 {
        let line = String::from_utf8(m.reply()).unwrap();
        let key = line.split('"').nth(3).unwrap().to_string();
        shown.entry(key[..1].to_string()).or_default().push(key);
    }
    for name in ["p", "q"] {
        let want: Vec<String> = (0..ROUNDS)
            .flat_map(|round| (0..3).map(move |i| format!("{name}{round}-{i}")))
            .collect();
        assert_eq!(shown[name], want);
    }
}
