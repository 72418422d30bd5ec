//! Hint files: the keys and record locations of one sealed data segment, without values,
//! so that `open` rebuilds the index without reading the data.
//!
//! ```text
//! file header (16 bytes, kind = hint (3), segment id = the data segment's)
//! entries, back to back, in the order of their records in the data segment:
//!   size field
//!      1 kind           bits 0-6: the record's kind code; bit 7: an expiry follows
//!    1-3 key length     varint
//!   1-5 value length    varint
//!   1-10 seq            varint, zigzag(seq - previous entry's seq; the first: seq - 0)
//!   1-10 offset         varint, zigzag(offset - where the previous entry's record ends;
//!                       the first: offset - 16)
//!   1-10 expiry         varint, unix ms, not 0; only if bit 7 of the kind byte is set
//!      k key
//! trailer (20 bytes):
//!        0    8 data length    u64 LE: length of the data segment this hint describes
//!        8    8 entry count    u64 LE
//!       16    4 CRC            CRC32 of every byte before this field (header included)
//! ```
//!
//! Varints are LEB128 (7 bits a byte, low first, high bit = more follows), in their
//! shortest form only, so every hint has exactly one encoding. Records follow each other in
//! a segment, so an offset is nearly always where the previous record ended (stored as 0),
//! and sequence numbers mostly climb by small steps: a 16-byte key's entry takes about 21
//! bytes, a seventh of its record's 149.
//!
//! A hint is trusted only whole: the trailer's checksum must hold and the data segment must
//! have exactly the recorded length. Anything else and `open` scans the data segment.

use byteorder::{ByteOrder, LittleEndian};

use super::file_header::{FILE_HEADER_LEN, FileHeader, FileKind};
use super::record::{MAX_KEY_LEN, MAX_SEQ, MAX_VALUE_LEN, Record, RecordKind, record_len};

/// The kind byte's flag: an expiry follows the offset.
const HAS_EXPIRY: u8 = 0x80;
/// The longest varint (a u64 takes at most 10 bytes of 7 bits).
const MAX_VARINT_LEN: usize = 10;
/// The fewest bytes an entry takes besides its key: the kind byte and four one-byte
/// varints.
pub const HINT_ENTRY_MIN_LEN: usize = 5;

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

impl<'a> HintEntry<'a> {
    /// The entry of `record`, found at byte `offset` of its data segment.
    pub fn of(record: &Record<'a>, offset: u32) -> HintEntry<'a> {
        HintEntry {
            seq: record.seq,
            expiry_ms: record.expiry_ms,
            kind: record.kind,
            offset,
            value_len: u32::try_from(record.value.len()).unwrap_or(u32::MAX),
            key: record.key,
        }
    }
}

/// Where the entry after `previous` is expected: where its record ends (the first entry:
/// right after the data segment's header). Offsets are stored relative to it.
fn expected_offset(previous: Option<&HintEntry<'_>>) -> i64 {
    previous.map_or(FILE_HEADER_LEN as i64, |p| {
        i64::from(p.offset) + record_len(p.key.len(), p.value_len as usize) as i64
    })
}

/// Maps a signed difference to an unsigned one, small magnitudes to small numbers.
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint in its shortest form from the front of `bytes`: the value and its
/// length. `None` for a truncated, overlong or overflowing one.
#[inline]
fn get_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    // Most lengths and steps fit in one byte.
    match bytes.first() {
        Some(&byte) if byte < 0x80 => Some((u64::from(byte), 1)),
        _ => get_long_varint(bytes),
    }
}

fn get_long_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0u64;
    for (i, &byte) in bytes.iter().take(MAX_VARINT_LEN).enumerate() {
        let bits = u64::from(byte & 0x7f);
        // The tenth byte holds bit 63 alone.
        if i == MAX_VARINT_LEN - 1 && bits > 1 {
            return None;
        }
        n |= bits << (7 * i);
        if byte & 0x80 == 0 {
            // A last byte of 0 after others is an overlong encoding.
            return (byte != 0 || i == 0).then_some((n, i + 1));
        }
    }
    None
}

/// Bytes a [`HintWriter`] gathers before [`HintWriter::drain_full`] hands them out.
pub const HINT_CHUNK: usize = 256 << 10;

