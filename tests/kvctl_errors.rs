//! kvctl on bad input and bad stores: every failure has its documented exit status, names
//! the problem and the path, and never shows a Rust panic.

mod kvctl_support;

use kvctl_support::{Sandbox, assert_no_panic, kvctl_bare, kvctl_in};
use predicates::prelude::*;

/// Every read-type command, with the arguments it needs.
const READ_COMMANDS: &[&[&str]] = &[
    &["get", "k"],
    &["type", "k"],
    &["exists", "k"],
    &["ttl", "k"],
    &["keys"],
    &["scan"],
    &["stats"],
    &["check"],
    &["dump"],
    &["export"],
    &["del", "k"],
    &["expire", "k", "1s"],
    &["persist", "k"],
];

#[test]
fn read_commands_on_a_missing_directory_fail_and_do_not_create_it() {
    let s = Sandbox::new();
    for args in READ_COMMANDS {
        let out = s.kvctl(args).assert().code(3).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no store at") && stderr.contains(&*s.store().to_string_lossy()),
            "{args:?}: {stderr}"
        );
        assert_no_panic(&out.stderr);
        assert!(!s.store().exists(), "{args:?} created the directory");
    }
    let backup = s.path("copy");
    s.kvctl(&["backup", backup.to_str().unwrap()])
        .assert()
        .code(3);
    assert!(!s.store().exists() && !backup.exists());
}

#[test]
fn a_locked_store_is_reported_with_the_holders_pid() {
    let s = Sandbox::new();
    let holder = keg::Store::open(s.store()).unwrap();
    holder.set(b"k", b"v").unwrap();
    let pid = std::process::id();
    for args in [
        &["get", "k"][..],
        &["type", "k"],
        &["set", "k", "v"],
        &["check"],
        &["stats"],
    ] {
        let out = s
            .kvctl(args)
            .assert()
            .code(4)
            .stderr(predicate::str::contains(format!(
                "store is locked: {} is held by process {pid}",
                s.store().join("LOCK").display()
            )))
            .get_output()
            .clone();
        assert_no_panic(&out.stderr);
    }
    // dump reads without the lock: it works beside the holder.
    s.kvctl(&["dump"])
        .assert()
        .success()
        .stdout(predicate::str::contains("put k"));
    drop(holder);
    s.kvctl(&["get", "k"]).assert().success().stdout("v\n");
}

/// Flips one byte inside the first record of the store's only segment.
fn corrupt_first_record(store: &std::path::Path) -> std::path::PathBuf {
    let segment = std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "data"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let inside_first_record = keg::format::FILE_HEADER_LEN + 10;
    bytes[inside_first_record] ^= 0x40;
    std::fs::write(&segment, bytes).unwrap();
    segment
}

#[test]
fn a_corrupt_store_exits_5_naming_file_and_offset() {
    let s = Sandbox::new();
    for i in 0..3 {
        s.kvctl(&["set", &format!("k{i}"), "value"])
            .assert()
            .success();
    }
    let segment = corrupt_first_record(&s.store());
    let at = format!(
        "{} at offset {}",
        segment.display(),
        keg::format::FILE_HEADER_LEN
    );
    s.kvctl(&["get", "k1"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(format!("corrupted data in {at}")));
    s.kvctl(&["check"])
        .assert()
        .code(5)
        .stdout(predicate::str::contains(format!(
            "CORRUPT at offset {}",
            keg::format::FILE_HEADER_LEN
        )))
        .stderr(predicate::str::contains(format!("store is corrupt: {at}")));
    let out = s
        .kvctl(&["check", "--json"])
        .assert()
        .code(5)
        .get_output()
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["consistent"], false);
    assert_eq!(report["segments"][0]["problem"]["torn_tail"], false);
    assert_eq!(
        report["segments"][0]["problem"]["offset"],
        keg::format::FILE_HEADER_LEN as u64
    );
}

#[test]
fn a_torn_tail_is_told_apart_from_corruption() {
    let s = Sandbox::new();
    s.kvctl(&["set", "a", "1"]).assert().success();
    s.kvctl(&["set", "b", "2"]).assert().success();
    let segment = std::fs::read_dir(s.store())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "data"))
        .unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    s.kvctl(&["check"])
        .assert()
        .code(7)
        .stdout(predicate::str::contains("TORN TAIL at offset"))
        .stderr(predicate::str::contains("open cuts it off"));
    // Opening cuts the torn record off; the store is clean again.
    s.kvctl(&["get", "a"]).assert().success().stdout("1\n");
    s.kvctl(&["get", "b"]).assert().code(1);
    s.kvctl(&["check"]).assert().success();
}

