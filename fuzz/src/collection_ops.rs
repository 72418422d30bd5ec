//! The input format of `collection_model`: bytes decoded into collection operations, string
//! steps that meet collections (WRONGTYPE), transactions of them, and the store-level steps
//! around them (reopen, merge, crashes, clock).
//!
//! Each step is an op byte (`code`, taken modulo [`code::COUNT`]) followed by its
//! arguments, one byte each; missing bytes read as zeros, so every input means something.
//! Arguments pick from small pools — four keys, eight members, sixteen values, scores in
//! halves between -8 and 8 — so that operations meet each other's keys and elements.

use std::ops::Bound;

use keg::{SetCombine, ZAddOptions};

use super::reader::Reader;

/// Op bytes of `collection_model` (each taken modulo [`COUNT`](code::COUNT)), with the
/// argument bytes that follow each. "key", "member", "value", "count", "index", "score",
/// "bound" and "flags" are one byte each (see the pools in `collection_ops.rs`); "n × x" is
/// a byte `n` (1 to 3) and then `n` of x.
pub mod code {
    /// SET: key, value.
    pub const SET: u8 = 0;
    /// GET: key.
    pub const GET: u8 = 1;
    /// DEL: key.
    pub const DEL: u8 = 2;
    /// INCRBY: key, delta (i8; `0x7f` is `i64::MAX`, `0x80` is `i64::MIN`).
    pub const INCRBY: u8 = 3;
    /// APPEND: key, value.
    pub const APPEND: u8 = 4;
    /// PEXPIRE: key, ms / 10 (0 deletes the key).
    pub const EXPIRE: u8 = 5;
    /// PERSIST: key.
    pub const PERSIST: u8 = 6;
    /// TYPE, TTL and EXISTS: key.
    pub const INSPECT: u8 = 7;
    /// HSET: key, n × (member, value).
    pub const HSET: u8 = 8;
    /// HSETNX: key, member, value.
    pub const HSETNX: u8 = 9;
    /// HDEL: key, n × member.
    pub const HDEL: u8 = 10;
    /// HINCRBY: key, member, delta (as INCRBY).
    pub const HINCRBY: u8 = 11;
    /// HINCRBYFLOAT: key, member, score (as decimal text; `0xff` is the text `abc`).
    pub const HINCRBYFLOAT: u8 = 12;
    /// HGET, HMGET, HEXISTS, HLEN, HSTRLEN: key, member, member.
    pub const HREAD: u8 = 13;
    /// HKEYS, HVALS, HGETALL, HRANDFIELD: key, count, flags (bit 0: with repetition).
    pub const HRANDFIELD: u8 = 14;
    /// SADD: key, n × member.
    pub const SADD: u8 = 15;
    /// SREM: key, n × member.
    pub const SREM: u8 = 16;
    /// SPOP: key, count.
    pub const SPOP: u8 = 17;
    /// SMISMEMBER, SISMEMBER, SCARD, SMEMBERS: key, n × member.
    pub const SREAD: u8 = 18;
    /// SRANDMEMBER: key, count, flags (bit 0: with repetition).
    pub const SRANDMEMBER: u8 = 19;
    /// SINTER, SUNION, SDIFF: how (mod 3), n × key.
    pub const SCOMBINE: u8 = 20;
    /// SINTERSTORE, SUNIONSTORE, SDIFFSTORE: destination key, how, n × key.
    pub const SSTORE: u8 = 21;
    /// SMOVE: source key, destination key, member.
    pub const SMOVE: u8 = 22;
    /// LPUSH, RPUSH, LPUSHX, RPUSHX: key, flags (bit 0: head, bit 1: only an existing
    /// list), n × value.
    pub const PUSH: u8 = 23;
    /// LPOP, RPOP: key, count, flags (bit 0: head).
    pub const POP: u8 = 24;
    /// LSET: key, index, value.
    pub const LSET: u8 = 25;
    /// LINSERT: key, flags (bit 0: before), pivot value, value.
    pub const LINSERT: u8 = 26;
    /// LREM: key, index (as the count), value.
    pub const LREM: u8 = 27;
    /// LTRIM: key, index, index.
    pub const LTRIM: u8 = 28;
    /// LMOVE: source key, destination key, flags (bit 0: from the head, bit 1: to the head).
    pub const LMOVE: u8 = 29;
    /// LRANGE, LINDEX, LLEN: key, index, index, index.
    pub const LREAD: u8 = 30;
    /// LPOS: key, value, rank (mod 7, minus 3; 0 is refused), count (mod 4), max length
    /// (mod 6).
    pub const LPOS: u8 = 31;
    /// ZADD: key, flags (ZADD's conditions, see `zadd_options`), n × (score, member).
    pub const ZADD: u8 = 32;
    /// ZADD INCR (ZINCRBY without conditions): key, flags, score, member.
    pub const ZINCRBY: u8 = 33;
    /// ZREM: key, n × member.
    pub const ZREM: u8 = 34;
    /// ZPOPMIN, ZPOPMAX: key, count, flags (bit 0: max).
    pub const ZPOP: u8 = 35;
    /// ZREMRANGEBYRANK, BYSCORE, BYLEX: key, by (mod 3), then two indexes, two score
    /// bounds or two lex bounds.
    pub const ZREMRANGE: u8 = 36;
    /// ZRANGE by rank, ZRANGEBYSCORE, ZRANGEBYLEX (with ZLEXCOUNT): key, by (mod 3), flags
    /// (bit 0: reverse), two indexes or bounds, then for scores and lex an offset (mod 4)
    /// and a count (mod 5, 4 = no limit).
    pub const ZRANGE: u8 = 37;
    /// ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCARD, ZCOUNT: key, n × member, two score bounds.
    pub const ZREAD: u8 = 38;
    /// A transaction: flags (bits 0-2: ops - 1; bit 3: abort at the first error, else go
    /// on past errors as EXEC does; bit 4: check its whole content before committing),
    /// then that many data ops (their op bytes taken modulo [`DATA_OPS`]).
    pub const TRANSACTION: u8 = 39;
    /// Close and open again.
    pub const REOPEN: u8 = 40;
    /// `Store::merge`.
    pub const MERGE: u8 = 41;
    /// A merge during which I/O fails from the n-th operation on (one byte n), then drop,
    /// then open again.
    pub const CRASH_IN_MERGE: u8 = 42;
    /// Drop the store, append a torn record to the newest segment, open again: a byte `n`
    /// (mod 24), then `n` bytes.
    pub const TORN_TAIL: u8 = 43;
    /// Advance the clock: ms / 10.
    pub const ADVANCE: u8 = 44;
    /// `Store::purge_expired`.
    pub const PURGE: u8 = 45;
    /// Check the whole content against the model.
    pub const CHECK: u8 = 46;
    /// Number of op codes.
    pub const COUNT: u8 = 47;
    /// Data ops (the ones a transaction can hold) are the codes below this.
    pub const DATA_OPS: u8 = 39;
}