/// Builds a hint file entry by entry: in memory, or (draining it with
/// [`drain_full`](HintWriter::drain_full) as it grows) in chunks of bounded size.
#[derive(Debug)]
pub struct HintWriter {
    /// Bytes not handed out yet.
    bytes: Vec<u8>,
    /// Checksum of the bytes handed out so far.
    handed_out: crc32fast::Hasher,
    count: u64,
    /// The previous entry's sequence number, and where its record ends.
    previous_seq: u64,
    expected_offset: i64,
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
            handed_out: crc32fast::Hasher::new(),
            count: 0,
            previous_seq: 0,
            expected_offset: expected_offset(None),
        }
    }

    /// Adds an entry. Keys and lengths out of the format's range are skipped (they cannot
    /// occur in a valid data segment); returns whether the entry was added.
    pub fn push(&mut self, entry: &HintEntry<'_>) -> bool {
        if entry.key.len() > MAX_KEY_LEN
            || entry.value_len as usize > MAX_VALUE_LEN
            || entry.seq > MAX_SEQ
        {
            return false;
        }
        let code = entry.kind.code();
        let expiry = entry.expiry_ms != 0;
        self.bytes
            .push(if expiry { code | HAS_EXPIRY } else { code });
        put_varint(&mut self.bytes, entry.key.len() as u64);
        put_varint(&mut self.bytes, u64::from(entry.value_len));
        // Both at most 2^63 - 1: the difference fits.
        put_varint(
            &mut self.bytes,
            zigzag(entry.seq as i64 - self.previous_seq as i64),
        );
        put_varint(
            &mut self.bytes,
            zigzag(i64::from(entry.offset) - self.expected_offset),
        );
        if expiry {
            put_varint(&mut self.bytes, entry.expiry_ms);
        }
        self.bytes.extend_from_slice(entry.key);
        self.previous_seq = entry.seq;
        self.expected_offset = expected_offset(Some(entry));
        self.count += 1;
        true
    }

    /// Once at least [`HINT_CHUNK`] bytes have gathered, hands them to `sink` (the next
    /// bytes of the file, in order) and forgets them, so that a hint of any size is written
    /// in bounded memory. The file's checksum still covers them.
    pub fn drain_full<E>(&mut self, sink: impl FnOnce(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.bytes.len() < HINT_CHUNK {
            return Ok(());
        }
        sink(&self.bytes)?;
        self.handed_out.update(&self.bytes);
        self.bytes.clear();
        Ok(())
    }

    /// Finishes the file for a data segment of `data_len` bytes: returns the bytes not
    /// handed out yet (the whole file if none were), trailer and checksum included.
    pub fn finish(mut self, data_len: u64) -> Vec<u8> {
        let mut trailer = [0u8; DATA_LEN_LEN + COUNT_LEN];
        let (len, count) = trailer.split_at_mut(DATA_LEN_LEN);
        LittleEndian::write_u64(len, data_len);
        LittleEndian::write_u64(count, self.count);
        self.bytes.extend_from_slice(&trailer);
        self.handed_out.update(&self.bytes);
        let crc = self.handed_out.finalize();
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
    /// The entries do not parse exactly up to the trailer, disagree with its count, or
    /// reach past the data length it describes.
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
    /// entries parse exactly and lie inside the data length it describes. Never panics.
    pub fn parse(bytes: &'a [u8], segment_id: u32) -> Result<Hint<'a>, HintError> {
        let hint = Hint::parse_frame(bytes, segment_id)?;
        for entry in hint.checked_entries() {
            entry?;
        }
        Ok(hint)
    }

    /// Checks the header, checksum and trailer of `bytes` as the hint of segment
    /// `segment_id`, but not the entries: [`Hint::checked_entries`] checks each as it reads
    /// it (one pass over the entries instead of two, for a reader that can undo what it
    /// did with the entries before a bad one). Never panics.
    pub fn parse_frame(bytes: &'a [u8], segment_id: u32) -> Result<Hint<'a>, HintError> {
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
        Ok(Hint {
            data_len: LittleEndian::read_u64(data_len),
            entries: rest.get(FILE_HEADER_LEN..).unwrap_or(&[]),
            count: LittleEndian::read_u64(count),
        })
    }

    /// The entries, each checked: it parses exactly and lies inside the data length the
    /// hint describes (so a hint that matches its data file's length points only inside
    /// it); after the last, an error if the trailer counted another number of entries. The
    /// iteration ends after the first error.
    pub fn checked_entries(&self) -> impl Iterator<Item = Result<HintEntry<'a>, HintError>> + 'a {
        let data_len = self.data_len;
        let count = self.count;
        let mut entries = self.entries();
        let mut parsed = 0u64;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let checked = match entries.next() {
                Some(Ok(entry)) => {
                    let end = u64::from(entry.offset)
                        + record_len(entry.key.len(), entry.value_len as usize) as u64;
                    parsed += 1;
                    if end > data_len {
                        Err(HintError::BadEntries)
                    } else {
                        Ok(entry)
                    }
                }
                Some(Err(e)) => Err(e),
                None if parsed != count => Err(HintError::BadEntries),
                None => return None,
            };
            done = checked.is_err();
            Some(checked)
        })
    }

    /// The entries, in the order they were written.
    pub fn entries(&self) -> impl Iterator<Item = Result<HintEntry<'a>, HintError>> + 'a {
        let mut rest = self.entries;
        let mut previous: Option<HintEntry<'a>> = None;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            match decode_entry(rest, previous.as_ref()) {
                Ok((entry, len)) => {
                    rest = rest.get(len..).unwrap_or(&[]);
                    previous = Some(entry);
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

/// Decodes the entry at the front of `bytes`, which follows `previous`: the entry and its
/// length.
fn decode_entry<'a>(
    bytes: &'a [u8],
    previous: Option<&HintEntry<'_>>,
) -> Result<(HintEntry<'a>, usize), HintError> {
    let bad = HintError::BadEntries;
    let (&kind_byte, mut rest) = bytes.split_first().ok_or(bad)?;
    let kind = RecordKind::from_code(kind_byte & !HAS_EXPIRY).ok_or(bad)?;
    let mut varint = || -> Result<u64, HintError> {
        let (n, len) = get_varint(rest).ok_or(bad)?;
        rest = rest.get(len..).unwrap_or_default();
        Ok(n)
    };
    let key_len = usize::try_from(varint()?).map_err(|_| bad)?;
    let value_len = u32::try_from(varint()?).map_err(|_| bad)?;
    let seq_step = unzigzag(varint()?);
    let offset_step = unzigzag(varint()?);
    let expiry_ms = if kind_byte & HAS_EXPIRY != 0 {
        // A flagged expiry of 0 would be a second encoding of "none".
        Some(varint()?).filter(|&e| e != 0).ok_or(bad)?
    } else {
        0
    };
    let at = bytes.len() - rest.len();
    let previous_seq = previous.map_or(0, |p| p.seq);
    let seq = u64::try_from(i128::from(previous_seq) + i128::from(seq_step)).map_err(|_| bad)?;
    let offset = u32::try_from(i128::from(expected_offset(previous)) + i128::from(offset_step))
        .map_err(|_| bad)?;
    if key_len > MAX_KEY_LEN || value_len as usize > MAX_VALUE_LEN || seq > MAX_SEQ {
        return Err(bad);
    }
    let key = bytes.get(at..at + key_len).ok_or(bad)?;
    Ok((
        HintEntry {
            seq,
            expiry_ms,
            kind,
            offset,
            value_len,
            key,
        },
        at + key_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A put of `alpha` (5-byte value), the first record of its segment.
    fn alpha() -> HintEntry<'static> {
        HintEntry {
            seq: 1,
            expiry_ms: 0,
            kind: RecordKind::Put,
            offset: 16,
            value_len: 5,
            key: b"alpha",
        }
    }

    fn sample() -> Vec<u8> {
        let mut w = HintWriter::new(7);
        w.push(&alpha());
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

    /// The disk target of the merge issue counts hint files: an entry must stay a small
    /// fraction of its record (21 of 149 bytes for a 16-byte key and a 100-byte value).
    #[test]
    fn entries_of_consecutive_records_take_five_bytes_besides_the_key() {
        let keys: Vec<[u8; 16]> = (0..100u8).map(|i| [i; 16]).collect();
        let mut w = HintWriter::new(1);
        let mut offset = FILE_HEADER_LEN as u32;
        for (i, key) in keys.iter().enumerate() {
            assert!(w.push(&HintEntry {
                seq: 1_000_000 + i as u64 * 3,
                expiry_ms: 0,
                kind: RecordKind::Put,
                offset,
                value_len: 100,
                key,
            }));
            offset += record_len(16, 100) as u32;
        }
        let empty = HintWriter::new(1).finish(0).len();
        let bytes = w.finish(u64::from(offset));
        // The first entry's seq step is big (three bytes); every other entry takes 21.
        assert_eq!(bytes.len() - empty, 100 * (HINT_ENTRY_MIN_LEN + 16) + 2);
    }

    #[test]
    fn extreme_steps_round_trip() {
        let key = b"k";
        let entries = [
            (MAX_SEQ, 0, u32::MAX, MAX_VALUE_LEN as u32),
            (0, u64::MAX, 0, 0),
            (MAX_SEQ, 1, 17, 3),
            (5, 0, 16, 0),
        ];
        let mut w = HintWriter::new(2);
        let written: Vec<HintEntry<'_>> = entries
            .iter()
            .map(|&(seq, expiry_ms, offset, value_len)| HintEntry {
                seq,
                expiry_ms,
                kind: RecordKind::Put,
                offset,
                value_len,
                key,
            })
            .collect();
        for e in &written {
            assert!(w.push(e));
        }
        let bytes = w.finish(u64::from(u32::MAX) + (1 << 31));
        let hint = Hint::parse(&bytes, 2).unwrap();
        let read: Vec<_> = hint.entries().map(Result::unwrap).collect();
        assert_eq!(read, written);
    }

    /// Drained in chunks as it grows, a hint is the same file as one built in memory: the
    /// chunks and the finished tail joined, checksum included.
    #[test]
    fn a_hint_drained_in_chunks_is_the_file_built_in_memory() {
        let mut whole = HintWriter::new(3);
        let mut drained = HintWriter::new(3);
        let mut file = Vec::new();
        let mut chunks = 0;
        let mut offset = FILE_HEADER_LEN as u32;
        for i in 0..30_000u32 {
            let key = format!("key-{i:08}");
            let entry = HintEntry {
                seq: u64::from(i) * 2 + 1,
                expiry_ms: if i % 7 == 0 { 1_700_000_000_000 } else { 0 },
                kind: RecordKind::Put,
                offset,
                value_len: 100,
                key: key.as_bytes(),
            };
            offset += record_len(key.len(), 100) as u32;
            assert!(whole.push(&entry) && drained.push(&entry));
            drained
                .drain_full(|chunk| {
                    assert!(chunk.len() >= HINT_CHUNK);
                    file.extend_from_slice(chunk);
                    chunks += 1;
                    Ok::<(), ()>(())
                })
                .unwrap();
        }
        assert!(chunks >= 2, "{chunks} chunks");
        file.extend_from_slice(&drained.finish(u64::from(offset)));
        let in_memory = whole.finish(u64::from(offset));
        assert_eq!(file, in_memory);
        let hint = Hint::parse(&file, 3).unwrap();
        assert_eq!(hint.entries().count(), 30_000);
    }

    #[test]
    fn varints_are_accepted_in_their_shortest_form_only() {
        for n in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(get_varint(&out), Some((n, out.len())), "{n}");
            for cut in 0..out.len() {
                assert_eq!(get_varint(&out[..cut]), None);
            }
        }
        // 1 written as two bytes; u64::MAX + 1; eleven bytes.
        assert_eq!(get_varint(&[0x81, 0x00]), None);
        assert_eq!(
            get_varint(&[0xff; 9].iter().chain(&[0x02]).copied().collect::<Vec<_>>()),
            None
        );
        assert_eq!(get_varint(&[0x80; 11]), None);
    }

    #[test]
    fn an_entry_past_the_data_length_it_describes_is_rejected() {
        let entry = alpha();
        let end = 16 + record_len(5, 5) as u64;
        for (data_len, ok) in [(end, true), (end - 1, false)] {
            let mut w = HintWriter::new(4);
            w.push(&entry);
            let bytes = w.finish(data_len);
            assert_eq!(Hint::parse(&bytes, 4).is_ok(), ok, "data length {data_len}");
        }
    }

    #[test]
    fn empty_hint_is_valid() {
        let bytes = HintWriter::new(3).finish(16);
        let hint = Hint::parse(&bytes, 3).unwrap();
        assert_eq!(hint.entries().count(), 0);
    }
}
