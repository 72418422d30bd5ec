//! The index snapshot: at a clean close the in-memory index is written as it is (tables and
//! arenas, see `keydir::image`) together with a description of every segment, and the next
//! `open` loads it with a few large reads instead of inserting every key again — if the
//! directory still holds exactly the segments it describes.
//!
//! "Exactly" is checked, not assumed: the same segment ids, each with the same length, and
//! the same bytes at the end of each (a CRC of its last 4 KiB). Segments only ever grow (an
//! append), appear (a rotation or merge) or disappear (a merge), so any change since the
//! snapshot shows in those facts, and the store then opens from hint files and scans as if
//! there were no snapshot (and deletes it). The snapshot itself carries a CRC over all its
//! bytes; every entry it holds must point inside its segment, and its tables must agree
//! with its arenas (see `Shard::from_image`). Byte layout: `docs/format.md`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::engine::{Engine, lock};
use crate::error::{Error, Result};
use crate::format::le::{u32_at, u64_at};
use crate::format::{FILE_HEADER_LEN, record_len};
use crate::fs::Io;
use crate::keydir::{ImageSource, Keydir};
use crate::options::Options;
use crate::segment::data_path;
use crate::usage::SegmentUsage;

/// The snapshot's file name in the store directory.
pub(crate) const FILE_NAME: &str = "index.snapshot";
const TEMP_NAME: &str = "index.snapshot.tmp";
const MAGIC: &[u8; 8] = b"KEGINDEX";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 32;
const SEGMENT_LEN: usize = 64;
const SEGMENT_HAS_HINT: u32 = 1;
/// How much of each segment's end the snapshot fingerprints.
const TAIL_PRINT_LEN: u64 = 4096;
/// Writes go out in pieces of this size.
const WRITE_CHUNK: usize = 1 << 20;

pub(crate) fn snapshot_path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// What the snapshot says about one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentFacts {
    pub id: u32,
    pub len: u64,
    pub tail_crc: u32,
    pub has_hint: bool,
    pub usage: SegmentUsage,
}

/// What a snapshot describes: compared at close, so an unchanged store does not write it
/// again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    max_seq: u64,
    segments: Vec<SegmentFacts>,
}

/// A snapshot that matches the directory, loaded.
pub(crate) struct Snapshot {
    pub keydir: Keydir,
    pub elements: Keydir,
    /// Ascending by id; the last is the active segment.
    pub segments: Vec<SegmentFacts>,
    pub max_seq: u64,
    /// The data length the active segment's hint file describes, if it has a current one.
    pub active_hint_len: Option<u64>,
    /// Some entry is a collection header or element.
    pub collections: bool,
}

impl Snapshot {
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            max_seq: self.max_seq,
            segments: self.segments.clone(),
        }
    }
}

/// CRC of the last `TAIL_PRINT_LEN` bytes of the first `len` bytes of the file at `path`.
fn tail_crc(path: &Path, len: u64) -> Option<u32> {
    let start = len.saturating_sub(TAIL_PRINT_LEN);
    let mut tail = vec![0u8; usize::try_from(len - start).ok()?];
    let file = File::open(path).ok()?;
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut tail, start).ok()?;
    Some(crc32fast::hash(&tail))
}

impl Engine {
    /// At a clean close (no writes or merges can run any more): writes the index snapshot
    /// if the index is big enough for one to pay and it changed since the snapshot on disk
    /// was written or loaded.
    pub(crate) fn write_index_snapshot(&self) -> Result<()> {
        let _merging = lock(&self.merge_lock);
        let writer = self.lock_writer();
        let index_bytes = self.keydir.memory_bytes() + self.elements.memory_bytes();
        if (index_bytes as u64) < self.options.index_snapshot_min_bytes {
            return Ok(());
        }
        let usage = writer.usage();
        let active = writer.active.id();
        let mut segments = Vec::new();
        for segment in self.segments.load().all() {
            let len = if segment.id() == active {
                writer.active_len
            } else {
                segment.readable_len()
            };
            // A file longer than what the store holds of it (never expected) would never
            // match at open: write nothing.
            let on_disk = std::fs::metadata(segment.path()).map(|m| m.len()).ok();
            let (Some(tail_crc), Some(usage)) =
                (tail_crc(segment.path(), len), usage.get(&segment.id()))
            else {
                return Ok(());
            };
            if on_disk != Some(len) {
                return Ok(());
            }
            segments.push(SegmentFacts {
                id: segment.id(),
                len,
                tail_crc,
                has_hint: segment.has_hint(),
                usage: SegmentUsage {
                    total_bytes: len,
                    ..*usage
                },
            });
        }
        let fingerprint = Fingerprint {
            max_seq: writer.last_seq(),
            segments,
        };
        let mut on_disk = lock(&self.snapshot);
        if on_disk.as_ref() == Some(&fingerprint) && snapshot_path(&self.dir).exists() {
            return Ok(());
        }
        let active_hint_len = lock(&self.active_hint)
            .filter(|(id, _)| *id == active)
            .map_or(0, |(_, len)| len);
        write_file(
            &self.dir,
            &self.options.io,
            &fingerprint,
            active_hint_len,
            &[&self.keydir, &self.elements],
        )?;
        *on_disk = Some(fingerprint);
        Ok(())
    }
}