/// The keys every op works on.
pub(crate) const KEYS: [&[u8]; 4] = [b"k0", b"k1", b"k2", b"k3"];

/// A hash field, set member or sorted-set member.
pub(crate) fn member(b: u8) -> Vec<u8> {
    match b % 8 {
        0 => Vec::new(),
        7 => vec![b'm'; 120],
        n => vec![b'a' + n - 1],
    }
}

/// A string value, hash value or list element: numbers in the forms INCRBY and
/// INCRBYFLOAT tell apart, words, and a long value that fills segments.
pub(crate) fn value(b: u8) -> Vec<u8> {
    const POOL: [&[u8]; 15] = [
        b"a",
        b"b",
        b"c",
        b"",
        b"0",
        b"1",
        b"-2",
        b"15",
        b"007",
        b"1.5",
        b"-0.5",
        b"x y",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"a",
    ];
    match POOL.get(usize::from(b % 16)) {
        Some(v) => v.to_vec(),
        None => vec![b'z'; 300],
    }
}

fn key(b: u8) -> Vec<u8> {
    format!("k{}", b % 4).into_bytes()
}

/// A small index (-4 to 4), or the extremes of `i64`.
fn index(b: u8) -> i64 {
    match b {
        0xff => i64::MAX,
        0xfe => i64::MIN,
        _ => i64::from(b % 9) - 4,
    }
}

