//! One record of a data segment: a put or a tombstone, with its own checksums.
//!
//! ```text
//! offset size field
//!      0    4 crc          CRC32 of bytes 4..end of record (everything after this field)
//!      4    4 header crc   CRC32 of bytes 8..33 (seq through value length)
//!      8    8 seq          u64 LE, global sequence number, at most MAX_SEQ (2^63 - 1);
//!                          the highest seq of a key wins
//!     16    8 expiry       u64 LE, absolute unix time in ms; 0 = never expires
//!     24    1 kind         bits 0-6: 1 = put, 2 = tombstone; bit 7: more records of this
//!                          atomic batch follow
//!     25    4 key length   u32 LE, 0..=MAX_KEY_LEN (the empty key is a key, as in Redis)
//!     29    4 value length u32 LE, 0..=MAX_VALUE_LEN (0 for a tombstone)
//!     33    k key
//!   33+k    v value
//! ```
//!
//! The header checksum lets recovery trust the length fields before it reads the body: a
//! record whose header checks out but whose body runs past the end of the file was torn by a
//! crash, while a damaged length field fails the header checksum and is never mistaken for
//! a torn tail (see `recovery.rs`).

use byteorder::{ByteOrder, LittleEndian};

const CRC_LEN: usize = 4;
const HEADER_CRC_LEN: usize = 4;
const SEQ_LEN: usize = 8;
const EXPIRY_LEN: usize = 8;
const KIND_LEN: usize = 1;
const KEY_LEN_LEN: usize = 4;
const VALUE_LEN_LEN: usize = 4;

/// Length of a record header: every fixed-width field before the key.
pub const RECORD_HEADER_LEN: usize =
    CRC_LEN + HEADER_CRC_LEN + SEQ_LEN + EXPIRY_LEN + KIND_LEN + KEY_LEN_LEN + VALUE_LEN_LEN;

/// Where the fields covered by the header checksum start.
const HEADER_CHECKED_START: usize = CRC_LEN + HEADER_CRC_LEN;

/// The longest key the format accepts. The in-memory index stores key lengths in 16 bits.
pub const MAX_KEY_LEN: usize = u16::MAX as usize;
/// The longest value the format accepts (1 GiB); keeps every record offset and length in u32.
pub const MAX_VALUE_LEN: usize = 1 << 30;
/// The highest sequence number the format accepts. The top bit is reserved: a store can never
/// run out (2^63 writes at a million per second take 292,000 years), and a checksummed
/// record claiming more is not something keg wrote.
pub const MAX_SEQ: u64 = (1 << 63) - 1;

/// The value of a `Collection` record is exactly this long (type byte and generation).
pub const COLLECTION_HEADER_LEN: usize = 9;

const KIND_OP_MASK: u8 = 0x7f;
const KIND_BATCH_CONTINUES: u8 = 0x80;

/// What a record does to its key.
///
/// Records live in one of two key spaces. Keys (`Put`, `Collection`, `Delete`) are what
/// users name; elements (`ElementPut`, `ElementDelete`) are the members of a collection,
/// under an element key that names the collection, its generation and the member (see
/// `docs/format.md`). The two spaces never collide: the kind says which one a key is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// Sets the key to the record's value (a string).
    Put,
    /// Deletes the key, whatever it holds (a tombstone); the value is empty.
    Delete,
    /// Makes the key a collection (hash, set, sorted set, list): the value is its header
    /// (type and generation), the expiry the collection's.
    Collection,
    /// Sets one element of a collection.
    ElementPut,
    /// Deletes one element of a collection (an element tombstone); the value is empty.
    ElementDelete,
}

impl RecordKind {
    /// The kind's code on disk (bits 0-6 of the kind byte; hint entries use the same codes).
    pub fn code(self) -> u8 {
        match self {
            RecordKind::Put => 1,
            RecordKind::Delete => 2,
            RecordKind::Collection => 3,
            RecordKind::ElementPut => 4,
            RecordKind::ElementDelete => 5,
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(RecordKind::Put),
            2 => Some(RecordKind::Delete),
            3 => Some(RecordKind::Collection),
            4 => Some(RecordKind::ElementPut),
            5 => Some(RecordKind::ElementDelete),
            _ => None,
        }
    }

    fn to_bits(self) -> u8 {
        self.code()
    }

    fn from_bits(bits: u8) -> Option<Self> {
        Self::from_code(bits)
    }

