//! `collection_model`: hashes, sets, lists and sorted sets driven by an arbitrary sequence of
//! operations — with string writes that meet them (WRONGTYPE), expiry, transactions,
//! reopens, merges, crashes inside merges and torn tails — checked against a model
//! (`collection_state.rs`) after every operation.
//!
//! Input: a flags byte, then steps (`collection_ops.rs`). Flags: bit 0 reads through pread
//! instead of mmap; bit 1 checks the whole content after every step (else after reopens,
//! merges, crashes, `CHECK` steps and at the end); bit 2 merges only fragmented segments
//! (`small_file_threshold` 0), so a merge leaves older segments behind; bit 3 caps a merge
//! at two segments' worth of input; bit 4 writes an index snapshot at every clean close
//! (element index included), which the next open loads if it still matches.
//!
//! Every answer must equal the model's (random picks must be possible ones), a failed
//! operation must fail with the model's error and change nothing, a transaction must see
//! its own writes and commit all of them or (when its closure fails) none, and every
//! reopen, merge and crash must leave exactly the model's keys, values and expiry times.
//! The store uses `SyncPolicy::Never` and the smallest segments, so writes rotate segments
//! and merges have work to do. At most `MAX_OPS` operations run per input.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use keg::{
    Clock, Error, IoHook, IoOp, ManualClock, MergePolicy, Options, Store, SyncPolicy, Transaction,
    ValueType,
};

use super::collection_ops::{KEYS, Op, Step, ZSelect, step};
use super::collection_state::{Answer, Entry, Fail, Model, Outcome, Value};
use super::reader::Reader;

/// Most operations one input runs (a transaction counts its operations).
const MAX_OPS: usize = 200;
const T0: u64 = 1_700_000_000_000;

/// Fails every I/O operation from the `n`-th after it is armed, as if the machine stopped
/// there (what was written stays written).
#[derive(Default)]
struct Crash {
    armed: AtomicBool,
    left: AtomicUsize,
}

impl IoHook for Crash {
    fn before(&self, _op: &IoOp<'_>) -> io::Result<()> {
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let left = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match left {
            Ok(_) => Ok(()),
            Err(_) => Err(io::Error::other("simulated crash")),
        }
    }
}

