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

/// Fails every fsync once armed.
#[derive(Default)]
struct FailingFsync(std::sync::atomic::AtomicBool);

impl keg::IoHook for FailingFsync {
    fn before(&self, op: &keg::IoOp<'_>) -> std::io::Result<()> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst)
            && matches!(op, keg::IoOp::SyncFile { .. })
        {
            return Err(std::io::Error::other("simulated fsync failure"));
        }
        Ok(())
    }
}

/// List and sorted-set writes are acknowledged after the event loop's one durability wait
/// per turn: when that wait fails, the client gets no OK (its connection closes), and the
/// store refuses writes from then on.
#[test]
fn a_list_push_whose_fsync_fails_is_never_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let hook = std::sync::Arc::new(FailingFsync::default());
    let store = keg::Options::new()
        .sync_policy(SyncPolicy::Always)
        .io_hook(hook.clone() as std::sync::Arc<dyn keg::IoHook>)
        .open(dir.path())
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = keg::server::serve(listener, store, ServerConfig::default()).unwrap();
    let url = format!("redis://{}/", server.local_addr());
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(con.rpush::<_, _, i64>("q", "durable").unwrap(), 1);
    hook.0.store(true, std::sync::atomic::Ordering::SeqCst);
    let reply: RedisResult<i64> = con.rpush("q", "lost");
    assert!(
        reply.is_err(),
        "a push whose fsync failed was acknowledged: {reply:?}"
    );
    let _ = server.shutdown();
}

/// BLPOP waits for a push from another connection; waiters are served in the order they
/// started waiting; a timeout ends the wait with a null reply.
#[test]
fn blocking_pops_wait_for_pushes_oldest_waiter_first() -> RedisResult<()> {
    let server = TestServer::start();
    let spawn_waiter = |name: &'static str| {
        let mut con = server.redis();
        std::thread::spawn(move || -> RedisResult<(String, String)> {
            let (key, value): (String, String) =
                redis::cmd("BLPOP").arg("jobs").arg(10).query(&mut con)?;
            assert_eq!(key, "jobs");
            Ok((name.to_owned(), value))
        })
    };
    let mut admin = server.redis();
    let first = spawn_waiter("first");
    // Wait (bounded) until the first waiter is blocked, then start the second.
    let blocked = |admin: &mut redis::Connection, n: usize| -> RedisResult<bool> {
        let info: String = redis::cmd("INFO").arg("clients").query(admin)?;
        Ok(info.contains(&format!("blocked_clients:{n}")))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !blocked(&mut admin, 1)? {
        assert!(std::time::Instant::now() < deadline, "no client blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = spawn_waiter("second");
    while !blocked(&mut admin, 2)? {
        assert!(
            std::time::Instant::now() < deadline,
            "second client not blocked"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _: i64 = admin.rpush("jobs", "job-1")?;
    assert_eq!(
        first.join().expect("first")?,
        ("first".into(), "job-1".into())
    );
    let _: i64 = admin.rpush("jobs", "job-2")?;
    assert_eq!(
        second.join().expect("second")?,
        ("second".into(), "job-2".into())
    );
    // Nothing comes: the wait ends with a null reply after the timeout.
    let started = std::time::Instant::now();
    let none: Option<(String, String)> =
        redis::cmd("BLPOP").arg("jobs").arg(0.2).query(&mut admin)?;
    assert_eq!(none, None);
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    // The connection goes on serving requests afterwards.
    assert_eq!(admin.llen::<_, i64>("jobs")?, 0);
    Ok(())
}

/// A waiter that disconnects leaves the queue: the next waiter is not held behind it.
#[test]
fn a_waiter_that_disconnects_does_not_hold_up_the_next() -> RedisResult<()> {
    let server = TestServer::start();
    let mut gone = server.raw();
    gone.command(&["BLPOP", "q", "0"]);
    let mut admin = server.redis();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut admin)?;
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no client blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(gone);
    // The server notices the disconnection (a push before that would go to the dead
    // waiter and be lost with its reply, in Redis too).
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut admin)?;
        if info.contains("blocked_clients:0") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gone client stays blocked"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _: i64 = admin.rpush("q", "x")?;
    let got: Option<(String, String)> = redis::cmd("BLPOP").arg("q").arg(5).query(&mut admin)?;
    assert_eq!(got, Some(("q".into(), "x".into())));
    Ok(())
}

/// A push on one event loop wakes a waiter on another at once, not at the waiter's next
/// retry: with the retry interval set to two minutes, both waiters — one of them on the
/// other event loop from the pusher, as connections go round-robin — get their job well
/// before it.
#[test]
fn a_push_wakes_a_waiter_on_another_event_loop_at_once() -> RedisResult<()> {
    let config = ServerConfig::default()
        .event_loops(2)
        .blocked_retry(std::time::Duration::from_secs(120));
    let server = TestServer::with(config, SyncPolicy::Never);
    let (sender, received) = std::sync::mpsc::channel();
    for key in ["wake-a", "wake-b"] {
        let mut con = server.redis();
        let sender = sender.clone();
        std::thread::spawn(move || {
            let popped: RedisResult<(String, String)> =
                redis::cmd("BLPOP").arg(key).arg(0).query(&mut con);
            let _ = sender.send(popped);
        });
    }
    let mut admin = server.redis();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut admin)?;
        if info.contains("blocked_clients:2") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "waiters not blocked");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _: i64 = admin.rpush("wake-a", "job-a")?;
    let _: i64 = admin.rpush("wake-b", "job-b")?;
    let mut got = Vec::new();
    for _ in 0..2 {
        let popped = received
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a waiter on the other event loop was not woken by the push")?;
        got.push(popped);
    }
    got.sort();
    assert_eq!(
        got,
        [
            ("wake-a".to_owned(), "job-a".to_owned()),
            ("wake-b".to_owned(), "job-b".to_owned())
        ]
    );
    // A timeout ends the wait on time, not at the next two-minute retry: the event loop
    // sleeps until the nearest pop timeout.
    let started = std::time::Instant::now();
    let none: Option<(String, String)> = redis::cmd("BLPOP")
        .arg("wake-a")
        .arg(0.3)
        .query(&mut admin)?;
    assert_eq!(none, None);
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(300),
        "{waited:?}"
    );
    assert!(waited < std::time::Duration::from_secs(60), "{waited:?}");
    Ok(())
}

