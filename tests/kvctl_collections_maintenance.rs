//! check, merge, backup and repair on a store holding hashes, sets, lists and sorted sets: they work on records
//! whatever their kind, and these tests prove it on collection records.

mod kvctl_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use kvctl_support::{Held, Sandbox, snapshot, stdout_of};
use predicates::prelude::*;

/// Small segments, so that the collections spread over several files.
fn open_small(dir: &Path) -> keg::Store {
    keg::Options::new()
        .sync_policy(keg::SyncPolicy::Never)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .open(dir)
        .unwrap()
}

/// Hashes, sets and a list with binary names and a TTL, some members overwritten, removed or left
/// behind by a deleted collection: live and dead element records in several segments.
fn store_with_collection_history(dir: &Path) {
    let store = open_small(dir);
    for round in 0..40u32 {
        let field = format!("f{}", round % 7);
        let value = format!("value of round {round}");
        store
            .hset(b"h\xff", field.as_bytes(), value.as_bytes())
            .unwrap();
        store
            .sadd(b"s", &[format!("m{round}").as_bytes(), b"\x00\x80"])
            .unwrap();
        if round % 3 == 0 {
            store
                .srem(b"s", &[format!("m{}", round / 2).as_bytes()])
                .unwrap();
        }
        store.rpush(b"\x00q", &[value.as_bytes()]).unwrap();
        if round % 4 == 3 {
            store.lpop(b"\x00q", 2).unwrap();
        }
        store
            .zadd(b"z\xff", &[(f64::from(round) / 3.0, field.as_bytes())])
            .unwrap();
        store.hset(b"gone", b"f", value.as_bytes()).unwrap();
        if round % 5 == 4 {
            store.delete(b"gone").unwrap();
        }
    }
    store.set(b"plain", b"text").unwrap();
    assert!(store.expire(b"s", Duration::from_secs(3600)).unwrap());
    store.close().unwrap();
}

#[test]
fn check_and_merge_keep_collections_whole() {
    let s = Sandbox::new();
    store_with_collection_history(&s.store());
    let before = snapshot(&s.store());
    assert!(matches!(before[&b"s"[..]], (Held::Set(_), Some(_))));
    assert!(!before.contains_key(&b"gone"[..]));
    assert!(matches!(&before[&b"\x00q"[..]], (Held::List(values), None) if values.len() == 20));

    let out = stdout_of(&mut s.kvctl(&["check"]));
    assert!(out.contains("every byte valid"), "{out}");
    let segments = out.lines().filter(|l| l.contains(".data")).count();
    assert!(segments > 2, "the history spans several segments: {out}");

    let merged = stdout_of(&mut s.kvctl(&["merge"]));
    assert!(merged.contains("reclaimed"), "{merged}");
    assert_eq!(snapshot(&s.store()), before);
    // The merge wrote hint files with element entries; check verifies each one.
    let out = stdout_of(&mut s.kvctl(&["check"]));
    assert!(out.contains(".hint"), "{out}");
    assert!(!out.contains("BAD HINT"), "{out}");
    assert_eq!(snapshot(&s.store()), before);
}

#[test]
fn backup_copies_collections_and_their_ttls() {
    let s = Sandbox::new();
    store_with_collection_history(&s.store());
    let dest = s.path("copy");
    s.kvctl(&["backup", dest.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("verified"));
    let source = snapshot(&s.store());
    assert_eq!(snapshot(&dest), source);
    assert_eq!(source.len(), 5);
    kvctl_support::kvctl_in(&dest, &["check"])
        .assert()
        .success();
}

/// The server's function libraries live beside the store's files: backup copies them.
#[test]
fn backup_copies_the_server_function_libraries() {
    let s = Sandbox::new();
    store_with_collection_history(&s.store());
    let libraries = b"the bytes of FUNCTION DUMP";
    std::fs::write(s.store().join(keg::server::FUNCTIONS_FILE), libraries).unwrap();
    let dest = s.path("copy");
    s.kvctl(&["backup", dest.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("function libraries"));
    let copied = std::fs::read(dest.join(keg::server::FUNCTIONS_FILE)).unwrap();
    assert_eq!(copied, libraries);
}

/// The data file and offset of the record with sequence number `seq`.
fn record_with_seq(dir: &Path, seq: u64) -> (PathBuf, u64, usize) {
    let mut found = None;
    keg::dump(dir, |r| {
        if r.seq == seq {
            let len = keg::format::record_len(r.key.len(), r.value_len);
            found = Some((r.path.clone(), r.offset, len));
        }
    })
    .unwrap();
    found.expect("a record with that sequence number")
}

#[test]
fn repair_salvages_a_set_around_a_damaged_element_record() {
    let s = Sandbox::new();
    {
        let store = keg::Store::open(s.store()).unwrap();
        store.sadd(b"s", &[b"a"]).unwrap(); // header seq 1, element seq 2
        store.sadd(b"s", &[b"b"]).unwrap(); // element seq 3
        store.sadd(b"s", &[b"c"]).unwrap(); // element seq 4
        store.hset(b"h", b"f", b"v").unwrap(); // seq 5, 6
        store.close().unwrap();
    }
    // Flip the member byte of "b": its record no longer checks out, valid ones follow.
    let (segment, offset, len) = record_with_seq(&s.store(), 3);
    let mut bytes = std::fs::read(&segment).unwrap();
    let last = usize::try_from(offset).unwrap() + len - 1;
    assert_eq!(bytes[last], b'b');
    bytes[last] ^= 0x01;
    std::fs::write(&segment, bytes).unwrap();

    s.kvctl(&["check"])
        .assert()
        .code(5)
        .stdout(predicate::str::contains(format!(
            "CORRUPT at offset {offset}"
        )));
    s.kvctl(&["get", "s"]).assert().code(5);
    let out = stdout_of(&mut s.kvctl(&["repair"]));
    assert!(out.contains(&format!("offset {offset}")), "{out}");
    s.kvctl(&["check"]).assert().success();
    let after = snapshot(&s.store());
    assert_eq!(
        after[&b"s"[..]].0,
        Held::Set(vec![b"a".to_vec(), b"c".to_vec()])
    );
    assert_eq!(
        after[&b"h"[..]].0,
        Held::Hash(vec![(b"f".to_vec(), b"v".to_vec())])
    );
}
