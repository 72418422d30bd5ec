//! `kvctl export | kvctl import` round-trips strings, hashes and sets with binary keys,
//! binary members and TTLs.

mod kvctl_support;

use std::time::Duration;

use kvctl_support::{Held, Sandbox, kvctl_in, snapshot, stdout_of};
use predicates::prelude::*;

#[test]
fn export_then_import_round_trips_binary_keys_values_and_expiry_times() {
    let s = Sandbox::new();
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.set(b"text", b"hello").unwrap();
        store.set(b"\x00\xffbinary key", b"\xfe\x00value").unwrap();
        store.set(b"", b"").unwrap(); // the empty key and value exist too
        store
            .set_with_ttl(b"session", b"\x80ttl", std::time::Duration::from_secs(3600))
            .unwrap();
        store
            .set_with_ttl(b"\x01ttl-bin", b"x", std::time::Duration::from_secs(600))
            .unwrap();
        store.close().unwrap();
    }
    let exported = stdout_of(&mut s.kvctl(&["export"]));
    assert_eq!(exported.lines().count(), 5);
    assert!(
        exported.contains("{\"key\":\"text\",\"value\":\"hello\"}\n"),
        "{exported}"
    );
    assert!(exported.contains("\"key_base64\":"));
    assert!(exported.contains("\"expires_at_ms\":"));

    let copy = s.path("copy");
    kvctl_in(&copy, &["import"])
        .write_stdin(exported.clone())
        .assert()
        .success()
        .stdout("imported 5 keys (0 already expired, 0 existing kept)\n");

    let source = keg::Store::open(s.store()).unwrap();
    let imported = keg::Store::open(&copy).unwrap();
    let mut keys = source.keys();
    keys.sort();
    let mut imported_keys = imported.keys();
    imported_keys.sort();
    assert_eq!(keys, imported_keys);
    for key in &keys {
        assert_eq!(
            source.get(key).unwrap(),
            imported.get(key).unwrap(),
            "{key:?}"
        );
        assert_eq!(
            source.expires_at(key).unwrap(),
            imported.expires_at(key).unwrap(),
            "{key:?}"
        );
    }
    assert!(imported.expires_at(b"session").unwrap().is_some());
    drop((source, imported));

    // And the copy exports to the same lines.
    assert_eq!(stdout_of(&mut kvctl_in(&copy, &["export"])), exported);
}

