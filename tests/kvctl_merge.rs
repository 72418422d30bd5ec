//! `kvctl merge` reclaims dead bytes and writes hint files; `kvctl check` verifies hint
//! files and exits 7 (recoverable) for a bad one.

mod kvctl_support;

use std::path::Path;

use keg::{MergePolicy, Options, SyncPolicy};
use kvctl_support::{Sandbox, stdout_of};

/// A closed store of several small segments, most of it overwritten.
fn fragmented_store(dir: &Path) {
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(4096)
        .merge_policy(MergePolicy {
            check_interval: std::time::Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap();
    for round in 0..10 {
        for k in 0..20 {
            store
                .set(
                    format!("key:{k}").as_bytes(),
                    format!("{round:0>100}").as_bytes(),
                )
                .unwrap();
        }
    }
    store.close().unwrap();
}

#[test]
fn merge_reclaims_dead_bytes_and_keeps_every_value() {
    let sandbox = Sandbox::new();
    fragmented_store(&sandbox.store());
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut sandbox.kvctl(&["--json", "merge"]))).unwrap();
    let before = json["disk_bytes_before"].as_u64().unwrap();
    let after = json["disk_bytes_after"].as_u64().unwrap();
    assert!(
        after * 3 < before,
        "merge reclaimed too little: {before} -> {after}"
    );
    assert!(json["bytes_reclaimed"].as_u64().unwrap() > 0);
    assert!(!json["merged_segments"].as_array().unwrap().is_empty());
    for k in 0..20 {
        let value = stdout_of(&mut sandbox.kvctl(&["get", &format!("key:{k}")]));
        assert_eq!(value.trim_end(), format!("{:0>100}", 9));
    }
    // Merged outputs come with hint files, and check verifies them.
    let report = stdout_of(&mut sandbox.kvctl(&["check"]));
    assert!(report.contains(".hint"), "{report}");
    assert!(report.contains("every byte valid"), "{report}");
    // Merging converges: the segment that was active during the first merge is sealed by
    // it and may be merged next; soon there is nothing left to do.
    let converged =
        (0..4).any(|_| stdout_of(&mut sandbox.kvctl(&["merge"])).starts_with("nothing to merge"));
    assert!(converged, "merge keeps finding work");
}

#[test]
fn check_exits_7_for_a_bad_hint_file_and_names_it() {
    let sandbox = Sandbox::new();
    fragmented_store(&sandbox.store());
    sandbox.kvctl(&["merge"]).assert().success();
    let hint = std::fs::read_dir(sandbox.store())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "hint"))
        .expect("a hint file");
    let mut bytes = std::fs::read(&hint).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&hint, bytes).unwrap();
    let out = sandbox
        .kvctl(&["check"])
        .assert()
        .code(7)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("BAD HINT"), "{stdout}");
    let name = hint.file_name().unwrap().to_str().unwrap();
    assert!(stderr.contains(name), "{stderr}");
    // Nothing is lost: the data file is scanned instead.
    let value = stdout_of(&mut sandbox.kvctl(&["get", "key:3"]));
    assert_eq!(value.trim_end(), format!("{:0>100}", 9));
}

#[test]
fn merge_of_a_missing_store_fails_and_creates_nothing() {
    let sandbox = Sandbox::new();
    sandbox.kvctl(&["merge"]).assert().code(3);
    assert!(!sandbox.store().exists());
}
