//! The server through a Redis client library nobody here wrote (the `redis` crate):
//! strings, TTLs, counters from many connections, MULTI/EXEC, WATCH, pub/sub, SCAN.

mod server_support;

use std::collections::HashSet;
use std::time::Duration;

use redis::{Commands, RedisResult};
use server_support::TestServer;

#[test]
fn strings_and_counters() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.set("greeting", "hello")?;
    assert_eq!(
        con.get::<_, Option<String>>("greeting")?.as_deref(),
        Some("hello")
    );
    assert_eq!(con.get::<_, Option<String>>("missing")?, None);
    assert_eq!(con.append::<_, _, i64>("greeting", " world")?, 11);
    assert_eq!(con.strlen::<_, i64>("greeting")?, 11);
    assert_eq!(con.getrange::<_, String>("greeting", 0, 4)?, "hello");
    assert_eq!(con.setrange::<_, _, i64>("greeting", 6, "WORLD")?, 11);
    assert_eq!(con.get::<_, String>("greeting")?, "hello WORLD");
    let () = con.mset(&[("a", "1"), ("b", "2")])?;
    assert_eq!(
        con.mget::<_, Vec<Option<String>>>(&["a", "b", "c"])?,
        vec![Some("1".into()), Some("2".into()), None]
    );
    assert_eq!(con.incr::<_, _, i64>("a", 41)?, 42);
    assert_eq!(con.decr::<_, _, i64>("a", 2)?, 40);
    let f: f64 = redis::cmd("INCRBYFLOAT")
        .arg("a")
        .arg("0.5")
        .query(&mut con)?;
    assert_eq!(f, 40.5);
    assert_eq!(con.getset::<_, _, String>("b", "3")?, "2");
    assert_eq!(con.get_del::<_, String>("b")?, "3");
    assert!(!con.exists::<_, bool>("b")?);
    assert!(con.set_nx::<_, _, bool>("b", "x")?);
    assert!(!con.set_nx::<_, _, bool>("b", "y")?);
    assert_eq!(con.del::<_, i64>(&["a", "b", "nope"])?, 2);
    let err = con.incr::<_, _, i64>("greeting", 1).unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
    Ok(())
}

#[test]
fn ttls() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.set_ex("session", "data", 100)?;
    let ttl: i64 = con.ttl("session")?;
    assert!((99..=100).contains(&ttl), "{ttl}");
    let pttl: i64 = con.pttl("session")?;
    assert!(pttl > 98_000 && pttl <= 100_000, "{pttl}");
    assert!(con.persist::<_, bool>("session")?);
    assert_eq!(con.ttl::<_, i64>("session")?, -1);
    assert_eq!(con.ttl::<_, i64>("missing")?, -2);
    assert!(con.expire::<_, bool>("session", 50)?);
    // GT refuses a shorter TTL, LT accepts it.
    let gt: i64 = redis::cmd("EXPIRE")
        .arg("session")
        .arg(10)
        .arg("GT")
        .query(&mut con)?;
    assert_eq!(gt, 0);
    let lt: i64 = redis::cmd("EXPIRE")
        .arg("session")
        .arg(10)
        .arg("LT")
        .query(&mut con)?;
    assert_eq!(lt, 1);
    // An expiry in the past deletes the key at once.
    assert!(con.pexpire_at::<_, bool>("session", 1)?);
    assert_eq!(con.get::<_, Option<String>>("session")?, None);
    // SET ... PX then KEEPTTL keeps it; a plain SET clears it.
    let () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .arg("PX")
        .arg(60_000)
        .query(&mut con)?;
    let () = redis::cmd("SET")
        .arg("k")
        .arg("w")
        .arg("KEEPTTL")
        .query(&mut con)?;
    assert!(con.pttl::<_, i64>("k")? > 0);
    let () = con.set("k", "x")?;
    assert_eq!(con.pttl::<_, i64>("k")?, -1);
    let value: String = redis::cmd("GETEX")
        .arg("k")
        .arg("EXAT")
        .arg(4_000_000_000u64)
        .query(&mut con)?;
    assert_eq!(value, "x");
    assert_eq!(
        redis::cmd("EXPIRETIME").arg("k").query::<i64>(&mut con)?,
        4_000_000_000
    );
    Ok(())
}