    /// A tombstone (of a key or of an element): no value, deletes what it shadows.
    pub fn is_tombstone(self) -> bool {
        matches!(self, RecordKind::Delete | RecordKind::ElementDelete)
    }

    /// A record in the element key space.
    pub fn is_element(self) -> bool {
        matches!(self, RecordKind::ElementPut | RecordKind::ElementDelete)
    }

    /// A short name (`put`, `del`, `coll`, `eput`, `edel`), as `kvctl dump` prints it.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Put => "put",
            RecordKind::Delete => "del",
            RecordKind::Collection => "coll",
            RecordKind::ElementPut => "eput",
            RecordKind::ElementDelete => "edel",
        }
    }
}

/// A record borrowed from the bytes it was decoded from (or about to be encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Global sequence number.
    pub seq: u64,
    /// Absolute expiry in unix milliseconds; 0 = never.
    pub expiry_ms: u64,
    /// What the record does (see [`RecordKind`]).
    pub kind: RecordKind,
    /// True when more records of the same atomic batch follow this one.
    pub batch_continues: bool,
    /// The key (may be empty).
    pub key: &'a [u8],
    /// The value (empty for tombstones).
    pub value: &'a [u8],
}

impl Record<'_> {
    /// Bytes this record occupies on disk.
    pub fn encoded_len(&self) -> usize {
        record_len(self.key.len(), self.value.len())
    }
}

/// Bytes a record with these key and value lengths occupies on disk.
pub fn record_len(key_len: usize, value_len: usize) -> usize {
    RECORD_HEADER_LEN
        .saturating_add(key_len)
        .saturating_add(value_len)
}

/// Why bytes did not decode as a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end before the record does: fewer than a header, or a checked header whose
    /// lengths run past the end. At the tail of the newest segment this is a torn write.
    Incomplete,
    /// The header checksum does not match: the length fields cannot be trusted.
    HeaderChecksum,
    /// The header checks out but names an unknown record kind.
    UnknownKind(u8),
    /// The header checks out but a length is outside the format's limits.
    LengthOutOfRange,
    /// The header checks out but the sequence number is above [`MAX_SEQ`].
    SeqOutOfRange,
    /// The header checks out but the key and value do not match the record checksum.
    Checksum,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Incomplete => write!(f, "record is truncated"),
            DecodeError::HeaderChecksum => write!(f, "record header checksum mismatch"),
            DecodeError::UnknownKind(k) => write!(f, "unknown record kind {k:#04x}"),
            DecodeError::LengthOutOfRange => write!(f, "record length field out of range"),
            DecodeError::SeqOutOfRange => write!(f, "record sequence number out of range"),
            DecodeError::Checksum => write!(f, "record checksum mismatch"),
        }
    }
}

/// The key or value of a record to encode exceeds the format's limits, or its sequence
/// number is above [`MAX_SEQ`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordTooLarge;

/// Appends the encoding of `record` to `out` and returns its length.
///
/// Fails, appending nothing, if the key is longer than [`MAX_KEY_LEN`], the value is
/// longer than [`MAX_VALUE_LEN`] or the sequence number above [`MAX_SEQ`]; callers validate
/// against their own (smaller) limits first, so this is a last line of defence.
pub fn encode_record(out: &mut Vec<u8>, record: &Record<'_>) -> Result<usize, RecordTooLarge> {
    let key_len = record.key.len();
    let value_len = record.value.len();
    if key_len > MAX_KEY_LEN || value_len > MAX_VALUE_LEN || record.seq > MAX_SEQ {
        return Err(RecordTooLarge);
    }
    let (Ok(key_len32), Ok(value_len32)) = (u32::try_from(key_len), u32::try_from(value_len))
    else {
        return Err(RecordTooLarge);
    };
    let start = out.len();
    let total = record.encoded_len();
    out.reserve(total);

    let mut header = [0u8; RECORD_HEADER_LEN];
    {
        let (_crcs, fields) = header.split_at_mut(HEADER_CHECKED_START);
        let (seq, rest) = fields.split_at_mut(SEQ_LEN);
        LittleEndian::write_u64(seq, record.seq);
        let (expiry, rest) = rest.split_at_mut(EXPIRY_LEN);
        LittleEndian::write_u64(expiry, record.expiry_ms);
        let (kind, rest) = rest.split_at_mut(KIND_LEN);
        let continues = if record.batch_continues {
            KIND_BATCH_CONTINUES
        } else {
            0
        };
        kind.fill(record.kind.to_bits() | continues);
        let (klen, vlen) = rest.split_at_mut(KEY_LEN_LEN);
        LittleEndian::write_u32(klen, key_len32);
        LittleEndian::write_u32(vlen, value_len32);
    }
    {
        let (_crc, after_crc) = header.split_at_mut(CRC_LEN);
        let (header_crc_field, checked_fields) = after_crc.split_at_mut(HEADER_CRC_LEN);
        LittleEndian::write_u32(header_crc_field, crc32fast::hash(checked_fields));
    }
    out.extend_from_slice(&header);
    out.extend_from_slice(record.key);
    out.extend_from_slice(record.value);
    // One pass over the contiguous record: cheaper than hashing its three parts.
    if let Some(record_bytes) = out.get_mut(start..) {
        let (crc_field, rest) = record_bytes.split_at_mut(CRC_LEN);
        LittleEndian::write_u32(crc_field, crc32fast::hash(rest));
    }
    debug_assert_eq!(out.len() - start, total);
    Ok(total)
}