#[test]
fn import_reads_a_file_skips_expired_entries_and_keeps_existing_with_nx() {
    let s = Sandbox::new();
    let file = s.path("dump.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"key\":\"a\",\"value\":\"1\"}\n",
            "\n",
            "{\"key\":\"old\",\"value\":\"x\",\"expires_at_ms\":1000}\n",
            "{\"key_base64\":\"/w==\",\"value_base64\":\"AA==\",\"expires_at_ms\":99999999999999}\n",
        ),
    )
    .unwrap();
    s.kvctl(&["set", "a", "mine"]).assert().success();
    s.kvctl(&["import", "--nx", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("imported 1 keys (1 already expired, 1 existing kept)\n");
    s.kvctl(&["get", "a"]).assert().stdout("mine\n");
    s.kvctl(&["exists", "old"]).assert().code(1);
    s.kvctl(&["-e", "get", "--raw", "\\xff"])
        .assert()
        .stdout(&b"\x00"[..]);
    s.kvctl(&["import", "--json", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("{\"imported\":2,\"skipped_expired\":1,\"skipped_existing\":0}\n");
    s.kvctl(&["get", "a"]).assert().stdout("1\n");
}

#[test]
fn a_bad_import_line_exits_6_naming_the_line() {
    let s = Sandbox::new();
    s.kvctl(&["import"])
        .write_stdin("{\"key\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\"}\n{\"key\":\"c\",\"value\":\"3\"}\n")
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "standard input line 2: missing value (or value_base64); the 1 keys before it were imported",
        ));
    s.kvctl(&["get", "a"]).assert().success();
    s.kvctl(&["exists", "c"]).assert().code(1);
    for bad in [
        "not json\n",
        "{\"key\":\"a\",\"value\":\"1\",\"ttl\":5}\n",
        "{\"key_base64\":\"%%%\",\"value\":\"1\"}\n",
        "{\"key\":\"a\",\"key_base64\":\"YQ==\",\"value\":\"1\"}\n",
    ] {
        s.kvctl(&["import"])
            .write_stdin(bad)
            .assert()
            .code(6)
            .stderr(predicate::str::contains("line 1"));
    }
    s.kvctl(&["import", s.path("missing.jsonl").to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("missing.jsonl"));
}

#[test]
fn export_selects_keys_like_keys_does_and_shows_no_progress_bar_when_piped() {
    let s = Sandbox::new();
    for key in ["user:1", "user:2", "order:1"] {
        s.kvctl(&["set", key, "v"]).assert().success();
    }
    s.kvctl(&["export", "user:*"])
        .assert()
        .success()
        .stdout("{\"key\":\"user:1\",\"value\":\"v\"}\n{\"key\":\"user:2\",\"value\":\"v\"}\n")
        .stderr("");
    s.kvctl(&["export", "--prefix", "order"])
        .assert()
        .success()
        .stdout("{\"key\":\"order:1\",\"value\":\"v\"}\n");
}

/// A store with strings, hashes and sets, binary names and TTLs.
fn store_with_every_type(dir: &std::path::Path) {
    let store = keg::Store::open(dir).unwrap();
    store.set(b"plain", b"text").unwrap();
    store
        .set_with_ttl(b"\xffstr", b"\x00\x80", Duration::from_secs(600))
        .unwrap();
    store
        .hset_many(
            b"user:1",
            &[
                (b"name", b"Ada"),
                (b"\xff\x00field", b"\xfe value"),
                (b"", b""),
                (b"tab\there", b"new\nline"),
            ],
        )
        .unwrap();
    store.hset(b"\x80hash", b"f", b"\x81").unwrap();
    assert!(
        store
            .expire(b"\x80hash", Duration::from_secs(3600))
            .unwrap()
    );
    store
        .sadd(b"tags", &[b"a", b"b c", b"\xff\xfe", b""])
        .unwrap();
    store.sadd(b"\x00only-binary", &[b"\x80", b"\x81"]).unwrap();
    assert!(
        store
            .expire(b"\x00only-binary", Duration::from_secs(60))
            .unwrap()
    );
    // Lists keep their order, binary values and pushes at both ends included.
    store.rpush(b"queue", &[b"b", b"c"]).unwrap();
    store.lpush(b"queue", &[b"a"]).unwrap();
    store
        .rpush(b"\xfelist", &[b"z", b"\xff", b"", b"a"])
        .unwrap();
    assert!(store.expire(b"\xfelist", Duration::from_secs(90)).unwrap());
    // Sorted sets keep every score bit for bit, infinities included.
    store
        .zadd(
            b"board",
            &[
                (0.1 + 0.2, b"ann"),
                (f64::NEG_INFINITY, b"\xffbob"),
                (1e300, b"cy"),
                (f64::INFINITY, b""),
                (-2.5, b"dee"),
            ],
        )
        .unwrap();
    store.zadd(b"\x01z", &[(7.0, b"m")]).unwrap();
    assert!(store.expire(b"\x01z", Duration::from_secs(120)).unwrap());
    store.close().unwrap();
}

#[test]
fn export_then_import_round_trips_hashes_and_sets_with_binary_names_and_ttls() {
    let s = Sandbox::new();
    store_with_every_type(&s.store());
    let exported = stdout_of(&mut s.kvctl(&["export"]));
    assert_eq!(exported.lines().count(), 10, "{exported}");
    assert!(
        exported.contains(r#"{"key":"plain","value":"text"}"#),
        "{exported}"
    );
    assert!(
        exported
            .contains(r#"{"key":"tags","type":"set","members_base64":["","YQ==","YiBj","//4="]}"#),
        "{exported}"
    );
    assert!(
        exported.contains(r#"{"key":"user:1","type":"hash","fields":[{"field":"","value":""},{"field":"name","value":"Ada"},{"field":"tab\there","value":"new\nline"},{"field_base64":"/wBmaWVsZA==","value_base64":"/iB2YWx1ZQ=="}]}"#),
        "{exported}"
    );

    assert!(
        exported.contains(r#"{"key":"queue","type":"list","values":["a","b","c"]}"#),
        "{exported}"
    );
    assert!(
        exported.contains(concat!(
            r#"{"key":"board","type":"zset","members":[{"member_base64":"/2JvYg==","score":"-inf"},"#,
            r#"{"member":"dee","score":-2.5},{"member":"ann","score":0.30000000000000004},"#,
            r#"{"member":"cy","score":1e+300},{"member":"","score":"inf"}]}"#
        )),
        "{exported}"
    );

    let copy = s.path("copy");
    kvctl_in(&copy, &["import"])
        .write_stdin(exported.clone())
        .assert()
        .success()
        .stdout("imported 10 keys (0 already expired, 0 existing kept)\n");

    let source = snapshot(&s.store());
    let imported = snapshot(&copy);
    assert_eq!(source, imported);
    assert_eq!(
        imported[&b"\x80hash"[..]].0,
        Held::Hash(vec![(b"f".to_vec(), b"\x81".to_vec())])
    );
    assert!(imported[&b"\x80hash"[..]].1.is_some());
    assert!(imported[&b"\x00only-binary"[..]].1.is_some());
    assert_eq!(imported[&b"tags"[..]].1, None);
    assert_eq!(
        imported[&b"\xfelist"[..]].0,
        Held::List(vec![
            b"z".to_vec(),
            b"\xff".to_vec(),
            b"".to_vec(),
            b"a".to_vec()
        ])
    );
    assert!(imported[&b"\xfelist"[..]].1.is_some());
    let Held::ZSet(board) = &imported[&b"board"[..]].0 else {
        panic!("board is not a sorted set: {imported:?}");
    };
    assert_eq!(
        board,
        &[
            (b"\xffbob".to_vec(), f64::NEG_INFINITY.to_bits()),
            (b"dee".to_vec(), (-2.5f64).to_bits()),
            (b"ann".to_vec(), (0.1f64 + 0.2).to_bits()),
            (b"cy".to_vec(), 1e300f64.to_bits()),
            (b"".to_vec(), f64::INFINITY.to_bits()),
        ]
    );
    assert!(imported[&b"\x01z"[..]].1.is_some());
    // And the copy exports to the same lines.
    assert_eq!(stdout_of(&mut kvctl_in(&copy, &["export"])), exported);
}

#[test]
fn import_replaces_keys_of_any_type_and_nx_keeps_them_whatever_their_type() {
    let s = Sandbox::new();
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.set(b"was-string", b"old").unwrap();
        store.hset(b"was-hash", b"old", b"1").unwrap();
        store.sadd(b"was-set", &[b"old", b"older"]).unwrap();
        store.rpush(b"was-list", &[b"old", b"older"]).unwrap();
        store.close().unwrap();
    }
    let lines = concat!(
        "{\"key\":\"was-string\",\"type\":\"set\",\"members\":[\"new\"]}\n",
        "{\"key\":\"was-hash\",\"type\":\"set\",\"members\":[\"new\"]}\n",
        "{\"key\":\"was-set\",\"type\":\"set\",\"members\":[\"new\"]}\n",
        "{\"key\":\"was-list\",\"type\":\"set\",\"members\":[\"new\"]}\n",
        "{\"key\":\"fresh\",\"type\":\"hash\",\"fields\":[{\"field\":\"f\",\"value\":\"1\"}]}\n",
    );
    s.kvctl(&["import", "--nx"])
        .write_stdin(lines)
        .assert()
        .success()
        .stdout("imported 1 keys (0 already expired, 4 existing kept)\n");
    let kept = snapshot(&s.store());
    assert_eq!(kept[&b"was-string"[..]].0, Held::String(b"old".to_vec()));
    assert_eq!(
        kept[&b"was-hash"[..]].0,
        Held::Hash(vec![(b"old".to_vec(), b"1".to_vec())])
    );
    assert_eq!(
        kept[&b"was-set"[..]].0,
        Held::Set(vec![b"old".to_vec(), b"older".to_vec()])
    );
    assert_eq!(
        kept[&b"was-list"[..]].0,
        Held::List(vec![b"old".to_vec(), b"older".to_vec()])
    );

    // Without --nx every key is replaced whole: no old member survives.
    s.kvctl(&["import"])
        .write_stdin(format!(
            "{lines}{}",
            "{\"key\":\"fresh\",\"value\":\"now a string\"}\n"
        ))
        .assert()
        .success()
        .stdout("imported 6 keys (0 already expired, 0 existing kept)\n");
    let replaced = snapshot(&s.store());
    for key in ["was-string", "was-hash", "was-set", "was-list"] {
        assert_eq!(
            replaced[key.as_bytes()].0,
            Held::Set(vec![b"new".to_vec()]),
            "{key}"
        );
    }
    assert_eq!(
        replaced[&b"fresh"[..]].0,
        Held::String(b"now a string".to_vec())
    );
}

#[test]
fn a_collection_that_cannot_be_written_whole_changes_nothing() {
    let s = Sandbox::new();
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.hset(b"h", b"kept", b"1").unwrap();
        store.close().unwrap();
    }
    let before = snapshot(&s.store());
    // The second field's value is over --max-value-size: the first must not land either,
    // nor may the old hash be removed.
    s.kvctl(&["--max-value-size", "4", "import"])
        .write_stdin(
            "{\"key\":\"h\",\"type\":\"hash\",\"fields\":[{\"field\":\"a\",\"value\":\"1\"},{\"field\":\"b\",\"value\":\"too long\"}],\"expires_at_ms\":99999999999999}\n",
        )
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "standard input line 1: writing the hash \"h\"; the 0 keys before it were imported",
        ));
    assert_eq!(snapshot(&s.store()), before);
    // A member whose element key is over the key limit is refused the same way.
    let long = "m".repeat(70_000);
    s.kvctl(&["import"])
        .write_stdin(format!(
            "{{\"key\":\"h\",\"type\":\"set\",\"members\":[\"ok\",\"{long}\"]}}\n"
        ))
        .assert()
        .code(6);
    assert_eq!(snapshot(&s.store()), before);
}

#[test]
fn bad_collection_lines_exit_6_naming_the_line_and_write_nothing_of_it() {
    let s = Sandbox::new();
    for (bad, why) in [
        (
            "{\"key\":\"h\",\"type\":\"hash\",\"fields\":[]}",
            "a hash needs at least one field",
        ),
        (
            "{\"key\":\"s\",\"type\":\"set\",\"members\":[]}",
            "a set needs at least one member",
        ),
        (
            "{\"key\":\"s\",\"type\":\"set\",\"members_base64\":[\"%%\"]}",
            "members_base64 is not valid base64",
        ),
        (
            "{\"key\":\"h\",\"type\":\"hash\",\"fields\":[{\"field\":\"f\"}]}",
            "missing value",
        ),
        (
            "{\"key\":\"h\",\"type\":\"hash\",\"fields\":[{\"field\":\"f\",\"value\":\"v\"}],\"value\":\"v\"}",
            "a hash has no value",
        ),
        (
            "{\"key\":\"s\",\"members\":[\"m\"]}",
            "a string has no members",
        ),
        (
            "{\"key\":\"z\",\"type\":\"stream\",\"members\":[\"m\"]}",
            "unknown type \"stream\"",
        ),
    ] {
        s.kvctl(&["import"])
            .write_stdin(format!("{{\"key\":\"first\",\"value\":\"1\"}}\n{bad}\n"))
            .assert()
            .code(6)
            .stderr(predicate::str::contains(format!(
                "standard input line 2: {why}"
            )))
            .stderr(predicate::str::contains(
                "the 1 keys before it were imported",
            ));
    }
    let held = snapshot(&s.store());
    assert_eq!(held.keys().collect::<Vec<_>>(), vec![&b"first".to_vec()]);
}
