//! Hint files: the keys and record locations of one sealed data segment, without values,
//! so that `open` rebuilds the index without reading the data.
//!
//! ```text
//! file header (16 bytes, kind = hint, segment id = the data segment's)
//! entries, back to back:
//!   offset size field
//!        0    8 seq            u64 LE
//!        8    8 expiry         u64 LE (0 = none)
//!       16    1 kind           the record's kind code (1 = put, 2 = tombstone, 3-5 collections)
//!       17    4 record offset  u32 LE, in the data segment
//!       21    4 key length     u32 LE
//!       25    4 value length   u32 LE
//!       29    k key
//! trailer (20 bytes):
//!        0    8 data length    u64 LE: length of the data segment this hint describes
//!        8    8 entry count    u64 LE
//!       16    4 CRC            CRC32 of every byte before this field (header included)
//! ```
//!
//! A hint is trusted only whole: the trailer's checksum must hold and the data segment must
//! have exactly the recorded length. Anything else and `open` scans the data segment.

use byteorder::{ByteOrder, LittleEndian};

use super::file_header::{FILE_HEADER_LEN, FileHeader, FileKind};
use super::record::{MAX_KEY_LEN, MAX_SEQ, MAX_VALUE_LEN, RecordKind};

const SEQ_LEN: usize = 8;
const EXPIRY_LEN: usize = 8;
const KIND_LEN: usize = 1;
const OFFSET_LEN: usize = 4;
const KEY_LEN_LEN: usize = 4;
const VALUE_LEN_LEN: usize = 4;
/// Fixed part of a hint entry, before the key.
pub const HINT_ENTRY_HEADER_LEN: usize =
    SEQ_LEN + EXPIRY_LEN + KIND_LEN + OFFSET_LEN + KEY_LEN_LEN + VALUE_LEN_LEN;

const DATA_LEN_LEN: usize = 8;
const COUNT_LEN: usize = 8;
const CRC_LEN: usize = 4;
/// Length of the trailer.
pub const HINT_TRAILER_LEN: usize = DATA_LEN_LEN + COUNT_LEN + CRC_LEN;

/// One record's location, as a hint file lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HintEntry<'a> {
    /// The record's sequence number.
    pub seq: u64,
    /// The record's expiry (0 = none).
    pub expiry_ms: u64,
    /// Put or tombstone.
    pub kind: RecordKind,
    /// Byte offset of the record in the data segment.
    pub offset: u32,
    /// The record's value length.
    pub value_len: u32,
    /// The key.
    pub key: &'a [u8],
}

/// Builds a hint file in memory, entry by entry.
#[derive(Debug)]
pub struct HintWriter {
    bytes: Vec<u8>,
    count: u64,
}

impl HintWriter {
    /// Starts the hint of data segment `segment_id`.
    pub fn new(segment_id: u32) -> HintWriter {
        let header = FileHeader {
            kind: FileKind::Hint,
            segment_id,
        };
        HintWriter {
            bytes: header.encode().to_vec(),
            count: 0,
        }
    }

    /// Adds an entry. Keys and lengths out of the format's range are skipped (they cannot
    /// occur in a valid data segment); returns whether the entry was added.
    pub fn push(&mut self, entry: &HintEntry<'_>) -> bool {
        let (Ok(key_len), true) = (
            u32::try_from(entry.key.len()),
            entry.key.len() <= MAX_KEY_LEN && entry.seq <= MAX_SEQ,
        ) else {
            return false;
        };
        let mut fixed = [0u8; HINT_ENTRY_HEADER_LEN];
        let (seq, rest) = fixed.split_at_mut(SEQ_LEN);
        LittleEndian::write_u64(seq, entry.seq);
        let (expiry, rest) = rest.split_at_mut(EXPIRY_LEN);
        LittleEndian::write_u64(expiry, entry.expiry_ms);
        let (kind, rest) = rest.split_at_mut(KIND_LEN);
        kind.fill(entry.kind.code());
        let (offset, rest) = rest.split_at_mut(OFFSET_LEN);
        LittleEndian::write_u32(offset, entry.offset);
        let (klen, vlen) = rest.split_at_mut(KEY_LEN_LEN);
        LittleEndian::write_u32(klen, key_len);
        LittleEndian::write_u32(vlen, entry.value_len);
        self.bytes.extend_from_slice(&fixed);
        self.bytes.extend_from_slice(entry.key);
        self.count += 1;
        true
    }

    /// Finishes the file for a data segment of `data_len` bytes.
    pub fn finish(mut self, data_len: u64) -> Vec<u8> {
        let mut trailer = [0u8; DATA_LEN_LEN + COUNT_LEN];
        let (len, count) = trailer.split_at_mut(DATA_LEN_LEN);
        LittleEndian::write_u64(len, data_len);
        LittleEndian::write_u64(count, self.count);
        self.bytes.extend_from_slice(&trailer);
        let crc = crc32fast::hash(&self.bytes);
        self.bytes.extend_from_slice(&crc.to_le_bytes());
        self.bytes
    }
}

/// The entry count a hint file's trailer (its last [`HINT_TRAILER_LEN`] bytes) claims,
/// unverified: for sizing, never for trusting the file.
pub fn claimed_entries(trailer: &[u8; HINT_TRAILER_LEN]) -> u64 {
    let (_data_len, count_and_crc) = trailer.split_at(DATA_LEN_LEN);
    LittleEndian::read_u64(count_and_crc)
}

/// Why a hint file was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintError {
    /// Shorter than a header and a trailer.
    TooShort,
    /// The file header is invalid or not a hint of the expected segment.
    BadHeader,
    /// The trailer's checksum does not match.
    Checksum,
    /// The entries do not parse exactly up to the trailer, or disagree with its count.
    BadEntries,
}