/// A delta for INCRBY and HINCRBY: small, or one that overflows.
fn delta(b: u8) -> i64 {
    match b {
        0x7f => i64::MAX,
        0x80 => i64::MIN,
        _ => i64::from(b as i8 % 8),
    }
}

/// A score: a half between -8 and 8, exact in an `f64` and in any sum the ops make.
pub(crate) fn score(b: u8) -> f64 {
    (f64::from(b % 33) - 16.0) / 2.0
}

fn score_bound(b: u8) -> Bound<f64> {
    match b % 4 {
        0 => Bound::Unbounded,
        1 => Bound::Excluded(score(b / 4)),
        _ => Bound::Included(score(b / 4)),
    }
}

fn lex_bound(b: u8) -> Bound<Vec<u8>> {
    match b % 3 {
        0 => Bound::Unbounded,
        1 => Bound::Excluded(member(b / 3)),
        _ => Bound::Included(member(b / 3)),
    }
}

fn combine(b: u8) -> SetCombine {
    match b % 3 {
        0 => SetCombine::Intersection,
        1 => SetCombine::Union,
        _ => SetCombine::Difference,
    }
}

/// ZADD's conditions from a flags byte: bits 0-4 are NX, XX, GT, LT, CH; conflicting
/// combinations are kept (the store must refuse them).
fn zadd_options(b: u8) -> ZAddOptions {
    ZAddOptions {
        only_new: b & 1 != 0,
        only_existing: b & 2 != 0,
        only_greater: b & 4 != 0,
        only_less: b & 8 != 0,
        count_changed: b & 16 != 0,
    }
}

/// How a sorted-set range or removal selects members.
#[derive(Clone, Debug)]
pub(crate) enum ZSelect {
    Rank(i64, i64),
    Score(Bound<f64>, Bound<f64>),
    Lex(Bound<Vec<u8>>, Bound<Vec<u8>>),
}

/// One data operation: what a store or a transaction runs.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Set(Vec<u8>, Vec<u8>),
    Get(Vec<u8>),
    Del(Vec<u8>),
    IncrBy(Vec<u8>, i64),
    Append(Vec<u8>, Vec<u8>),
    /// Expire after this many ms (0 deletes).
    Expire(Vec<u8>, u64),
    Persist(Vec<u8>),
    Inspect(Vec<u8>),
    HSet(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>),
    HSetNx(Vec<u8>, Vec<u8>, Vec<u8>),
    HDel(Vec<u8>, Vec<Vec<u8>>),
    HIncrBy(Vec<u8>, Vec<u8>, i64),
    /// The delta as text, and as a number when it is one.
    HIncrByFloat(Vec<u8>, Vec<u8>, Vec<u8>, Option<f64>),
    HRead(Vec<u8>, Vec<u8>, Vec<u8>),
    /// Count, distinct.
    HRandField(Vec<u8>, usize, bool),
    SAdd(Vec<u8>, Vec<Vec<u8>>),
    SRem(Vec<u8>, Vec<Vec<u8>>),
    SPop(Vec<u8>, usize),
    SRead(Vec<u8>, Vec<Vec<u8>>),
    /// Count, distinct.
    SRandMember(Vec<u8>, usize, bool),
    SCombine(SetCombine, Vec<Vec<u8>>),
    SStore(Vec<u8>, SetCombine, Vec<Vec<u8>>),
    SMove(Vec<u8>, Vec<u8>, Vec<u8>),
    /// Values, at the head, only onto an existing list.
    Push(Vec<u8>, Vec<Vec<u8>>, bool, bool),
    /// Count, from the head.
    Pop(Vec<u8>, usize, bool),
    LSet(Vec<u8>, i64, Vec<u8>),
    /// Before, pivot, value.
    LInsert(Vec<u8>, bool, Vec<u8>, Vec<u8>),
    LRem(Vec<u8>, i64, Vec<u8>),
    LTrim(Vec<u8>, i64, i64),
    /// Source, destination, from the head, to the head.
    LMove(Vec<u8>, Vec<u8>, bool, bool),
    /// LRANGE start stop, LINDEX index.
    LRead(Vec<u8>, i64, i64, i64),
    /// Value, rank, count, max length.
    LPos(Vec<u8>, Vec<u8>, i64, usize, usize),
    ZAdd(Vec<u8>, Vec<(f64, Vec<u8>)>, ZAddOptions),
    ZIncr(Vec<u8>, Vec<u8>, f64, ZAddOptions),
    ZRem(Vec<u8>, Vec<Vec<u8>>),
    /// Count, highest first.
    ZPop(Vec<u8>, usize, bool),
    ZRemRange(Vec<u8>, ZSelect),
    /// Selection, reverse, offset, count (the last two for scores and lex only).
    ZRange(Vec<u8>, ZSelect, bool, usize, Option<usize>),
    /// Members, then ZCOUNT's bounds.
    ZRead(Vec<u8>, Vec<Vec<u8>>, Bound<f64>, Bound<f64>),
}

