//! `store_model`: a store driven by an arbitrary sequence of operations, with I/O faults
//! injected at arbitrary points, checked against a `BTreeMap` after every step.
//!
//! Input: a policy byte (bit 0: `SyncPolicy::Always`, else `Never`; bit 1: reads through
//! pread; bit 2: every clean close writes an index snapshot, which the next open loads if it
//! still matches), then operations. Each operation is a byte whose low four bits choose it (see
//! `step`) followed by its arguments; missing bytes read as zeros.
//!
//! A fault makes the `n`-th I/O operation from then fail (EIO for an fsync or read, ENOSPC
//! otherwise; with bit 4 of its byte, a failing write first stores half its bytes). The
//! call that meets it must fail with `Error::Io` or `Error::Poisoned` and be all or
//! nothing; a failed fsync of a data segment must poison the store; everything else must
//! answer as the model says; and every reopen must find exactly the model.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use keg::{
    Clock, Error, IoHook, IoOp, ManualClock, MergePolicy, Options, Store, SyncPolicy, WriteBatch,
};

use super::reader::Reader;

const T0: u64 = 1_700_000_000_000;

/// Each key's value and expiry (unix ms, 0 = none).
type State = BTreeMap<Vec<u8>, (Vec<u8>, u64)>;

/// Fails the `n`-th I/O operation after it is armed.
#[derive(Default)]
struct Faults {
    countdown: AtomicUsize,
    torn: AtomicBool,
}

impl IoHook for Faults {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        let hit = self
            .countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            == Ok(1);
        if !hit {
            return Ok(());
        }
        match *op {
            IoOp::SyncFile { .. } | IoOp::SyncDir { .. } | IoOp::Read { .. } => {
                Err(io::Error::from_raw_os_error(5))
            }
            IoOp::Write { path, offset, data } if self.torn.load(Ordering::SeqCst) => {
                let file = std::fs::OpenOptions::new().write(true).open(path)?;
                file.write_all_at(&data[..data.len() / 2], offset)?;
                Err(io::Error::from_raw_os_error(28))
            }
            _ => Err(io::Error::from_raw_os_error(28)),
        }
    }
}

impl Faults {
    fn disarm(&self) {
        self.countdown.store(0, Ordering::SeqCst);
    }
}

/// One operation of the input.
#[derive(Clone, Debug)]
enum Step {
    Set(Vec<u8>, Vec<u8>),
    SetTtl(Vec<u8>, Vec<u8>, u64),
    Delete(Vec<u8>),
    Incr(Vec<u8>, i64),
    Expire(Vec<u8>, u64),
    Persist(Vec<u8>),
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Merge,
    Sync,
    Reopen,
    Advance(u64),
    Fault(usize, bool),
    Purge,
}

fn key(b: u8) -> Vec<u8> {
    format!("k{}", b % 8).into_bytes()
}

fn counter(b: u8) -> Vec<u8> {
    format!("n{}", b % 3).into_bytes()
}

fn any_key(b: u8) -> Vec<u8> {
    if b & 0x80 != 0 { counter(b) } else { key(b) }
}

fn value(r: &mut Reader<'_>, tag: usize) -> Vec<u8> {
    let mut v = format!("v{tag}:").into_bytes();
    v.resize(v.len() + usize::from(r.byte_or_zero()) * 4, b'.');
    v
}

fn step(r: &mut Reader<'_>, tag: usize) -> Option<Step> {
    let b = r.byte()?;
    Some(match b & 0x0f {
        0..=2 => Step::Set(key(r.byte_or_zero()), value(r, tag)),
        3 => {
            let k = key(r.byte_or_zero());
            let v = value(r, tag);
            Step::SetTtl(k, v, u64::from(r.byte_or_zero()) + 1)
        }
        4 => Step::Delete(any_key(r.byte_or_zero())),
        5 => Step::Incr(counter(r.byte_or_zero()), i64::from(r.byte_or_zero() as i8)),
        6 => Step::Expire(any_key(r.byte_or_zero()), u64::from(r.byte_or_zero() % 8)),
        7 => Step::Persist(any_key(r.byte_or_zero())),
        8 => {
            let n = r.byte_or_zero() % 4 + 1;
            let ops = (0..n)
                .map(|_| {
                    let kb = r.byte_or_zero();
                    let v = (kb & 0x80 == 0).then(|| value(r, tag));
                    (key(kb), v)
                })
                .collect();
            Step::Batch(ops)
        }
        9 => Step::Merge,
        10 => Step::Sync,
        11 => Step::Reopen,
        12 => Step::Advance(u64::from(r.byte_or_zero()) * 100),
        13 | 14 => Step::Fault(usize::from(r.byte_or_zero() % 32) + 1, b & 0x10 != 0),
        _ => Step::Purge,
    })
}

