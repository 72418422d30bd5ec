//! kvctl's data commands as a user runs them: get, set, del, exists, incr, decr,
//! incrbyfloat, ttl, expire, persist, keys, scan.

mod kvctl_support;

use kvctl_support::{Sandbox, stdout_of};
use predicates::prelude::*;

#[test]
fn set_then_get_prints_the_value_and_a_missing_key_exits_1() {
    let s = Sandbox::new();
    s.kvctl(&["set", "user:1", "Ada"])
        .assert()
        .success()
        .stdout("OK\n");
    s.kvctl(&["get", "user:1"])
        .assert()
        .success()
        .stdout("Ada\n");
    s.kvctl(&["get", "--json", "user:1"])
        .assert()
        .success()
        .stdout("{\"key\":\"user:1\",\"value\":\"Ada\"}\n");
    s.kvctl(&["get", "user:2"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("\"user:2\" not found"));
    s.kvctl(&["get", "--json", "user:2"])
        .assert()
        .code(1)
        .stdout("{\"key\":\"user:2\",\"value\":null}\n");
}

#[test]
fn binary_bytes_go_in_escaped_and_come_out_escaped_raw_or_base64() {
    let s = Sandbox::new();
    s.kvctl(&["--escaped", "set", "k\\x00\\xff", "a\\tb\\\\\\xfe"])
        .assert()
        .success();
    // Escaped output is the --escaped input syntax: it round-trips.
    s.kvctl(&["-e", "get", "k\\x00\\xff"])
        .assert()
        .success()
        .stdout("a\\tb\\\\\\xfe\n");
    s.kvctl(&["-e", "get", "--raw", "k\\x00\\xff"])
        .assert()
        .success()
        .stdout(&b"a\tb\\\xfe"[..]);
    s.kvctl(&["-e", "get", "--json", "k\\x00\\xff"])
        .assert()
        .success()
        .stdout("{\"key_base64\":\"awD/\",\"value_base64\":\"YQliXP4=\"}\n");
    s.kvctl(&["keys"]).assert().success().stdout("k\\0\\xff\n");
    // Without --escaped a backslash is just a byte.
    s.kvctl(&["set", "a\\x00", "v"]).assert().success();
    s.kvctl(&["keys", "--raw", "a*"])
        .assert()
        .success()
        .stdout("a\\x00\n");
}

#[test]
fn values_come_from_stdin_or_a_file() {
    let s = Sandbox::new();
    s.kvctl(&["set", "from-stdin", "-"])
        .write_stdin(&b"line 1\nline 2\x00"[..])
        .assert()
        .success();
    s.kvctl(&["get", "--raw", "from-stdin"])
        .assert()
        .success()
        .stdout(&b"line 1\nline 2\x00"[..]);

    let file = s.path("value.bin");
    std::fs::write(&file, [0u8, 1, 2, 255]).unwrap();
    s.kvctl(&["set", "from-file", "--file", file.to_str().unwrap()])
        .assert()
        .success();
    s.kvctl(&["get", "from-file"])
        .assert()
        .success()
        .stdout("\\0\\x01\\x02\\xff\n");
    s.kvctl(&["set", "k", "--file", "-"])
        .write_stdin("piped")
        .assert()
        .success();
    s.kvctl(&["get", "k"]).assert().success().stdout("piped\n");

    // A value is required, and only one source.
    s.kvctl(&["set", "k"]).assert().code(2);
    s.kvctl(&["set", "k", "v", "--file", file.to_str().unwrap()])
        .assert()
        .code(2);
}

#[test]
fn conditional_sets_exit_1_when_they_do_not_write() {
    let s = Sandbox::new();
    s.kvctl(&["set", "--nx", "lock", "me"]).assert().success();
    s.kvctl(&["set", "--nx", "lock", "you"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("not set"));
    s.kvctl(&["get", "lock"]).assert().stdout("me\n");
    s.kvctl(&["set", "--xx", "absent", "v"]).assert().code(1);
    s.kvctl(&["exists", "absent"]).assert().code(1);
    s.kvctl(&["set", "--xx", "--json", "lock", "you"])
        .assert()
        .success()
        .stdout("{\"written\":true}\n");
    s.kvctl(&["set", "--nx", "--xx", "k", "v"]).assert().code(2);
}

#[test]
fn del_counts_existing_keys_and_exists_counts_present_ones() {
    let s = Sandbox::new();
    for key in ["a", "b", "c"] {
        s.kvctl(&["set", key, "1"]).assert().success();
    }
    s.kvctl(&["exists", "a", "b", "zz"])
        .assert()
        .code(1)
        .stdout("2\n");
    s.kvctl(&["exists", "a", "b"])
        .assert()
        .success()
        .stdout("2\n");
    s.kvctl(&["del", "a", "b", "zz"])
        .assert()
        .success()
        .stdout("2\n");
    s.kvctl(&["del", "--json", "a", "c"])
        .assert()
        .success()
        .stdout("{\"deleted\":1}\n");
    s.kvctl(&["exists", "a"]).assert().code(1).stdout("0\n");
    s.kvctl(&["del"]).assert().code(2);
}

#[test]
fn counters_follow_redis() {
    let s = Sandbox::new();
    s.kvctl(&["incr", "n"]).assert().success().stdout("1\n");
    s.kvctl(&["incr", "n", "41"])
        .assert()
        .success()
        .stdout("42\n");
    s.kvctl(&["decr", "n"]).assert().success().stdout("41\n");
    s.kvctl(&["decr", "n", "-9"])
        .assert()
        .success()
        .stdout("50\n");
    s.kvctl(&["incr", "n", "-60"])
        .assert()
        .success()
        .stdout("-10\n");
    s.kvctl(&["incr", "--json", "n"])
        .assert()
        .success()
        .stdout("{\"value\":-9}\n");
    s.kvctl(&["incrbyfloat", "f", "0.1"])
        .assert()
        .success()
        .stdout("0.1\n");
    s.kvctl(&["incrbyfloat", "f", "0.2"])
        .assert()
        .success()
        .stdout("0.3\n");
    s.kvctl(&["incrbyfloat", "f", "-1.5"])
        .assert()
        .success()
        .stdout("-1.2\n");
    s.kvctl(&["incr", "n", "lots"]).assert().code(2);
}

#[test]
fn ttl_expire_and_persist() {
    let s = Sandbox::new();
    s.kvctl(&["set", "plain", "v"]).assert().success();
    s.kvctl(&["set", "--ttl", "2h", "session", "v"])
        .assert()
        .success();
    s.kvctl(&["set", "--px", "90000", "short", "v"])
        .assert()
        .success();

    s.kvctl(&["ttl", "plain"]).assert().success().stdout("-1\n");
    s.kvctl(&["ttl", "missing"]).assert().code(1).stdout("-2\n");
    s.kvctl(&["ttl", "session"])
        .assert()
        .success()
        .stdout("7200\n");
    s.kvctl(&["ttl", "short"]).assert().success().stdout("90\n");
    let ms: i64 = stdout_of(&mut s.kvctl(&["ttl", "--ms", "short"]))
        .trim()
        .parse()
        .unwrap();
    assert!((80_000..=90_000).contains(&ms), "{ms}");
    s.kvctl(&["ttl", "--human", "session"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("expires in 1h 59m"));
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["ttl", "--json", "short"]))).unwrap();
    assert_eq!(json["key"], "short");
    assert_eq!(json["exists"], true);
    assert!(json["ttl_ms"].as_u64().unwrap() <= 90_000);
    assert!(json["expires_at_ms"].as_u64().unwrap() > 1_600_000_000_000);

    s.kvctl(&["expire", "plain", "10s"])
        .assert()
        .success()
        .stdout("1\n");
    s.kvctl(&["ttl", "plain"]).assert().success().stdout("10\n");
    s.kvctl(&["expire", "missing", "10s"])
        .assert()
        .code(1)
        .stdout("0\n");
    s.kvctl(&["persist", "plain"])
        .assert()
        .success()
        .stdout("1\n");
    s.kvctl(&["persist", "plain"])
        .assert()
        .success()
        .stdout("0\n");
    s.kvctl(&["persist", "missing"])
        .assert()
        .code(1)
        .stdout("0\n");
    s.kvctl(&["ttl", "plain"]).assert().success().stdout("-1\n");

    // An absolute time in the past deletes the key; a zero duration too.
    s.kvctl(&["expire", "session", "--at", "1000"])
        .assert()
        .success();
    s.kvctl(&["get", "session"]).assert().code(1);
    s.kvctl(&["expire", "short", "0"]).assert().success();
    s.kvctl(&["exists", "short"]).assert().code(1);

    s.kvctl(&["set", "--ttl", "soon", "k", "v"])
        .assert()
        .code(2);
    s.kvctl(&["set", "--ttl", "0s", "k", "v"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("TTL must be positive"));
    s.kvctl(&["expire", "k"]).assert().code(2);
}

#[test]
fn keys_and_scan_filter_sort_and_limit() {
    let s = Sandbox::new();
    for key in ["user:2", "user:10", "user:1", "order:1", "u*er"] {
        s.kvctl(&["set", key, &format!("v-{key}")])
            .assert()
            .success();
    }
    s.kvctl(&["keys"])
        .assert()
        .success()
        .stdout("order:1\nu*er\nuser:1\nuser:10\nuser:2\n");
    s.kvctl(&["keys", "user:*"])
        .assert()
        .success()
        .stdout("user:1\nuser:10\nuser:2\n");
    s.kvctl(&["keys", "user:?"])
        .assert()
        .success()
        .stdout("user:1\nuser:2\n");
    s.kvctl(&["keys", "user:[2-9]*"])
        .assert()
        .success()
        .stdout("user:2\n");
    s.kvctl(&["keys", "u\\*er"])
        .assert()
        .success()
        .stdout("u*er\n");
    s.kvctl(&["keys", "--prefix", "user:", "--count", "2"])
        .assert()
        .success()
        .stdout("user:1\nuser:10\n");
    s.kvctl(&["keys", "--json", "order*"])
        .assert()
        .success()
        .stdout("{\"key\":\"order:1\"}\n");
    s.kvctl(&["scan", "user:1*"])
        .assert()
        .success()
        .stdout("user:1\tv-user:1\nuser:10\tv-user:10\n");
    s.kvctl(&["scan", "--json", "order:*"])
        .assert()
        .success()
        .stdout("{\"key\":\"order:1\",\"value\":\"v-order:1\"}\n");
}
