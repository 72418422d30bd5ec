//! kvctl's operations commands: stats, check, backup, dump, bench.

mod kvctl_support;

use kvctl_support::{Sandbox, stdout_of};
use predicates::prelude::*;

#[test]
fn stats_prints_a_table_and_every_field_as_json() {
    let s = Sandbox::new();
    s.kvctl(&["set", "a", "1"]).assert().success();
    s.kvctl(&["set", "a", "2"]).assert().success();
    s.kvctl(&["set", "b", "3"]).assert().success();
    s.kvctl(&["stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("keys                    2"))
        .stdout(predicate::str::contains("dead (merge reclaims)"))
        .stdout(predicate::str::contains("1*"));
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["stats", "--json"]))).unwrap();
    assert_eq!(json["keys"], 2);
    assert_eq!(json["last_seq"], 3);
    assert_eq!(json["segments"].as_array().unwrap().len(), 1);
    assert_eq!(json["segments"][0]["live_keys"], 2);
    let (disk, live, dead) = (
        json["disk_bytes"].as_u64().unwrap(),
        json["live_bytes"].as_u64().unwrap(),
        json["dead_bytes"].as_u64().unwrap(),
    );
    assert_eq!(disk, live + dead);
    assert!(dead > 0, "the overwritten record is dead");
    for field in [
        "index_bytes",
        "index_bytes_per_key",
        "expired_keys_pending",
        "fsyncs",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
}

#[test]
fn check_of_a_clean_store_exits_0_and_counts_records() {
    let s = Sandbox::new();
    for i in 0..5 {
        s.kvctl(&["set", &format!("k{i}"), "v"]).assert().success();
    }
    s.kvctl(&["check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("5 records  ok"))
        .stdout(predicate::str::contains("ok: 1 segment, 5 records"))
        .stderr("");
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["check", "--json"]))).unwrap();
    assert_eq!(json["clean"], true);
    assert_eq!(json["segments"][0]["records"], 5);
    assert!(json["segments"][0]["problem"].is_null());
    // Too small an index for a snapshot at close.
    assert!(json["index_snapshot"].is_null());
}

#[test]
fn check_says_whether_the_index_snapshot_is_current_or_stale() {
    let s = Sandbox::new();
    let open = |min| {
        keg::Options::new()
            .sync_policy(keg::SyncPolicy::Never)
            .index_snapshot_min_bytes(min)
            .open(s.store())
            .unwrap()
    };
    let store = open(0);
    store.set(b"k", b"v").unwrap();
    store.close().unwrap();
    s.kvctl(&["check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("index.snapshot  current"));

    // Written to since, by a store that writes no snapshot at close: stale, and still an
    // exit 0 (open rebuilds the index; nothing is lost). Check deletes nothing.
    let store = open(u64::MAX);
    store.set(b"k2", b"v").unwrap();
    store.close().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["check", "--json"]))).unwrap();
    assert_eq!(json["index_snapshot"], "stale");
    assert_eq!(json["clean"], true);
    assert!(s.store().join("index.snapshot").exists());
}

#[test]
fn backup_makes_a_copy_that_opens_and_equals_the_source() {
    let s = Sandbox::new();
    s.kvctl(&["set", "plain", "v1"]).assert().success();
    s.kvctl(&["-e", "set", "bin\\xff", "\\x00\\x01"])
        .assert()
        .success();
    s.kvctl(&["set", "--ttl", "1h", "ttl", "v2"])
        .assert()
        .success();
    s.kvctl(&["set", "gone", "x"]).assert().success();
    s.kvctl(&["del", "gone"]).assert().success();
    let dest = s.path("copy");
    s.kvctl(&["backup", dest.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("verified"));

    let source = keg::Store::open(s.store()).unwrap();
    let copy = keg::Store::open(&dest).unwrap();
    let mut keys = source.keys();
    keys.sort();
    let mut copied = copy.keys();
    copied.sort();
    assert_eq!(keys, copied);
    assert_eq!(keys.len(), 3);
    for key in &keys {
        assert_eq!(source.get(key).unwrap(), copy.get(key).unwrap());
        assert_eq!(
            source.expires_at(key).unwrap(),
            copy.expires_at(key).unwrap()
        );
    }
    assert_eq!(source.stats().last_seq, copy.stats().last_seq);
    drop((source, copy));

    // Never into a directory that holds something.
    s.kvctl(&["backup", dest.to_str().unwrap()])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("not empty"));
}

#[test]
fn dump_lists_records_in_file_order_with_tombstones_and_expiry() {
    let s = Sandbox::new();
    s.kvctl(&["set", "a", "1"]).assert().success();
    s.kvctl(&["set", "--px", "60000", "b", "22"])
        .assert()
        .success();
    s.kvctl(&["del", "a"]).assert().success();
    let text = stdout_of(&mut s.kvctl(&["dump"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("seq=1") && lines[0].contains("put a value_len=1"));
    assert!(lines[1].contains("seq=2") && lines[1].contains("put b value_len=2 expires_at_ms="));
    assert!(lines[2].contains("seq=3") && lines[2].contains("del a value_len=0"));

    let json = stdout_of(&mut s.kvctl(&["dump", "--json"]));
    let records: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["offset"], keg::format::FILE_HEADER_LEN as u64);
    assert_eq!(records[2]["kind"], "del");
    assert!(records[1]["expires_at_ms"].as_u64().is_some());
    assert!(records[0]["expires_at_ms"].is_null());
    let offsets: Vec<u64> = records
        .iter()
        .map(|r| r["offset"].as_u64().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "file order");
}

#[test]
fn bench_stops_at_the_operation_count_and_reports_percentiles() {
    let s = Sandbox::new();
    std::fs::create_dir(s.path("scratch")).unwrap();
    let scratch = s.path("scratch");
    let out = stdout_of(&mut s.kvctl(&[
        "bench",
        "--mix",
        "set=30,get=50,incr=20",
        "--keys",
        "200",
        "--value-size",
        "32",
        "--threads",
        "2",
        "--ops",
        "3000",
        "--duration",
        "20s",
        "--scratch-dir",
        scratch.to_str().unwrap(),
    ]));
    assert!(out.contains("2 threads, 200 keys, 32-byte values"), "{out}");
    assert!(out.contains("3000 ops in"), "{out}");
    for header in ["p50", "p99", "p999", "ops/s"] {
        assert!(out.contains(header), "{out}");
    }
    for op in ["set ", "get ", "incr ", "all "] {
        assert!(out.lines().any(|l| l.starts_with(op)), "{op}: {out}");
    }
    // The scratch store is gone, and the user's store was never touched.
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    assert!(!s.store().exists());
}

#[test]
fn bench_stops_at_the_duration_and_reports_json() {
    let s = Sandbox::new();
    let scratch = s.tmp.path().to_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let out = stdout_of(&mut s.kvctl(&[
        "bench",
        "--json",
        "--mix",
        "get=100",
        "--keys",
        "10",
        "--ops",
        "1000000000",
        "--duration",
        "200ms",
        "--scratch-dir",
        &scratch,
    ]));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let seconds = report["seconds"].as_f64().unwrap();
    assert!((0.2..5.0).contains(&seconds), "{seconds}");
    let get = &report["ops"]["get"];
    assert!(get["ops"].as_u64().unwrap() > 0);
    assert!(get["p50_ns"].as_u64().unwrap() <= get["p999_ns"].as_u64().unwrap());
    assert!(get["p999_ns"].as_u64().unwrap() <= get["max_ns"].as_u64().unwrap());
    assert!(report["ops"].get("set").is_none());
    assert_eq!(report["sync"], "never");
}
