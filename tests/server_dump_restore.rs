//! DUMP and RESTORE: keys move between keg and a real redis-server in both directions, in
//! every encoding Redis 7.0 writes (listpacks, quicklists, intsets, hash tables, skip
//! lists, integer and LZF-compressed strings), and RESTORE's options and errors are
//! Redis's. The Redis halves skip with a note where redis-server is not installed.

mod redis_server;
mod server_support;

use redis::Connection;
use redis_server::RedisServer;
use server_support::TestServer;

/// Keys of every type, small (compact encodings in Redis) and large.
fn fill(c: &mut Connection) {
    let run = |c: &mut Connection, cmd: &mut redis::Cmd| cmd.query::<()>(c).unwrap();
    run(c, redis::cmd("SET").arg("str").arg("hello"));
    run(c, redis::cmd("SET").arg("int").arg("12345"));
    run(c, redis::cmd("SET").arg("neg").arg("-7"));
    run(
        c,
        redis::cmd("SET")
            .arg("long")
            .arg("x".repeat(500) + &"y".repeat(500)),
    );
    run(c, redis::cmd("SET").arg("empty").arg(""));
    run(
        c,
        redis::cmd("RPUSH")
            .arg("list")
            .arg(&["a", "1", "-5", "300", "-4096", "70000", "bbb"]),
    );
    let long_list: Vec<String> = (0..300).map(|i| format!("e{i}").repeat(3)).collect();
    run(c, redis::cmd("RPUSH").arg("long_list").arg(&long_list));
    run(
        c,
        redis::cmd("RPUSH")
            .arg("huge_element")
            .arg("z".repeat(20_000))
            .arg("small"),
    );
    run(
        c,
        redis::cmd("SADD")
            .arg("intset")
            .arg(&["1", "-1", "10000", "-2147483649"]),
    );
    run(c, redis::cmd("SADD").arg("set").arg(&["a", "b", "c"]));
    let big_set: Vec<String> = (0..600).map(|i| (i * 7919).to_string()).collect();
    run(c, redis::cmd("SADD").arg("big_set").arg(&big_set));
    run(
        c,
        redis::cmd("HSET").arg("hash").arg(&["f", "v", "n", "12"]),
    );
    let big_hash: Vec<String> = (0..200)
        .flat_map(|i| [format!("f{i}"), "v".repeat(80)])
        .collect();
    run(c, redis::cmd("HSET").arg("big_hash").arg(&big_hash));
    run(
        c,
        redis::cmd("ZADD")
            .arg("zset")
            .arg(&["1.5", "a", "2", "b", "-inf", "c"]),
    );
    let big_zset: Vec<String> = (0..200)
        .flat_map(|i| [(f64::from(i) / 3.0).to_string(), format!("m{i}")])
        .collect();
    run(c, redis::cmd("ZADD").arg("big_zset").arg(&big_zset));
}

const KEYS: &[&str] = &[
    "str",
    "int",
    "neg",
    "long",
    "empty",
    "list",
    "long_list",
    "huge_element",
    "intset",
    "set",
    "big_set",
    "hash",
    "big_hash",
    "zset",
    "big_zset",
];

/// A key's value as comparable text (sets and hashes sorted).
fn view(c: &mut Connection, key: &str) -> String {
    let ty: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    let mut items: Vec<String> = match ty.as_str() {
        "string" => vec![redis::cmd("GET").arg(key).query(c).unwrap()],
        "list" => redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query(c)
            .unwrap(),
        "set" => redis::cmd("SMEMBERS").arg(key).query(c).unwrap(),
        "hash" => redis::cmd("HGETALL").arg(key).query(c).unwrap(),
        "zset" => redis::cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query(c)
            .unwrap(),
        other => vec![other.to_string()],
    };
    if ty == "set" {
        items.sort();
    }
    if ty == "hash" {
        let mut pairs: Vec<String> = items.chunks(2).map(|p| p.join("=")).collect();
        pairs.sort();
        items = pairs;
    }
    format!("{ty}: {}", items.join(","))
}

/// DUMPs every key from `from` and RESTOREs it under a new name into `to`.
fn carry(from: &mut Connection, to: &mut Connection, direction: &str) {
    for key in KEYS {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(from).unwrap();
        let copy = format!("{key}_copy");
        let restored: redis::RedisResult<String> = redis::cmd("RESTORE")
            .arg(&copy)
            .arg(0)
            .arg(&payload)
            .arg("REPLACE")
            .query(to);
        assert_eq!(restored.as_deref(), Ok("OK"), "{direction} {key}");
        assert_eq!(view(to, &copy), view(from, key), "{direction} {key}");
    }
}

#[test]
fn keys_move_between_keg_and_redis_with_dump_and_restore() {
    let keg = TestServer::start();
    let mut ours = keg.redis();
    fill(&mut ours);
    carry(&mut keg.redis(), &mut ours, "keg -> keg");
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut theirs = redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port))
        .unwrap()
        .get_connection()
        .unwrap();
    fill(&mut theirs);
    carry(&mut theirs, &mut ours, "redis -> keg");
    let mut second = keg.redis();
    carry(&mut second, &mut theirs, "keg -> redis");
}

