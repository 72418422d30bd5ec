//! `kvctl repair` as a real process: what it prints, what it leaves, its exit statuses.

mod kvctl_support;

use kvctl_support::{Sandbox, assert_no_panic, stdout_of};
use predicates::prelude::*;

/// Writes `n` keys through kvctl; returns the store's only segment file.
fn store_with_keys(s: &Sandbox, n: usize) -> std::path::PathBuf {
    for i in 0..n {
        s.kvctl(&[
            "set",
            &format!("k{i}"),
            &format!("value-{i}-of-some-length"),
        ])
        .assert()
        .success();
    }
    s.store().join("0000000001.data")
}

/// Flips a bit of the value of the record that starts at `record` (all records here are
/// the same length).
fn damage_record(segment: &std::path::Path, record: usize) -> u64 {
    let mut bytes = std::fs::read(segment).unwrap();
    let len = keg::format::record_len(2, "value-0-of-some-length".len());
    let start = keg::format::FILE_HEADER_LEN + record * len;
    bytes[start + len - 3] ^= 0x10;
    std::fs::write(segment, bytes).unwrap();
    start as u64
}

#[test]
fn repair_drops_the_damaged_record_says_where_and_leaves_a_clean_store() {
    let s = Sandbox::new();
    let segment = store_with_keys(&s, 6);
    let original = std::fs::read(&segment).unwrap();
    let offset = damage_record(&segment, 2);
    let damaged = std::fs::read(&segment).unwrap();
    s.kvctl(&["get", "k0"]).assert().code(5);

    let out = stdout_of(&mut s.kvctl(&["repair"]));
    assert!(
        out.contains(&format!("offset {offset}")) && out.contains("record checksum mismatch"),
        "{out}"
    );
    assert!(out.contains("1 of 1 segment file rewritten"), "{out}");
    assert!(out.contains("5 records kept"), "{out}");
    assert!(out.contains("lost+found/repair-1"), "{out}");

    s.kvctl(&["check"]).assert().success();
    let keys = stdout_of(&mut s.kvctl(&["keys"]));
    assert_eq!(keys, "k0\nk1\nk3\nk4\nk5\n");
    s.kvctl(&["get", "k3"])
        .assert()
        .success()
        .stdout("value-3-of-some-length\n");
    // The damaged original is kept byte for byte, with a report.
    let kept = s.store().join("lost+found/repair-1");
    assert_eq!(
        std::fs::read(kept.join("0000000001.data")).unwrap(),
        damaged
    );
    assert_ne!(damaged, original);
    let report = std::fs::read_to_string(kept.join("REPORT.txt")).unwrap();
    assert!(report.contains(&format!("offset {offset}")), "{report}");
}

#[test]
fn repair_reports_json_and_a_second_repair_finds_nothing() {
    let s = Sandbox::new();
    let segment = store_with_keys(&s, 4);
    let offset = damage_record(&segment, 1);
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["repair", "--json"]))).unwrap();
    assert_eq!(json["changed"], true);
    assert_eq!(json["segments"], 1);
    assert_eq!(json["records_kept"], 3);
    assert_eq!(json["dropped"][0]["offset"], offset);
    assert_eq!(json["dropped"][0]["records"], 0);
    assert!(
        json["dropped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("checksum")
    );
    assert!(
        json["lost_and_found"]
            .as_str()
            .unwrap()
            .ends_with("repair-1")
    );

    s.kvctl(&["repair"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "nothing to repair: 1 segment, 3 records",
        ));
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&mut s.kvctl(&["repair", "--json"]))).unwrap();
    assert_eq!(json["changed"], false);
    assert!(json["lost_and_found"].is_null());
    assert!(!s.store().join("lost+found/repair-2").exists());
}

#[test]
fn repair_of_a_store_in_use_exits_4_and_changes_nothing() {
    let s = Sandbox::new();
    let segment = store_with_keys(&s, 3);
    damage_record(&segment, 1);
    let before = std::fs::read(&segment).unwrap();
    // Another process holds the store: this test, through the lock file.
    let lock = std::fs::File::open(s.store().join(keg::LOCK_FILE)).unwrap();
    lock.lock().unwrap();
    let out = s.kvctl(&["repair"]).assert().code(4).get_output().clone();
    assert_no_panic(&out.stderr);
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"));
    drop(lock);
    assert_eq!(std::fs::read(&segment).unwrap(), before);
    assert!(!s.store().join("lost+found").exists());
}

#[test]
fn repair_of_a_missing_store_exits_3_and_of_a_future_format_exits_5() {
    let s = Sandbox::new();
    s.kvctl(&["repair"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no store at"));
    assert!(!s.store().exists(), "repair never creates a store");

    let segment = store_with_keys(&s, 2);
    // A header of format version 2, with its checksum right: another format, not damage.
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[4] = 2;
    let crc = crc32(&bytes[..12]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    bytes.truncate(16);
    bytes.extend_from_slice(&[0xAB; 40]);
    std::fs::write(&segment, &bytes).unwrap();
    let out = s.kvctl(&["repair"]).assert().code(5).get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("format version 2"));
    assert_eq!(std::fs::read(&segment).unwrap(), bytes, "nothing changed");
}

/// CRC-32 (IEEE), as the format uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
