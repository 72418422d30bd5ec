//! A keydir as bytes, for the index snapshot (`crate::snapshot`): its seed, then each
//! shard's table and arena exactly as they are in memory. Loading one back is a copy and a
//! check instead of a hash and an insert per key — what makes an open from a snapshot fast.
//!
//! ```text
//! seed u64 · shard count u32 · per shard:
//!   group count u64 · len u64 · tombstones u64 · arena bytes u64 · garbage bytes u64
//!   groups (64 bytes each: 16 tags, 12 slots as u32) · arena
//! ```
//! All integers little endian.

use super::shard::{Shard, ShardImage};
use super::table::Table;
use super::{Entry, Keydir, SHARDS};

/// Keys per shard whose placement a loaded image must get right.
const SAMPLE_PER_SHARD: usize = 8;

/// Where an image is read from.
pub(crate) trait ImageSource {
    /// The next `len` bytes, or `None` if fewer are left.
    fn take(&mut self, len: usize) -> Option<Vec<u8>>;

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A `u64` length or count that must fit in `usize`.
    fn size(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
}

impl Keydir {
    /// Hands the image of this index to `out`, piece by piece. Each shard is read-locked
    /// while it is written; callers stop writers first for a consistent image.
    pub(crate) fn write_image(&self, out: &mut dyn FnMut(&[u8])) {
        out(&self.seed.to_le_bytes());
        out(&(SHARDS as u32).to_le_bytes());
        for shard in self.shards.iter() {
            let shard = Self::read(shard);
            let ShardImage {
                table,
                arena,
                garbage,
            } = shard.image();
            let (groups, len, deleted) = table.image_counts();
            for n in [groups, len, deleted, arena.len(), garbage] {
                out(&(n as u64).to_le_bytes());
            }
            table.write_image(out);
            out(arena);
        }
    }

    /// The index `write_image` wrote, if every shard holds together (see
    /// `Shard::from_image`) and `accept` takes every entry given its key length.
    pub(crate) fn read_image(
        source: &mut dyn ImageSource,
        accept: &mut dyn FnMut(&Entry, usize) -> bool,
    ) -> Option<Keydir> {
        let seed = source.u64()?;
        let shards = u32::from_le_bytes(source.take(4)?.try_into().ok()?);
        if shards as usize != SHARDS {
            return None;
        }
        let mut loaded = Vec::with_capacity(SHARDS);
        for _ in 0..SHARDS {
            let groups = source.size()?;
            let len = source.size()?;
            let deleted = source.size()?;
            let arena_len = source.size()?;
            let garbage = source.size()?;
            let table_bytes = groups.checked_mul(Table::IMAGE_GROUP_LEN)?;
            let table = Table::from_image(&source.take(table_bytes)?, len, deleted)?;
            let arena = source.take(arena_len)?;
            loaded.push(Shard::from_image(table, arena, garbage, accept)?);
        }
        let keydir = Keydir::from_shards(seed, loaded);
        // Placement is not checked entry by entry (that would hash every key), but a few
        // keys of each shard must be found where their hash puts them: an image laid out
        // by another hash function (a changed hasher, a wrong seed) is refused here rather
        // than loaded with its keys unfindable.
        for (index, shard) in keydir.shards.iter().enumerate() {
            let sample = Self::read(shard).sample(SAMPLE_PER_SHARD);
            for (key, entry) in sample {
                let (hash, home) = keydir.index_of(&key);
                if home != index || Self::read(shard).get(hash, &key) != Some(entry) {
                    return None;
                }
            }
        }
        Some(keydir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes<'a>(&'a [u8]);

    impl ImageSource for Bytes<'_> {
        fn take(&mut self, len: usize) -> Option<Vec<u8>> {
            let (head, rest) = self.0.split_at_checked(len)?;
            self.0 = rest;
            Some(head.to_vec())
        }
    }

    fn image(keydir: &Keydir) -> Vec<u8> {
        let mut bytes = Vec::new();
        keydir.write_image(&mut |b| bytes.extend_from_slice(b));
        bytes
    }

