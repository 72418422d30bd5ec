//! The 16-byte header at the start of every file the store writes.
//!
//! ```text
//! offset size field
//!      0    4 magic        0x89 'K' 'E' 'G'
//!      4    2 version      u16 LE, = FORMAT_VERSION
//!      6    1 file kind    1 = data segment, 3 = hint file (2 was an earlier, wider
//!                          hint layout: rejected, so such a hint is not used)
//!      7    1 reserved     0
//!      8    4 segment id   u32 LE, the id in the file name
//!     12    4 header CRC   CRC32 of bytes 0..12, u32 LE
//! ```

use byteorder::{ByteOrder, LittleEndian};

/// Identifies a keg file. The high first byte catches 7-bit-clean copies, as in PNG.
pub const MAGIC: [u8; 4] = [0x89, b'K', b'E', b'G'];
/// The only format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;

const MAGIC_LEN: usize = 4;
const VERSION_LEN: usize = 2;
const KIND_LEN: usize = 1;
const RESERVED_LEN: usize = 1;
const SEGMENT_ID_LEN: usize = 4;
const CRC_LEN: usize = 4;
const CHECKED_LEN: usize = MAGIC_LEN + VERSION_LEN + KIND_LEN + RESERVED_LEN + SEGMENT_ID_LEN;
/// Where the version field lies in the header.
pub(crate) const VERSION_FIELD: std::ops::Range<usize> = MAGIC_LEN..MAGIC_LEN + VERSION_LEN;

/// Length of the file header in bytes.
pub const FILE_HEADER_LEN: usize = CHECKED_LEN + CRC_LEN;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A data segment: records.
    Data,
    /// A hint file: the keys and locations of one data segment.
    Hint,
}

impl FileKind {
    fn to_byte(self) -> u8 {
        match self {
            FileKind::Data => 1,
            FileKind::Hint => 3,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(FileKind::Data),
            3 => Some(FileKind::Hint),
            _ => None,
        }
    }
}

/// A decoded file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// What the file holds.
    pub kind: FileKind,
    /// The segment this file belongs to; must match the number in its name.
    pub segment_id: u32,
}

/// Why a file header was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileHeaderError {
    /// Fewer than [`FILE_HEADER_LEN`] bytes.
    TooShort,
    /// The magic bytes are wrong: not a keg file.
    BadMagic,
    /// A version this build does not read.
    UnsupportedVersion(u16),
    /// The header's checksum does not match.
    BadChecksum,
    /// The kind byte is not a known file kind.
    UnknownKind(u8),
    /// The reserved byte is not zero: written by an extension this version does not know.
    ReservedNotZero(u8),
}

impl std::fmt::Display for FileHeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileHeaderError::TooShort => write!(f, "file header is truncated"),
            FileHeaderError::BadMagic => write!(f, "not a keg file (bad magic bytes)"),
            FileHeaderError::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            FileHeaderError::BadChecksum => write!(f, "file header checksum mismatch"),
            FileHeaderError::UnknownKind(k) => write!(f, "unknown file kind {k}"),
            FileHeaderError::ReservedNotZero(b) => {
                write!(f, "reserved header byte is {b:#04x}, not 0")
            }
        }
    }
}