/// The total length claimed by the record header at the start of `bytes`, if that header
/// is complete and its checksum holds (the body is not checked).
pub fn checked_record_len(bytes: &[u8]) -> Option<usize> {
    let header = bytes.get(..RECORD_HEADER_LEN)?;
    let (_crc, after_crc) = header.split_at(CRC_LEN);
    let (header_crc, fields) = after_crc.split_at(HEADER_CRC_LEN);
    if LittleEndian::read_u32(header_crc) != crc32fast::hash(fields) {
        return None;
    }
    let (_, lens) = fields.split_at(SEQ_LEN + EXPIRY_LEN + KIND_LEN);
    let (klen, vlen) = lens.split_at(KEY_LEN_LEN);
    Some(record_len(
        LittleEndian::read_u32(klen) as usize,
        LittleEndian::read_u32(vlen) as usize,
    ))
}

/// The total length the record header at the start of `bytes` claims, unchecked: for a
/// reader that verifies the whole record's checksum over exactly that many bytes next (a
/// damaged length then fails that check, or runs past what can be read). `None` if the
/// header is incomplete or claims lengths over the format's limits.
pub(crate) fn claimed_record_len(bytes: &[u8]) -> Option<usize> {
    let lens =
        bytes.get(HEADER_CHECKED_START + SEQ_LEN + EXPIRY_LEN + KIND_LEN..RECORD_HEADER_LEN)?;
    let (klen, vlen) = lens.split_at(KEY_LEN_LEN);
    let (key_len, value_len) = (
        LittleEndian::read_u32(klen) as usize,
        LittleEndian::read_u32(vlen) as usize,
    );
    (key_len <= MAX_KEY_LEN && value_len <= MAX_VALUE_LEN).then(|| record_len(key_len, value_len))
}

/// Whether the record header at the start of `bytes` says that more records of its atomic
/// batch follow, if that header is complete and its checksum holds (the body is not
/// checked): what a record with a damaged body still tells about its batch.
pub fn checked_batch_continues(bytes: &[u8]) -> Option<bool> {
    checked_record_len(bytes)?;
    let kind = bytes.get(HEADER_CHECKED_START + SEQ_LEN + EXPIRY_LEN)?;
    Some(kind & KIND_BATCH_CONTINUES != 0)
}

/// Decodes the record at the start of `bytes`, returning it and its encoded length.
/// Bytes after the record are ignored. Never panics.
pub fn decode_record(bytes: &[u8]) -> Result<(Record<'_>, usize), DecodeError> {
    let header = bytes
        .get(..RECORD_HEADER_LEN)
        .ok_or(DecodeError::Incomplete)?;
    let (_, after_crc) = header.split_at(CRC_LEN);
    let (header_crc_field, fields) = after_crc.split_at(HEADER_CRC_LEN);
    if LittleEndian::read_u32(header_crc_field) != crc32fast::hash(fields) {
        return Err(DecodeError::HeaderChecksum);
    }
    let fields = decode_fields(header)?;
    let record_bytes = bytes.get(..fields.total).ok_or(DecodeError::Incomplete)?;
    finish_decode(record_bytes, &fields)
}

