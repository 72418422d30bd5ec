//! `hint_decode`: the hint-file decoder (`format::Hint::parse`).
//!
//! The first input byte chooses the mode. Even: the rest is a hint file, taken as it is.
//! Odd: the rest describes entries (one count byte, then per entry a kind/key byte, a
//! sequence-number byte, a u16 offset, a value-length byte and an expiry byte), which are
//! written with `HintWriter` (for a data length at least as long as they reach); the bytes
//! after the entries are (u16 position, XOR mask) pairs that damage the written file.

use keg::format::{
    FILE_HEADER_LEN, HINT_TRAILER_LEN, Hint, HintEntry, HintError, HintWriter, RecordKind,
    claimed_entries, record_len,
};

use super::reader::Reader;
use super::segment_program::{key_for, seq_for};

/// The segment id the hint files describe.
const SEGMENT: u32 = 7;

/// `Hint::parse` never panics; a hint it accepts re-encodes to exactly its bytes and lists
/// as many entries as its trailer claims; a written hint parses to what was written; one
/// damaged byte is always detected.
pub fn check_hint_decode(data: &[u8]) {
    let mut r = Reader::new(data);
    if r.byte_or_zero() & 1 == 0 {
        check_parse(r.data);
        return;
    }
    let count = r.byte_or_zero() % 16;
    let mut keys = Vec::new();
    let mut fields = Vec::new();
    for _ in 0..count {
        let kind_key = r.byte_or_zero();
        keys.push(key_for(kind_key >> 1));
        let kind = if kind_key & 1 == 0 {
            RecordKind::Put
        } else {
            RecordKind::Delete
        };
        let seq = seq_for(r.byte_or_zero());
        let offset = u32::from(r.u16_or_zero());
        let value_len = u32::from(r.byte_or_zero());
        let expiry_ms = u64::from(r.byte_or_zero()) * 1_000_000;
        fields.push((kind, seq, offset, value_len, expiry_ms));
    }
    let entries: Vec<HintEntry<'_>> = keys
        .iter()
        .zip(&fields)
        .map(
            |(key, &(kind, seq, offset, value_len, expiry_ms))| HintEntry {
                seq,
                expiry_ms,
                kind,
                offset,
                value_len,
                key,
            },
        )
        .collect();
    // At least as long as the entries reach: a hint's entries lie inside its data length.
    let reach = entries
        .iter()
        .map(|e| u64::from(e.offset) + record_len(e.key.len(), e.value_len as usize) as u64)
        .max()
        .unwrap_or(0);
    let data_len = u64::from(r.u16_or_zero()).max(reach);
    let mut writer = HintWriter::new(SEGMENT);
    for entry in &entries {
        assert!(
            writer.push(entry),
            "an entry in range was refused: {entry:?}"
        );
    }
    let bytes = writer.finish(data_len);
    let hint = Hint::parse(&bytes, SEGMENT).expect("a written hint parses");
    assert_eq!(hint.data_len, data_len);
    let parsed: Vec<HintEntry<'_>> = hint.entries().map(|e| e.expect("entry")).collect();
    assert_eq!(parsed, entries, "a written hint parses to other entries");
    check_parse(&bytes);

    let mut damaged = bytes.clone();
    let mut positions = Vec::new();
    while r.data.len() >= 3 {
        let at = usize::from(r.u16_or_zero()) % damaged.len();
        let mask = r.byte_or_zero().max(1);
        damaged[at] ^= mask;
        positions.push(at);
    }
    positions.sort_unstable();
    positions.dedup();
    if positions.len() == 1 && damaged != bytes {
        // At most 8 flipped bits in one byte: CRC-32 catches every such error.
        assert!(
            Hint::parse(&damaged, SEGMENT).is_err(),
            "a hint damaged at byte {} was accepted",
            positions[0]
        );
    }
    check_parse(&damaged);
}

/// Parses `bytes` as the hint of `SEGMENT` and checks what it accepts.
fn check_parse(bytes: &[u8]) {
    check_one_pass(bytes);
    if let Some(tail) = bytes.len().checked_sub(HINT_TRAILER_LEN) {
        let mut trailer = [0u8; HINT_TRAILER_LEN];
        trailer.copy_from_slice(&bytes[tail..]);
        let _ = claimed_entries(&trailer);
    }
    match Hint::parse(bytes, SEGMENT) {
        Ok(hint) => {
            let entries: Vec<HintEntry<'_>> = hint
                .entries()
                .map(|e| e.expect("the entries of a parsed hint decode"))
                .collect();
            let mut writer = HintWriter::new(SEGMENT);
            for entry in &entries {
                assert!(writer.push(entry), "a parsed entry does not re-encode");
            }
            assert_eq!(
                writer.finish(hint.data_len),
                bytes,
                "a parsed hint does not re-encode to its bytes"
            );
            for e in &entries {
                let end =
                    u64::from(e.offset) + record_len(e.key.len(), e.value_len as usize) as u64;
                assert!(
                    end <= hint.data_len,
                    "an accepted entry reaches past the data: {e:?}"
                );
            }
            let mut trailer = [0u8; HINT_TRAILER_LEN];
            trailer.copy_from_slice(&bytes[bytes.len() - HINT_TRAILER_LEN..]);
            assert_eq!(claimed_entries(&trailer), entries.len() as u64);
            assert_eq!(
                Hint::parse(bytes, SEGMENT + 1).unwrap_err(),
                HintError::BadHeader
            );
        }
        Err(e) => {
            let _ = e.to_string();
            if bytes.len() < FILE_HEADER_LEN + HINT_TRAILER_LEN {
                assert_eq!(e, HintError::TooShort);
            }
        }
    }
}

/// Open's one-pass reader (`parse_frame`, then `checked_entries`) accepts exactly the hints
/// `parse` accepts, with the same entries, and stops at its first error.
fn check_one_pass(bytes: &[u8]) {
    let one_pass = Hint::parse_frame(bytes, SEGMENT).ok().map(|hint| {
        let mut read = Vec::new();
        let mut failed = false;
        for entry in hint.checked_entries() {
            assert!(!failed, "checked_entries went on after an error");
            match entry {
                Ok(entry) => read.push(entry),
                Err(_) => failed = true,
            }
        }
        (!failed).then_some(read)
    });
    match (Hint::parse(bytes, SEGMENT), one_pass.flatten()) {
        (Ok(hint), Some(read)) => {
            let all: Vec<HintEntry<'_>> = hint.entries().map(|e| e.expect("entry")).collect();
            assert_eq!(read, all, "the one-pass reader read other entries");
        }
        (Err(_), None) => {}
        (parsed, read) => panic!(
            "parse and the one-pass reader disagree: {:?} / {:?}",
            parsed.map(|h| h.data_len),
            read.map(|r| r.len())
        ),
    }
}
