//! `Store::transaction`: reads see the transaction's own writes, everything commits as one
//! unit (also across a crash), a failing closure writes nothing, a failing operation
//! writes nothing of its own, and concurrent transactions never lose an update.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::{Error, ManualClock, Options, SetOptions, Store, SyncPolicy, Ttl};

const T0: u64 = 1_700_000_000_000;

fn open_with_clock(dir: &Path, clock: &Arc<ManualClock>) -> Store {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(Arc::clone(clock) as Arc<dyn keg::Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir)
        .unwrap()
}

#[test]
fn reads_inside_see_earlier_writes_of_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"1").unwrap();
    let seen = store
        .transaction(|tx| {
            assert_eq!(tx.get(b"a")?.as_deref(), Some(&b"1"[..]));
            tx.set(b"a", b"2")?;
            tx.incr_by(b"n", 5)?;
            assert!(tx.delete(b"a")?);
            assert!(!tx.contains(b"a"));
            assert_eq!(tx.get(b"a")?, None);
            tx.append(b"n", b"0")?;
            tx.get(b"n")
        })
        .unwrap();
    assert_eq!(seen.as_deref(), Some(&b"50"[..]));
    assert_eq!(store.get(b"a").unwrap(), None);
    assert_eq!(store.get(b"n").unwrap().as_deref(), Some(&b"50"[..]));
}

#[test]
fn a_closure_that_fails_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"kept", b"v").unwrap();
    let last_seq = store.stats().last_seq;
    let err = store
        .transaction(|tx| -> keg::Result<()> {
            tx.set(b"x", b"1")?;
            tx.delete(b"kept")?;
            Err(Error::InvalidArgument {
                reason: "changed my mind".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert_eq!(store.get(b"x").unwrap(), None);
    assert_eq!(store.get(b"kept").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(store.stats().last_seq, last_seq, "nothing was appended");
}

#[test]
fn a_failing_operation_writes_nothing_and_the_others_commit() {
    // Redis EXEC: a command error does not roll back the other commands.
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"text", b"hello").unwrap();
    store
        .transaction(|tx| {
            tx.set(b"before", b"1")?;
            assert!(matches!(tx.incr(b"text"), Err(Error::NotAnInteger)));
            assert_eq!(tx.get(b"text")?.as_deref(), Some(&b"hello"[..]));
            tx.set(b"after", b"2")?;
            Ok(())
        })
        .unwrap();
    assert_eq!(store.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(store.get(b"text").unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(store.get(b"after").unwrap().as_deref(), Some(&b"2"[..]));
}

#[test]
fn writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = common::open_fast(dir.path());
        store
            .transaction(|tx| {
                for i in 0..100u32 {
                    tx.set(&i.to_be_bytes(), b"v")?;
                }
                Ok(())
            })
            .unwrap();
        store.close().unwrap();
    }
    let store = common::open_fast(dir.path());
    assert_eq!(store.len(), 100);
}

#[test]
fn a_torn_transaction_is_dropped_whole_at_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let before;
    {
        let store = common::open_fast(dir.path());
        store.set(b"earlier", b"kept").unwrap();
        before = std::fs::metadata(common::newest_segment(dir.path()))
            .unwrap()
            .len();
        store
            .transaction(|tx| {
                for i in 0..20u32 {
                    tx.set(format!("k{i}").as_bytes(), b"value")?;
                }
                Ok(())
            })
            .unwrap();
        store.close().unwrap();
    }
    let file = common::newest_segment(dir.path());
    let after = std::fs::metadata(&file).unwrap().len();
    // Cut inside the transaction's records at several points, as a crash could.
    for cut in [before + 1, (before + after) / 2, after - 1] {
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "data") {
                std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
            }
        }
        let torn = copy.path().join(file.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&torn)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let store = common::open_fast(copy.path());
        assert_eq!(
            store.get(b"earlier").unwrap().as_deref(),
            Some(&b"kept"[..])
        );
        assert_eq!(
            store.len(),
            1,
            "cut at {cut}: part of the transaction survived"
        );
    }
}

