//! Seed inputs of the hint, batch, directory-image and store-model targets (their input
//! formats are documented in the modules of `fuzz/src/`).

use keg::format::{HintEntry, HintWriter, RecordKind};

use super::seeds::{Seeds, cat, sdel, sput, sput_cont};

/// A hint file of segment 7 with a put and a tombstone (the empty key).
fn sample_hint() -> Vec<u8> {
    let mut writer = HintWriter::new(7);
    writer.push(&HintEntry {
        seq: 1,
        expiry_ms: 0,
        kind: RecordKind::Put,
        offset: 16,
        value_len: 5,
        key: b"alpha",
    });
    writer.push(&HintEntry {
        seq: 9,
        expiry_ms: 1_700_000_000_000,
        kind: RecordKind::Delete,
        offset: 59,
        value_len: 0,
        key: b"",
    });
    writer.finish(1234)
}

pub fn hint_decode_seeds() -> Seeds {
    let raw = |bytes: &[u8]| cat(&[&[0], bytes]);
    let valid = sample_hint();
    let mut flipped = valid.clone();
    flipped[20] ^= 0x08;
    // count, then per entry: kind/key, seq, offset (u16), value length, expiry; data length.
    let structured = [
        1, 3, 0x02, 1, 16, 0, 5, 0, 0x07, 0xff, 40, 1, 0, 9, 0x1c, 3, 0, 2, 0, 0, 0x10, 0,
    ];
    vec![
        ("raw-valid", raw(&valid)),
        ("raw-empty-hint", raw(&HintWriter::new(7).finish(16))),
        ("raw-other-segment", raw(&HintWriter::new(8).finish(16))),
        ("raw-truncated", raw(&valid[..valid.len() - 3])),
        ("raw-flipped", raw(&flipped)),
        ("raw-nothing", vec![0]),
        ("structured-three", structured.to_vec()),
        ("structured-damaged", cat(&[&structured, &[30, 0, 0x40]])),
        (
            "structured-damaged-twice",
            cat(&[&structured, &[3, 0, 1, 60, 0, 0x80]]),
        ),
        ("structured-empty", vec![1, 0, 16, 0]),
    ]
}

