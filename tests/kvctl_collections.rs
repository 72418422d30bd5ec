//! kvctl on hashes, sets, lists and sorted sets: get, type, keys/scan --type, the key commands that work on
//! any type, WRONGTYPE's exit status, dump's decoded element records, stats.

mod kvctl_support;

use std::time::Duration;

use kvctl_support::{Sandbox, assert_no_panic, stdout_of};
use predicates::prelude::*;

/// A string, a hash, a set, a list and a sorted set, with binary names.
fn store_with_collections(s: &Sandbox) {
    let store = keg::Store::open(s.store()).unwrap();
    store.set(b"plain", b"text").unwrap();
    store
        .hset_many(
            b"user:1",
            &[(b"name", b"Ada"), (b"\xff", b"a\tb"), (b"age", b"36")],
        )
        .unwrap();
    store
        .sadd(b"tags", &[b"red", b"\x00blue", b"green"])
        .unwrap();
    store.rpush(b"queue", &[b"second", b"th\tird"]).unwrap();
    store.lpush(b"queue", &[b"first"]).unwrap();
    store
        .zadd(
            b"board",
            &[
                (1.5, b"ann"),
                (f64::INFINITY, b"bob"),
                (-3.0, b"c\ty"),
                (1e-7, b"dee"),
            ],
        )
        .unwrap();
    store.close().unwrap();
}

#[test]
fn get_prints_fields_members_and_list_values_escaped() {
    let s = Sandbox::new();
    store_with_collections(&s);
    s.kvctl(&["get", "user:1"])
        .assert()
        .success()
        .stdout("age\t36\nname\tAda\n\\xff\ta\\tb\n");
    s.kvctl(&["get", "tags"])
        .assert()
        .success()
        .stdout("\\0blue\ngreen\nred\n");
    s.kvctl(&["get", "--raw", "tags"])
        .assert()
        .success()
        .stdout(&b"\x00blue\ngreen\nred\n"[..]);
    s.kvctl(&["get", "--json", "user:1"])
        .assert()
        .success()
        .stdout(concat!(
            r#"{"key":"user:1","type":"hash","fields":[{"field":"age","value":"36"},"#,
            r#"{"field":"name","value":"Ada"},{"field_base64":"/w==","value":"a\tb"}]}"#,
            "\n"
        ));
    s.kvctl(&["get", "--json", "tags"])
        .assert()
        .success()
        .stdout(
            "{\"key\":\"tags\",\"type\":\"set\",\"members\":[\"\\u0000blue\",\"green\",\"red\"]}\n",
        );
    // A list in its order.
    s.kvctl(&["get", "queue"])
        .assert()
        .success()
        .stdout("first\nsecond\nth\\tird\n");
    s.kvctl(&["get", "--json", "queue"])
        .assert()
        .success()
        .stdout(
            "{\"key\":\"queue\",\"type\":\"list\",\"values\":[\"first\",\"second\",\"th\\tird\"]}\n",
        );
    // A sorted set by score: member, tab, score.
    s.kvctl(&["get", "board"])
        .assert()
        .success()
        .stdout("c\\ty\t-3\ndee\t1e-7\nann\t1.5\nbob\tinf\n");
    s.kvctl(&["get", "--json", "board"])
        .assert()
        .success()
        .stdout(concat!(
            r#"{"key":"board","type":"zset","members":[{"member":"c\ty","score":-3.0},"#,
            r#"{"member":"dee","score":1e-7},{"member":"ann","score":1.5},"#,
            r#"{"member":"bob","score":"inf"}]}"#,
            "\n"
        ));
    // A string is printed as it always was.
    s.kvctl(&["get", "plain"])
        .assert()
        .success()
        .stdout("text\n");
    s.kvctl(&["get", "--json", "plain"])
        .assert()
        .success()
        .stdout("{\"key\":\"plain\",\"value\":\"text\"}\n");
}

#[test]
fn type_names_what_a_key_holds_and_exits_1_for_none() {
    let s = Sandbox::new();
    store_with_collections(&s);
    for (key, name) in [
        ("plain", "string"),
        ("user:1", "hash"),
        ("tags", "set"),
        ("queue", "list"),
        ("board", "zset"),
    ] {
        s.kvctl(&["type", key])
            .assert()
            .success()
            .stdout(format!("{name}\n"));
    }
    s.kvctl(&["type", "nothing"])
        .assert()
        .code(1)
        .stdout("none\n");
    s.kvctl(&["type", "--json", "tags"])
        .assert()
        .success()
        .stdout("{\"key\":\"tags\",\"type\":\"set\"}\n");
    s.kvctl(&["-e", "type", "--json", "\\xff"])
        .assert()
        .code(1)
        .stdout("{\"key_base64\":\"/w==\",\"type\":\"none\"}\n");
}