#[test]
fn the_store_cannot_be_written_from_inside_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    let handle = store.clone();
    store
        .transaction(|tx| {
            assert!(matches!(
                handle.set(b"k", b"v"),
                Err(Error::InvalidArgument { .. })
            ));
            assert!(matches!(
                handle.transaction(|_| Ok(())),
                Err(Error::InvalidArgument { .. })
            ));
            // Reads of the store itself work, and see the state before the transaction.
            tx.set(b"k", b"staged")?;
            assert_eq!(handle.get(b"k")?, None);
            Ok(())
        })
        .unwrap();
    assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"staged"[..]));
    // And after it, writing works again.
    store.set(b"k2", b"v").unwrap();
}

#[test]
fn ttls_inside_are_counted_from_one_instant_and_kept_by_set_with_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open_with_clock(dir.path(), &clock);
    store
        .set_with_ttl(b"session", b"s", Duration::from_secs(10))
        .unwrap();
    store
        .transaction(|tx| {
            assert_eq!(tx.now_ms(), T0);
            let (value, expiry) = tx.get_with_expiry(b"session")?.unwrap();
            assert_eq!(expiry, Some(T0 + 10_000));
            // A rename: the new key keeps the old one's expiry.
            tx.set_with_expiry(b"session:renamed", &value, expiry)?;
            tx.delete(b"session")?;
            assert_eq!(
                tx.ttl(b"session:renamed")?,
                Ttl::ExpiresIn(Duration::from_secs(10))
            );
            assert_eq!(tx.ttl(b"session")?, Ttl::Missing);
            tx.set_with(
                b"plain",
                b"p",
                SetOptions::new().ttl(Duration::from_secs(5)),
            )?;
            assert_eq!(tx.expires_at(b"plain")?, Some(T0 + 5_000));
            // An expiry in the past deletes.
            tx.set_with_expiry(b"gone", b"g", Some(T0 - 1))?;
            assert!(!tx.contains(b"gone"));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        store.expires_at(b"session:renamed").unwrap(),
        Some(T0 + 10_000)
    );
    assert_eq!(store.get(b"session").unwrap(), None);
    clock.advance(Duration::from_secs(10));
    assert_eq!(store.get(b"session:renamed").unwrap(), None);
}

/// KEYS and DBSIZE inside MULTI count on these: they once read the committed store only.
#[test]
fn keys_and_len_inside_see_the_transactions_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open_with_clock(dir.path(), &clock);
    store.set(b"kept", b"1").unwrap();
    store.set(b"deleted", b"2").unwrap();
    store
        .set_with_ttl(b"expiring", b"3", Duration::from_secs(1))
        .unwrap();
    store.rpush(b"list", &[b"a"]).unwrap();
    clock.advance(Duration::from_secs(2));
    store
        .transaction(|tx| {
            assert_eq!(tx.len(), 3);
            tx.delete(b"deleted")?;
            tx.set(b"created", b"4")?;
            tx.set(b"created", b"5")?;
            tx.set(b"kept", b"6")?;
            // Written and deleted again inside: not there.
            tx.set(b"fleeting", b"7")?;
            tx.delete(b"fleeting")?;
            // Brought back by this transaction after it expired.
            tx.set(b"expiring", b"8")?;
            tx.rpush(b"list2", &[b"b"])?;
            let mut keys = tx.keys();
            keys.sort();
            let want: Vec<&[u8]> = vec![b"created", b"expiring", b"kept", b"list", b"list2"];
            assert_eq!(keys, want);
            assert_eq!(tx.len(), 5);
            assert!(!tx.is_empty());
            Ok(())
        })
        .unwrap();
    assert_eq!(store.len(), 5);
}

