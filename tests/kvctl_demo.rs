//! `kvctl demo --quick` as a real process: it runs to completion and its figures are
//! consistent with each other and with what each strategy promises.

mod kvctl_support;

use kvctl_support::{assert_no_panic, kvctl_bare};
use serde_json::Value;

fn u64_of(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

#[test]
fn the_quick_demo_runs_and_its_figures_agree() {
    let scratch = tempfile::tempdir().unwrap();
    let output = kvctl_bare(&["demo", "--quick", "--json", "--scratch-dir"])
        .arg(scratch.path())
        .output()
        .unwrap();
    assert_no_panic(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();

    let strategies = report["strategies"].as_array().unwrap();
    let names: Vec<&str> = strategies
        .iter()
        .map(|s| s["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "uncached",
            "ttl-only",
            "delete-on-write",
            "write-through",
            "versioned-keys"
        ]
    );
    let uncached = &strategies[0];
    let uncached_p50 = u64_of(uncached, "p50_ns");
    assert!(u64_of(uncached, "reads") > 0);
    assert_eq!(u64_of(uncached, "queries"), u64_of(uncached, "reads"));
    assert_eq!(u64_of(uncached, "stale_reads"), 0);
    assert_eq!(u64_of(uncached, "behind_db_reads"), 0);
    assert!(uncached["hit_ratio"].is_null());

    for s in &strategies[1..] {
        let name = s["strategy"].as_str().unwrap();
        let reads = u64_of(s, "reads");
        let queries = u64_of(s, "queries");
        let writes = u64_of(s, "writes");
        let hit_ratio = s["hit_ratio"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&hit_ratio), "{name}: {hit_ratio}");
        // The median read is a hit only when most reads are: below that it is a miss,
        // which costs what an uncached read does, and scheduling noise decides.
        if hit_ratio > 0.75 {
            assert!(
                u64_of(s, "p50_ns") < uncached_p50,
                "{name}: cached p50 not below uncached at hit ratio {hit_ratio}"
            );
        }
        assert!(u64_of(s, "p50_ns") <= u64_of(s, "p99_ns"), "{name}");
        assert_eq!(
            s["queries_saved"].as_i64().unwrap(),
            reads as i64 - queries as i64,
            "{name}"
        );
        assert!(
            u64_of(s, "stale_reads") <= u64_of(s, "behind_db_reads"),
            "{name}"
        );
        // Every read is one hit or one miss; every query is a load or a write-through.
        let counters = &s["counters"];
        let (hits, misses, loads) = (
            u64_of(counters, "hits"),
            u64_of(counters, "misses"),
            u64_of(counters, "loads"),
        );
        assert_eq!(hits + misses, reads, "{name}");
        assert!(
            (hits as f64 / reads as f64 - hit_ratio).abs() < 1e-9,
            "{name}"
        );
        assert!(loads <= misses, "{name}: a load serves at least one miss");
        assert_eq!(u64_of(counters, "load_errors"), 0, "{name}");
        let write_through = if name == "write-through" { writes } else { 0 };
        assert_eq!(queries, loads + write_through, "{name}");
    }
    // A read that starts after a version bump cannot see data from before it.
    assert_eq!(u64_of(&strategies[4], "stale_reads"), 0);

    // The rate-limit demonstration runs on a simulated clock: its figures are exact.
    let scenarios = report["rate_limit"]["scenarios"].as_array().unwrap();
    let burst = &scenarios[1];
    assert_eq!(u64_of(burst, "requests"), 20);
    assert_eq!(u64_of(burst, "fixed_window_allowed"), 20);
    assert_eq!(u64_of(burst, "sliding_window_allowed"), 10);
    assert_eq!(u64_of(&scenarios[0], "fixed_window_allowed"), 30);

    // The scratch directory is gone.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn bad_demo_arguments_are_usage_errors() {
    for args in [
        &["demo", "--readers", "0"][..],
        &["demo", "--quick", "--hot-users", "100000"],
        &["demo", "--only", "memcached"],
        &["demo", "--ttl", "0"],
    ] {
        let output = kvctl_bare(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_no_panic(&output.stderr);
    }
}

#[test]
fn a_server_that_does_not_answer_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let output = kvctl_bare(&["demo", "--quick", "--redis-url", "redis://127.0.0.1:1/"])
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
fn over_resp_runs_the_cache_through_the_redis_crate_against_keg_s_server() {
    let scratch = tempfile::tempdir().unwrap();
    let output = kvctl_bare(&[
        "demo",
        "--quick",
        "--json",
        "--over-resp",
        "--duration",
        "0.3",
        "--only",
        "uncached,versioned-keys",
        "--scratch-dir",
    ])
    .arg(scratch.path())
    .output()
    .unwrap();
    assert_no_panic(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let backend = report["cache_backend"].as_str().unwrap();
    assert!(
        backend.starts_with("keg's Redis-protocol server at redis://127.0.0.1:"),
        "{backend}"
    );
    let strategies = report["strategies"].as_array().unwrap();
    let versioned = &strategies[1];
    assert_eq!(versioned["strategy"], "versioned-keys");
    let counters = &versioned["counters"];
    assert!(u64_of(counters, "hits") > 0, "{versioned}");
    assert_eq!(
        u64_of(counters, "hits") + u64_of(counters, "misses"),
        u64_of(versioned, "reads")
    );
    assert_eq!(u64_of(versioned, "stale_reads"), 0);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn over_resp_and_redis_url_exclude_each_other() {
    let output = kvctl_bare(&["demo", "--over-resp", "--redis-url", "redis://127.0.0.1:1/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