pub fn batch_decode_seeds() -> Seeds {
    // Units: a pair, a single put, four records with a delete of an earlier key.
    let units: &[u8] = &[3, 0x01, 5, 6, 0x00, 7, 0x03, 1, 0x80, 3, 4];
    let with = |cut: u16, tail: &[u8]| cat(&[units, &cut.to_le_bytes(), tail]);
    vec![
        ("whole", with(u16::MAX, &[0, 0])),
        ("cut-in-last-batch", with(250, &[0, 0])),
        ("cut-in-first-batch", with(40, &[0, 0])),
        ("cut-at-start", with(0, &[0, 0])),
        ("zero-tail", with(250, &[1, 120])),
        (
            "garbage-tail",
            with(
                180,
                &[2, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            ),
        ),
        ("whole-then-zeros", with(u16::MAX, &[1, 64])),
        (
            "many-single-units",
            cat(&[
                &[8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8],
                &[100, 0, 0, 0],
            ]),
        ),
    ]
}

/// A segment of a directory image: hint choice, program (u16 length first), extras.
fn segment(hint: u8, program: &[u8], extra: &[u8]) -> Vec<u8> {
    let len = u16::try_from(program.len()).expect("small program");
    cat(&[&[hint], &len.to_le_bytes(), program, extra])
}

pub fn open_dir_image_seeds() -> Seeds {
    let first = cat(&[&sput(0, 1, 5), &sput(1, 2, 8), &sdel(2, 3), &sput(3, 4, 0)]);
    let second = cat(&[
        &sput(0, 5, 4),
        &sput_cont(2, 6, 3),
        &sput(4, 7, 9),
        &sdel(1, 8),
    ]);
    let third = cat(&[&sput(3, 9, 2), &sput(14, 10, 1), &sput(15, 11, 20)]);
    let flipped = cat(&[&first, &[4, 40, 0, 0x04]]); // op FLIP in the second record
    let torn = cat(&[&second, &[5, 7]]); // op TRUNCATE 7 bytes
    vec![
        ("one-no-hint", cat(&[&[0], &segment(0, &first, &[])])),
        (
            "two-honest-hint",
            cat(&[&[1], &segment(1, &first, &[]), &segment(0, &second, &[])]),
        ),
        (
            "three-every-hint",
            cat(&[
                &[2],
                &segment(1, &first, &[]),
                &segment(2, &second, &[20, 0, 0x01]),
                &segment(3, &third, &[5, 1, 2, 3, 4, 5]),
            ]),
        ),
        (
            "damaged-data-under-honest-hint",
            cat(&[&[1], &segment(1, &flipped, &[]), &segment(0, &third, &[])]),
        ),
        (
            "damaged-sealed-without-hint",
            cat(&[&[1], &segment(0, &flipped, &[]), &segment(0, &third, &[])]),
        ),
        (
            "torn-newest-with-hint",
            cat(&[&[1], &segment(0, &first, &[]), &segment(1, &torn, &[])]),
        ),
        (
            // A hint with a valid checksum that goes wrong only after a ghost key and the
            // honest entries: open must start again without it.
            "forged-hint-over-records",
            cat(&[
                &[1],
                &segment(1 | 4, &first, &[]),
                &segment(0, &second, &[]),
            ]),
        ),
        (
            "leftovers-and-pread",
            cat(&[
                &[1 | 4 | 8 | 16],
                &segment(1, &first, &[]),
                &segment(0, &second, &[]),
            ]),
        ),
        (
            // The snapshot round: written at close and loaded as it is.
            "snapshot-round-trip",
            cat(&[
                &[1 | 32],
                &segment(1, &first, &[]),
                &segment(0, &second, &[]),
                &[0, 0, 0],
            ]),
        ),
        (
            // A byte of the snapshot's first shard image damaged: refused by its checksum.
            "snapshot-damaged",
            cat(&[
                &[1 | 32],
                &segment(0, &first, &[]),
                &segment(1, &second, &[]),
                &[200, 0, 0x10],
            ]),
        ),
        (
            // The same damage with the checksum made to hold again: refused by the image
            // checks, or loaded and read through record checks.
            "snapshot-forged",
            cat(&[
                &[2 | 32 | 64],
                &segment(1, &first, &[]),
                &segment(0, &second, &[]),
                &segment(0, &third, &[]),
                &[200, 0, 0x10],
            ]),
        ),
    ]
}

pub fn store_model_seeds() -> Seeds {
    // Ops: 0 set(key, len), 3 set-ttl(key, len, secs), 4 delete, 5 incr(counter, delta),
    // 6 expire, 7 persist, 8 batch, 9 merge, 10 sync, 11 reopen, 12 advance, 13 fault,
    // 15 purge (see fuzz/src/store_model.rs).
    let writes: Vec<u8> = (0..40u8)
        .flat_map(|i| match i % 5 {
            0 => vec![0, i, 60],
            1 => vec![4, i / 2],
            2 => vec![5, i, 3],
            3 => vec![8, 2, i, 10, 0x80 | (i + 1)],
            _ => vec![3, i, 30, 2],
        })
        .collect();
    vec![
        (
            "never-writes-merge-reopen",
            cat(&[&[0], &writes, &[9, 11], &writes, &[9, 11]]),
        ),
        ("always-writes", cat(&[&[1], &writes, &[11]])),
        ("fault-early", cat(&[&[0, 13, 1], &writes, &[9, 11]])),
        (
            "fault-in-merge",
            cat(&[&[0], &writes, &[13, 5, 9, 11], &writes]),
        ),
        (
            "torn-fault-always",
            cat(&[&[1], &writes, &[0x1d, 3], &writes, &[11]]),
        ),
        (
            "ttl-expire-purge-pread",
            cat(&[
                &[2],
                &writes,
                &[6, 1, 2, 7, 3, 12, 40, 15, 9, 11, 12, 200, 15, 11],
            ]),
        ),
        ("fault-at-reopen", cat(&[&[0], &writes, &[13, 2, 11, 11]])),
        (
            "fault-at-sync",
            cat(&[&[0], &writes, &[13, 1, 10, 0, 1, 5, 11]]),
        ),
        (
            // Snapshots at every close: reopened from one, then after more writes and a
            // merge (stale), then with a fault during the close that writes one.
            "snapshots-reopen-stale-fault",
            cat(&[&[4], &writes, &[11, 11], &writes, &[9, 11, 13, 1, 11, 11]]),
        ),
    ]
}

#[rustfmt::skip]
pub fn collection_model_seeds() -> Seeds {
    use super::fuzz_checks::collection_code as c;
    // Arguments (see fuzz/src/collection_ops.rs): keys 0-3; members 0 (empty), 1-6 ("a" to
    // "f"), 7 (long); values 0-2 ("a", "b", "c"), 4-8 ("0", "1", "-2", "15", "007"), 9 and
    // 10 ("1.5", "-0.5"), 12 and 13 (i64::MAX and MIN), 15 (300 bytes); scores 16 + 2s for
    // s; "n × x" counts are 0, 1 or 2 for one, two or three. The first byte is the flags.
    let hash: &[u8] = &[
        c::HSET, 0, 2, 1, 5, 2, 9, 3, 0,
        c::HSETNX, 0, 1, 1,
        c::HSETNX, 0, 4, 8,
        c::HINCRBY, 0, 1, 3,
        c::HINCRBY, 0, 3, 1,
        c::HINCRBY, 0, 4, 0x7f,
        c::HINCRBYFLOAT, 0, 2, 17,
        c::HINCRBYFLOAT, 0, 4, 15,
        c::HINCRBYFLOAT, 0, 5, 0xff,
        c::HREAD, 0, 1, 5,
        c::HRANDFIELD, 0, 3, 0,
        c::HRANDFIELD, 0, 5, 1,
        c::HDEL, 0, 1, 3, 6,
        c::HDEL, 0, 2, 1, 2, 4,
        c::INSPECT, 0,
    ];
    let set: &[u8] = &[
        c::SADD, 1, 2, 1, 2, 0,
        c::SADD, 2, 1, 2, 3,
        c::SREM, 1, 1, 0, 6,
        c::SREAD, 1, 2, 1, 2, 3,
        c::SRANDMEMBER, 1, 4, 0,
        c::SRANDMEMBER, 1, 4, 1,
        c::SCOMBINE, 0, 1, 1, 2,
        c::SCOMBINE, 1, 2, 1, 2, 3,
        c::SCOMBINE, 2, 1, 2, 1,
        c::SSTORE, 3, 1, 1, 1, 2,
        c::SMOVE, 1, 2, 1,
        c::SMOVE, 1, 1, 2,
        c::SMOVE, 0, 2, 3,
        c::SPOP, 2, 2,
        c::SPOP, 3, 4,
        c::SSTORE, 0, 0, 1, 1, 3,
    ];
    let list: &[u8] = &[
        c::PUSH, 2, 0, 2, 0, 1, 2,
        c::PUSH, 2, 1, 1, 4, 0,
        c::PUSH, 3, 2, 0, 1,
        c::PUSH, 3, 3, 0, 1,
        c::LREAD, 2, 4, 3, 0,
        c::LSET, 2, 5, 9,
        c::LSET, 2, 8, 9,
        c::LINSERT, 2, 1, 0, 11,
        c::LINSERT, 2, 0, 1, 12,
        c::LINSERT, 2, 0, 7, 12,
        c::LPOS, 2, 0, 4, 0, 0,
        c::LPOS, 2, 0, 1, 1, 3,
        c::LPOS, 2, 0, 3, 0, 0,
        c::LREM, 2, 5, 0,
        c::LMOVE, 2, 3, 1,
        c::LMOVE, 2, 2, 2,
        c::LTRIM, 2, 5, 3,
        c::POP, 2, 2, 1,
        c::POP, 2, 4, 0,
        c::LREAD, 2, 0, 0xff, 0xfe,
    ];
    let zset: &[u8] = &[
        c::ZADD, 3, 0, 2, 18, 1, 20, 2, 16, 3,
        c::ZADD, 3, 1, 0, 22, 1,
        c::ZADD, 3, 2, 1, 24, 1, 24, 5,
        c::ZADD, 3, 4 | 16, 1, 10, 2, 30, 3,
        c::ZADD, 3, 8, 0, 26, 3,
        c::ZADD, 3, 3, 0, 18, 1,
        c::ZINCRBY, 3, 0, 1, 17,
        c::ZINCRBY, 3, 1, 4, 17,
        c::ZINCRBY, 3, 4, 2, 14,
        c::ZREAD, 3, 1, 1, 2, 6, 80,
        c::ZRANGE, 3, 0, 1, 4, 8,
        c::ZRANGE, 3, 1, 0, 0, 0, 1, 2,
        c::ZRANGE, 3, 1, 1, 6, 120, 0, 4,
        c::ZREMRANGE, 3, 1, 70, 75,
        c::ZPOP, 3, 1, 1,
        c::ZREM, 3, 0, 3,
        c::ZADD, 3, 0, 2, 16, 1, 16, 2, 16, 4,
        c::ZRANGE, 3, 2, 0, 5, 14, 0, 4,
        c::ZRANGE, 3, 2, 1, 0, 0, 1, 1,
        c::ZREMRANGE, 3, 2, 5, 8,
        c::ZREMRANGE, 3, 0, 0, 8,
    ];
    let wrongtype: &[u8] = &[
        c::SET, 0, 5,
        c::HSET, 0, 0, 1, 1,
        c::SADD, 0, 0, 1,
        c::PUSH, 0, 0, 0, 1,
        c::ZADD, 0, 0, 0, 16, 1,
        c::ZADD, 0, 3, 0, 16, 1,
        c::LMOVE, 0, 1, 0,
        c::SMOVE, 0, 1, 1,
        c::SCOMBINE, 1, 1, 1, 0,
        c::SSTORE, 2, 0, 1, 1, 0,
        c::HINCRBYFLOAT, 0, 1, 0xff,
        c::LPOS, 0, 0, 3, 0, 0,
        c::SADD, 1, 0, 1,
        c::GET, 1,
        c::INCRBY, 1, 1,
        c::APPEND, 1, 0,
        c::INCRBY, 0, 0x7f,
        c::INCRBY, 0, 3,
        c::APPEND, 0, 9,
        c::INCRBY, 0, 1,
        c::SET, 1, 2,
        c::GET, 1,
        c::INSPECT, 1,
    ];
    let expiry: &[u8] = &[
        c::HSET, 0, 0, 1, 1,
        c::SADD, 1, 0, 1,
        c::PUSH, 2, 0, 0, 1,
        c::ZADD, 3, 0, 0, 16, 1,
        c::EXPIRE, 0, 50,
        c::EXPIRE, 1, 20,
        c::EXPIRE, 2, 100,
        c::EXPIRE, 3, 0,
        c::INSPECT, 0,
        c::PERSIST, 2,
        c::ADVANCE, 30,
        c::INSPECT, 1,
        c::SADD, 1, 0, 2,
        c::INSPECT, 1,
        c::HSET, 0, 0, 2, 2,
        c::ADVANCE, 30,
        c::HREAD, 0, 1, 2,
        c::HSET, 0, 0, 3, 3,
        c::INSPECT, 0,
        c::PURGE,
        c::REOPEN,
        c::CHECK,
    ];
    let transactions: &[u8] = &[
        c::SET, 0, 0,
        // Going on past errors, then checked inside: a WRONGTYPE, a NOSUCHKEY, writes.
        c::TRANSACTION, 16 | 5,
        c::HSET, 1, 0, 1, 1,
        c::SADD, 0, 0, 1,
        c::LSET, 2, 4, 0,
        c::PUSH, 2, 0, 0, 1,
        c::HDEL, 1, 0, 1,
        c::ZADD, 3, 0, 0, 16, 1,
        // Aborted at the WRONGTYPE: nothing of it stays.
        c::TRANSACTION, 8 | 16 | 2,
        c::PUSH, 2, 1, 0, 2,
        c::HSET, 2, 0, 1, 1,
        c::ZREM, 3, 0, 1,
        c::CHECK,
        // Created, emptied and created again in one transaction.
        c::TRANSACTION, 16 | 4,
        c::SADD, 1, 1, 1, 2,
        c::SREM, 1, 1, 1, 2,
        c::SADD, 1, 0, 3,
        c::SET, 1, 1,
        c::SMOVE, 1, 3, 3,
        c::REOPEN,
    ];
    // Long values and rewrites of one list and one hash: several segments, then merges.
    let fill: Vec<u8> = (0..24u8)
        .flat_map(|i| match i % 4 {
            0 => vec![c::PUSH, 0, 0, 0, 15],
            1 => vec![c::HSET, 1, 0, i % 7, 15],
            2 => vec![c::POP, 0, 1, 1],
            _ => vec![c::ZADD, 2, 0, 0, i, 7],
        })
        .collect();
    vec![
        ("hash", cat(&[&[0], hash])),
        ("set", cat(&[&[0], set])),
        ("list", cat(&[&[0], list])),
        ("zset", cat(&[&[0], zset])),
        ("wrongtype-every-step", cat(&[&[2], wrongtype])),
        ("expiry", cat(&[&[0], expiry])),
        ("transactions", cat(&[&[0], transactions])),
        (
            "fill-merge-reopen",
            cat(&[&[0], &fill, &[c::MERGE, c::DEL, 1], &fill, &[c::MERGE, c::REOPEN]]),
        ),
        (
            "fill-partial-merges-pread",
            cat(&[&[1 | 4 | 8], &fill, &[c::HDEL, 1, 2, 0, 1, 2], &fill, &[c::MERGE, c::MERGE]]),
        ),
        (
            "fill-crash-in-merge",
            cat(&[&[0], &fill, &fill, &[c::CRASH_IN_MERGE, 3], &fill, &[c::CRASH_IN_MERGE, 40]]),
        ),
        (
            "torn-tail",
            cat(&[&[0], &fill, &[c::TORN_TAIL, 5, 1, 2, 3, 4, 5], set, &[c::TORN_TAIL, 0]]),
        ),
        ("all-every-step-pread", cat(&[&[1 | 2], hash, set, list, zset, transactions])),
        (
            // Snapshots at every close: collections reopened from one, then from a stale
            // one after a merge and more writes, then after a torn tail.
            "snapshots-fill-reopen-torn",
            cat(&[&[16], &fill, &[c::REOPEN, c::REOPEN], &fill, &[c::MERGE, c::REOPEN], &fill, &[c::TORN_TAIL, 5, 1, 2, 3, 4, 5, c::REOPEN]]),
        ),
    ]
}