impl std::fmt::Display for HintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HintError::TooShort => write!(f, "hint file is truncated"),
            HintError::BadHeader => write!(f, "hint file header is invalid"),
            HintError::Checksum => write!(f, "hint file checksum mismatch"),
            HintError::BadEntries => write!(f, "hint file entries are malformed"),
        }
    }
}

/// A verified hint file.
#[derive(Debug)]
pub struct Hint<'a> {
    /// Length of the data segment it describes.
    pub data_len: u64,
    entries: &'a [u8],
    count: u64,
}

impl<'a> Hint<'a> {
    /// Checks `bytes` as the hint of segment `segment_id`: header, checksum, and that the
    /// entries parse exactly. Never panics.
    pub fn parse(bytes: &'a [u8], segment_id: u32) -> Result<Hint<'a>, HintError> {
        if bytes.len() < FILE_HEADER_LEN + HINT_TRAILER_LEN {
            return Err(HintError::TooShort);
        }
        match FileHeader::decode(bytes) {
            Ok(FileHeader {
                kind: FileKind::Hint,
                segment_id: id,
            }) if id == segment_id => {}
            _ => return Err(HintError::BadHeader),
        }
        let (body, crc) = bytes.split_at(bytes.len() - CRC_LEN);
        if LittleEndian::read_u32(crc) != crc32fast::hash(body) {
            return Err(HintError::Checksum);
        }
        let (rest, trailer) = body.split_at(body.len() - DATA_LEN_LEN - COUNT_LEN);
        let (data_len, count) = trailer.split_at(DATA_LEN_LEN);
        let hint = Hint {
            data_len: LittleEndian::read_u64(data_len),
            entries: rest.get(FILE_HEADER_LEN..).unwrap_or(&[]),
            count: LittleEndian::read_u64(count),
        };
        let mut parsed = 0u64;
        for entry in hint.entries() {
            entry?;
            parsed += 1;
        }
        if parsed != hint.count {
            return Err(HintError::BadEntries);
        }
        Ok(hint)
    }

    /// The entries, in the order they were written.
    pub fn entries(&self) -> impl Iterator<Item = Result<HintEntry<'a>, HintError>> + 'a {
        let mut rest = self.entries;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let entry = decode_entry(rest);
            match entry {
                Ok((entry, len)) => {
                    rest = rest.get(len..).unwrap_or(&[]);
                    Some(Ok(entry))
                }
                Err(e) => {
                    rest = &[];
                    Some(Err(e))
                }
            }
        })
    }
}

fn decode_entry(bytes: &[u8]) -> Result<(HintEntry<'_>, usize), HintError> {
    let fixed = bytes
        .get(..HINT_ENTRY_HEADER_LEN)
        .ok_or(HintError::BadEntries)?;
    let (seq, rest) = fixed.split_at(SEQ_LEN);
    let (expiry, rest) = rest.split_at(EXPIRY_LEN);
    let (kind, rest) = rest.split_at(KIND_LEN);
    let (offset, rest) = rest.split_at(OFFSET_LEN);
    let (klen, vlen) = rest.split_at(KEY_LEN_LEN);
    let kind = kind
        .first()
        .and_then(|&code| RecordKind::from_code(code))
        .ok_or(HintError::BadEntries)?;
    let key_len = LittleEndian::read_u32(klen) as usize;
    let value_len = LittleEndian::read_u32(vlen);
    let seq = LittleEndian::read_u64(seq);
    if key_len > MAX_KEY_LEN || value_len as usize > MAX_VALUE_LEN || seq > MAX_SEQ {
        return Err(HintError::BadEntries);
    }
    let key = bytes
        .get(HINT_ENTRY_HEADER_LEN..HINT_ENTRY_HEADER_LEN + key_len)
        .ok_or(HintError::BadEntries)?;
    Ok((
        HintEntry {
            seq,
            expiry_ms: LittleEndian::read_u64(expiry),
            kind,
            offset: LittleEndian::read_u32(offset),
            value_len,
            key,
        },
        HINT_ENTRY_HEADER_LEN + key_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = HintWriter::new(7);
        w.push(&HintEntry {
            seq: 1,
            expiry_ms: 0,
            kind: RecordKind::Put,
            offset: 16,
            value_len: 5,
            key: b"alpha",
        });
        w.push(&HintEntry {
            seq: 9,
            expiry_ms: 1_700_000_000_000,
            kind: RecordKind::Delete,
            offset: 59,
            value_len: 0,
            key: b"",
        });
        w.finish(1234)
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let hint = Hint::parse(&bytes, 7).unwrap();
        assert_eq!(hint.data_len, 1234);
        let entries: Vec<_> = hint.entries().map(Result::unwrap).collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, b"alpha");
        assert_eq!(entries[1].kind, RecordKind::Delete);
        assert_eq!(entries[1].expiry_ms, 1_700_000_000_000);
    }

    #[test]
    fn wrong_segment_truncation_and_bit_flips_are_rejected() {
        let bytes = sample();
        assert_eq!(Hint::parse(&bytes, 8).unwrap_err(), HintError::BadHeader);
        for cut in 0..bytes.len() {
            assert!(Hint::parse(&bytes[..cut], 7).is_err(), "cut at {cut}");
        }
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(Hint::parse(&b, 7).is_err(), "flip of bit {bit} accepted");
        }
    }

    #[test]
    fn empty_hint_is_valid() {
        let bytes = HintWriter::new(3).finish(16);
        let hint = Hint::parse(&bytes, 3).unwrap();
        assert_eq!(hint.entries().count(), 0);
    }
}