#[test]
fn incr_from_many_connections_loses_nothing() {
    let server = TestServer::start();
    let threads = 8;
    let per_thread = 250;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut con = server.redis();
                for _ in 0..per_thread {
                    let _: i64 = con.incr("counter", 1).expect("incr");
                }
            });
        }
    });
    let mut con = server.redis();
    assert_eq!(
        con.get::<_, i64>("counter").unwrap(),
        (threads * per_thread) as i64
    );
}

#[test]
fn multi_exec_is_atomic_and_watch_aborts() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let (a, b): (i64, i64) = redis::pipe()
        .atomic()
        .incr("a", 5)
        .incr("b", 7)
        .query(&mut con)?;
    assert_eq!((a, b), (5, 7));

    // Transfers between two counters from several connections never lose or create value.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut con = server.redis();
                for _ in 0..50 {
                    let _: (i64, i64) = redis::pipe()
                        .atomic()
                        .decr("a", 1)
                        .incr("b", 1)
                        .query(&mut con)
                        .expect("exec");
                }
            });
        }
    });
    let a: i64 = con.get("a")?;
    let b: i64 = con.get("b")?;
    assert_eq!(a + b, 12);
    assert_eq!(a, 5 - 200);

    // Optimistic locking with WATCH, retried until it goes through (bounded).
    let mut other = server.redis();
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts < 10);
        let () = redis::cmd("WATCH").arg("b").query(&mut con)?;
        let current: i64 = con.get("b")?;
        if attempts == 1 {
            let () = other.set("b", 1000)?;
        }
        let result: Option<(i64,)> = redis::pipe()
            .atomic()
            .set("b", current * 2)
            .ignore()
            .get("b")
            .query(&mut con)?;
        if let Some((doubled,)) = result {
            assert_eq!(doubled, 2000);
            break;
        }
    }
    assert_eq!(attempts, 2);
    Ok(())
}

#[test]
fn pub_sub_delivers_to_channel_and_pattern_subscribers() -> RedisResult<()> {
    let server = TestServer::start();
    let mut sub_con = server.redis();
    let mut pubsub = sub_con.as_pubsub();
    pubsub.subscribe("orders")?;
    pubsub.psubscribe("user:*")?;
    pubsub.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut con = server.redis();
    assert_eq!(con.publish::<_, _, i64>("orders", "o1")?, 1);
    assert_eq!(con.publish::<_, _, i64>("user:42", "hi")?, 1);
    assert_eq!(con.publish::<_, _, i64>("nobody", "x")?, 0);
    let m1 = pubsub.get_message()?;
    assert_eq!(m1.get_channel_name(), "orders");
    assert_eq!(m1.get_payload::<String>()?, "o1");
    let m2 = pubsub.get_message()?;
    assert_eq!(m2.get_channel_name(), "user:42");
    assert_eq!(m2.get_pattern::<String>()?, "user:*");
    assert_eq!(m2.get_payload::<String>()?, "hi");
    let numsub: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("orders")
        .query(&mut con)?;
    assert_eq!(numsub, vec![("orders".to_string(), 1)]);
    let channels: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").query(&mut con)?;
    assert_eq!(channels, vec!["orders".to_string()]);
    Ok(())
}

#[test]
fn scan_returns_every_key_while_writes_go_on() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.set(format!("stable:{i}"), i).ignore();
    }
    let () = pipe.query(&mut con)?;
    let mut writer = server.redis();
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut writes = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("stable:*")
            .arg("COUNT")
            .arg(100)
            .query(&mut con)?;
        seen.extend(keys);
        // Concurrent writes between pages: new keys and deletions of others.
        for _ in 0..20 {
            writes += 1;
            let () = writer.set(format!("churn:{writes}"), writes)?;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    for i in 0..2000 {
        assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missing");
    }
    assert!(seen.iter().all(|k| k.starts_with("stable:")));
    let all: Vec<String> = con.keys("stable:1*")?;
    assert_eq!(all.len(), 1111);
    Ok(())
}
