//! Seed inputs of the decoder and segment-image targets, and the helpers that craft
//! records and headers for them (checksums included).

use keg::format::{
    FILE_HEADER_LEN, FileHeader, FileKind, RECORD_HEADER_LEN, Record, RecordKind, encode_record,
};

use super::fuzz_checks::{flags, op};

/// Named seed inputs of one target.
pub type Seeds = Vec<(&'static str, Vec<u8>)>;

/// CRC-32 (IEEE), as the format uses; only for crafting checksummed-but-invalid seeds.
pub fn crc32(bytes: &[u8]) -> u32 {
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

pub fn encode(seq: u64, kind: RecordKind, continues: bool, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record(
        &mut out,
        &Record {
            seq,
            expiry_ms: 0,
            kind,
            batch_continues: continues,
            key,
            value,
        },
    )
    .expect("seed record encodes");
    out
}

pub fn put(seq: u64, key: &[u8], value: &[u8]) -> Vec<u8> {
    encode(seq, RecordKind::Put, false, key, value)
}

pub fn put_cont(seq: u64, key: &[u8], value: &[u8]) -> Vec<u8> {
    encode(seq, RecordKind::Put, true, key, value)
}

pub fn del(seq: u64, key: &[u8]) -> Vec<u8> {
    encode(seq, RecordKind::Delete, false, key, b"")
}

/// Recomputes both checksums of a record whose header fields were edited.
pub fn fix_record_crcs(record: &mut [u8]) {
    let header_crc = crc32(&record[8..RECORD_HEADER_LEN]);
    record[4..8].copy_from_slice(&header_crc.to_le_bytes());
    let crc = crc32(&record[4..]);
    record[0..4].copy_from_slice(&crc.to_le_bytes());
}

/// Recomputes the checksum of a file header whose fields were edited.
pub fn fix_header_crc(header: &mut [u8]) {
    let crc = crc32(&header[..12]);
    header[12..16].copy_from_slice(&crc.to_le_bytes());
}

pub fn header(kind: FileKind, segment_id: u32) -> Vec<u8> {
    FileHeader { kind, segment_id }.encode().to_vec()
}

/// Deterministic filler bytes.
pub fn garbage(len: usize, salt: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(7919).wrapping_add(salt) % 251) as u8)
        .collect()
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub fn record_decode_seeds() -> Seeds {
    let mut unknown_kind = put(7, b"key", b"value");
    unknown_kind[24] = 5;
    fix_record_crcs(&mut unknown_kind);
    let mut delete_with_value = put(8, b"key", b"value");
    delete_with_value[24] = 2;
    fix_record_crcs(&mut delete_with_value);
    let mut huge_key = put(9, b"k", b"v");
    huge_key[25..29].copy_from_slice(&70_000u32.to_le_bytes());
    fix_record_crcs(&mut huge_key);
    let mut bad_header = put(3, b"key", b"value");
    bad_header[10] ^= 0x01;
    let mut bad_body = put(3, b"key", b"value");
    *bad_body.last_mut().expect("non-empty") ^= 0x01;
    let long = put(11, &garbage(300, 1), &garbage(500, 2));
    vec![
        ("put", put(1, b"k", b"v")),
        ("put-empty-key", put(2, b"", b"value")),
        ("put-empty-value", put(3, b"key", b"")),
        ("delete", del(4, b"gone")),
        ("batch-continues", put_cont(5, b"a", b"1")),
        (
            "max-seq-expiry",
            encode_record_with_expiry(keg::format::MAX_SEQ, 1_700_000_000_000),
        ),
        ("long", long.clone()),
        ("two-records", cat(&[&put(1, b"a", b"1"), &del(2, b"a")])),
        (
            "trailing-garbage",
            cat(&[&put(1, b"a", b"1"), &garbage(20, 3)]),
        ),
        ("truncated-body", long[..long.len() / 2].to_vec()),
        ("truncated-header", put(1, b"a", b"1")[..20].to_vec()),
        ("header-checksum", bad_header),
        ("body-checksum", bad_body),
        ("unknown-kind", unknown_kind),
        ("delete-with-value", delete_with_value),
        ("key-too-long", huge_key),
        ("empty", Vec::new()),
        ("zeros", vec![0; 64]),
    ]
}

pub fn encode_record_with_expiry(seq: u64, expiry_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record(
        &mut out,
        &Record {
            seq,
            expiry_ms,
            kind: RecordKind::Put,
            batch_continues: false,
            key: b"ttl",
            value: b"value",
        },
    )
    .expect("seed record encodes");
    out
}

pub fn file_header_decode_seeds() -> Seeds {
    let data1 = header(FileKind::Data, 1);
    let mut version2 = data1.clone();
    version2[4] = 2;
    fix_header_crc(&mut version2);
    let mut unknown_kind = data1.clone();
    unknown_kind[6] = 3;
    fix_header_crc(&mut unknown_kind);
    let mut bad_magic = data1.clone();
    bad_magic[0] = b'X';
    let mut bad_crc = data1.clone();
    bad_crc[13] ^= 0x80;
    vec![
        ("data-1", data1.clone()),
        ("data-0", header(FileKind::Data, 0)),
        ("data-max", header(FileKind::Data, u32::MAX)),
        ("hint-2", header(FileKind::Hint, 2)),
        ("with-record", cat(&[&data1, &put(1, b"a", b"1")])),
        ("prefix-0", Vec::new()),
        ("prefix-4", data1[..4].to_vec()),
        ("prefix-15", data1[..FILE_HEADER_LEN - 1].to_vec()),
        ("version-2", version2),
        ("unknown-kind", unknown_kind),
        ("bad-magic", bad_magic),
        ("bad-crc", bad_crc),
        ("zeros", vec![0; FILE_HEADER_LEN]),
    ]
}

/// A structured put: key selector, seq byte, value length byte.
pub fn sput(key_sel: u8, seq: u8, value_len: u8) -> Vec<u8> {
    vec![op::PUT | (key_sel << op::KEY_SHIFT), seq, value_len]
}

pub fn sput_cont(key_sel: u8, seq: u8, value_len: u8) -> Vec<u8> {
    vec![
        op::PUT | (key_sel << op::KEY_SHIFT) | op::CONTINUES,
        seq,
        value_len,
    ]
}

pub fn sdel(key_sel: u8, seq: u8) -> Vec<u8> {
    vec![op::DELETE | (key_sel << op::KEY_SHIFT), seq]
}

/// An `open_segment_image` input with two segments.
pub fn two(flag_bits: u8, first: &[u8], second: &[u8]) -> Vec<u8> {
    let len = u16::try_from(first.len()).expect("small seed");
    cat(&[
        &[flag_bits | flags::TWO_SEGMENTS],
        &len.to_le_bytes(),
        first,
        second,
    ])
}

pub fn open_segment_image_seeds() -> Seeds {
    let plain = |body: &[&[u8]]| cat(&[&[0u8], &body.concat()]);
    let with = |flag_bits: u8, body: &[&[u8]]| cat(&[&[flag_bits], &body.concat()]);
    let abc = cat(&[
        &put(1, b"a", b"1"),
        &put(2, b"b", b"2"),
        &put(3, b"c", b"3"),
    ]);
    let torn = put(4, b"torn", b"a value that the crash cut short");
    let torn = &torn[..torn.len() - 7];
    let mut bad_header_b = put(2, b"b", b"2");
    bad_header_b[12] ^= 0x10;
    let mut bad_body_b = put(2, b"b", b"2");
    *bad_body_b.last_mut().expect("non-empty") ^= 0x01;
    let mut unknown_kind = put(2, b"b", b"2");
    unknown_kind[24] = 0x7f;
    fix_record_crcs(&mut unknown_kind);
    let big: Vec<u8> = (0..30u64)
        .flat_map(|i| put(i + 1, format!("key{i}").as_bytes(), &garbage(180, i as u32)))
        .collect();

    vec![
        ("plain-empty", plain(&[])),
        ("plain-puts", plain(&[&abc])),
        (
            "plain-overwrite-delete",
            plain(&[
                &put(1, b"a", b"1"),
                &put(2, b"b", b"2"),
                &put(3, b"a", b"one"),
                &del(4, b"b"),
                &put(5, b"", b"empty key"),
                &put(6, b"c", b""),
            ]),
        ),
        (
            "plain-seq-out-of-order",
            plain(&[&put(10, b"a", b"new"), &put(5, b"a", b"old"), &del(7, b"a")]),
        ),
        (
            "plain-batch",
            plain(&[
                &put(1, b"x", b"0"),
                &put_cont(2, b"x", b"1"),
                &put_cont(3, b"y", b"2"),
                &encode(4, RecordKind::Delete, false, b"x", b""),
            ]),
        ),
        (
            "plain-unfinished-batch",
            plain(&[&abc, &put_cont(4, b"d", b"4"), &put_cont(5, b"e", b"5")]),
        ),
        ("plain-torn-record", plain(&[&abc, torn])),
        ("plain-zero-tail", plain(&[&abc, &[0; 100]])),
        ("plain-garbage-tail", plain(&[&abc, &garbage(90, 4)])),
        (
            "plain-corrupt-header-middle",
            plain(&[&put(1, b"a", b"1"), &bad_header_b, &put(3, b"c", b"3")]),
        ),
        (
            "plain-corrupt-body-tail",
            plain(&[&put(1, b"a", b"1"), &bad_body_b]),
        ),
        (
            "plain-corrupt-body-middle",
            plain(&[&put(1, b"a", b"1"), &bad_body_b, &put(3, b"c", b"3")]),
        ),
        (
            "plain-unknown-kind-tail",
            plain(&[&put(1, b"a", b"1"), &unknown_kind]),
        ),
        (
            "two-segments",
            two(
                0,
                &cat(&[&put(1, b"a", b"1"), &put(2, b"b", b"2")]),
                &cat(&[&put(3, b"a", b"3"), &del(4, b"b")]),
            ),
        ),
        (
            "two-segments-sealed-torn",
            two(0, &cat(&[&put(1, b"a", b"1"), torn]), &put(5, b"b", b"2")),
        ),
        (
            "two-segments-sealed-newer",
            two(0, &put(10, b"a", b"sealed"), &put(5, b"a", b"older")),
        ),
        ("raw-empty", with(flags::RAW, &[])),
        ("raw-zeros", with(flags::RAW, &[&[0; 40]])),
        (
            "raw-short-header",
            with(flags::RAW, &[&header(FileKind::Data, 1)[..10]]),
        ),
        (
            "raw-wrong-id",
            with(flags::RAW, &[&header(FileKind::Data, 7), &abc]),
        ),
        (
            "raw-hint-kind",
            with(flags::RAW, &[&header(FileKind::Hint, 1), &abc]),
        ),
        ("raw-garbage", with(flags::RAW, &[&garbage(64, 5)])),
        (
            "raw-two-segments-empty-newest",
            two(flags::RAW, &cat(&[&header(FileKind::Data, 1), &abc]), &[]),
        ),
        ("pread-puts", with(flags::PREAD, &[&abc, torn])),
        ("small-segments-big", with(flags::SMALL_SEGMENTS, &[&big])),
        ("absolute-clean", with(flags::ABSOLUTE, &[&abc])),
        ("absolute-torn", with(flags::ABSOLUTE, &[&abc, torn])),
        (
            "structured-basic",
            with(
                flags::STRUCTURED,
                &[&sput(0, 1, 5), &sput(1, 2, 8), &sdel(0, 3), &sput(2, 4, 0)],
            ),
        ),
        (
            "structured-batch-flip",
            with(
                flags::STRUCTURED,
                &[
                    &sput(0, 1, 3),
                    &sput_cont(1, 2, 4),
                    &sput_cont(2, 3, 5),
                    &sput(3, 4, 6),
                    &[op::FLIP, 40, 0, 0x04],
                ],
            ),
        ),
        (
            "structured-two-segments",
            two(
                flags::STRUCTURED,
                &cat(&[&sput(0, 5, 4), &sput(1, 6, 4), &sput(14, 7, 2)]),
                &cat(&[&sput(0, 3, 4), &sdel(1, 8), &sput(15, 9, 20)]),
            ),
        ),
        (
            "structured-truncate-zeros",
            with(
                flags::STRUCTURED,
                &[
                    &sput(0, 1, 10),
                    &sput(1, 2, 10),
                    &[op::TRUNCATE, 3, op::ZEROS, 50],
                ],
            ),
        ),
        (
            "structured-literal",
            with(
                flags::STRUCTURED | flags::PREAD,
                &[&sput(4, 1, 7), &[op::LITERAL, 8], b"garbage!"],
            ),
        ),
    ]
}