/// Runs `op` on a store or a transaction (the same methods exist on both); answers in the
/// model's form.
macro_rules! perform {
    ($on:expr, $op:expr) => {{
        let on = $on;
        let answer: keg::Result<Answer> = (|| {
            Ok(match $op {
                Op::Set(k, v) => on.set(k, v).map(|()| Answer::Unit)?,
                Op::Get(k) => Answer::Value(on.get(k)?),
                Op::Del(k) => Answer::Bool(on.delete(k)?),
                Op::IncrBy(k, d) => Answer::Int(on.incr_by(k, *d)?),
                Op::Append(k, v) => Answer::Len(on.append(k, v)?),
                Op::Expire(k, ms) => Answer::Bool(on.expire(k, Duration::from_millis(*ms))?),
                Op::Persist(k) => Answer::Bool(on.persist(k)?),
                Op::Inspect(k) => Answer::All(vec![
                    Answer::Type(on.value_type(k)?),
                    Answer::Ttl(on.ttl(k)?),
                    Answer::Bool(on.contains(k)),
                ]),
                Op::HSet(k, pairs) => {
                    let pairs: Vec<(&[u8], &[u8])> =
                        pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
                    Answer::Len(on.hset_many(k, &pairs)?)
                }
                Op::HSetNx(k, f, v) => Answer::Bool(on.hsetnx(k, f, v)?),
                Op::HDel(k, fields) => Answer::Len(on.hdel(k, &refs(fields))?),
                Op::HIncrBy(k, f, d) => Answer::Int(on.hincr_by(k, f, *d)?),
                Op::HIncrByFloat(k, f, text, _) => Answer::Bytes(on.hincr_by_float(k, f, text)?),
                Op::HRead(k, f, g) => Answer::All(vec![
                    Answer::Value(on.hget(k, f)?),
                    Answer::Options(on.hmget(k, &[&f[..], &g[..]])?),
                    Answer::Bool(on.hexists(k, f)?),
                    Answer::Len(on.hlen(k)?),
                    Answer::Len(on.hstrlen(k, f)?),
                ]),
                Op::HRandField(k, count, distinct) => Answer::All(vec![
                    Answer::Sorted(sorted(on.hkeys(k)?)),
                    Answer::Sorted(sorted(on.hvals(k)?)),
                    Answer::Pairs(sorted(on.hgetall(k)?)),
                    Answer::Pairs(on.hrandfield(k, *count, *distinct)?),
                ]),
                Op::SAdd(k, members) => Answer::Len(on.sadd(k, &refs(members))?),
                Op::SRem(k, members) => Answer::Len(on.srem(k, &refs(members))?),
                Op::SPop(k, count) => Answer::Values(on.spop(k, *count)?),
                Op::SRead(k, members) => Answer::All(vec![
                    Answer::Bools(on.smismember(k, &refs(members))?),
                    Answer::Bool(on.sismember(k, members.first().map_or(&[][..], Vec::as_slice))?),
                    Answer::Len(on.scard(k)?),
                    Answer::Sorted(sorted(on.smembers(k)?)),
                ]),
                Op::SRandMember(k, count, distinct) => {
                    Answer::Values(on.srandmember(k, *count, *distinct)?)
                }
                Op::SCombine(how, keys) => Answer::Sorted(sorted(match how {
                    keg::SetCombine::Intersection => on.sinter(&refs(keys))?,
                    keg::SetCombine::Union => on.sunion(&refs(keys))?,
                    keg::SetCombine::Difference => on.sdiff(&refs(keys))?,
                })),
                Op::SStore(dest, how, keys) => Answer::Len(on.sstore(dest, &refs(keys), *how)?),
                Op::SMove(src, dst, m) => Answer::Bool(on.smove(src, dst, m)?),
                Op::Push(k, values, left, only_existing) => {
                    let values = refs(values);
                    Answer::Len(match (left, only_existing) {
                        (true, false) => on.lpush(k, &values)?,
                        (false, false) => on.rpush(k, &values)?,
                        (true, true) => on.lpushx(k, &values)?,
                        (false, true) => on.rpushx(k, &values)?,
                    })
                }
                Op::Pop(k, count, true) => Answer::Values(on.lpop(k, *count)?),
                Op::Pop(k, count, false) => Answer::Values(on.rpop(k, *count)?),
                Op::LSet(k, index, v) => on.lset(k, *index, v).map(|()| Answer::Unit)?,
                Op::LInsert(k, before, pivot, v) => Answer::Int(on.linsert(k, *before, pivot, v)?),
                Op::LRem(k, count, v) => Answer::Len(on.lrem(k, *count, v)?),
                Op::LTrim(k, start, stop) => on.ltrim(k, *start, *stop).map(|()| Answer::Unit)?,
                Op::LMove(src, dst, from_left, to_left) => {
                    Answer::Value(on.lmove(src, dst, *from_left, *to_left)?)
                }
                Op::LRead(k, start, stop, index) => Answer::All(vec![
                    Answer::Values(on.lrange(k, *start, *stop)?),
                    Answer::Value(on.lindex(k, *index)?),
                    Answer::Len(on.llen(k)?),
                ]),
                Op::LPos(k, v, rank, count, max_len) => {
                    Answer::Indexes(on.lpos(k, v, *rank, *count, *max_len)?)
                }
                Op::ZAdd(k, items, options) => {
                    let items: Vec<(f64, &[u8])> =
                        items.iter().map(|(s, m)| (*s, &m[..])).collect();
                    Answer::Len(on.zadd_with(k, &items, *options)?)
                }
                Op::ZIncr(k, m, delta, options) => {
                    Answer::Score(on.zadd_incr(k, m, *delta, *options)?)
                }
                Op::ZRem(k, members) => Answer::Len(on.zrem(k, &refs(members))?),
                Op::ZPop(k, count, false) => Answer::Scored(on.zpop_min(k, *count)?),
                Op::ZPop(k, count, true) => Answer::Scored(on.zpop_max(k, *count)?),
                Op::ZRemRange(k, ZSelect::Rank(start, stop)) => {
                    Answer::Len(on.zrem_range_by_rank(k, *start, *stop)?)
                }
                Op::ZRemRange(k, ZSelect::Score(min, max)) => {
                    Answer::Len(on.zrem_range_by_score(k, *min, *max)?)
                }
                Op::ZRemRange(k, ZSelect::Lex(min, max)) => {
                    Answer::Len(on.zrem_range_by_lex(k, lex(min), lex(max))?)
                }
                Op::ZRange(k, ZSelect::Rank(start, stop), reverse, _, _) => {
                    Answer::Scored(on.zrange(k, *start, *stop, *reverse)?)
                }
                Op::ZRange(k, ZSelect::Score(min, max), reverse, offset, count) => {
                    Answer::Scored(on.zrange_by_score(k, *min, *max, *reverse, *offset, *count)?)
                }
                Op::ZRange(k, ZSelect::Lex(min, max), reverse, offset, count) => Answer::All(vec![
                    Answer::Scored(on.zrange_by_lex(
                        k,
                        lex(min),
                        lex(max),
                        *reverse,
                        *offset,
                        *count,
                    )?),
                    Answer::Len(on.zlexcount(k, lex(min), lex(max))?),
                ]),
                Op::ZRead(k, members, min, max) => {
                    let first = members.first().map_or(&[][..], Vec::as_slice);
                    Answer::All(vec![
                        Answer::Score(on.zscore(k, first)?),
                        Answer::Scores(on.zmscore(k, &refs(members))?),
                        Answer::Rank(on.zrank(k, first, false)?),
                        Answer::Rank(on.zrank(k, first, true)?),
                        Answer::Len(on.zcard(k)?),
                        Answer::Len(on.zcount(k, *min, *max)?),
                    ])
                }
            })
        })();
        answer
    }};
}