impl FileHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; FILE_HEADER_LEN] {
        let mut out = [0u8; FILE_HEADER_LEN];
        let (checked, crc) = out.split_at_mut(CHECKED_LEN);
        let (magic, rest) = checked.split_at_mut(MAGIC_LEN);
        magic.copy_from_slice(&MAGIC);
        let (version, rest) = rest.split_at_mut(VERSION_LEN);
        LittleEndian::write_u16(version, FORMAT_VERSION);
        let (kind, rest) = rest.split_at_mut(KIND_LEN);
        kind.fill(self.kind.to_byte());
        let (_reserved, id) = rest.split_at_mut(RESERVED_LEN);
        LittleEndian::write_u32(id, self.segment_id);
        LittleEndian::write_u32(crc, crc32fast::hash(checked));
        out
    }

    /// Decodes the header at the start of `bytes` (extra bytes are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Self, FileHeaderError> {
        let header = bytes
            .get(..FILE_HEADER_LEN)
            .ok_or(FileHeaderError::TooShort)?;
        let (checked, crc) = header.split_at(CHECKED_LEN);
        let (magic, rest) = checked.split_at(MAGIC_LEN);
        if magic != MAGIC {
            return Err(FileHeaderError::BadMagic);
        }
        let (version, rest) = rest.split_at(VERSION_LEN);
        // The version is checked before the checksum so that a file from a future format,
        // whose header may be laid out differently, is named as such and not as corrupt.
        let version = LittleEndian::read_u16(version);
        if version != FORMAT_VERSION {
            return Err(FileHeaderError::UnsupportedVersion(version));
        }
        if LittleEndian::read_u32(crc) != crc32fast::hash(checked) {
            return Err(FileHeaderError::BadChecksum);
        }
        let (kind, rest) = rest.split_at(KIND_LEN);
        let kind_byte = kind.first().copied().unwrap_or(0);
        let kind = FileKind::from_byte(kind_byte).ok_or(FileHeaderError::UnknownKind(kind_byte))?;
        let (reserved, id) = rest.split_at(RESERVED_LEN);
        if let Some(&byte) = reserved.first().filter(|&&b| b != 0) {
            return Err(FileHeaderError::ReservedNotZero(byte));
        }
        Ok(FileHeader {
            kind,
            segment_id: LittleEndian::read_u32(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_len_is_sixteen() {
        assert_eq!(FILE_HEADER_LEN, 16);
    }

    #[test]
    fn round_trip() {
        for kind in [FileKind::Data, FileKind::Hint] {
            let h = FileHeader {
                kind,
                segment_id: 0xDEAD_BEEF,
            };
            assert_eq!(FileHeader::decode(&h.encode()), Ok(h));
        }
    }

    #[test]
    fn every_truncation_is_too_short() {
        let bytes = FileHeader {
            kind: FileKind::Data,
            segment_id: 7,
        }
        .encode();
        for cut in 0..FILE_HEADER_LEN {
            assert_eq!(
                FileHeader::decode(&bytes[..cut]),
                Err(FileHeaderError::TooShort)
            );
        }
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let bytes = FileHeader {
            kind: FileKind::Data,
            segment_id: 7,
        }
        .encode();
        for bit in 0..FILE_HEADER_LEN * 8 {
            let mut b = bytes;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(
                FileHeader::decode(&b).is_err(),
                "flip of bit {bit} accepted"
            );
        }
    }

    /// Hint files of the earlier, wider entry layout had kind 2: they must not pass for
    /// hints of the current layout (open then scans their data files instead).
    #[test]
    fn a_hint_of_the_earlier_layout_is_an_unknown_kind() {
        let mut b = FileHeader {
            kind: FileKind::Hint,
            segment_id: 3,
        }
        .encode();
        b[6] = 2;
        let crc = crc32fast::hash(&b[..CHECKED_LEN]);
        b[CHECKED_LEN..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(FileHeader::decode(&b), Err(FileHeaderError::UnknownKind(2)));
    }

    /// Found by the `file_header_decode` fuzz target: a non-zero reserved byte under a
    /// valid checksum was accepted, so the header did not re-encode to its own bytes.
    #[test]
    fn nonzero_reserved_byte_is_rejected() {
        let mut b = FileHeader {
            kind: FileKind::Hint,
            segment_id: 3,
        }
        .encode();
        b[7] = 0x89;
        let crc = crc32fast::hash(&b[..CHECKED_LEN]);
        b[CHECKED_LEN..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            FileHeader::decode(&b),
            Err(FileHeaderError::ReservedNotZero(0x89))
        );
    }

    #[test]
    fn future_version_is_named() {
        let mut b = FileHeader {
            kind: FileKind::Data,
            segment_id: 1,
        }
        .encode();
        b[4] = 2;
        assert_eq!(
            FileHeader::decode(&b),
            Err(FileHeaderError::UnsupportedVersion(2))
        );
    }
}
