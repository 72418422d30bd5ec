//! `kvctl demo types --quick` as a real process, embedded, over keg's own server and (where
//! redis-server is installed) against Redis: it runs to completion, each part's check
//! holds, and nothing is left behind.

mod kvctl_support;
mod redis_server;

use std::path::Path;

use kvctl_support::{assert_no_panic, kvctl_bare};
use redis_server::RedisServer;
use serde_json::Value;

fn u64_of(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

/// Runs `kvctl demo types --quick --json extra...` and returns its report.
fn run_quick(extra: &[&str], scratch: &Path) -> Value {
    let output = kvctl_bare(&["demo", "types", "--quick", "--json", "--scratch-dir"])
        .arg(scratch)
        .args(extra)
        .output()
        .unwrap();
    assert_no_panic(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every part's figures agree with each other and with the truth the demo kept.
fn assert_parts_hold(report: &Value) {
    assert_eq!(report["ok"], true, "{report}");

    // Leaderboard: ten places, highest score first, equal scores by member descending.
    let lb = &report["leaderboard"];
    assert_eq!(lb["ok"], true, "{lb}");
    let top = lb["top"].as_array().unwrap();
    assert_eq!(top.len(), 10, "{lb}");
    for pair in top.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (sa, sb) = (a["score"].as_f64().unwrap(), b["score"].as_f64().unwrap());
        assert!(
            sa > sb || (sa == sb && a["member"].as_str() > b["member"].as_str()),
            "out of order: {a} before {b}"
        );
    }
    assert!(u64_of(&lb["zincrby"], "ops") > 0, "{lb}");
    assert_eq!(u64_of(&lb["zadd"], "ops"), u64_of(lb, "players"));

    // Unique visitors: exact.
    let v = &report["unique_visitors"];
    assert_eq!(v["ok"], true, "{v}");
    assert!(u64_of(v, "distinct") > 0, "{v}");
    assert_eq!(u64_of(v, "scard_final"), u64_of(v, "distinct"), "{v}");
    assert_eq!(u64_of(v, "sadd_new"), u64_of(v, "distinct"), "{v}");
    assert!(u64_of(v, "distinct") <= u64_of(&v["sadd"], "ops"), "{v}");

    // Work queue: every job produced consumed exactly once.
    let q = &report["work_queue"];
    assert_eq!(q["ok"], true, "{q}");
    assert!(u64_of(q, "produced") > 0, "{q}");
    assert_eq!(u64_of(q, "produced"), u64_of(q, "consumed"), "{q}");
    assert_eq!(u64_of(q, "lost"), 0, "{q}");
    assert_eq!(u64_of(q, "duplicated"), 0, "{q}");
    assert_eq!(u64_of(&q["lpush"], "ops"), u64_of(q, "produced"), "{q}");
    let wait = &q["enqueue_to_dequeue"];
    assert_eq!(u64_of(wait, "ops"), u64_of(q, "consumed"), "{q}");
    assert!(u64_of(wait, "p50_ns") <= u64_of(wait, "p99_ns"), "{q}");

    // Sessions: all there before the TTL, none after.
    let s = &report["sessions"];
    assert_eq!(s["ok"], true, "{s}");
    assert!(u64_of(s, "created") > 0, "{s}");
    assert_eq!(u64_of(s, "present_before_ttl"), u64_of(s, "created"), "{s}");
    assert_eq!(u64_of(s, "left_after_ttl"), 0, "{s}");
    assert_eq!(u64_of(s, "wrong_reads"), 0, "{s}");
    assert!(
        s["checked_ms_before_first_expiry"].as_i64().unwrap() > 0,
        "{s}"
    );

    // Nothing of the demo's is left in the store.
    let cleanup = &report["cleanup"];
    assert_eq!(u64_of(cleanup, "left"), 0, "{cleanup}");
    assert_eq!(
        u64_of(cleanup, "keys"),
        3 + u64_of(s, "created"),
        "{cleanup}"
    );
}

#[test]
fn the_quick_embedded_run_checks_out_and_leaves_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let report = run_quick(&[], scratch.path());
    assert_parts_hold(&report);
    let backend = report["backend"].as_str().unwrap();
    assert!(backend.starts_with("an embedded keg store"), "{backend}");
    // Embedded, TTLs are checked to the millisecond on a simulated clock, and consumers
    // poll (the library has no blocking pop) and say so.
    assert_eq!(report["sessions"]["simulated_clock"], true);
    assert_eq!(report["sessions"]["checked_ms_before_first_expiry"], 1);
    let wait = report["work_queue"]["consumer_wait"].as_str().unwrap();
    assert!(wait.contains("no blocking pop"), "{wait}");
    assert!(
        report["key_prefix"]
            .as_str()
            .unwrap()
            .starts_with("demo-types-")
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn the_text_report_shows_one_check_per_part() {
    let scratch = tempfile::tempdir().unwrap();
    let output = kvctl_bare(&["demo", "types", "--quick", "--scratch-dir"])
        .arg(scratch.path())
        .output()
        .unwrap();
    assert_no_panic(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("  check ok: ").count(), 4, "{text}");
    assert!(!text.contains("FAILED"), "{text}");
    for part in ["leaderboard", "unique visitors", "work queue", "sessions"] {
        assert!(text.contains(&format!("\n{part} (")), "{part}: {text}");
    }
    assert!(text.contains("  top 3: 1. player:"), "{text}");
    assert!(text.contains("0 lost, 0 duplicated"), "{text}");
    assert!(text.contains("keys left"), "{text}");
}

#[test]
fn over_resp_runs_the_parts_through_the_redis_crate_with_a_blocking_consumer() {
    let scratch = tempfile::tempdir().unwrap();
    let report = run_quick(&["--over-resp"], scratch.path());
    assert_parts_hold(&report);
    let backend = report["backend"].as_str().unwrap();
    assert!(
        backend.starts_with("keg's Redis-protocol server at redis://127.0.0.1:"),
        "{backend}"
    );
    assert_eq!(report["sessions"]["simulated_clock"], false);
    let wait = report["work_queue"]["consumer_wait"].as_str().unwrap();
    assert!(wait.starts_with("BRPOP"), "{wait}");
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn redis_url_runs_the_parts_against_redis_and_deletes_its_keys() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let scratch = tempfile::tempdir().unwrap();
    let report = run_quick(&["--redis-url", &url], scratch.path());
    assert_parts_hold(&report);
    assert_eq!(report["sessions"]["simulated_clock"], false);
    // Nothing left on the server: every key the demo wrote is gone.
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let size: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert_eq!(size, 0);
    // --redis-url needs no scratch directory.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn a_server_that_does_not_answer_is_a_clear_error() {
    let output = kvctl_bare(&[
        "demo",
        "types",
        "--quick",
        "--redis-url",
        "redis://127.0.0.1:1/",
    ])
    .output()
    .unwrap();
    assert_no_panic(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("connecting to the server at redis://127.0.0.1:1/"),
        "{stderr}"
    );
}

#[test]
fn the_cache_demo_s_flags_are_refused_with_types() {
    for args in [
        &["demo", "types", "--readers", "3"][..],
        &["demo", "--readers", "3", "types"],
        &[
            "demo",
            "types",
            "--over-resp",
            "--redis-url",
            "redis://127.0.0.1:1/",
        ],
    ] {
        let output = kvctl_bare(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_no_panic(&output.stderr);
    }
}