/// Reads every key of the pool through a store or a transaction, cross-checking each
/// collection's count against its elements and a sorted set's order, ranks and scores.
macro_rules! read_contents {
    ($on:expr) => {{
        let on = $on;
        let contents: keg::Result<BTreeMap<Vec<u8>, Entry>> = (|| {
            let mut out = BTreeMap::new();
            for k in KEYS {
                let Some(ty) = on.value_type(k)? else {
                    assert!(!on.contains(k), "{k:?} has no type but is there");
                    continue;
                };
                let value = match ty {
                    ValueType::String => Value::Str(on.get(k)?.expect("a string key has a value")),
                    ValueType::Hash => {
                        let all = on.hgetall(k)?;
                        assert_eq!(on.hlen(k)?, all.len(), "HLEN of {k:?}");
                        let map: BTreeMap<_, _> = all.into_iter().collect();
                        assert_eq!(map.len(), on.hlen(k)?, "a field twice in {k:?}");
                        Value::Hash(map)
                    }
                    ValueType::Set => {
                        let all = on.smembers(k)?;
                        assert_eq!(on.scard(k)?, all.len(), "SCARD of {k:?}");
                        let set: std::collections::BTreeSet<_> = all.into_iter().collect();
                        assert_eq!(set.len(), on.scard(k)?, "a member twice in {k:?}");
                        Value::Set(set)
                    }
                    ValueType::List => {
                        let all = on.lrange(k, 0, -1)?;
                        assert_eq!(on.llen(k)?, all.len(), "LLEN of {k:?}");
                        Value::List(all)
                    }
                    ValueType::ZSet => {
                        let all = on.zrange(k, 0, -1, false)?;
                        assert_eq!(on.zcard(k)?, all.len(), "ZCARD of {k:?}");
                        for (rank, (m, s)) in all.iter().enumerate() {
                            assert_eq!(on.zscore(k, m)?, Some(*s), "ZSCORE in {k:?}");
                            assert_eq!(on.zrank(k, m, false)?, Some(rank), "ZRANK in {k:?}");
                        }
                        let in_order = all.windows(2).all(|w| match w {
                            [(ma, sa), (mb, sb)] => (sa, ma) < (sb, mb),
                            _ => true,
                        });
                        assert!(in_order, "{k:?} out of order: {all:?}");
                        Value::ZSet(all.into_iter().collect())
                    }
                    other => panic!("{k:?} has type {other:?}"),
                };
                let expiry = on.expires_at(k)?.unwrap_or(0);
                out.insert(k.to_vec(), Entry { value, expiry });
            }
            Ok(out)
        })();
        contents
    }};
}

