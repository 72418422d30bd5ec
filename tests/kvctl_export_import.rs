//! `kvctl export | kvctl import` round-trips binary keys, binary values and TTLs.

mod kvctl_support;

use kvctl_support::{Sandbox, kvctl_in, stdout_of};
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