#[test]
fn a_non_integer_incr_is_rejected_and_writes_nothing() {
    let s = Sandbox::new();
    s.kvctl(&["set", "name", "Ada"]).assert().success();
    s.kvctl(&["incr", "name"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "incr \"name\": value is not an integer",
        ));
    s.kvctl(&["incrbyfloat", "name", "1.5"]).assert().code(6);
    s.kvctl(&["incrbyfloat", "f", "abc"]).assert().code(6);
    s.kvctl(&["set", "big", "9223372036854775807"])
        .assert()
        .success();
    s.kvctl(&["incr", "big"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("overflow"));
    s.kvctl(&["get", "name"]).assert().stdout("Ada\n");
}

#[test]
fn a_value_over_the_limit_from_stdin_is_refused_before_it_is_written() {
    let s = Sandbox::new();
    let big = vec![b'x'; 5000];
    s.kvctl(&["--max-value-size", "4k", "set", "big", "-"])
        .write_stdin(big.clone())
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "standard input is over the limit of 4096 bytes",
        ));
    s.kvctl(&["--max-value-size", "4k", "set", "big", "-"])
        .write_stdin(vec![b'x'; 4096])
        .assert()
        .success();
    // An argument over the limit: the store refuses it.
    s.kvctl(&["--max-value-size", "3", "set", "k", "four"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("the limit is 3"));
    s.kvctl(&["exists", "k"]).assert().code(1);
    s.kvctl(&["get", "big"])
        .assert()
        .success()
        .stdout(predicate::function(|out: &[u8]| out.len() == 4097));
}

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    s.kvctl(&["set", "k", "v"]).assert().success();
    for (args, message) in [
        (&["keys", "user:[abc"][..], "invalid pattern"),
        (&["scan", "[z-a]"], "invalid pattern"),
        (&["export", "oops\\"], "invalid pattern"),
        (&["--escaped", "get", "bad\\q"], "invalid escape"),
        (&["--escaped", "get", "bad\\x4"], "invalid escape"),
        (&["set", "--ttl", "10 parsecs", "k", "v"], "unknown unit"),
        (&["frobnicate"], "unrecognized subcommand"),
        (&["bench", "--mix", "set=50,get=20"], "add up to 70"),
    ] {
        let out = s
            .kvctl(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .get_output()
            .clone();
        assert_no_panic(&out.stderr);
    }
    let dir = s.store();
    kvctl_bare(&[
        "--dir",
        dir.to_str().unwrap(),
        "--sync",
        "sometimes",
        "set",
        "k",
        "v",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "expected always, never or interval:<ms>",
    ));
}

#[test]
fn help_documents_every_exit_status_and_the_environment() {
    let s = Sandbox::new();
    let help = s
        .kvctl(&["--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    for status in 0..=7 {
        assert!(help.contains(&format!("\n  {status}  ")), "status {status}");
    }
    assert!(help.contains("KVCTL_DIR"));
    assert!(help.contains("[default: keg-data]"));
}

#[test]
fn the_store_directory_comes_from_kvctl_dir() {
    let s = Sandbox::new();
    kvctl_bare(&["set", "k", "from-env"])
        .env("KVCTL_DIR", s.store())
        .assert()
        .success();
    kvctl_in(&s.store(), &["get", "k"])
        .assert()
        .success()
        .stdout("from-env\n");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let s = Sandbox::new();
    let lines: String = (0..20_000)
        .map(|i| format!("{{\"key\":\"k{i:05}\",\"value\":\"v\"}}\n"))
        .collect();
    // One process for many keys: import is the fast way in.
    s.kvctl(&["import"]).write_stdin(lines).assert().success();
    // `kvctl keys | head -1`: the reader leaves early.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kvctl"))
        .env_remove("KVCTL_DIR")
        .arg("--dir")
        .arg(s.store())
        .arg("keys")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_no_panic(&out.stderr);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}