/// The live view of the model at `now`.
fn live(state: &State, now: u64) -> State {
    state
        .iter()
        .filter(|(_, (_, e))| *e == 0 || *e > now)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Applies a data step to the model; returns the answer the store must give.
fn apply(state: &mut State, step: &Step, now: u64) -> String {
    let present = |s: &State, k: &[u8]| s.get(k).is_some_and(|(_, e)| *e == 0 || *e > now);
    match step {
        Step::Set(k, v) => {
            state.insert(k.clone(), (v.clone(), 0));
            String::new()
        }
        Step::SetTtl(k, v, secs) => {
            state.insert(k.clone(), (v.clone(), now + secs * 1000));
            String::new()
        }
        Step::Delete(k) => {
            let existed = present(state, k);
            if existed {
                state.remove(k);
            }
            existed.to_string()
        }
        Step::Incr(k, d) => {
            let (old, expiry) = match state.get(k).filter(|_| present(state, k)) {
                Some((v, e)) => (
                    std::str::from_utf8(v)
                        .expect("utf8")
                        .parse::<i64>()
                        .expect("int"),
                    *e,
                ),
                None => (0, 0),
            };
            let new = old + d;
            state.insert(k.clone(), (new.to_string().into_bytes(), expiry));
            new.to_string()
        }
        Step::Expire(k, secs) => {
            let existed = present(state, k);
            if existed {
                if *secs == 0 {
                    state.remove(k);
                } else if let Some(entry) = state.get_mut(k) {
                    entry.1 = now + secs * 1000;
                }
            }
            existed.to_string()
        }
        Step::Persist(k) => {
            let had = present(state, k) && state.get(k).is_some_and(|(_, e)| *e != 0);
            if had && let Some(entry) = state.get_mut(k) {
                entry.1 = 0;
            }
            had.to_string()
        }
        Step::Batch(ops) => {
            for (k, v) in ops {
                match v {
                    Some(v) => {
                        state.insert(k.clone(), (v.clone(), 0));
                    }
                    None if present(state, k) => {
                        state.remove(k);
                    }
                    None => {}
                }
            }
            String::new()
        }
        _ => String::new(),
    }
}

/// Runs a data step on the store; returns its answer in the model's form.
fn perform(store: &Store, step: &Step) -> keg::Result<String> {
    Ok(match step {
        Step::Set(k, v) => store.set(k, v).map(|()| String::new())?,
        Step::SetTtl(k, v, secs) => store
            .set_with_ttl(k, v, Duration::from_secs(*secs))
            .map(|()| String::new())?,
        Step::Delete(k) => store.delete(k)?.to_string(),
        Step::Incr(k, d) => store.incr_by(k, *d)?.to_string(),
        Step::Expire(k, secs) => store.expire(k, Duration::from_secs(*secs))?.to_string(),
        Step::Persist(k) => store.persist(k)?.to_string(),
        Step::Batch(ops) => {
            let mut batch = WriteBatch::new();
            for (k, v) in ops {
                match v {
                    Some(v) => batch.set(k, v),
                    None => batch.delete(k),
                };
            }
            store.write(&batch).map(|()| String::new())?
        }
        Step::Merge => store.merge().map(|_| String::new())?,
        Step::Sync => store.sync().map(|()| String::new())?,
        _ => String::new(),
    })
}

/// The store's live contents, with expiry times (0 = none).
fn contents(store: &Store) -> Result<State, Error> {
    let mut out = State::new();
    for k in store.keys() {
        if let Some(v) = store.get(&k)? {
            out.insert(k.clone(), (v, store.expires_at(&k)?.unwrap_or(0)));
        }
    }
    Ok(out)
}

struct Harness {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    faults: Arc<Faults>,
    policy: SyncPolicy,
    pread: bool,
    snapshots: bool,
}

impl Harness {
    fn options(&self) -> Options {
        Options::new()
            .sync_policy(self.policy)
            .use_mmap(!self.pread)
            .index_snapshot_min_bytes(if self.snapshots { 0 } else { u64::MAX })
            .max_segment_size(keg::MIN_SEGMENT_SIZE)
            .clock(Arc::clone(&self.clock) as Arc<dyn Clock>)
            .expiry_cycle_interval(Duration::ZERO)
            .merge_policy(MergePolicy {
                check_interval: Duration::ZERO,
                ..MergePolicy::default()
            })
            .io_hook(Arc::clone(&self.faults) as Arc<dyn IoHook>)
    }

    /// Opens the store; a fault still armed may fail recovery, after which it is disarmed
    /// and the open retried (it must then succeed).
    fn open(&self) -> Store {
        match self.options().open(self.path()) {
            Ok(store) => store,
            Err(Error::Io { .. }) => {
                self.faults.disarm();
                self.options()
                    .open(self.path())
                    .unwrap_or_else(|e| panic!("open failed without faults: {e}"))
            }
            Err(e) => panic!("open failed: {e}"),
        }
    }

    /// The store's contents; a read that meets the armed fault is retried without it.
    fn read_all(&self, store: &Store) -> State {
        match contents(store) {
            Ok(state) => state,
            Err(Error::Io { .. }) => {
                self.faults.disarm();
                contents(store).unwrap_or_else(|e| panic!("read without faults: {e}"))
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Closes (a failure is allowed only as an injected I/O error) and reopens; the store
    /// must hold exactly the model.
    fn reopen(&self, store: Store, model: &State, why: &str) -> Store {
        if let Err(e) = store.close() {
            assert!(matches!(e, Error::Io { .. }), "close failed with {e:?}");
        }
        let store = self.open();
        let got = self.read_all(&store);
        assert_eq!(
            got,
            live(model, self.clock.now_ms()),
            "contents after {why}"
        );
        store
    }
}

/// Runs the input's operations against a store and the model (see the module docs).
pub fn check_store_model(data: &[u8]) {
    let mut r = Reader::new(data);
    let mode = r.byte_or_zero();
    let harness = Harness {
        dir: tempfile::Builder::new()
            .prefix("keg-fuzz-")
            .tempdir()
            .expect("temp dir"),
        clock: Arc::new(ManualClock::new(T0)),
        faults: Arc::new(Faults::default()),
        policy: if mode & 1 != 0 {
            SyncPolicy::Always
        } else {
            SyncPolicy::Never
        },
        pread: mode & 2 != 0,
        snapshots: mode & 4 != 0,
    };
    let mut store = harness.open();
    let mut model = State::new();
    let mut tag = 0usize;
    while let Some(step) = step(&mut r, tag) {
        tag += 1;
        if tag > 300 {
            break;
        }
        let now = harness.clock.now_ms();
        match &step {
            Step::Reopen => {
                store = harness.reopen(store, &model, "a reopen");
                continue;
            }
            Step::Advance(ms) => {
                harness.clock.advance(Duration::from_millis(*ms));
                continue;
            }
            Step::Fault(n, torn) => {
                harness.faults.torn.store(*torn, Ordering::SeqCst);
                harness.faults.countdown.store(*n, Ordering::SeqCst);
                continue;
            }
            Step::Purge => {
                match store.purge_expired() {
                    Ok(_) => model = live(&model, now),
                    Err(e) => {
                        assert!(
                            matches!(e, Error::Io { .. } | Error::Poisoned { .. }),
                            "{e:?}"
                        );
                        harness.faults.disarm();
                        store = harness.reopen(store, &live(&model, now), "a failed purge");
                        model = live(&model, now);
                    }
                }
                continue;
            }
            _ => {}
        }
        let before = model.clone();
        let mut after = model.clone();
        let answer = apply(&mut after, &step, now);
        match perform(&store, &step) {
            Ok(got) => {
                assert_eq!(got, answer, "{step:?}");
                model = after;
            }
            Err(err) => {
                assert!(
                    matches!(err, Error::Io { .. } | Error::Poisoned { .. }),
                    "{step:?} failed with {err:?}"
                );
                let seen = harness.read_all(&store);
                assert!(
                    seen == live(&before, now) || seen == live(&after, now),
                    "{step:?} failed ({err}) and is half applied"
                );
                if seen != live(&before, now) {
                    model = after;
                }
                let data_fsync = matches!(
                    &err,
                    Error::Io { action: "fsync", path, .. }
                        if path.extension().is_some_and(|e| e == "data") && path.exists()
                );
                if data_fsync {
                    assert!(
                        matches!(store.set(b"probe", b""), Err(Error::Poisoned { .. })),
                        "a failed fsync did not poison the store"
                    );
                }
                if data_fsync || matches!(err, Error::Poisoned { .. }) {
                    harness.faults.disarm();
                    store = harness.reopen(store, &model, "a poisoned store");
                }
            }
        }
    }
    harness.faults.disarm();
    let store = harness.reopen(store, &model, "the last operation");
    drop(store);
}