/// Decodes a record that fills `bytes` exactly, as a read through the index finds it (the
/// index knows its length). The whole-record checksum covers the header too, so the
/// header's own checksum — there so that recovery can trust a length before the body is
/// read — is not computed again. Never panics.
pub fn decode_exact_record(bytes: &[u8]) -> Result<Record<'_>, DecodeError> {
    let header = bytes
        .get(..RECORD_HEADER_LEN)
        .ok_or(DecodeError::Incomplete)?;
    let fields = decode_fields(header)?;
    if fields.total != bytes.len() {
        return Err(DecodeError::LengthOutOfRange);
    }
    finish_decode(bytes, &fields).map(|(record, _)| record)
}

/// A record header's fields, checked for range (not for their checksum).
struct Fields {
    seq: u64,
    expiry_ms: u64,
    kind: RecordKind,
    kind_byte: u8,
    key_len: usize,
    total: usize,
}

fn decode_fields(header: &[u8]) -> Result<Fields, DecodeError> {
    let fields = header
        .get(HEADER_CHECKED_START..RECORD_HEADER_LEN)
        .ok_or(DecodeError::Incomplete)?;
    let (seq, rest) = fields.split_at(SEQ_LEN);
    let (expiry, rest) = rest.split_at(EXPIRY_LEN);
    let (kind, rest) = rest.split_at(KIND_LEN);
    let (klen, vlen) = rest.split_at(KEY_LEN_LEN);
    let kind_byte = kind.first().copied().unwrap_or(0);
    let record_kind = RecordKind::from_bits(kind_byte & KIND_OP_MASK)
        .ok_or(DecodeError::UnknownKind(kind_byte))?;
    let key_len = LittleEndian::read_u32(klen) as usize;
    let value_len = LittleEndian::read_u32(vlen) as usize;
    if key_len > MAX_KEY_LEN
        || value_len > MAX_VALUE_LEN
        || (record_kind.is_tombstone() && value_len != 0)
        || (record_kind == RecordKind::Collection && value_len != COLLECTION_HEADER_LEN)
    {
        return Err(DecodeError::LengthOutOfRange);
    }
    let seq = LittleEndian::read_u64(seq);
    if seq > MAX_SEQ {
        return Err(DecodeError::SeqOutOfRange);
    }
    Ok(Fields {
        seq,
        expiry_ms: LittleEndian::read_u64(expiry),
        kind: record_kind,
        kind_byte,
        key_len,
        total: record_len(key_len, value_len),
    })
}