/// Buffered positioned writes through the store's I/O, with a running CRC. The first
/// failure is kept and later writes skipped (the image writer cannot return errors).
struct Out<'a> {
    io: &'a Io,
    file: File,
    path: &'a Path,
    buf: Vec<u8>,
    offset: u64,
    crc: crc32fast::Hasher,
    failed: Option<Error>,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        if self.buf.len() + bytes.len() > WRITE_CHUNK {
            self.flush();
        }
        if bytes.len() >= WRITE_CHUNK {
            self.write(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn flush(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.write(&buf);
        self.buf = buf;
        self.buf.clear();
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.failed.is_none()
            && let Err(e) = self
                .io
                .write_all_at(&self.file, self.path, bytes, self.offset)
        {
            self.failed = Some(e);
        }
        self.offset += bytes.len() as u64;
    }
}

/// Writes the snapshot crash-atomically: temporary file, fsync, rename, directory fsync.
fn write_file(
    dir: &Path,
    io: &Io,
    fingerprint: &Fingerprint,
    active_hint_len: u64,
    indexes: &[&Keydir; 2],
) -> Result<()> {
    let temp = dir.join(TEMP_NAME);
    if temp.exists() {
        io.remove_file(&temp)?;
    }
    let file = io.create_new(&temp)?;
    let mut out = Out {
        io,
        file,
        path: &temp,
        buf: Vec::with_capacity(WRITE_CHUNK),
        offset: 0,
        crc: crc32fast::Hasher::new(),
        failed: None,
    };
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(
        &u32::try_from(fingerprint.segments.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    header.extend_from_slice(&fingerprint.max_seq.to_le_bytes());
    header.extend_from_slice(&active_hint_len.to_le_bytes());
    out.put(&header);
    for s in &fingerprint.segments {
        let mut bytes = Vec::with_capacity(SEGMENT_LEN);
        bytes.extend_from_slice(&s.id.to_le_bytes());
        let flags = if s.has_hint { SEGMENT_HAS_HINT } else { 0 };
        bytes.extend_from_slice(&flags.to_le_bytes());
        bytes.extend_from_slice(&s.len.to_le_bytes());
        bytes.extend_from_slice(&s.tail_crc.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        let u = &s.usage;
        for n in [
            u.live_bytes,
            u.live_keys,
            u.min_seq,
            u.persistent_puts,
            u.max_expiry,
        ] {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        out.put(&bytes);
    }
    for index in indexes {
        index.write_image(&mut |bytes| out.put(bytes));
    }
    out.flush();
    let crc = out.crc.clone().finalize();
    out.write(&crc.to_le_bytes());
    let Out { file, failed, .. } = out;
    let path = snapshot_path(dir);
    let written = match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
    .and_then(|()| io.sync_data(&file, &temp))
    .and_then(|()| io.rename(&temp, &path))
    .and_then(|()| io.sync_dir(dir));
    if written.is_err() {
        let _ = io.remove_file(&temp);
    }
    written
}

/// Sequential reads of the snapshot with a running CRC, never past its end (so a damaged
/// length cannot ask for more memory than the file has bytes).
struct In {
    file: BufReader<File>,
    remaining: u64,
    crc: crc32fast::Hasher,
}

impl ImageSource for In {
    fn take(&mut self, len: usize) -> Option<Vec<u8>> {
        let wanted = u64::try_from(len).ok().filter(|&n| n <= self.remaining)?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).ok()?;
        // Reads into the reserved memory without zeroing it first.
        (&mut self.file).take(wanted).read_to_end(&mut bytes).ok()?;
        if bytes.len() != len {
            return None;
        }
        self.crc.update(&bytes);
        self.remaining -= wanted;
        Some(bytes)
    }
}

/// Loads the snapshot of `dir` if there is one and it matches the data segments `ids`
/// (ascending). One that does not is deleted (best effort: it would be refused again).
pub(crate) fn load(dir: &Path, options: &Options, ids: &[u32]) -> Option<Snapshot> {
    let temp = dir.join(TEMP_NAME);
    if temp.exists() {
        let _ = options.io.remove_file(&temp);
    }
    let path = snapshot_path(dir);
    let file = File::open(&path).ok()?;
    let loaded = read(dir, file, ids);
    if loaded.is_none() {
        let _ = options.io.remove_file(&path);
    }
    loaded
}

/// Whether the snapshot of `dir` would be loaded by the next open (`None`: there is none).
/// Changes nothing; the caller holds the directory lock.
pub(crate) fn matches(dir: &Path, ids: &[u32]) -> Option<bool> {
    let file = File::open(snapshot_path(dir)).ok()?;
    Some(read(dir, file, ids).is_some())
}

fn read(dir: &Path, file: File, ids: &[u32]) -> Option<Snapshot> {
    let len = file.metadata().ok()?.len();
    let mut input = In {
        file: BufReader::with_capacity(64 << 10, file),
        remaining: len.checked_sub(4)?,
        crc: crc32fast::Hasher::new(),
    };
    let header = input.take(HEADER_LEN)?;
    if header.get(..8) != Some(MAGIC) || u32_at(&header, 8) != VERSION {
        return None;
    }
    let count = u32_at(&header, 12) as usize;
    let max_seq = u64_at(&header, 16);
    let active_hint_len = Some(u64_at(&header, 24)).filter(|&n| n != 0);
    if count != ids.len() || count == 0 {
        return None;
    }
    let table = input.take(count.checked_mul(SEGMENT_LEN)?)?;
    let mut segments = Vec::with_capacity(count);
    for (bytes, &id) in table.chunks_exact(SEGMENT_LEN).zip(ids) {
        let facts = SegmentFacts {
            id: u32_at(bytes, 0),
            has_hint: u32_at(bytes, 4) & SEGMENT_HAS_HINT != 0,
            len: u64_at(bytes, 8),
            tail_crc: u32_at(bytes, 16),
            usage: SegmentUsage {
                total_bytes: u64_at(bytes, 8),
                live_bytes: u64_at(bytes, 24),
                live_keys: u64_at(bytes, 32),
                min_seq: u64_at(bytes, 40),
                persistent_puts: u64_at(bytes, 48),
                max_expiry: u64_at(bytes, 56),
            },
        };
        let path = data_path(dir, id);
        let on_disk = std::fs::metadata(&path).ok()?.len();
        if facts.id != id
            || on_disk != facts.len
            || tail_crc(&path, on_disk) != Some(facts.tail_crc)
        {
            return None;
        }
        segments.push(facts);
    }

    // Every entry must lie inside its segment, after its header, and be no newer than the
    // newest record. Entries come in arena order, mostly in runs of one segment.
    let mut collections = false;
    let mut last: Option<&SegmentFacts> = None;
    let mut inside = |entry: &crate::keydir::Entry, key_len: usize| {
        let facts = match last {
            Some(f) if f.id == entry.file_id => f,
            _ => {
                let at = segments.binary_search_by_key(&entry.file_id, |s| s.id).ok();
                let Some(f) = at.and_then(|at| segments.get(at)) else {
                    return false;
                };
                last = Some(f);
                f
            }
        };
        let end = u64::from(entry.offset) + record_len(key_len, entry.value_len as usize) as u64;
        u64::from(entry.offset) >= FILE_HEADER_LEN as u64
            && end <= facts.len
            && entry.seq <= max_seq
    };
    let keydir = Keydir::read_image(&mut input, &mut |entry, key_len| {
        collections |= entry.collection;
        inside(entry, key_len)
    })?;
    let elements = Keydir::read_image(&mut input, &mut |entry, key_len| {
        collections = true;
        inside(entry, key_len)
    })?;
    if input.remaining != 0 {
        return None;
    }
    let mut trailer = [0u8; 4];
    input.file.read_exact(&mut trailer).ok()?;
    if u32::from_le_bytes(trailer) != input.crc.finalize() {
        return None;
    }
    Some(Snapshot {
        keydir,
        elements,
        segments,
        max_seq,
        active_hint_len,
        collections,
    })
}