#[test]
fn keys_scan_and_export_select_by_type() {
    let s = Sandbox::new();
    store_with_collections(&s);
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.hset(b"user:2", b"name", b"Grace").unwrap();
        store.close().unwrap();
    }
    s.kvctl(&["keys", "--type", "hash"])
        .assert()
        .success()
        .stdout("user:1\nuser:2\n");
    s.kvctl(&["keys", "--type", "string"])
        .assert()
        .success()
        .stdout("plain\n");
    // --count counts the keys of the type, after the pattern.
    s.kvctl(&["keys", "--type", "hash", "--count", "1", "user:*"])
        .assert()
        .success()
        .stdout("user:1\n");
    s.kvctl(&["keys", "--type", "set", "user:*"])
        .assert()
        .success()
        .stdout("");
    s.kvctl(&["scan", "--type", "set"])
        .assert()
        .success()
        .stdout("tags\t\\0blue\ntags\tgreen\ntags\tred\n");
    s.kvctl(&["keys", "--type", "zset"])
        .assert()
        .success()
        .stdout("board\n");
    s.kvctl(&["scan", "--type", "list"])
        .assert()
        .success()
        .stdout("queue\tfirst\nqueue\tsecond\nqueue\tth\\tird\n");
    s.kvctl(&["scan", "--type", "hash", "--prefix", "user:2"])
        .assert()
        .success()
        .stdout("user:2\tname\tGrace\n");
    s.kvctl(&["scan", "--json", "--type", "hash", "--prefix", "user:2"])
        .assert()
        .success()
        .stdout("{\"key\":\"user:2\",\"type\":\"hash\",\"fields\":[{\"field\":\"name\",\"value\":\"Grace\"}]}\n");
    s.kvctl(&["export", "--type", "string"])
        .assert()
        .success()
        .stdout("{\"key\":\"plain\",\"value\":\"text\"}\n");
    // scan of everything: one line per string, field or member, keys sorted.
    let all = stdout_of(&mut s.kvctl(&["scan"]));
    assert_eq!(all.lines().count(), 4 + 1 + 3 + 3 + 3 + 1, "{all}");
    assert!(all.starts_with("board\tc\\ty\t-3\n"), "{all}");
    // A type kvctl does not know is a usage error that names the accepted ones.
    let out = s
        .kvctl(&["keys", "--type", "stream"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("string, hash, set, list, zset"))
        .get_output()
        .clone();
    assert_no_panic(&out.stderr);
}

#[test]
fn key_commands_work_on_collections_and_string_commands_exit_6() {
    let s = Sandbox::new();
    store_with_collections(&s);
    s.kvctl(&["exists", "user:1", "tags", "queue", "board"])
        .assert()
        .success()
        .stdout("4\n");
    s.kvctl(&["ttl", "tags"]).assert().success().stdout("-1\n");
    s.kvctl(&["expire", "tags", "1h"]).assert().success();
    s.kvctl(&["ttl", "tags"])
        .assert()
        .success()
        .stdout("3600\n");
    s.kvctl(&["get", "tags"])
        .assert()
        .success()
        .stdout("\\0blue\ngreen\nred\n");
    s.kvctl(&["persist", "tags"])
        .assert()
        .success()
        .stdout("1\n");
    s.kvctl(&["ttl", "tags"]).assert().success().stdout("-1\n");
    s.kvctl(&["expire", "--at", "1000", "tags"])
        .assert()
        .success();
    s.kvctl(&["type", "tags"]).assert().code(1).stdout("none\n");

    for args in [
        &["incr", "user:1"][..],
        &["decr", "user:1", "2"],
        &["incrbyfloat", "user:1", "1.5"],
        &["incr", "queue"],
        &["incr", "board"],
    ] {
        let out = s
            .kvctl(args)
            .assert()
            .code(6)
            .stderr(predicate::str::contains(
                "operation against a key holding the wrong kind of value",
            ))
            .get_output()
            .clone();
        assert_no_panic(&out.stderr);
    }
    s.kvctl(&["get", "user:1"])
        .assert()
        .success()
        .stdout("age\t36\nname\tAda\n\\xff\ta\\tb\n");
    // set replaces a collection whole (Redis's SET), unless --nx.
    s.kvctl(&["set", "--nx", "user:1", "x"]).assert().code(1);
    s.kvctl(&["set", "user:1", "now a string"])
        .assert()
        .success();
    s.kvctl(&["type", "user:1"]).assert().stdout("string\n");
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.sadd(b"again", &[b"m"]).unwrap();
        store.close().unwrap();
    }
    s.kvctl(&["del", "again", "user:1", "queue", "board", "none"])
        .assert()
        .success()
        .stdout("4\n");
    s.kvctl(&["keys"]).assert().success().stdout("plain\n");
}