/// A scan inside a transaction sees its writes: every key present as the transaction sees
/// it comes back exactly once over the pages, keys it deleted do not (SCAN inside MULTI;
/// it used to see the store as before the transaction).
#[test]
fn a_scan_inside_sees_the_transactions_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open_with_clock(dir.path(), &clock);
    for i in 0..200 {
        store.set(format!("old{i}").as_bytes(), b"v").unwrap();
    }
    store
        .transaction(|tx| {
            for i in 0..100 {
                tx.delete(format!("old{i}").as_bytes())?;
                tx.set(format!("new{i}").as_bytes(), b"v")?;
            }
            tx.rpush(b"list", &[b"a"])?;
            tx.set(b"fleeting", b"v")?;
            tx.delete(b"fleeting")?;
            for count in [1, 7, 1000] {
                let mut seen = Vec::new();
                let mut cursor = 0;
                loop {
                    let page = tx.scan(cursor, count);
                    seen.extend(page.keys);
                    cursor = page.cursor;
                    if cursor == 0 {
                        break;
                    }
                }
                seen.sort();
                let mut want = tx.keys();
                want.sort();
                assert_eq!(want.len(), 201);
                assert_eq!(seen, want, "pages of {count}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn concurrent_transactions_never_lose_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"a", b"1000").unwrap();
    store.set(b"b", b"0").unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    store
                        .transaction(|tx| {
                            // Read-modify-write by hand: only safe because nothing else
                            // writes between the read and the write.
                            let a: i64 = std::str::from_utf8(&tx.get(b"a")?.unwrap())
                                .unwrap()
                                .parse()
                                .unwrap();
                            tx.set(b"a", (a - 1).to_string().as_bytes())?;
                            tx.incr(b"b")?;
                            Ok(())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.get(b"a").unwrap().as_deref(), Some(&b"0"[..]));
    assert_eq!(store.get(b"b").unwrap().as_deref(), Some(&b"1000"[..]));
}

#[test]
fn durable_under_always_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = Options::new()
        .sync_policy(SyncPolicy::Always)
        .open(dir.path())
        .unwrap();
    let fsyncs = store.stats().fsyncs;
    store.transaction(|tx| tx.set(b"k", b"v")).unwrap();
    assert!(store.stats().fsyncs > fsyncs, "the commit was fsynced");
    // A transaction that writes nothing does not fsync.
    let fsyncs = store.stats().fsyncs;
    store.transaction(|tx| tx.get(b"k")).unwrap();
    assert_eq!(store.stats().fsyncs, fsyncs);
}

/// A job that fails after staging records leaves nothing behind, also once the transaction
/// indexes its staged keys (beyond 16 records): later reads in the same transaction see
/// neither the failed job's keys nor another key's value in their place.
#[test]
fn a_failed_batch_inside_a_long_transaction_leaves_no_trace_in_its_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = keg::Store::open(dir.path()).unwrap();
    store
        .transaction(|tx| {
            for i in 0..20 {
                tx.set(format!("pre{i}").as_bytes(), b"p")?;
            }
            let mut batch = keg::WriteBatch::new();
            for i in 0..20 {
                batch.set(format!("k{i}").as_bytes(), b"batch");
            }
            // Reads the staged state, so the index now covers the batch's records...
            batch.delete(b"pre0");
            // ...and then the batch fails: its TTL cannot be represented.
            batch.set_with_ttl(b"late", b"x", std::time::Duration::MAX);
            assert!(tx.write(&batch).is_err());
            for i in 0..20 {
                tx.set(format!("y{i}").as_bytes(), format!("y{i}").as_bytes())?;
            }
            for i in 0..20 {
                assert_eq!(tx.get(format!("k{i}").as_bytes())?, None, "k{i}");
                assert_eq!(
                    tx.get(format!("y{i}").as_bytes())?,
                    Some(format!("y{i}").into_bytes())
                );
            }
            assert_eq!(tx.get(b"pre0")?, Some(b"p".to_vec()));
            Ok(())
        })
        .unwrap();
    assert_eq!(store.get(b"k0").unwrap(), None);
    assert_eq!(store.get(b"pre0").unwrap().as_deref(), Some(&b"p"[..]));
}

/// A key written many times in one transaction (a pipeline of SETs or INCRs on one key, as
/// the server runs it) is appended once, with its last value: the states in between are
/// never visible, to readers or after a crash.
#[test]
fn a_key_written_many_times_in_one_transaction_is_appended_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.set(b"other", b"x").unwrap();
    let before = store.stats().disk_bytes;
    store
        .transaction(|tx| {
            for i in 0..100u32 {
                tx.set(b"k", &i.to_le_bytes())?;
            }
            tx.incr_by(b"n", 1)?;
            tx.incr_by(b"n", 2)?;
            tx.delete(b"other")?;
            tx.set(b"other", b"y")?;
            tx.delete(b"k")?;
            tx.set(b"k", b"last")?;
            Ok(())
        })
        .unwrap();
    let appended = store.stats().disk_bytes - before;
    let record = |key: usize, value: usize| keg::format::record_len(key, value) as u64;
    assert_eq!(appended, record(1, 4) + record(1, 1) + record(5, 1));
    assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"last"[..]));
    drop(store);
    let store = common::open_fast(dir.path());
    assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"last"[..]));
    assert_eq!(store.get(b"n").unwrap().as_deref(), Some(&b"3"[..]));
    assert_eq!(store.get(b"other").unwrap().as_deref(), Some(&b"y"[..]));
}