    fn entry(i: u64, expiry_ms: u64) -> Entry {
        Entry {
            file_id: 1 + (i % 3) as u32,
            offset: 16 + i as u32,
            value_len: i as u32 % 50,
            seq: i + 1,
            expiry_ms,
            tombstone: false,
            collection: i.is_multiple_of(7),
        }
    }

    fn contents(keydir: &Keydir) -> Vec<(Vec<u8>, Entry)> {
        let mut all = Vec::new();
        keydir.for_each(|k, e| all.push((k.to_vec(), *e)));
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// A keydir after inserts, replacements that move entries (new expiry), removals and a
    /// compaction, so that its arena has garbage and its table tombstones.
    fn used_keydir() -> Keydir {
        let keydir = Keydir::default();
        for i in 0..3000u64 {
            keydir
                .upsert(format!("key-{i}").as_bytes(), entry(i, 0))
                .unwrap();
        }
        for i in (0..3000u64).step_by(3) {
            keydir
                .upsert(format!("key-{i}").as_bytes(), entry(i + 5000, 1_000 + i))
                .unwrap();
        }
        for i in (0..3000u64).step_by(5) {
            keydir.remove(format!("key-{i}").as_bytes());
        }
        keydir
    }

    #[test]
    fn an_index_reads_back_from_its_image_with_the_same_entries_and_lookups() {
        let keydir = used_keydir();
        let bytes = image(&keydir);
        let mut accepted = 0;
        let loaded = Keydir::read_image(&mut Bytes(&bytes), &mut |_, _| {
            accepted += 1;
            true
        })
        .expect("a fresh image loads");
        assert_eq!(accepted, keydir.len());
        assert_eq!(contents(&loaded), contents(&keydir));
        assert_eq!(loaded.live_len(2_000), keydir.live_len(2_000));
        for i in 0..3000u64 {
            let key = format!("key-{i}");
            assert_eq!(
                loaded.get(key.as_bytes()),
                keydir.get(key.as_bytes()),
                "{key}"
            );
        }
        // The loaded index goes on working: same seed, same layout.
        loaded.upsert(b"new", entry(9, 0)).unwrap();
        assert!(loaded.get(b"new").is_some());
    }

    #[test]
    fn an_image_is_refused_when_an_entry_is_refused_or_bytes_are_missing() {
        let bytes = image(&used_keydir());
        assert!(Keydir::read_image(&mut Bytes(&bytes), &mut |e, _| e.file_id != 2).is_none());
        for cut in [0, 7, 12, 100, bytes.len() / 2, bytes.len() - 1] {
            let short = bytes.get(..cut).unwrap();
            assert!(Keydir::read_image(&mut Bytes(short), &mut |_, _| true).is_none());
        }
    }

    /// An image read back under another seed (what a changed hash function would do) puts
    /// its keys where lookups do not look: refused, not loaded with every key unfindable.
    #[test]
    fn an_image_laid_out_under_another_seed_is_refused() {
        let mut bytes = image(&used_keydir());
        bytes[0] ^= 1;
        assert!(Keydir::read_image(&mut Bytes(&bytes), &mut |_, _| true).is_none());
    }

    /// Damage that the image's own structure reveals is refused without a panic (the
    /// snapshot's checksum catches the rest): every byte of a small image flipped in turn.
    #[test]
    fn a_flipped_byte_never_panics_and_structural_damage_is_refused() {
        let keydir = Keydir::default();
        for i in 0..40u64 {
            keydir
                .upsert(format!("k{i}").as_bytes(), entry(i, i % 2 * 77))
                .unwrap();
        }
        keydir.remove(b"k3");
        let bytes = image(&keydir);
        let mut refused = 0;
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x41;
            if Keydir::read_image(&mut Bytes(&damaged), &mut |_, _| true).is_none() {
                refused += 1;
            }
        }
        // Counts, lengths, flags and padding are checked; keys, locations and sequence
        // numbers are not (the checksum is their guard).
        assert!(refused > bytes.len() / 4, "{refused} of {}", bytes.len());
    }
}
