//! Keyspace notifications (`notify-keyspace-events`): each command of the corpus below
//! must publish exactly the events written after it, in that order, on keg's server — and
//! on a real redis-server where one is installed, which is where the expectations come
//! from. `server_vs_redis_random.rs` compares the events of generated commands too.

mod redis_server;
mod server_support;

use std::net::SocketAddr;

use redis_server::RedisServer;
use server_support::{Raw, TestServer};

/// One file per command family (each naming its keys apart), run in this order on one
/// connection; one line per command, `command | events`: the command's words (`''` an
/// empty argument, `<sp>` a space inside one), then the events it publishes as `event key`, comma-separated (nothing
/// after `|`: none). Every event must come on both channels, the key's first. Lines
/// starting with `#` are comments.
const CORPUS: &[&str] = &[
    include_str!("keyspace_events/strings_and_keys.txt"),
    include_str!("keyspace_events/lists.txt"),
    include_str!("keyspace_events/hashes.txt"),
    include_str!("keyspace_events/sets.txt"),
    include_str!("keyspace_events/zsets.txt"),
    include_str!("keyspace_events/others.txt"),
];

/// The keyspace events published, read from a pattern subscription to `__key*__:*`.
struct Listener {
    conn: Raw,
    /// Publishes a marker after each command (on a connection of its own, which is never
    /// inside MULTI): the marker ends that command's events.
    marker: Raw,
    marks: u64,
}

impl Listener {
    fn new(addr: SocketAddr) -> Listener {
        let mut conn = Raw::connect(addr);
        conn.call(&["PSUBSCRIBE", "__key*__:*"]);
        Listener {
            conn,
            marker: Raw::connect(addr),
            marks: 0,
        }
    }

    /// The events published since the last call, as `event key`. Each event's two
    /// messages (key channel, then event channel) become one entry; a message without its
    /// pair is shown as it came.
    fn events(&mut self) -> Vec<String> {
        self.marks += 1;
        let mark = format!("mark{}", self.marks);
        self.marker.call(&["PUBLISH", "__keyevent@0__:end", &mark]);
        let mut messages: Vec<(String, String)> = Vec::new();
        loop {
            let reply = String::from_utf8_lossy(&self.conn.reply()).into_owned();
            let parts: Vec<&str> = reply.split("\r\n").collect();
            // *4 $7 pmessage $n pattern $n channel $n message
            let (channel, message) = (parts[6].to_string(), parts[8].to_string());
            if channel == "__keyevent@0__:end" && message == mark {
                break;
            }
            messages.push((channel, message));
        }
        let mut events = Vec::new();
        let mut i = 0;
        while i < messages.len() {
            let (channel, message) = &messages[i];
            if let Some(key) = channel.strip_prefix("__keyspace@0__:")
                && let Some((next_channel, next_message)) = messages.get(i + 1)
                && next_channel.strip_prefix("__keyevent@0__:") == Some(message.as_str())
                && next_message == key
            {
                events.push(format!("{message} {key}"));
                i += 2;
            } else {
                events.push(format!("unpaired {channel} {message}"));
                i += 1;
            }
        }
        events
    }
}

fn words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .map(|w| {
            if w == "''" {
                String::new()
            } else {
                w.replace("<sp>", " ")
            }
        })
        .collect()
}

/// Runs the corpus on the server at `addr`; returns one line per command whose events
/// differ from the corpus's.
fn corpus_differences(addr: SocketAddr) -> Vec<String> {
    let mut commands = Raw::connect(addr);
    commands.call(&["FLUSHALL"]);
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut listener = Listener::new(addr);
    let mut differences = Vec::new();
    let lines = CORPUS.iter().flat_map(|file| file.lines());
    for line in lines.filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (command, want) = line.split_once('|').unwrap_or((line, ""));
        let args = words(command);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = commands.call(&args);
        let got = listener.events().join(", ");
        if got != want.trim() {
            differences.push(format!(
                "{}: wanted [{}], got [{got}] (reply {reply:?})",
                command.trim(),
                want.trim()
            ));
        }
    }
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    differences
}

