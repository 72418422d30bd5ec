//! Estimates of heap bytes, so that a store can report what each element of a collection
//! costs in RAM.

/// What an allocation of `bytes` takes from a glibc-style allocator: the request plus an
/// 8-byte header, rounded up to 16, at least 32; nothing for an empty request. (jemalloc
/// and mimalloc round to size classes instead; the figure stays within a few bytes.)
pub(super) fn heap_block(bytes: usize) -> usize {
    if bytes == 0 {
        0
    } else {
        (bytes.saturating_add(8 + 15) & !15).max(32)
    }
}

/// The heap block of an `Arc<[u8]>` of `len` bytes: two reference counts, then the bytes,
/// padded to the counts' alignment.
pub(super) fn shared_bytes_block(len: usize) -> usize {
    heap_block(16 + len.div_ceil(8) * 8)
}

/// The heap bytes of a `std` (hashbrown) hash table reporting `capacity`, with `slot`
/// bytes per entry: a power-of-two number of buckets, each with a slot and a control byte,
/// plus one group (16) of trailing control bytes. Tombstones can hide some capacity; the
/// estimate rounds the bucket count up to cover them.
pub(super) fn hash_table_bytes(capacity: usize, slot: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity.saturating_mul(8).div_ceil(7)).next_power_of_two()
    };
    heap_block(buckets.saturating_mul(slot + 1).saturating_add(16))
}

/// The heap bytes of an `IndexMap` reporting `capacity`, with `entry` bytes of key and
/// value: a hash table of 8-byte indexes, and a vector of entries, each with its key's
/// 8-byte hash, whose capacity follows the table's (indexmap reserves entries up to the
/// table's capacity).
pub(super) fn index_map_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    hash_table_bytes(capacity, 8) + heap_block(capacity.saturating_mul(8 + entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates() {
        assert_eq!(heap_block(0), 0);
        assert_eq!(heap_block(1), 32);
        assert_eq!(heap_block(24), 32);
        assert_eq!(heap_block(25), 48);
        assert_eq!(heap_block(4096), 4112);
        assert_eq!(shared_bytes_block(0), 32);
        assert_eq!(shared_bytes_block(8), 32);
        assert_eq!(shared_bytes_block(9), 48);
        // hashbrown: 3 → 4 buckets, 7 → 8, 14 → 16, 28 → 32, 896 → 1024.
        assert_eq!(hash_table_bytes(0, 24), 0);
        assert_eq!(hash_table_bytes(3, 24), heap_block(4 * 25 + 16));
        assert_eq!(hash_table_bytes(7, 24), heap_block(8 * 25 + 16));
        assert_eq!(hash_table_bytes(14, 24), heap_block(16 * 25 + 16));
        assert_eq!(hash_table_bytes(896, 24), heap_block(1024 * 25 + 16));
        assert_eq!(hash_table_bytes(890, 24), heap_block(1024 * 25 + 16));
        // indexmap: 896 entries of 24 bytes in 1024 buckets of indexes.
        assert_eq!(index_map_bytes(0, 24), 0);
        assert_eq!(
            index_map_bytes(896, 24),
            heap_block(1024 * 9 + 16) + heap_block(896 * 32)
        );
    }
}