fn refs(items: &[Vec<u8>]) -> Vec<&[u8]> {
    items.iter().map(Vec::as_slice).collect()
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn lex(bound: &std::ops::Bound<Vec<u8>>) -> std::ops::Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

fn on_store(store: &Store, op: &Op) -> keg::Result<Answer> {
    perform!(store, op)
}

fn in_transaction(tx: &Transaction<'_>, op: &Op) -> keg::Result<Answer> {
    perform!(tx, op)
}

/// The expected errors in the model's form; any other error is a finding.
fn outcome(op: &Op, result: &keg::Result<Answer>) -> Outcome {
    match result {
        Ok(answer) => Ok(answer.clone()),
        Err(Error::WrongType) => Err(Fail::WrongType),
        Err(Error::NotAnInteger) => Err(Fail::NotAnInteger),
        Err(Error::NotAFloat) => Err(Fail::NotAFloat),
        Err(Error::Overflow) => Err(Fail::Overflow),
        Err(Error::NoSuchKey) => Err(Fail::NoSuchKey),
        Err(Error::IndexOutOfRange) => Err(Fail::IndexOutOfRange),
        Err(Error::InvalidArgument { .. }) => Err(Fail::InvalidArgument),
        Err(e) => panic!("{op:?} failed with {e:?}"),
    }
}

/// Checks `result` of `op` against the model and applies it there if it succeeded.
fn judge(model: &mut Model, op: &Op, now: u64, result: &keg::Result<Answer>, context: &str) {
    let got = outcome(op, result);
    let mut next = model.clone();
    let want = next.apply(op, now, &got);
    assert_eq!(got, want, "{context}: {op:?}");
    if want.is_ok() {
        *model = next;
    }
}

struct Harness {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    crash: Arc<Crash>,
    flags: u8,
}

impl Harness {
    fn options(&self) -> Options {
        let mut merge = MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        };
        if self.flags & 4 != 0 {
            merge.small_file_threshold = 0;
        }
        if self.flags & 8 != 0 {
            merge.max_merge_bytes = 2 * keg::MIN_SEGMENT_SIZE;
        }
        Options::new()
            .sync_policy(SyncPolicy::Never)
            .use_mmap(self.flags & 1 == 0)
            .index_snapshot_min_bytes(if self.flags & 16 != 0 { 0 } else { u64::MAX })
            .max_segment_size(keg::MIN_SEGMENT_SIZE)
            .clock(Arc::clone(&self.clock) as Arc<dyn Clock>)
            .expiry_cycle_interval(Duration::ZERO)
            .merge_policy(merge)
            .io_hook(Arc::clone(&self.crash) as Arc<dyn IoHook>)
    }

    fn open(&self) -> Store {
        self.options()
            .open(self.dir.path())
            .unwrap_or_else(|e| panic!("open failed: {e}"))
    }

    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The store's whole content must be the model's.
    fn check(&self, store: &Store, model: &Model, why: &str) {
        let want = model.live(self.now());
        let got = read_contents!(store).unwrap_or_else(|e| panic!("read after {why}: {e}"));
        assert_eq!(got, want, "contents after {why}");
        let mut keys = store.keys();
        keys.sort();
        let want_keys: Vec<Vec<u8>> = want.into_keys().collect();
        assert_eq!(keys, want_keys, "keys() after {why}");
        assert_eq!(store.len(), keys.len(), "len() after {why}");
    }

    fn reopen(&self, store: Store, model: &Model, why: &str) -> Store {
        store
            .close()
            .unwrap_or_else(|e| panic!("close before {why}: {e}"));
        let store = self.open();
        self.check(&store, model, why);
        store
    }

    fn newest_segment(&self) -> Option<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read store dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "data"))
            .collect();
        files.sort();
        files.pop()
    }
}

