//! Structured segment programs: input bytes that write valid records (with real checksums)
//! and damage them, so that the fuzzer explores logs instead of forging CRC-32s.

use keg::format::{MAX_SEQ, RecordKind, encode_record};

use super::reader::Reader;

/// Operations of a structured segment program: a sequence of op bytes, each followed by its
/// arguments. A program that ends in the middle of an op reads zeros for what is missing.
///
/// Put and delete: bits 0-2 select the op, bits 3-6 the key ([`key_for`]), bit 7 sets the
/// record's "batch continues" flag. Then one byte of sequence number ([`seq_for`]) and, for
/// a put, one byte of value length (mod 32; the value is unique per record).
pub mod op {
    /// Mask of the op-selecting bits.
    pub const MASK: u8 = 0x07;
    /// 0, 1 and 2 are puts (so that most records are puts).
    pub const PUT: u8 = 0;
    /// A tombstone.
    pub const DELETE: u8 = 3;
    /// Flip bits: u16 LE position (mod the current length), then the XOR mask (0 means 1).
    pub const FLIP: u8 = 4;
    /// Cut `n` bytes off the end: one byte `n`.
    pub const TRUNCATE: u8 = 5;
    /// Append literal bytes: one byte `n` (mod 64), then `n` bytes.
    pub const LITERAL: u8 = 6;
    /// Append zeros: one byte `n`.
    pub const ZEROS: u8 = 7;
    /// The "batch continues" bit of put and delete.
    pub const CONTINUES: u8 = 0x80;
    /// Shift of the key selector in put and delete.
    pub const KEY_SHIFT: u32 = 3;
}

/// The key that selector `sel` (0..16) of a structured put or delete names.
pub fn key_for(sel: u8) -> Vec<u8> {
    match sel & 0x0f {
        14 => Vec::new(),
        15 => vec![0xab; 300],
        n => format!("k{n}").into_bytes(),
    }
}

/// The sequence number that byte `b` of a structured put or delete names: small numbers
/// (so that keys collide and ties happen) and the top of the valid range (`MAX_SEQ`; larger
/// numbers cannot be encoded, and are covered by raw inputs).
pub fn seq_for(b: u8) -> u64 {
    match b {
        0xff => MAX_SEQ,
        0xfe => MAX_SEQ - 1,
        0xfd => MAX_SEQ - 2,
        n => u64::from(n),
    }
}

/// Runs a structured segment program, returning the segment's bytes after the file header.
pub fn run_program(program: &[u8], segment_id: u32) -> Vec<u8> {
    let mut r = Reader::new(program);
    let mut out = Vec::new();
    let mut counter = 0u32;
    while let Some(op_byte) = r.byte() {
        match op_byte & op::MASK {
            code @ (0..=3) => {
                let key = key_for(op_byte >> op::KEY_SHIFT);
                let seq = seq_for(r.byte_or_zero());
                let kind = if code == op::DELETE {
                    RecordKind::Delete
                } else {
                    RecordKind::Put
                };
                let mut value = Vec::new();
                if kind == RecordKind::Put {
                    let len = usize::from(r.byte_or_zero() % 32);
                    if len > 0 {
                        value = format!("s{segment_id}v{counter}/").into_bytes();
                        value.resize(value.len().max(len), b'.');
                    }
                }
                counter += 1;
                let record = keg::format::Record {
                    seq,
                    expiry_ms: 0,
                    kind,
                    batch_continues: op_byte & op::CONTINUES != 0,
                    key: &key,
                    value: &value,
                };
                encode_record(&mut out, &record).expect("small records encode");
            }
            op::FLIP => {
                let pos = usize::from(r.u16_or_zero());
                let mask = r.byte_or_zero().max(1);
                if !out.is_empty() {
                    let at = pos % out.len();
                    out[at] ^= mask;
                }
            }
            op::TRUNCATE => {
                let n = usize::from(r.byte_or_zero());
                out.truncate(out.len().saturating_sub(n));
            }
            op::LITERAL => {
                let n = usize::from(r.byte_or_zero() % 64);
                out.extend_from_slice(r.take(n));
            }
            _ => {
                let n = usize::from(r.byte_or_zero());
                out.resize(out.len() + n, 0);
            }
        }
    }
    out
}