/// ZUNION and the rest over the wire: COMMAND INFO marks their keys movable, WITHSCORES
/// gives pairs in RESP3, and WATCH sees a STORE form's destination, not its sources (as
/// Redis: the sources are only read). The replies themselves are compared with a real
/// redis-server in `server_vs_redis.rs`.
#[test]
fn sorted_set_algebra_commands() {
    let server = TestServer::start();
    let mut raw = server.raw();
    let info = raw.call(&["command", "info", "zunionstore", "zintercard", "sintercard"]);
    assert_eq!(info.matches("movablekeys").count(), 3, "{info}");
    assert!(info.contains("zunionstore\r\n:-4\r\n"), "{info}");
    assert_eq!(raw.call(&["zadd", "z", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(raw.call(&["sadd", "s", "a"]), ":1\r\n");
    assert!(raw.call(&["hello", "3"]).starts_with('%'));
    assert_eq!(
        raw.call(&["zinter", "2", "z", "s", "weights", "1", "0.5", "withscores"]),
        "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n"
    );
    let mut other = server.raw();
    assert_eq!(raw.call(&["watch", "dst", "z"]), "+OK\r\n");
    assert_eq!(
        other.call(&["zunionstore", "elsewhere", "1", "z"]),
        ":2\r\n"
    );
    assert_eq!(raw.call(&["multi"]), "+OK\r\n");
    assert_eq!(raw.call(&["ping"]), "+QUEUED\r\n");
    assert_eq!(
        raw.call(&["exec"]),
        "*1\r\n+PONG\r\n",
        "reading z touches nothing"
    );
    assert_eq!(raw.call(&["watch", "dst"]), "+OK\r\n");
    assert_eq!(other.call(&["zdiffstore", "dst", "2", "z", "s"]), ":1\r\n");
    assert_eq!(raw.call(&["multi"]), "+OK\r\n");
    assert_eq!(raw.call(&["ping"]), "+QUEUED\r\n");
    assert_eq!(
        raw.call(&["exec"]),
        "_\r\n",
        "writing dst aborts its watcher"
    );
}

/// SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a huge negative count used to draw every
/// pick before answering: SRANDMEMBER s -100000000000 aborted the server on allocation
/// failure. Now such a read is refused with an error and the server keeps serving.
#[test]
fn a_random_read_with_a_huge_repeated_count_is_refused_and_the_server_lives_on() {
    let server = TestServer::start();
    let mut raw = server.raw();
    raw.call(&["SADD", "s", "a", "b"]);
    raw.call(&["HSET", "h", "f", "v"]);
    raw.call(&["ZADD", "z", "1", "m"]);
    for args in [
        ["SRANDMEMBER", "s", "-100000000000", ""],
        ["HRANDFIELD", "h", "-100000000000", "WITHVALUES"],
        ["ZRANDMEMBER", "z", "-9223372036854775807", ""],
        ["SRANDMEMBER", "s", "-1048577", ""],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let reply = raw.call(&args);
        assert!(
            reply.starts_with("-ERR ")
                && reply.contains("a random read with repetition takes at most 1048576"),
            "{args:?}: {reply:?}"
        );
    }
    // A count within the bound is served.
    let reply = raw.call(&["SRANDMEMBER", "s", "-1000"]);
    assert!(reply.starts_with("*1000\r\n"), "{}", &reply[..20]);
    assert_eq!(raw.call(&["SCARD", "s"]), ":2\r\n");
}

/// A bug found in review: a command that replaces a destination (COPY ... REPLACE,
/// RENAME, the STORE forms) deleted it, then its write was refused (a destination key so
/// long that the members' element keys pass the key limit) and the deletion was
/// committed. The lengths are checked first: the destination keeps its value.
#[test]
fn a_refused_write_under_a_long_key_keeps_the_destination() {
    let server = TestServer::start();
    let mut c = server.raw();
    let long_key = "d".repeat(65_500);
    let member = "m".repeat(100);
    assert_eq!(c.call(&["SADD", "s", &member]), ":1\r\n");
    assert_eq!(c.call(&["ZADD", "z", "1", &member]), ":1\r\n");
    assert_eq!(c.call(&["RPUSH", "l", "3", "1"]), ":2\r\n");
    assert_eq!(
        c.call(&["GEOADD", "g", "13.36", "38.11", &member]),
        ":1\r\n"
    );
    let long_list_key = "l".repeat(65_530);
    for (command, destination) in [
        (vec!["COPY", "s", &long_key, "REPLACE"], &long_key),
        (vec!["RENAME", "s", &long_key], &long_key),
        (vec!["SUNIONSTORE", &long_key, "s"], &long_key),
        (vec!["ZUNIONSTORE", &long_key, "1", "z"], &long_key),
        (vec!["ZRANGESTORE", &long_key, "z", "0", "-1"], &long_key),
        (
            vec![
                "GEOSEARCHSTORE",
                &long_key,
                "g",
                "FROMLONLAT",
                "13.36",
                "38.11",
                "BYRADIUS",
                "10",
                "km",
            ],
            &long_key,
        ),
        (vec!["SORT", "l", "STORE", &long_list_key], &long_list_key),
    ] {
        assert_eq!(
            c.call(&["SET", destination, "kept"]),
            "+OK\r\n",
            "{}",
            command[0]
        );
        let reply = c.call(&command);
        assert!(reply.starts_with("-ERR key is"), "{}: {reply}", command[0]);
        assert_eq!(
            c.call(&["GET", destination]),
            "$4\r\nkept\r\n",
            "{}",
            command[0]
        );
    }
    assert_eq!(c.call(&["SCARD", "s"]), ":1\r\n");
    // A copy whose keys fit goes through.
    assert_eq!(c.call(&["COPY", "s", "t", "REPLACE"]), ":1\r\n");
}