#[test]
fn each_command_publishes_the_events_redis_does() {
    let keg = TestServer::start();
    let ours = corpus_differences(keg.addr);
    if let Some(redis) = RedisServer::start() {
        let theirs = corpus_differences(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert!(theirs.is_empty(), "redis-server:\n{}", theirs.join("\n"));
    }
    assert!(ours.is_empty(), "keg:\n{}", ours.join("\n"));
}

/// `expired` events: keys whose expiry passes are deleted by the expiry cycle, which
/// publishes one event each (class `x`), for strings and collections alike.
fn expired_events(addr: SocketAddr) -> Vec<String> {
    let mut commands = Raw::connect(addr);
    commands.call(&["FLUSHALL"]);
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let mut listener = Raw::connect(addr);
    listener.call(&["SUBSCRIBE", "__keyevent@0__:expired"]);
    commands.call(&["SET", "session:1", "x", "PX", "30"]);
    commands.call(&["HSET", "session:2", "f", "v"]);
    commands.call(&["PEXPIRE", "session:2", "60"]);
    // Not expired: no event.
    commands.call(&["SET", "kept", "x", "EX", "1000"]);
    let mut expired: Vec<String> = (0..2)
        .map(|_| {
            let message = String::from_utf8_lossy(&listener.reply()).into_owned();
            message
                .rsplit("\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    expired.sort();
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    expired
}

#[test]
fn expired_keys_publish_expired_events() {
    let keg = TestServer::start();
    assert_eq!(expired_events(keg.addr), ["session:1", "session:2"]);
    if let Some(redis) = RedisServer::start() {
        let theirs = expired_events(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, ["session:1", "session:2"], "redis-server");
    }
}

/// A pop that blocked and was served by another connection's push publishes its events
/// after the push's: `lpush`, then the pop's `lpop` and `del` (the list it emptied).
fn woken_pop_events(addr: SocketAddr) -> Vec<String> {
    let mut commands = Raw::connect(addr);
    commands.call(&["FLUSHALL"]);
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut listener = Listener::new(addr);
    let mut blocked = Raw::connect(addr);
    blocked.command(&["BLPOP", "queue", "5"]);
    // Blocked once CLIENT LIST shows it so.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !commands.call(&["CLIENT", "LIST"]).contains("cmd=blpop") {
        assert!(std::time::Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    commands.call(&["LPUSH", "queue", "job"]);
    let popped = String::from_utf8_lossy(&blocked.reply()).into_owned();
    assert_eq!(popped, "*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n");
    let events = listener.events();
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    events
}

#[test]
fn a_woken_blocking_pop_publishes_its_events_after_the_push() {
    let want = ["lpush queue", "lpop queue", "del queue"];
    let keg = TestServer::start();
    assert_eq!(woken_pop_events(keg.addr), want);
    if let Some(redis) = RedisServer::start() {
        let theirs = woken_pop_events(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
}

/// A RESP3 connection subscribed to the events of its own writes gets each event before
/// the reply of the command that caused it, as from Redis.
fn own_events_order(addr: SocketAddr) -> Vec<String> {
    let mut conn = Raw::connect(addr);
    conn.call(&["HELLO", "3"]);
    conn.call(&["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    conn.call(&["SUBSCRIBE", "__keyevent@0__:set"]);
    conn.command(&["SET", "mine", "1"]);
    let order = (0..2)
        .map(|_| String::from_utf8_lossy(&conn.reply()).into_owned())
        .collect();
    conn.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    order
}

#[test]
fn a_connection_gets_its_own_events_before_the_reply() {
    let want = [
        ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$4\r\nmine\r\n",
        "+OK\r\n",
    ];
    let keg = TestServer::start();
    assert_eq!(own_events_order(keg.addr), want);
    if let Some(redis) = RedisServer::start() {
        let theirs = own_events_order(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
}

/// A function's writes publish their events, as a script's do.
fn function_events(addr: SocketAddr) -> Vec<String> {
    let mut commands = Raw::connect(addr);
    commands.call(&["FLUSHALL"]);
    commands.call(&["FUNCTION", "FLUSH"]);
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut listener = Listener::new(addr);
    let library = "#!lua name=eventlib\n\
        redis.register_function('stamp', function(keys) \
        redis.call('set', keys[1], 'v'); return redis.call('incr', keys[2]) end)";
    commands.call(&["FUNCTION", "LOAD", library]);
    commands.call(&["FCALL", "stamp", "2", "f1", "f2"]);
    let events = listener.events();
    commands.call(&["FUNCTION", "FLUSH"]);
    commands.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    events
}

#[test]
fn a_function_publishes_the_events_of_its_writes() {
    let want = ["set f1", "incrby f2"];
    let keg = TestServer::start();
    assert_eq!(function_events(keg.addr), want);
    if let Some(redis) = RedisServer::start() {
        let theirs = function_events(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
}