#[test]
fn dump_shows_headers_and_element_records_decoded() {
    let s = Sandbox::new();
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.hset(b"h\xff", b"f 1", b"v").unwrap(); // header seq 1, element seq 2
        store.srem(b"absent", &[b"x"]).unwrap(); // writes nothing
        store.sadd(b"s", &[b"m"]).unwrap(); // header seq 3, element seq 4
        store.sadd(b"s", &[b"n"]).unwrap(); // element seq 5
        store.hdel(b"h\xff", &[b"f 1"]).unwrap(); // the last field: the key's tombstone
        store.srem(b"s", &[b"m"]).unwrap(); // element tombstone seq 7
        assert!(store.expire(b"s", Duration::from_secs(60)).unwrap()); // header again, seq 8
        store.rpush(b"q", &[b"v"]).unwrap(); // header seq 9, element seq 10
        store.zadd(b"z", &[(2.0, b"top")]).unwrap(); // header seq 11, element seq 12
        store.close().unwrap();
    }
    let text = stdout_of(&mut s.kvctl(&["dump"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    let expect = [
        "seq=1        coll h\\xff type=hash gen=1 value_len=9 +batch",
        "seq=2        eput h\\xff gen=1 member=f 1 value_len=1",
        "seq=3        coll s type=set gen=3 value_len=9 +batch",
        "seq=4        eput s gen=3 member=m value_len=0",
        "seq=5        eput s gen=3 member=n value_len=0",
        "seq=6        del h\\xff value_len=0",
        "seq=7        edel s gen=3 member=m value_len=0",
        "seq=8        coll s type=set gen=3 value_len=9 expires_at_ms=",
        "seq=9        coll q type=list gen=9 value_len=9 +batch",
        // A list element's member is its position; the first push takes the middle of u64.
        "seq=10       eput q gen=9 pos=9223372036854775808 value_len=1",
        "seq=11       coll z type=zset gen=11 value_len=9 +batch",
        // A sorted-set element's value is its score (8 bytes).
        "seq=12       eput z gen=11 member=top value_len=8",
    ];
    for (line, expected) in lines.iter().zip(expect) {
        assert!(line.contains(expected), "{line:?} lacks {expected:?}");
    }

    let json = stdout_of(&mut s.kvctl(&["dump", "--json"]));
    let records: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["kind"], "coll");
    assert_eq!(records[0]["key_base64"], "aP8=");
    assert_eq!(records[0]["type"], "hash");
    assert_eq!(records[0]["generation"], 1);
    assert_eq!(records[1]["kind"], "eput");
    assert_eq!(records[1]["collection_key_base64"], "aP8=");
    assert_eq!(records[1]["generation"], 1);
    assert_eq!(records[1]["member"], "f 1");
    // The raw element key is there too: u16 LE length, key, u64 BE generation, member.
    assert_eq!(
        records[1]["key_base64"], "AgBo/wAAAAAAAAABZiAx",
        "{}",
        records[1]
    );
    assert_eq!(records[6]["kind"], "edel");
    assert_eq!(records[6]["member"], "m");
    assert!(records[5].get("generation").is_none());
    assert_eq!(records[9]["position"], 1u64 << 63);
    assert!(records[9].get("member").is_none());
}

#[test]
fn stats_counts_collections_elements_and_their_index_memory() {
    let s = Sandbox::new();
    store_with_collections(&s);
    let table = stdout_of(&mut s.kvctl(&["stats"]));
    assert!(table.contains("keys                    5\n"), "{table}");
    assert!(table.contains("collections             4\n"), "{table}");
    assert!(table.contains("elements                13\n"), "{table}");
    assert!(table.contains("element index memory"), "{table}");
    assert!(table.contains("bytes per element)"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["stats", "--json"]))).unwrap();
    assert_eq!(json["collections"], 4);
    assert_eq!(json["elements"], 13);
    let bytes = json["element_index_bytes"].as_u64().unwrap();
    let per = json["element_bytes_per_element"].as_f64().unwrap();
    assert!(bytes > 0);
    assert!((per - bytes as f64 / 13.0).abs() < 1e-6, "{json}");
}