/// The same RESTORE and DUMP calls, errors included, get the same replies as from Redis.
#[test]
fn restore_options_and_errors_match_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let keg = TestServer::start();
    let mut theirs =
        server_support::Raw::connect(format!("127.0.0.1:{}", redis.port).parse().unwrap());
    let mut ours = keg.raw();
    for c in [&mut theirs, &mut ours] {
        c.call(&["SET", "str", "v"]);
    }
    let payload = theirs.call(&["DUMP", "str"]);
    let payload = payload
        .split_once("\r\n")
        .map(|(_, rest)| rest.trim_end_matches("\r\n").to_string())
        .unwrap();
    let p = payload.as_str();
    let calls: &[&[&str]] = &[
        &["RESTORE", "x", "0", "garbage"],
        &["RESTORE", "str", "0", p],
        &["RESTORE", "x", "-1", p],
        &["RESTORE", "x", "abc", p],
        &["RESTORE", "x", "0", p, "bogus"],
        &["RESTORE", "x", "0", p, "IDLETIME", "-1"],
        &["RESTORE", "x", "0", p, "IDLETIME"],
        &["RESTORE", "x", "0", p, "FREQ", "300"],
        &["RESTORE", "x", "0", p, "IDLETIME", "1", "FREQ", "2"],
        &["RESTORE", "x", "0", p, "IDLETIME", "1"],
        &["GET", "x"],
        &["RESTORE", "x", "0", p, "REPLACE", "FREQ", "5"],
        &["RESTORE", "expired", "1000", p, "ABSTTL"],
        &["EXISTS", "expired"],
        &["RESTORE", "str", "0", p, "REPLACE"],
        &["DUMP", "nope"],
        &["RESTORE", "x"],
        &["DUMP"],
    ];
    let mut differences = Vec::new();
    for call in calls {
        let (want, got) = (theirs.call(call), ours.call(call));
        if want != got {
            differences.push(format!("{call:?}\n  redis: {want:?}\n  keg:   {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// TTLs: relative, absolute (ABSTTL), none; a restored key keeps what it was given.
#[test]
fn restore_sets_the_ttl_it_is_given() {
    let keg = TestServer::start();
    let mut c = keg.redis();
    redis::cmd("RPUSH")
        .arg("l")
        .arg(&["a", "b"])
        .query::<()>(&mut c)
        .unwrap();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("l").query(&mut c).unwrap();
    let restore = |c: &mut Connection, key: &str, ttl: u64, absolute: bool| {
        let mut cmd = redis::cmd("RESTORE");
        cmd.arg(key).arg(ttl).arg(&payload);
        if absolute {
            cmd.arg("ABSTTL");
        }
        cmd.query::<String>(c).unwrap()
    };
    assert_eq!(restore(&mut c, "relative", 60_000, false), "OK");
    let pttl: i64 = redis::cmd("PTTL").arg("relative").query(&mut c).unwrap();
    assert!((59_000..=60_000).contains(&pttl), "{pttl}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert_eq!(restore(&mut c, "absolute", now_ms + 120_000, true), "OK");
    let pttl: i64 = redis::cmd("PTTL").arg("absolute").query(&mut c).unwrap();
    assert!((100_000..=120_000).contains(&pttl), "{pttl}");
    assert_eq!(restore(&mut c, "forever", 0, false), "OK");
    let pttl: i64 = redis::cmd("PTTL").arg("forever").query(&mut c).unwrap();
    assert_eq!(pttl, -1);
    let elements: Vec<String> = redis::cmd("LRANGE")
        .arg("forever")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(elements, ["a", "b"]);
}

/// A RESTORE ... REPLACE of a value the store refuses (here a set member longer than a
/// key may be) fails before the old value is deleted: the key keeps it.
#[test]
fn a_refused_restore_keeps_the_old_value() {
    let keg = TestServer::start();
    let mut c = keg.redis();
    redis::cmd("SET")
        .arg("k")
        .arg("old")
        .query::<()>(&mut c)
        .unwrap();
    let member = vec![b'm'; 70_000];
    // RDB_TYPE_SET, one member as a 32-bit-length string; then RDB version 10, CRC-64.
    let mut payload = vec![2u8, 1, 0x80];
    payload.extend_from_slice(&(member.len() as u32).to_be_bytes());
    payload.extend_from_slice(&member);
    let payload = keg::server::seal_dump_payload(&payload);
    let restored: redis::RedisResult<String> = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&payload)
        .arg("REPLACE")
        .query(&mut c);
    let error = restored.expect_err("the member is too long");
    assert!(error.to_string().contains("the limit is"), "{error}");
    let kept: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(kept, "old");
}
