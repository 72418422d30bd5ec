//! `file_header_decode`: the file-header decoder.

use keg::format::{FILE_HEADER_LEN, FileHeader, FileHeaderError, FileKind};

/// `FileHeader::decode` never panics; what it accepts re-encodes to exactly its first
/// `FILE_HEADER_LEN` bytes; and every header round-trips through encode and decode.
pub fn check_file_header_decode(data: &[u8]) {
    match FileHeader::decode(data) {
        Ok(header) => {
            assert!(data.len() >= FILE_HEADER_LEN);
            assert_eq!(
                header.encode().as_slice(),
                &data[..FILE_HEADER_LEN],
                "FileHeader::decode accepted bytes that do not re-encode to themselves \
                 (decoded as {header:?})"
            );
        }
        Err(e) => {
            let _ = e.to_string();
            if data.len() < FILE_HEADER_LEN {
                assert_eq!(e, FileHeaderError::TooShort);
            }
        }
    }
    // Encode side: any header built from the input round-trips.
    let kind = if data.first().is_some_and(|b| b & 1 == 1) {
        FileKind::Hint
    } else {
        FileKind::Data
    };
    let mut id = [0u8; 4];
    for (dst, src) in id.iter_mut().zip(data.iter().skip(1)) {
        *dst = *src;
    }
    let header = FileHeader {
        kind,
        segment_id: u32::from_le_bytes(id),
    };
    assert_eq!(FileHeader::decode(&header.encode()), Ok(header));
}
