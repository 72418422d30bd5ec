//! Hashes and sets over the wire, through the `redis` crate: every command, WRONGTYPE,
//! MULTI/EXEC, HINCRBY from many connections at once, and a restart.

mod server_support;

use std::collections::{HashMap, HashSet};

use keg::SyncPolicy;
use keg::server::ServerConfig;
use redis::{Commands, RedisResult};
use server_support::TestServer;

#[test]
fn hash_commands() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.hset_multiple("user:1", &[("name", "Ada"), ("lang", "en")])?;
    assert_eq!(
        con.hget::<_, _, Option<String>>("user:1", "name")?
            .as_deref(),
        Some("Ada")
    );
    assert_eq!(con.hset::<_, _, _, i64>("user:1", "name", "Ada L.")?, 0);
    assert_eq!(con.hset::<_, _, _, i64>("user:1", "age", 36)?, 1);
    assert!(!con.hset_nx::<_, _, _, bool>("user:1", "age", 99)?);
    assert_eq!(con.hlen::<_, i64>("user:1")?, 3);
    assert!(con.hexists::<_, _, bool>("user:1", "lang")?);
    assert_eq!(con.hincr::<_, _, _, i64>("user:1", "age", 1)?, 37);
    let all: HashMap<String, String> = con.hgetall("user:1")?;
    assert_eq!(all.get("age").map(String::as_str), Some("37"));
    assert_eq!(all.len(), 3);
    let mut keys: Vec<String> = con.hkeys("user:1")?;
    keys.sort();
    assert_eq!(keys, ["age", "lang", "name"]);
    assert_eq!(con.hvals::<_, Vec<String>>("user:1")?.len(), 3);
    let values: Vec<Option<String>> = redis::cmd("HMGET")
        .arg("user:1")
        .arg("name")
        .arg("nope")
        .query(&mut con)?;
    assert_eq!(values, vec![Some("Ada L.".into()), None]);
    assert_eq!(
        con.hdel::<_, _, i64>("user:1", &["age", "lang", "name"])?,
        3
    );
    assert!(!con.exists::<_, bool>("user:1")?);
    Ok(())
}

#[test]
fn set_commands_and_wrongtype() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    assert_eq!(
        con.sadd::<_, _, i64>("visitors", &["ann", "bob", "ann"])?,
        2
    );
    assert_eq!(con.scard::<_, i64>("visitors")?, 2);
    assert!(con.sismember::<_, _, bool>("visitors", "bob")?);
    let members: HashSet<String> = con.smembers("visitors")?;
    assert_eq!(members, HashSet::from(["ann".into(), "bob".into()]));
    assert_eq!(con.srem::<_, _, i64>("visitors", "ann")?, 1);
    let t: String = redis::cmd("TYPE").arg("visitors").query(&mut con)?;
    assert_eq!(t, "set");
    let err = con.get::<_, String>("visitors").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let err = con.hset::<_, _, _, i64>("visitors", "f", "v").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let () = con.set("plain", "x")?;
    let err = con.sadd::<_, _, i64>("plain", "m").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    Ok(())
}

#[test]
fn multi_exec_mixes_strings_hashes_and_sets_atomically() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let (added, n, members): (i64, i64, Vec<String>) = redis::pipe()
        .atomic()
        .sadd("tags", &["a", "b"])
        .hincr("counts", "a", 2)
        .ignore()
        .hincr("counts", "a", 3)
        .smembers("tags")
        .query(&mut con)?;
    assert_eq!((added, n, members.len()), (2, 5, 2));
    Ok(())
}

#[test]
fn hincrby_from_many_connections_loses_no_increment() -> RedisResult<()> {
    let server = TestServer::start();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let mut con = server.redis();
            std::thread::spawn(move || -> RedisResult<()> {
                for _ in 0..200 {
                    let _: i64 = con.hincr("stats", "hits", 1)?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread")?;
    }
    let mut con = server.redis();
    assert_eq!(con.hget::<_, _, i64>("stats", "hits")?, 1600);
    Ok(())
}

#[test]
fn collections_written_over_the_wire_survive_a_restart() -> RedisResult<()> {
    let server = TestServer::with(ServerConfig::default(), SyncPolicy::Always);
    let mut con = server.redis();
    let () = con.hset_multiple("session:9", &[("user", "42"), ("cart", "3 items")])?;
    let _: i64 = con.sadd("online", &["42", "7"])?;
    let _: i64 = con.expire("session:9", 600)?;
    drop(con);
    let dir = server.stop();
    let server = TestServer::in_dir(dir, ServerConfig::default(), SyncPolicy::Always);
    let mut con = server.redis();
    assert_eq!(con.hget::<_, _, String>("session:9", "cart")?, "3 items");
    assert!(con.ttl::<_, i64>("session:9")? > 590);
    assert_eq!(con.scard::<_, i64>("online")?, 2);
    Ok(())
}

#[test]
fn a_list_is_a_work_queue_across_connections() -> RedisResult<()> {
    let server = TestServer::start();
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let mut con = server.redis();
            std::thread::spawn(move || -> RedisResult<()> {
                for i in 0..100 {
                    let _: i64 = con.lpush("jobs", format!("{p}-{i}"))?;
                }
                Ok(())
            })
        })
        .collect();
    for t in producers {
        t.join().expect("producer")?;
    }
    let mut con = server.redis();
    assert_eq!(con.llen::<_, i64>("jobs")?, 400);
    // Every job is taken exactly once, each producer's jobs in the order pushed.
    let mut taken = Vec::new();
    while let Some(job) = con.rpop::<_, Option<String>>("jobs", None)? {
        taken.push(job);
    }
    assert_eq!(taken.len(), 400);
    for p in 0..4 {
        let mine: Vec<&String> = taken
            .iter()
            .filter(|j| j.starts_with(&format!("{p}-")))
            .collect();
        let want: Vec<String> = (0..100).map(|i| format!("{p}-{i}")).collect();
        assert_eq!(mine, want.iter().collect::<Vec<_>>());
    }
    assert!(!con.exists::<_, bool>("jobs")?);
    Ok(())
}