/// A new collection's generation is the sequence number its header is predicted to get
/// from its place in the transaction, so a commit that writes a header must not drop the
/// superseded string records before it: the header would get a smaller sequence number than
/// its generation, and a later collection of the same key could be given that generation
/// again — and see the old collection's members.
#[test]
fn a_collection_recreated_after_expiry_does_not_see_the_old_members() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = open_with_clock(dir.path(), &clock);
    store
        .transaction(|tx| {
            // Four writes of one key, then a hash with a TTL: staged records 0-3, the
            // header at 4 (its generation), the field at 5, the header with its TTL at 6.
            for i in 0..4u8 {
                tx.set(b"x", &[i])?;
            }
            tx.hset(b"h", b"old", b"1")?;
            tx.expire(b"h", Duration::from_secs(1))?;
            Ok(())
        })
        .unwrap();
    clock.advance(Duration::from_secs(2));
    store
        .transaction(|tx| {
            tx.hset(b"h", b"new", b"2")?;
            Ok(())
        })
        .unwrap();
    let only_new = vec![(b"new".to_vec(), b"2".to_vec())];
    assert_eq!(store.hgetall(b"h").unwrap(), only_new);
    // Recovery rebuilds members from element records by generation: an old member under a
    // repeated generation would come back here.
    drop(store);
    let store = open_with_clock(dir.path(), &clock);
    assert_eq!(store.hgetall(b"h").unwrap(), only_new);
}

#[test]
fn a_collection_edited_earlier_in_the_transaction_keeps_its_type_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_fast(dir.path());
    store.rpush(b"l", &[b"a", b"b", b"c"]).unwrap();
    store
        .transaction(|tx| {
            // The first pop counts the committed list; the next edits find it through that
            // count, type included.
            assert_eq!(tx.lpop(b"l", 1)?, vec![b"a".to_vec()]);
            assert!(matches!(tx.sadd(b"l", &[b"m"]), Err(Error::WrongType)));
            assert!(matches!(tx.hset(b"l", b"f", b"v"), Err(Error::WrongType)));
            assert_eq!(tx.rpush(b"l", &[b"d"])?, 3);
            assert_eq!(
                tx.lrange(b"l", 0, -1)?,
                vec![b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]
            );
            // A record of the key itself replaces the collection: later edits see that.
            tx.set(b"l", b"string")?;
            assert!(matches!(tx.lpop(b"l", 1), Err(Error::WrongType)));
            tx.delete(b"l")?;
            assert_eq!(tx.rpush(b"l", &[b"new"])?, 1);
            assert_eq!(tx.lrange(b"l", 0, -1)?, vec![b"new".to_vec()]);
            Ok(())
        })
        .unwrap();
    assert_eq!(store.lrange(b"l", 0, -1).unwrap(), vec![b"new".to_vec()]);
}
