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
            "leftovers-and-pread",
            cat(&[
                &[1 | 4 | 8 | 16],
                &segment(1, &first, &[]),
                &segment(0, &second, &[]),
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
    ]
}
