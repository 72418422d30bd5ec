//! Collections on the log: hashes, sets, lists and sorted sets (docs/collections.md).
//!
//! A collection is a key whose newest record is a *header* (`RecordKind::Collection`: its
//! type and generation, with the key's expiry) and whose members are *element* records
//! (`RecordKind::ElementPut` / `ElementDelete`) in a key space of their own. An element key
//! names the collection's key, its generation and the member:
//!
//! ```text
//! u16 LE  length of the collection's key
//! k       the collection's key
//! u64 BE  generation (the sequence number of the header that created the collection)
//! m       the member (hash field, set member, sorted-set member, list position)
//! ```
//!
//! So changing one member appends one record, whatever the collection's size, and deleting
//! or overwriting the whole collection (DEL, SET, expiry) is one key record: the elements
//! of a generation whose header is gone are dead, and merge drops them, since a new
//! collection under the same key gets a new generation. Element tombstones follow the same
//! no-resurrection rule as key tombstones.
//!
//! In memory, each element has an index entry in a second keydir (`Engine::elements`) and
//! each collection its members in [`index::Collections`] (names, list positions or the
//! sorted-set index; see `members.rs`); both are rebuilt at open from data or hint files.
//!
//! Every operation is an [`write::Edit`] inside a store transaction; reads go through a
//! [`view::CollectionView`] of the committed store or of a transaction. `api.rs` makes the
//! operations methods of `Store` and `Transaction`.

pub(crate) mod api;
pub(crate) mod hash;
pub(crate) mod index;
pub(crate) mod list;
pub(crate) mod list_shape;
pub(crate) mod members;
pub(crate) mod open;
pub(crate) mod scan;
pub(crate) mod set;
pub(crate) mod view;
pub(crate) mod write;
pub(crate) mod zset;
pub(crate) mod zset_algebra;

pub(crate) use list_shape::ListShape;

/// A hash map with the keydir's hasher: the per-transaction and per-edit indexes are on
/// every collection command's path, where SipHash showed up in profiles.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::quality::RandomState>;

use byteorder::{BigEndian, ByteOrder, LittleEndian};

/// The bytes of a collection header record's value: type, then generation.
pub(crate) const HEADER_LEN: usize = crate::format::COLLECTION_HEADER_LEN;

/// What a key holds (Redis's TYPE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// A byte string (`set`, `get`, counters).
    String,
    /// A hash: fields with values (`hset`, `hget`).
    Hash,
    /// A set of unique members (`sadd`, `smembers`).
    Set,
    /// A list of values, pushed and popped at both ends (`lpush`, `rpop`, `lrange`).
    List,
    /// A sorted set: unique members ordered by score (`zadd`, `zrange`, `zpop_min`).
    ZSet,
}

impl ValueType {
    /// Redis's name for the type, as TYPE replies it.
    pub fn redis_name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::List => "list",
            ValueType::ZSet => "zset",
        }
    }

    fn code(self) -> u8 {
        match self {
            ValueType::String => 0,
            ValueType::Hash => 1,
            ValueType::Set => 2,
            ValueType::List => 3,
            ValueType::ZSet => 4,
        }
    }

    fn from_code(code: u8) -> Option<ValueType> {
        match code {
            1 => Some(ValueType::Hash),
            2 => Some(ValueType::Set),
            3 => Some(ValueType::List),
            4 => Some(ValueType::ZSet),
            _ => None,
        }
    }
}

/// A collection header: its type and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) ty: ValueType,
    pub(crate) generation: u64,
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (ty, generation) = out.split_at_mut(1);
        ty.fill(self.ty.code());
        LittleEndian::write_u64(generation, self.generation);
        out
    }

    /// `None` for bytes that are not a header keg writes.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Header> {
        if bytes.len() != HEADER_LEN {
            return None;
        }
        let (ty, generation) = bytes.split_at(1);
        Some(Header {
            ty: ValueType::from_code(*ty.first()?)?,
            generation: LittleEndian::read_u64(generation),
        })
    }
}

/// The element key of `member` in generation `generation` of the collection at `key`.
pub(crate) fn element_key(key: &[u8], generation: u64, member: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + key.len() + 8 + member.len());
    element_key_into(&mut out, key, generation, member);
    out
}