/// One step of the input.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Op(Op),
    Transaction {
        ops: Vec<Op>,
        abort_on_error: bool,
        check: bool,
    },
    Reopen,
    Merge,
    /// I/O fails from this operation of the merge on.
    CrashInMerge(usize),
    TornTail(Vec<u8>),
    Advance(u64),
    Purge,
    Check,
}

/// One to three of `item`.
fn some<T>(r: &mut Reader<'_>, mut item: impl FnMut(&mut Reader<'_>) -> T) -> Vec<T> {
    let n = r.byte_or_zero() % 3 + 1;
    (0..n).map(|_| item(r)).collect()
}

fn members(r: &mut Reader<'_>) -> Vec<Vec<u8>> {
    some(r, |r| member(r.byte_or_zero()))
}

fn zselect(r: &mut Reader<'_>, by: u8) -> ZSelect {
    let (a, b) = (r.byte_or_zero(), r.byte_or_zero());
    match by % 3 {
        0 => ZSelect::Rank(index(a), index(b)),
        1 => ZSelect::Score(score_bound(a), score_bound(b)),
        _ => ZSelect::Lex(lex_bound(a), lex_bound(b)),
    }
}

/// Decodes the data op `code` (below [`code::DATA_OPS`]) and its arguments.
fn data_op(r: &mut Reader<'_>, op: u8) -> Op {
    let first = r.byte_or_zero();
    let k = key(first);
    let mut byte = || r.byte_or_zero();
    match op {
        code::SET => Op::Set(k, value(byte())),
        code::GET => Op::Get(k),
        code::DEL => Op::Del(k),
        code::INCRBY => Op::IncrBy(k, delta(byte())),
        code::APPEND => Op::Append(k, value(byte())),
        code::EXPIRE => Op::Expire(k, u64::from(byte()) * 10),
        code::PERSIST => Op::Persist(k),
        code::INSPECT => Op::Inspect(k),
        code::HSET => Op::HSet(
            k,
            some(r, |r| (member(r.byte_or_zero()), value(r.byte_or_zero()))),
        ),
        code::HSETNX => Op::HSetNx(k, member(byte()), value(byte())),
        code::HDEL => Op::HDel(k, members(r)),
        code::HINCRBY => Op::HIncrBy(k, member(byte()), delta(byte())),
        code::HINCRBYFLOAT => {
            let f = member(byte());
            match byte() {
                0xff => Op::HIncrByFloat(k, f, b"abc".to_vec(), None),
                b => {
                    let d = score(b);
                    Op::HIncrByFloat(k, f, d.to_string().into_bytes(), Some(d))
                }
            }
        }
        code::HREAD => Op::HRead(k, member(byte()), member(byte())),
        code::HRANDFIELD => Op::HRandField(k, usize::from(byte() % 6), byte() & 1 == 0),
        code::SADD => Op::SAdd(k, members(r)),
        code::SREM => Op::SRem(k, members(r)),
        code::SPOP => Op::SPop(k, usize::from(byte() % 5)),
        code::SREAD => Op::SRead(k, members(r)),
        code::SRANDMEMBER => Op::SRandMember(k, usize::from(byte() % 6), byte() & 1 == 0),
        code::SCOMBINE => Op::SCombine(combine(first), some(r, |r| key(r.byte_or_zero()))),
        code::SSTORE => {
            let how = combine(byte());
            Op::SStore(k, how, some(r, |r| key(r.byte_or_zero())))
        }
        code::SMOVE => Op::SMove(k, key(byte()), member(byte())),
        code::PUSH => {
            let flags = byte();
            Op::Push(
                k,
                some(r, |r| value(r.byte_or_zero())),
                flags & 1 != 0,
                flags & 2 != 0,
            )
        }
        code::POP => Op::Pop(k, usize::from(byte() % 5), byte() & 1 != 0),
        code::LSET => Op::LSet(k, index(byte()), value(byte())),
        code::LINSERT => Op::LInsert(k, byte() & 1 != 0, value(byte()), value(byte())),
        code::LREM => Op::LRem(k, index(byte()), value(byte())),
        code::LTRIM => Op::LTrim(k, index(byte()), index(byte())),
        code::LMOVE => {
            let dst = key(byte());
            let flags = byte();
            Op::LMove(k, dst, flags & 1 != 0, flags & 2 != 0)
        }
        code::LREAD => Op::LRead(k, index(byte()), index(byte()), index(byte())),
        code::LPOS => Op::LPos(
            k,
            value(byte()),
            i64::from(byte() % 7) - 3,
            usize::from(byte() % 4),
            usize::from(byte() % 6),
        ),
        code::ZADD => {
            let options = zadd_options(byte());
            Op::ZAdd(
                k,
                some(r, |r| (score(r.byte_or_zero()), member(r.byte_or_zero()))),
                options,
            )
        }
        code::ZINCRBY => {
            let options = zadd_options(byte());
            Op::ZIncr(k, member(byte()), score(byte()), options)
        }
        code::ZREM => Op::ZRem(k, members(r)),
        code::ZPOP => Op::ZPop(k, usize::from(byte() % 5), byte() & 1 != 0),
        code::ZREMRANGE => {
            let by = byte();
            Op::ZRemRange(k, zselect(r, by))
        }
        code::ZRANGE => {
            let by = byte();
            let reverse = byte() & 1 != 0;
            let select = zselect(r, by);
            let (offset, count) = match select {
                ZSelect::Rank(..) => (0, None),
                _ => (
                    usize::from(r.byte_or_zero() % 4),
                    Some(usize::from(r.byte_or_zero() % 5)).filter(|&c| c < 4),
                ),
            };
            Op::ZRange(k, select, reverse, offset, count)
        }
        _ => {
            let ms = members(r);
            Op::ZRead(
                k,
                ms,
                score_bound(r.byte_or_zero()),
                score_bound(r.byte_or_zero()),
            )
        }
    }
}

/// Decodes the next step; `None` at the end of the input.
pub(crate) fn step(r: &mut Reader<'_>) -> Option<Step> {
    let op = r.byte()? % code::COUNT;
    Some(match op {
        code::TRANSACTION => {
            let flags = r.byte_or_zero();
            let n = flags % 8 + 1;
            let mut ops = Vec::new();
            for _ in 0..n {
                let Some(b) = r.byte() else { break };
                ops.push(data_op(r, b % code::DATA_OPS));
            }
            Step::Transaction {
                ops,
                abort_on_error: flags & 8 != 0,
                check: flags & 16 != 0,
            }
        }
        code::REOPEN => Step::Reopen,
        code::MERGE => Step::Merge,
        code::CRASH_IN_MERGE => Step::CrashInMerge(usize::from(r.byte_or_zero())),
        code::TORN_TAIL => {
            let n = r.byte_or_zero() % 24;
            Step::TornTail(r.take(usize::from(n)).to_vec())
        }
        code::ADVANCE => Step::Advance(u64::from(r.byte_or_zero()) * 10),
        code::PURGE => Step::Purge,
        code::CHECK => Step::Check,
        op => Step::Op(data_op(r, op)),
    })
}
