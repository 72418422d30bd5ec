//! Client-side caching (CLIENT TRACKING): the invalidation messages a tracking client gets
//! when keys it read change, in each mode, byte for byte as a real redis-server sends them
//! (where one is installed; the expectations below come from redis-server 7.0.15).

mod redis_server;
mod server_support;

use std::net::SocketAddr;

use redis_server::RedisServer;
use server_support::Raw;

/// What arrived on `conn` before the reply to a PING sent now (pushes and messages queued
/// for it), then that reply.
fn until_pong(conn: &mut Raw) -> Vec<String> {
    conn.command(&["PING"]);
    let mut frames = Vec::new();
    loop {
        let frame = String::from_utf8_lossy(&conn.reply()).into_owned();
        let pong = frame == "+PONG\r\n" || frame == "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
        frames.push(frame);
        if pong {
            return frames;
        }
    }
}

fn client_id(conn: &mut Raw) -> String {
    conn.call(&["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim_end()
        .to_string()
}

/// One tracking client in each mode, another connection writing: every reply and
/// every message in order.
fn tracking_scenario(addr: SocketAddr) -> Vec<String> {
    let mut log = Vec::new();
    let mut writer = Raw::connect(addr);
    writer.call(&["FLUSHALL"]);
    writer.call(&["MSET", "k1", "a", "k2", "b", "user:1", "x", "other", "y"]);

    // Default mode, RESP3: keys read are remembered; a change is sent once.
    let mut reader = Raw::connect(addr);
    reader.call(&["HELLO", "3"]);
    for args in [
        vec!["CLIENT", "TRACKING", "ON"],
        vec!["GET", "k1"],
        vec!["MGET", "k2", "nokey"],
        vec!["STRLEN", "other"],
    ] {
        log.push(reader.call(&args));
    }
    writer.call(&["SET", "k1", "a2"]);
    writer.call(&["DEL", "k2", "nokey"]);
    writer.call(&["SET", "k1", "a3"]); // not read again since: no second message
    log.extend(until_pong(&mut reader));
    // A script's reads (its declared keys, in keg) are remembered too.
    log.push(reader.call(&["EVAL", "return redis.call('GET', KEYS[1])", "1", "k2"]));
    writer.call(&["SET", "k2", "again"]);
    log.extend(until_pong(&mut reader));
    // Its own write is sent to it too (no NOLOOP), after the write's reply.
    log.push(reader.call(&["GET", "other"]));
    reader.command(&["APPEND", "other", "z"]);
    log.push(String::from_utf8_lossy(&reader.reply()).into_owned());
    log.push(String::from_utf8_lossy(&reader.reply()).into_owned());
    // NOLOOP: its own writes are not sent; another connection's are. A flush sends null.
    log.push(reader.call(&["CLIENT", "TRACKING", "ON", "NOLOOP"]));
    log.push(reader.call(&["GET", "k1"]));
    log.push(reader.call(&["SET", "k1", "mine"]));
    log.push(reader.call(&["GET", "user:1"]));
    writer.call(&["INCR", "counter"]);
    writer.call(&["EXPIRE", "user:1", "100"]);
    writer.call(&["FLUSHDB"]);
    log.extend(until_pong(&mut reader));
    log.push(reader.call(&["CLIENT", "TRACKINGINFO"]));
    log.push(reader.call(&["CLIENT", "GETREDIR"]));

    // OPTIN: only reads after CLIENT CACHING YES (for one command, or a transaction).
    writer.call(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    let mut optin = Raw::connect(addr);
    optin.call(&["HELLO", "3"]);
    for args in [
        vec!["CLIENT", "TRACKING", "ON", "OPTIN"],
        vec!["GET", "a"],
        vec!["CLIENT", "CACHING", "YES"],
        vec!["CLIENT", "TRACKINGINFO"],
        vec!["GET", "b"],
        vec!["GET", "c"],
        vec!["CLIENT", "CACHING", "YES"],
        vec!["MULTI"],
        vec!["GET", "c"],
        vec!["GET", "d"],
        vec!["EXEC"],
    ] {
        log.push(optin.call(&args));
    }
    writer.call(&["MSET", "a", "x", "b", "x", "c", "x", "d", "x"]);
    log.extend(until_pong(&mut optin));

    // BCAST with prefixes, redirected to a RESP2 connection subscribed to the channel.
    let mut target = Raw::connect(addr);
    let target_id = client_id(&mut target);
    log.push(target.call(&["SUBSCRIBE", "__redis__:invalidate"]));
    let mut bcast = Raw::connect(addr);
    for args in [
        vec![
            "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "job:", "REDIRECT",
            &target_id,
        ],
        vec!["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:9"],
    ] {
        log.push(bcast.call(&args));
    }
    writer.call(&[
        "MSET", "user:1", "a", "job:2", "b", "user:3", "c", "else", "d",
    ]);
    writer.call(&["SET", "unrelated", "e"]);
    writer.call(&["HSET", "job:3", "f", "v"]);
    log.extend(until_pong(&mut target));
    log
}

const EXPECTED: &[&str] = &[
    "+OK\r\n",
    "$1\r\na\r\n",
    "*2\r\n$1\r\nb\r\n_\r\n",
    ":1\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk2\r\n",
    "+PONG\r\n",
    "_\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk2\r\n",
    "+PONG\r\n",
    "$1\r\ny\r\n",
    ":2\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nother\r\n",
    "+OK\r\n",
    "$2\r\na3\r\n",
    "+OK\r\n",
    "$1\r\nx\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n",
    ">2\r\n$10\r\ninvalidate\r\n_\r\n",
    "+PONG\r\n",
    "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n",
    ":0\r\n",
    "+OK\r\n",
    "$1\r\n1\r\n",
    "+OK\r\n",
    "%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n",
    "$1\r\n2\r\n",
    "$1\r\n3\r\n",
    "+OK\r\n",
    "+OK\r\n",
    "+QUEUED\r\n",
    "+QUEUED\r\n",
    "*2\r\n$1\r\n3\r\n$1\r\n4\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nc\r\n",
    ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nd\r\n",
    "+PONG\r\n",
    "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n",
    "+OK\r\n",
    "-ERR Prefix 'user:9' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap.\r\n",
    "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$5\r\njob:2\r\n",
    "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:3\r\n",
    "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$5\r\njob:3\r\n",
    "*2\r\n$4\r\npong\r\n$0\r\n\r\n",
];

#[test]
fn invalidations_reach_tracking_clients_as_redis_sends_them() {
    if let Some(redis) = RedisServer::start() {
        let theirs = tracking_scenario(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, EXPECTED, "redis-server");
    }
    let keg = server_support::TestServer::start();
    assert_eq!(tracking_scenario(keg.addr), EXPECTED);
}

/// Keys that expire and are deleted by the server are invalidated too.
fn expiry_scenario(addr: SocketAddr) -> Vec<String> {
    let mut writer = Raw::connect(addr);
    writer.call(&["FLUSHALL"]);
    writer.call(&["SET", "session", "x", "PX", "50"]);
    let mut reader = Raw::connect(addr);
    reader.call(&["HELLO", "3"]);
    reader.call(&["CLIENT", "TRACKING", "ON"]);
    let mut log = vec![reader.call(&["GET", "session"])];
    // The expiry cycle's message arrives by itself.
    log.push(String::from_utf8_lossy(&reader.reply()).into_owned());
    log
}

#[test]
fn expired_keys_are_invalidated() {
    let want = [
        "$1\r\nx\r\n",
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\nsession\r\n",
    ];
    if let Some(redis) = RedisServer::start() {
        let theirs = expiry_scenario(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
    let keg = server_support::TestServer::start();
    assert_eq!(expiry_scenario(keg.addr), want);
}

/// The table of remembered keys stays within `tracking-table-max-keys`: the oldest key is
/// forgotten, its client told to drop it. INFO counts the tracking clients, the keys and
/// the (key, client) pairs; a connection's end stops its tracking.
#[test]
fn remembered_keys_stay_within_the_limit_and_are_counted() {
    let keg = server_support::TestServer::start();
    let mut admin = keg.raw();
    assert_eq!(
        admin.call(&["CONFIG", "SET", "tracking-table-max-keys", "2"]),
        "+OK\r\n"
    );
    let mut reader = keg.raw();
    reader.call(&["HELLO", "3"]);
    reader.call(&["CLIENT", "TRACKING", "ON"]);
    reader.call(&["MGET", "a", "b"]);
    let info = |admin: &mut Raw| {
        let text = admin.call(&["INFO", "everything"]);
        [
            "tracking_clients",
            "tracking_total_keys",
            "tracking_total_items",
        ]
        .map(|field| {
            let line = text
                .lines()
                .find(|l| l.starts_with(field))
                .unwrap_or_default();
            line.to_string()
        })
        .to_vec()
    };
    assert_eq!(
        info(&mut admin),
        [
            "tracking_clients:1",
            "tracking_total_keys:2",
            "tracking_total_items:2"
        ]
    );
    reader.command(&["GET", "c"]);
    // `a`, the oldest, is forgotten: its message comes before GET's reply.
    assert_eq!(
        String::from_utf8_lossy(&reader.reply()),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&reader.reply()), "_\r\n");
    assert_eq!(
        info(&mut admin),
        [
            "tracking_clients:1",
            "tracking_total_keys:2",
            "tracking_total_items:2"
        ]
    );
    // Another client reading a remembered key adds an item, not a key.
    let mut second = keg.raw();
    second.call(&["HELLO", "3"]);
    second.call(&["CLIENT", "TRACKING", "ON"]);
    second.call(&["GET", "c"]);
    assert_eq!(
        info(&mut admin),
        [
            "tracking_clients:2",
            "tracking_total_keys:2",
            "tracking_total_items:3"
        ]
    );
    // 0: no limit, as in Redis.
    assert_eq!(
        admin.call(&["CONFIG", "SET", "tracking-table-max-keys", "0"]),
        "+OK\r\n"
    );
    reader.call(&["MGET", "d", "e", "f"]);
    assert_eq!(
        info(&mut admin),
        [
            "tracking_clients:2",
            "tracking_total_keys:5",
            "tracking_total_items:6"
        ]
    );
    drop(second);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while info(&mut admin)[0] != "tracking_clients:1" {
        assert!(std::time::Instant::now() < deadline, "tracking never ended");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A redirect whose target went away: the tracking client is told for each message it
/// misses (a RESP3 push), and TRACKINGINFO and CLIENT LIST say so. The target's id is shown as `ID`.
fn broken_redirect_scenario(addr: SocketAddr) -> Vec<String> {
    let mut writer = Raw::connect(addr);
    writer.call(&["FLUSHALL"]);
    let mut target = Raw::connect(addr);
    let target_id = client_id(&mut target);
    target.call(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut tracker = Raw::connect(addr);
    tracker.call(&["HELLO", "3"]);
    let tracker_id = client_id(&mut tracker);
    let mut log = vec![tracker.call(&["CLIENT", "TRACKING", "ON", "REDIRECT", &target_id])];
    log.push(tracker.call(&["GET", "a"]));
    log.push(tracker.call(&["GET", "b"]));
    drop(target);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while writer.call(&["CLIENT", "LIST", "ID", &target_id]).len() > 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "the target never left"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    writer.call(&["SET", "a", "1"]);
    writer.call(&["SET", "b", "1"]);
    log.extend(until_pong(&mut tracker));
    log.push(tracker.call(&["CLIENT", "TRACKINGINFO"]));
    let listed = writer.call(&["CLIENT", "LIST", "ID", &tracker_id]);
    log.push(
        listed
            .split(' ')
            .find(|f| f.starts_with("flags="))
            .unwrap_or_default()
            .to_string(),
    );
    log.iter()
        .map(|entry| entry.replace(&format!(":{target_id}\r\n"), ":ID\r\n"))
        .collect()
}

#[test]
fn a_broken_redirect_is_reported_to_the_tracking_client() {
    let want = [
        "+OK\r\n",
        "_\r\n",
        "_\r\n",
        ">2\r\n$21\r\ntracking-redir-broken\r\n:ID\r\n",
        ">2\r\n$21\r\ntracking-redir-broken\r\n:ID\r\n",
        "+PONG\r\n",
        "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:ID\r\n$8\r\nprefixes\r\n*0\r\n",
        "flags=tR",
    ];
    if let Some(redis) = RedisServer::start() {
        let theirs = broken_redirect_scenario(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
    let keg = server_support::TestServer::start();
    assert_eq!(broken_redirect_scenario(keg.addr), want);
}

/// What a BCAST tracker is told after each step, as sorted keys (`*`: a flush): a key
/// written before and after a flush in one pipelined batch, and a HyperLogLog whose cached
/// count PFCOUNT rewrites (a change of its bytes without a keyspace event).
fn bcast_scenario(addr: SocketAddr) -> Vec<Vec<String>> {
    let mut writer = Raw::connect(addr);
    writer.call(&["FLUSHALL"]);
    writer.call(&["PFADD", "visitors", "a", "b"]);
    let mut tracker = Raw::connect(addr);
    tracker.call(&["HELLO", "3"]);
    tracker.call(&["CLIENT", "TRACKING", "ON", "BCAST"]);
    let told = |tracker: &mut Raw| {
        let mut keys: Vec<String> = until_pong(tracker)
            .iter()
            .flat_map(|frame| {
                let parts: Vec<&str> = frame.split("\r\n").collect();
                let flush = (parts.get(3) == Some(&"_")).then(|| "*".to_string());
                let keys = parts.iter().skip(5).step_by(2).filter(|k| !k.is_empty());
                flush
                    .into_iter()
                    .chain(keys.map(|k| k.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        keys.sort();
        keys
    };
    let mut log = Vec::new();
    let batch: Vec<u8> = [
        &["SET", "before", "1"][..],
        &["FLUSHALL"],
        &["SET", "after", "2"],
    ]
    .iter()
    .flat_map(|args| server_support::encode(args))
    .collect();
    writer.send(&batch);
    for _ in 0..3 {
        writer.reply();
    }
    log.push(told(&mut tracker));
    writer.call(&["PFADD", "visitors", "a", "b"]);
    writer.call(&["PFCOUNT", "visitors"]);
    log.push(told(&mut tracker));
    writer.call(&["PFCOUNT", "visitors"]);
    log.push(told(&mut tracker));
    log
}

#[test]
fn bcast_trackers_hear_of_every_change_around_a_flush_and_pfcount_s_cache() {
    let want: Vec<Vec<String>> = [
        &["*", "after", "before"][..],
        &["visitors", "visitors"],
        &[],
    ]
    .iter()
    .map(|keys| keys.iter().map(|k| k.to_string()).collect())
    .collect();
    if let Some(redis) = RedisServer::start() {
        let theirs = bcast_scenario(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
    let keg = server_support::TestServer::start();
    assert_eq!(bcast_scenario(keg.addr), want);
}

/// With keyspace notifications off, a tracker still hears of changes whose events need a
/// read to be known: ZINCRBY's score change, a SINTERSTORE whose empty result deleted its
/// destination, an SMOVE that emptied its source.
fn changes_known_by_a_read(addr: SocketAddr) -> Vec<String> {
    let mut writer = Raw::connect(addr);
    writer.call(&["FLUSHALL"]);
    writer.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    writer.call(&["ZADD", "board", "1", "ann"]);
    writer.call(&["SADD", "dest", "x"]);
    writer.call(&["SADD", "src", "m"]);
    let mut reader = Raw::connect(addr);
    reader.call(&["HELLO", "3"]);
    reader.call(&["CLIENT", "TRACKING", "ON"]);
    reader.call(&["ZSCORE", "board", "ann"]);
    reader.call(&["SCARD", "dest"]);
    reader.call(&["SCARD", "src"]);
    writer.call(&["ZINCRBY", "board", "2", "ann"]);
    writer.call(&["SINTERSTORE", "dest", "nokey"]);
    writer.call(&["SMOVE", "src", "other", "m"]);
    until_pong(&mut reader)
}

#[test]
fn trackers_hear_of_changes_known_by_a_read_without_keyspace_events() {
    let want = [
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nboard\r\n",
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$4\r\ndest\r\n",
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nsrc\r\n",
        "+PONG\r\n",
    ];
    if let Some(redis) = RedisServer::start() {
        let theirs = changes_known_by_a_read(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, want, "redis-server");
    }
    let keg = server_support::TestServer::start();
    assert_eq!(changes_known_by_a_read(keg.addr), want);
}
