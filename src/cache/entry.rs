//! How a cached value is stored: the value plus what early refresh and stale serving need —
//! when the value goes stale and how long it took to load.
//!
//! Layout (little-endian):
//!
//! ```text
//! magic "kc" (2) | version 1 (1) | load time µs (u32, 4) | fresh until, unix ms (u64, 8) | value
//! ```
//!
//! The store's own TTL on the key may outlast "fresh until" by the stale-while-revalidate
//! grace; the store drops the key when that ends.

use byteorder::{ByteOrder, LittleEndian};

/// Identifies a value written by the cache.
const MAGIC: [u8; 2] = *b"kc";
/// Layout version of the header.
const VERSION: u8 = 1;
/// Bytes before the value.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 1 + 4 + 8;

/// A cached value with its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// How long the loader took, in microseconds (the XFetch "delta").
    pub load_us: u32,
    /// Unix ms from which the value is stale: refreshed on the next read, served only while
    /// someone else refreshes it.
    pub fresh_until_ms: u64,
    /// The cached value.
    pub value: Vec<u8>,
}

impl Entry {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.value.len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        let mut buf = [0u8; 8];
        LittleEndian::write_u32(&mut buf[..4], self.load_us);
        out.extend_from_slice(&buf[..4]);
        LittleEndian::write_u64(&mut buf, self.fresh_until_ms);
        out.extend_from_slice(&buf);
        out.extend_from_slice(&self.value);
        out
    }

    /// The entry stored in `bytes`, or `None` if they were not written by this cache (a
    /// value someone else put under the key): the cache treats that as a miss.
    pub fn decode(mut bytes: Vec<u8>) -> Option<Entry> {
        let header = bytes.get(..HEADER_LEN)?;
        let (magic, rest) = header.split_at(MAGIC.len());
        let (version, rest) = rest.split_first()?;
        if magic != MAGIC || *version != VERSION {
            return None;
        }
        let (load, fresh) = rest.split_at(4);
        let load_us = LittleEndian::read_u32(load);
        let fresh_until_ms = LittleEndian::read_u64(fresh);
        // Reuse the buffer: shift the value to the front instead of copying it out.
        bytes.drain(..HEADER_LEN);
        Some(Entry {
            load_us,
            fresh_until_ms,
            value: bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let entry = Entry {
            load_us: 123_456,
            fresh_until_ms: 1_700_000_000_123,
            value: b"dashboard".to_vec(),
        };
        let bytes = entry.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 9);
        assert_eq!(Entry::decode(bytes), Some(entry));
        let empty = Entry {
            load_us: 0,
            fresh_until_ms: 0,
            value: Vec::new(),
        };
        assert_eq!(Entry::decode(empty.encode()), Some(empty));
    }

    #[test]
    fn foreign_values_are_not_entries() {
        assert_eq!(Entry::decode(Vec::new()), None);
        assert_eq!(
            Entry::decode(b"plain value written by someone".to_vec()),
            None
        );
        let mut wrong_version = Entry {
            load_us: 1,
            fresh_until_ms: 2,
            value: vec![3],
        }
        .encode();
        wrong_version[2] = 9;
        assert_eq!(Entry::decode(wrong_version), None);
        let short = b"kc\x01\x00".to_vec();
        assert_eq!(Entry::decode(short), None);
    }
}