/// Appends `junk` (shorter than a record header: a torn write) to `path`.
fn append_torn(path: &Path, junk: &[u8]) {
    let torn = junk
        .get(..junk.len().min(keg::format::RECORD_HEADER_LEN - 1))
        .unwrap_or_default();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open newest segment");
    file.write_all(torn).expect("append torn tail");
}

/// Runs a transaction of `ops`, each checked against a copy of the model inside it;
/// commits the copy if the transaction commits.
fn transaction(store: &Store, model: &mut Model, ops: &[Op], abort: bool, check: bool, now: u64) {
    let mut staged = model.clone();
    let result = store.transaction(|tx| {
        for op in ops {
            if staged.skips(op, now) {
                continue;
            }
            let result = in_transaction(tx, op);
            judge(&mut staged, op, now, &result, "in a transaction");
            if abort {
                result?;
            }
        }
        if check {
            let got = read_contents!(&*tx)?;
            assert_eq!(got, staged.live(now), "contents inside a transaction");
        }
        Ok(())
    });
    match result {
        Ok(()) => *model = staged,
        Err(e) => {
            assert!(
                abort,
                "a transaction that went on past errors failed: {e:?}"
            );
        }
    }
}

/// Runs the input's steps against a store and the model (see the module docs).
pub fn check_collection_model(data: &[u8]) {
    let mut r = Reader::new(data);
    let harness = Harness {
        dir: tempfile::Builder::new()
            .prefix("keg-fuzz-")
            .tempdir()
            .expect("temp dir"),
        clock: Arc::new(ManualClock::new(T0)),
        crash: Arc::new(Crash::default()),
        flags: r.byte_or_zero(),
    };
    let every_step = harness.flags & 2 != 0;
    let mut store = harness.open();
    let mut model = Model::default();
    let mut ops = 0;
    while let Some(step) = step(&mut r) {
        ops += match &step {
            Step::Transaction { ops, .. } => ops.len(),
            _ => 1,
        };
        if ops > MAX_OPS {
            break;
        }
        let now = harness.now();
        match step {
            Step::Op(op) => {
                if !model.skips(&op, now) {
                    judge(&mut model, &op, now, &on_store(&store, &op), "alone");
                }
            }
            Step::Transaction {
                ops,
                abort_on_error,
                check,
            } => transaction(&store, &mut model, &ops, abort_on_error, check, now),
            Step::Reopen => {
                store = harness.reopen(store, &model, "a reopen");
                continue;
            }
            Step::Merge => {
                store
                    .merge()
                    .unwrap_or_else(|e| panic!("merge failed: {e}"));
                harness.check(&store, &model, "a merge");
                continue;
            }
            Step::CrashInMerge(after) => {
                harness.crash.left.store(after, Ordering::SeqCst);
                harness.crash.armed.store(true, Ordering::SeqCst);
                let _ = store.merge();
                drop(store);
                harness.crash.armed.store(false, Ordering::SeqCst);
                store = harness.open();
                harness.check(&store, &model, "a crash in a merge");
                continue;
            }
            Step::TornTail(junk) => {
                drop(store);
                if let Some(newest) = harness.newest_segment() {
                    append_torn(&newest, &junk);
                }
                store = harness.open();
                harness.check(&store, &model, "a torn tail");
                continue;
            }
            Step::Advance(ms) => harness.clock.advance(Duration::from_millis(ms)),
            Step::Purge => {
                store
                    .purge_expired()
                    .unwrap_or_else(|e| panic!("purge failed: {e}"));
                model.purge(now);
            }
            Step::Check => {
                harness.check(&store, &model, "a check step");
                continue;
            }
        }
        if every_step {
            harness.check(&store, &model, "the step");
        }
    }
    harness.check(&store, &model, "the last step");
    store
        .merge()
        .unwrap_or_else(|e| panic!("final merge failed: {e}"));
    harness.check(&store, &model, "the final merge");
    drop(harness.reopen(store, &model, "the final reopen"));
}
