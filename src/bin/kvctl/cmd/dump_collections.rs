//! What `dump` shows of collection records, decoded by the layout docs/format.md
//! ("Collections") documents: an element record's key names its collection's key,
//! generation and member (for a list, the element's position: u64 BE); a header record's
//! value holds the collection's type and generation.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use byteorder::{BigEndian, ByteOrder, LittleEndian};
use keg::format::{COLLECTION_HEADER_LEN, RECORD_HEADER_LEN, RecordKind, decode_record};

/// The parts of an element key.
#[derive(Debug, PartialEq, Eq)]
pub struct ElementKey<'a> {
    /// The collection's key.
    pub key: &'a [u8],
    /// The generation of the collection the element belongs to.
    pub generation: u64,
    /// The hash field or set member; a list element's position.
    pub member: &'a [u8],
}

/// A list element's member: its position, u64 BE.
pub fn list_position(member: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(member.try_into().ok()?))
}

/// Splits an element key: u16 LE length of the collection's key, the key, u64 BE
/// generation, the member. `None` for bytes too short to be one.
pub fn split_element_key(bytes: &[u8]) -> Option<ElementKey<'_>> {
    let (len, rest) = bytes.split_at_checked(2)?;
    let len = usize::from(LittleEndian::read_u16(len));
    let (key, rest) = rest.split_at_checked(len)?;
    let (generation, member) = rest.split_at_checked(8)?;
    Some(ElementKey {
        key,
        generation: BigEndian::read_u64(generation),
        member,
    })
}

/// The type code of a list in a header.
const LIST_CODE: u8 = 3;

/// A collection header: its type code and generation.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub code: u8,
    pub generation: u64,
}

impl Header {
    /// `hash`, `set`, `list`, `zset`, or `type N` for a code this kvctl does not know.
    pub fn type_name(&self) -> String {
        match self.code {
            1 => "hash".to_owned(),
            2 => "set".to_owned(),
            LIST_CODE => "list".to_owned(),
            4 => "zset".to_owned(),
            other => format!("type {other}"),
        }
    }
}

/// Decodes a header record's value: the type code (1 = hash, 2 = set, 3 = list, 4 =
/// sorted set), then the generation as u64 LE.
pub fn decode_header(value: &[u8]) -> Option<Header> {
    if value.len() != COLLECTION_HEADER_LEN {
        return None;
    }
    let (code, generation) = value.split_at_checked(1)?;
    Some(Header {
        code: *code.first()?,
        generation: LittleEndian::read_u64(generation),
    })
}

/// Reads header records' values back from their segment files (`keg::dump` reports where
/// a record is, not its value) and remembers which generations are lists, to show their
/// elements' positions as numbers. Keeps the last file open: records come in file order.
#[derive(Default)]
pub struct HeaderReader {
    open: Option<(PathBuf, File)>,
    lists: HashMap<Vec<u8>, Vec<u64>>,
}

impl HeaderReader {
    /// Whether a header read so far made generation `generation` of `key` a list.
    pub fn is_list(&self, key: &[u8], generation: u64) -> bool {
        self.lists
            .get(key)
            .is_some_and(|generations| generations.contains(&generation))
    }

    /// The header of the `Collection` record of `key` at `offset` in `path`; `None` when it
    /// cannot be read back (the file was merged away meanwhile) or does not check out.
    pub fn read(&mut self, path: &Path, offset: u64, key: &[u8]) -> Option<Header> {
        let header = self.read_header(path, offset, key)?;
        if header.code == LIST_CODE && !self.is_list(key, header.generation) {
            self.lists
                .entry(key.to_vec())
                .or_default()
                .push(header.generation);
        }
        Some(header)
    }

    fn read_header(&mut self, path: &Path, offset: u64, key: &[u8]) -> Option<Header> {
        if self.open.as_ref().is_none_or(|(p, _)| p != path) {
            self.open = Some((path.to_path_buf(), File::open(path).ok()?));
        }
        let (_, file) = self.open.as_ref()?;
        let mut bytes = vec![0u8; RECORD_HEADER_LEN + key.len() + COLLECTION_HEADER_LEN];
        file.read_exact_at(&mut bytes, offset).ok()?;
        let (record, _) = decode_record(&bytes).ok()?;
        if record.kind != RecordKind::Collection || record.key != key {
            return None;
        }
        decode_header(record.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_keys_split_by_the_documented_layout() {
        let mut bytes = vec![3, 0];
        bytes.extend_from_slice(b"k\x00y");
        bytes.extend_from_slice(&258u64.to_be_bytes());
        bytes.extend_from_slice(b"field");
        assert_eq!(
            split_element_key(&bytes),
            Some(ElementKey {
                key: b"k\x00y",
                generation: 258,
                member: b"field"
            })
        );
        // An empty member is a member.
        assert_eq!(
            split_element_key(&bytes[..bytes.len() - 5]).map(|e| e.member.len()),
            Some(0)
        );
        assert_eq!(split_element_key(&bytes[..12]), None);
        assert_eq!(split_element_key(b"\x05\x00abc"), None);
        assert_eq!(split_element_key(b""), None);
    }

    #[test]
    fn headers_decode_type_and_generation() {
        let mut value = vec![1u8];
        value.extend_from_slice(&7u64.to_le_bytes());
        assert_eq!(
            decode_header(&value),
            Some(Header {
                code: 1,
                generation: 7
            })
        );
        for (code, name) in [
            (1, "hash"),
            (2, "set"),
            (3, "list"),
            (4, "zset"),
            (9, "type 9"),
        ] {
            value[0] = code;
            assert_eq!(
                decode_header(&value).map(|h| h.type_name()),
                Some(name.into())
            );
        }
        assert_eq!(decode_header(&value[..8]), None);
        assert_eq!(list_position(&258u64.to_be_bytes()), Some(258));
        assert_eq!(list_position(b"abc"), None);
    }
}