/// Writes the element key into `out` (cleared first): a range read reuses one buffer.
pub(crate) fn element_key_into(out: &mut Vec<u8>, key: &[u8], generation: u64, member: &[u8]) {
    out.clear();
    let len = u16::try_from(key.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(member);
}

/// The parts of an element key: the collection's key, its generation, the member. `None`
/// for bytes too short to be one.
pub(crate) fn split_element_key(bytes: &[u8]) -> Option<(&[u8], u64, &[u8])> {
    let (len, rest) = bytes.split_at_checked(2)?;
    let len = usize::from(LittleEndian::read_u16(len));
    let (key, rest) = rest.split_at_checked(len)?;
    let (generation, member) = rest.split_at_checked(8)?;
    Some((key, BigEndian::read_u64(generation), member))
}

/// Bytes an element key adds to its collection's key and member.
pub(crate) const ELEMENT_KEY_OVERHEAD: usize = 10;

/// The store's error if members as long as `longest_member` cannot be stored under the
/// collection key `key_len` bytes long (its element keys would pass `max_key`): checked
/// before a destination is replaced, so that a refused write leaves it as it was.
pub(crate) fn element_keys_fit(
    max_key: usize,
    key_len: usize,
    longest_member: usize,
) -> crate::Result<()> {
    let len = key_len + ELEMENT_KEY_OVERHEAD + longest_member;
    if len > max_key {
        return Err(crate::Error::KeyTooLarge { len, max: max_key });
    }
    Ok(())
}

/// The length of a list's members: its elements' positions.
pub(crate) const POSITION_MEMBER_LEN: usize = 8;

/// A store in a fresh temporary directory, without fsyncs (for unit tests).
#[cfg(test)]
pub(crate) fn scratch_store() -> (tempfile::TempDir, crate::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::Options::new()
        .sync_policy(crate::SyncPolicy::Never)
        .open(dir.path())
        .unwrap();
    (dir, store)
}

/// Removes the index entry of element `index` of the list at `key`, and the place of its
/// record, while its position stays listed: what a reader sees when another writer pops
/// that element between the reader's look at the positions and at the values.
#[cfg(test)]
pub(crate) fn forget_list_element(store: &crate::Store, key: &[u8], index: usize) {
    let engine = store.engine();
    let (generation, position) = {
        let collections = engine.read_collections();
        let generation = collections.get(key).expect("a list").generation;
        let positions = view::committed_positions(&collections, key, generation).expect("a list");
        (
            generation,
            positions.get(index).copied().expect("an element"),
        )
    };
    let member = members::position_member(position);
    let element = element_key(key, generation, &member);
    assert!(engine.elements.remove(&element).is_some());
    engine
        .write_collections()
        .relocate_member(key, generation, &member, members::NO_RECORD);
}

/// One list element in test assertions: its position and its record's place (segment id
/// and offset, `None` where unknown).
#[cfg(test)]
pub(crate) type PlacedPosition = (u64, Option<(u32, u32)>);

/// The list at `key`: its generation, and each element's [`PlacedPosition`], in list order.
#[cfg(test)]
pub(crate) fn list_places(store: &crate::Store, key: &[u8]) -> (u64, Vec<PlacedPosition>) {
    let engine = store.engine();
    let collections = engine.read_collections();
    let list = collections.get(key).expect("a list");
    let positions: Vec<u64> = (view::committed_positions(&collections, key, list.generation))
        .expect("a list")
        .iter()
        .copied()
        .collect();
    let mut places = Vec::new();
    list.members
        .list_records()
        .expect("a list")
        .records_of(&positions, &mut places);
    let places = places.into_iter().map(members::record_place);
    (
        list.generation,
        positions.iter().copied().zip(places).collect(),
    )
}

/// Checks that every element of the list at `key` has its record's place listed, and that
/// the place is where the element index says the record is.
#[cfg(test)]
pub(crate) fn assert_list_places_match_index(store: &crate::Store, key: &[u8]) {
    let engine = store.engine();
    let (generation, places) = list_places(store, key);
    for (position, place) in places {
        let element = element_key(key, generation, &members::position_member(position));
        let entry = engine.elements.get(&element).expect("an indexed element");
        assert_eq!(
            place,
            Some((entry.file_id, entry.offset)),
            "position {position}"
        );
    }
}

/// Removes the index entry of `member` of the hash or set at `key` while it stays listed as
/// a member: what a reader sees when another writer removes it between the reader's look
/// at the members and at the values.
#[cfg(test)]
pub(crate) fn forget_member_element(store: &crate::Store, key: &[u8], member: &[u8]) {
    let engine = store.engine();
    let generation = engine
        .read_collections()
        .get(key)
        .expect("a collection")
        .generation;
    let element = element_key(key, generation, member);
    assert!(engine.elements.remove(&element).is_some());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_keys_split_back_into_their_parts() {
        for (key, generation, member) in [
            (&b""[..], 0u64, &b""[..]),
            (b"user:1", 42, b"name"),
            (b"k", u64::MAX >> 1, b"\x00\xff"),
        ] {
            let bytes = element_key(key, generation, member);
            assert_eq!(bytes.len(), key.len() + member.len() + ELEMENT_KEY_OVERHEAD);
            assert_eq!(split_element_key(&bytes), Some((key, generation, member)));
        }
        assert_eq!(split_element_key(b"\x05\x00abc"), None);
    }

    #[test]
    fn headers_round_trip_and_reject_other_bytes() {
        let h = Header {
            ty: ValueType::Set,
            generation: 7,
        };
        assert_eq!(Header::decode(&h.encode()), Some(h));
        assert_eq!(
            Header::decode(b"\x00\x07\x00\x00\x00\x00\x00\x00\x00"),
            None
        );
        assert_eq!(Header::decode(b"\x01"), None);
    }
}