/// Checks the whole-record checksum of `bytes` (exactly one record) and splits its body.
fn finish_decode<'a>(bytes: &'a [u8], fields: &Fields) -> Result<(Record<'a>, usize), DecodeError> {
    let (crc_field, checked) = bytes
        .split_at_checked(CRC_LEN)
        .ok_or(DecodeError::Incomplete)?;
    // The header after the checksum field and the body are contiguous: one pass.
    if LittleEndian::read_u32(crc_field) != crc32fast::hash(checked) {
        return Err(DecodeError::Checksum);
    }
    let body = bytes
        .get(RECORD_HEADER_LEN..)
        .ok_or(DecodeError::Incomplete)?;
    let (key, value) = body
        .split_at_checked(fields.key_len)
        .ok_or(DecodeError::Incomplete)?;
    Ok((
        Record {
            seq: fields.seq,
            expiry_ms: fields.expiry_ms,
            kind: fields.kind,
            batch_continues: fields.kind_byte & KIND_BATCH_CONTINUES != 0,
            key,
            value,
        },
        fields.total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn put<'a>(key: &'a [u8], value: &'a [u8]) -> Record<'a> {
        Record {
            seq: 42,
            expiry_ms: 0,
            kind: RecordKind::Put,
            batch_continues: false,
            key,
            value,
        }
    }

    fn encode(r: &Record<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&mut out, r).unwrap();
        out
    }

    #[test]
    fn header_len_is_thirty_three() {
        assert_eq!(RECORD_HEADER_LEN, 33);
    }

    #[test]
    fn round_trip_put_tombstone_and_batch_flag() {
        let records = [
            put(b"k", b"v"),
            put(b"key", b""),
            put(b"", b"empty key"),
            Record {
                seq: MAX_SEQ,
                expiry_ms: 1_700_000_000_000,
                kind: RecordKind::Delete,
                batch_continues: true,
                key: b"gone",
                value: b"",
            },
        ];
        for r in records {
            let bytes = encode(&r);
            assert_eq!(bytes.len(), r.encoded_len());
            assert_eq!(decode_record(&bytes), Ok((r, bytes.len())));
        }
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut bytes = encode(&put(b"a", b"b"));
        let len = bytes.len();
        bytes.extend_from_slice(b"garbage");
        assert_eq!(decode_record(&bytes).unwrap().1, len);
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let bytes = encode(&put(b"some key", b"some value"));
        for cut in 0..bytes.len() {
            assert_eq!(
                decode_record(&bytes[..cut]),
                Err(DecodeError::Incomplete),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let bytes = encode(&put(b"some key", b"some value"));
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_record(&b).is_err(), "flip of bit {bit} accepted");
            assert!(
                decode_exact_record(&b).is_err(),
                "flip of bit {bit} accepted by the exact decode"
            );
        }
    }

    #[test]
    fn the_exact_decode_agrees_with_the_decode_and_wants_the_whole_record() {
        for record in [
            put(b"some key", b"some value"),
            put(b"", b""),
            put(b"k", &[7u8; 300]),
        ] {
            let bytes = encode(&record);
            let (decoded, len) = decode_record(&bytes).unwrap();
            assert_eq!(len, bytes.len());
            assert_eq!(decode_exact_record(&bytes), Ok(decoded));
            for cut in 0..bytes.len() {
                assert!(decode_exact_record(&bytes[..cut]).is_err(), "cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_exact_record(&longer).is_err());
        }
    }

    #[test]
    fn a_checked_header_tells_the_batch_flag_even_when_the_body_is_damaged() {
        for continues in [false, true] {
            let mut bytes = encode(&Record {
                batch_continues: continues,
                ..put(b"key", b"value")
            });
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            assert_eq!(decode_record(&bytes), Err(DecodeError::Checksum));
            assert_eq!(checked_batch_continues(&bytes), Some(continues));
            bytes[24] ^= 0x80; // the flag itself: the header checksum catches it
            assert_eq!(checked_batch_continues(&bytes), None);
        }
        assert_eq!(checked_batch_continues(&[0u8; 10]), None);
    }

    #[test]
    fn damaged_length_field_fails_header_check_not_incomplete() {
        let bytes = encode(&put(b"key", b"value"));
        let mut b = bytes.clone();
        b[29] ^= 0x40; // value length grows: would look like a body running past the end
        assert_eq!(decode_record(&b), Err(DecodeError::HeaderChecksum));
    }

    #[test]
    fn zeroed_header_is_a_header_checksum_error() {
        assert_eq!(decode_record(&[0u8; 64]), Err(DecodeError::HeaderChecksum));
    }

    /// Found by the `open_segment_image` fuzz target: a checksummed record with sequence
    /// number u64::MAX made `open` overflow computing the next one (a panic in debug builds;
    /// in release, the next write reused sequence number 0 and lost to the old record on
    /// reopen). Such a record is now out of range.
    #[test]
    fn sequence_numbers_above_max_seq_are_out_of_range() {
        let mut bytes = encode(&put(b"k1", b""));
        // Rewrite seq to u64::MAX with valid checksums, as a crafted file could.
        bytes[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let header_crc = crc32fast::hash(&bytes[8..33]);
        bytes[4..8].copy_from_slice(&header_crc.to_le_bytes());
        let crc = crc32fast::hash(&bytes[4..]);
        bytes[0..4].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode_record(&bytes), Err(DecodeError::SeqOutOfRange));
        let mut out = Vec::new();
        let r = Record {
            seq: MAX_SEQ + 1,
            ..put(b"k", b"v")
        };
        assert_eq!(encode_record(&mut out, &r), Err(RecordTooLarge));
        assert!(out.is_empty());
    }

    #[test]
    fn oversized_input_is_refused_by_encoder() {
        let mut out = Vec::new();
        let big_key = vec![0u8; MAX_KEY_LEN + 1];
        assert_eq!(
            encode_record(&mut out, &put(&big_key, b"v")),
            Err(RecordTooLarge)
        );
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_record(&bytes);
        }

        #[test]
        fn round_trip_any(
            seq in 0..=MAX_SEQ,
            expiry_ms in any::<u64>(),
            cont in any::<bool>(),
            key in proptest::collection::vec(any::<u8>(), 1..64),
            value in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let r = Record { seq, expiry_ms, kind: RecordKind::Put, batch_continues: cont, key: &key, value: &value };
            let bytes = encode(&r);
            prop_assert_eq!(decode_record(&bytes), Ok((r, bytes.len())));
        }
    }
}
