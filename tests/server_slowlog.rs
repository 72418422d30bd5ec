//! SLOWLOG: commands slower than `slowlog-log-slower-than` are kept (newest first, at most
//! `slowlog-max-len`), with their arguments cut as Redis cuts them; EXEC's commands are
//! timed one by one; a negative limit logs nothing.

mod redis_server;
mod server_support;

use redis_server::RedisServer;
use server_support::{Raw, TestServer};

/// The entries' arguments, newest first, from a RESP2 SLOWLOG GET reply read with the
/// `redis` crate.
fn logged(c: &mut redis::Connection) -> Vec<Vec<String>> {
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(c).unwrap();
    entries
        .into_iter()
        .map(|entry| {
            let redis::Value::Array(fields) = entry else {
                panic!("an entry is an array: {entry:?}");
            };
            assert_eq!(fields.len(), 6, "{fields:?}");
            let Some(redis::Value::Array(args)) = fields.get(3) else {
                panic!("arguments: {fields:?}");
            };
            args.iter()
                .map(|a| redis::from_redis_value::<String>(a.clone()).unwrap())
                .collect()
        })
        .collect()
}

fn run_slow_script(c: &mut redis::Connection, script: &str) {
    redis::cmd("EVAL")
        .arg(script)
        .arg(0)
        .query::<i64>(c)
        .unwrap();
}

fn config_set(c: &mut redis::Connection, name: &str, value: &str) {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query::<()>(c)
        .unwrap();
}

#[test]
fn slowlog_keeps_commands_past_the_limit() {
    let server = TestServer::start();
    let mut c = server.redis();
    // The default limit (10 ms) keeps a script that runs 50 ms and not a GET.
    let slow = "local t=redis.call('time') local s=t[1]*1e6+t[2] \
        repeat t=redis.call('time') until t[1]*1e6+t[2]-s>50000 return 1";
    redis::cmd("GET")
        .arg("k")
        .query::<Option<String>>(&mut c)
        .unwrap();
    run_slow_script(&mut c, slow);
    assert_eq!(
        logged(&mut c),
        vec![vec!["EVAL".to_string(), slow.to_string(), "0".to_string()]]
    );
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(len, 1);

    // A limit of 0 keeps every command: pipelined ones and EXEC's one by one.
    redis::cmd("SLOWLOG")
        .arg("RESET")
        .query::<()>(&mut c)
        .unwrap();
    config_set(&mut c, "slowlog-log-slower-than", "0");
    redis::pipe()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .cmd("INCR")
        .arg("a")
        .query::<()>(&mut c)
        .unwrap();
    redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("a")
        .cmd("GET")
        .arg("a")
        .query::<()>(&mut c)
        .unwrap();
    let long = "x".repeat(130);
    redis::cmd("SET")
        .arg("b")
        .arg(&long)
        .query::<()>(&mut c)
        .unwrap();
    let entries = logged(&mut c);
    let names: Vec<&str> = entries.iter().map(|e| e[0].as_str()).collect();
    assert_eq!(
        names,
        ["SET", "GET", "INCR", "MULTI", "INCR", "SET", "CONFIG"]
    );
    assert_eq!(
        entries[0][2],
        format!("{}... (2 more bytes)", "x".repeat(128))
    );

    // The newest `slowlog-max-len` are kept.
    config_set(&mut c, "slowlog-max-len", "2");
    assert_eq!(logged(&mut c).len(), 2);
    // A negative limit keeps none.
    config_set(&mut c, "slowlog-log-slower-than", "-1");
    redis::cmd("SLOWLOG")
        .arg("RESET")
        .query::<()>(&mut c)
        .unwrap();
    run_slow_script(&mut c, slow);
    assert!(logged(&mut c).is_empty());
}

/// What an entry shows of a command — arguments cut, passwords redacted, the client's
/// name as the command left it — is Redis's, compared entry by entry (ids and times
/// aside).
#[test]
fn slowlog_entries_show_what_redis_shows() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let keg = TestServer::start();
    let theirs = Raw::connect(format!("127.0.0.1:{}", redis.port).parse().unwrap());
    let mut shown = Vec::new();
    for mut c in [theirs, keg.raw()] {
        c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        c.call(&["SLOWLOG", "RESET"]);
        c.call(&["AUTH", "secret"]);
        c.call(&["AUTH", "user", "secret"]);
        c.call(&["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n1"]);
        c.call(&["CLIENT", "SETNAME", "named"]);
        c.call(&["ECHO", &"x".repeat(200)]);
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut mset = vec!["MSET"];
        mset.extend(many.iter().map(String::as_str));
        c.call(&mset);
        let reply = c.call(&["SLOWLOG", "GET", "7"]);
        // Each entry's id, time and duration (integers), bulk lengths and client port
        // differ between the servers; the rest is compared.
        let kept: Vec<&str> = reply
            .split("\r\n")
            .filter(|line| !line.starts_with(':') && !line.starts_with('$'))
            .map(|line| {
                if line.starts_with("127.0.0.1:") {
                    "address"
                } else {
                    line
                }
            })
            .collect();
        shown.push(kept.join("\n"));
    }
    assert_eq!(shown.first(), shown.get(1));
}
