//! Segment files: numbered, append-only data files. The newest is the active segment (the
//! writer appends to it); the others are sealed and never change again.

mod mmap;
mod naming;
pub(crate) mod scan;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::format::record::claimed_record_len;
use crate::format::{
    FILE_HEADER_LEN, FileHeader, FileKind, RECORD_HEADER_LEN, RecordKind, decode_exact_record,
    record_len,
};
use crate::fs::{self, Io};
use crate::options::Options;
pub(crate) use mmap::MappedFile;
pub(crate) use naming::{FileRole, data_path, hint_path, list_files, list_segment_ids, temp_path};

/// An open segment file, shared by the writer, readers and (later) merge.
///
/// A sealed segment read through a memory map holds no file descriptor (the mapping keeps
/// the file open in the kernel), so a store of many segments holds only a few descriptors.
pub(crate) struct Segment {
    id: u32,
    path: PathBuf,
    /// `None` for a sealed, mapped segment.
    file: Option<File>,
    io: Io,
    map: Option<MappedFile>,
    /// Bytes of the file that hold complete, published records. Readers never look past it.
    readable_len: AtomicU64,
    /// A hint file for this segment exists on disk.
    has_hint: AtomicBool,
    /// A merge replaced this segment: its files are deleted when the last handle goes (a
    /// reader may still be reading through it).
    retired: AtomicBool,
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.retired.load(Ordering::Acquire) {
            // Best effort: a file left behind by a crash or a failure here holds only
            // records that the merge copied or that are dead, and is merged again later.
            if let Some(dir) = self.path.parent() {
                let _ = self.io.remove_file(&hint_path(dir, self.id));
            }
            let _ = self.io.remove_file(&self.path);
        }
    }
}

impl Segment {
    /// Creates segment `id` in `dir`: writes and fsyncs its header, then fsyncs the
    /// directory so the new file survives a power loss before any record is acknowledged
    /// in it. `map_len` is how far the read mapping reaches (the most the file will hold).
    pub(crate) fn create(dir: &Path, id: u32, map_len: u64, options: &Options) -> Result<Segment> {
        let io = &options.io;
        let path = data_path(dir, id);
        let file = io.create_new(&path)?;
        let header = FileHeader {
            kind: FileKind::Data,
            segment_id: id,
        }
        .encode();
        let written = io
            .write_all_at(&file, &path, &header, 0)
            .and_then(|()| io.sync_data(&file, &path))
            .and_then(|()| io.sync_dir(dir));
        if let Err(e) = written {
            // Leave no half-made file behind to block the next attempt at this id.
            let _ = io.remove_file(&path);
            return Err(e);
        }
        Segment::from_file(id, path, file, FILE_HEADER_LEN as u64, map_len, options)
    }

    /// Wraps a sealed segment file whose first `readable_len` bytes are valid.
    pub(crate) fn sealed_from_file(
        id: u32,
        path: PathBuf,
        file: File,
        readable_len: u64,
        options: &Options,
    ) -> Result<Segment> {
        let mut segment = Segment::from_file(id, path, file, readable_len, readable_len, options)?;
        if segment.map.is_some() {
            segment.file = None;
        }
        Ok(segment)
    }

    /// The sealed form of this (formerly active) segment: mapped to its exact length and
    /// without a file descriptor, when reads go through maps. `None` when nothing changes.
    pub(crate) fn sealed(&self, options: &Options) -> Result<Option<Segment>> {
        let (Some(file), Some(_)) = (&self.file, &self.map) else {
            return Ok(None);
        };
        let file = file
            .try_clone()
            .map_err(fs::io_err(&self.path, "duplicate file handle"))?;
        let len = self.readable_len.load(Ordering::Acquire);
        Segment::sealed_from_file(self.id, self.path.clone(), file, len, options).map(Some)
    }

    /// Wraps an open segment file whose first `readable_len` bytes are valid.
    pub(crate) fn from_file(
        id: u32,
        path: PathBuf,
        file: File,
        readable_len: u64,
        map_len: u64,
        options: &Options,
    ) -> Result<Segment> {
        let map = if options.use_mmap {
            let len = usize::try_from(map_len.max(readable_len).max(1)).map_err(|_| {
                Error::corrupted(&path, 0, "segment too large to map on this platform")
            })?;
            Some(MappedFile::map(&file, len).map_err(fs::io_err(&path, "mmap"))?)
        } else {
            None
        };
        Ok(Segment {
            id,
            path,
            file: Some(file),
            io: options.io.clone(),
            map,
            readable_len: AtomicU64::new(readable_len),
            has_hint: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        })
    }

    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub(crate) fn has_hint(&self) -> bool {
        self.has_hint.load(Ordering::Acquire)
    }

    pub(crate) fn set_has_hint(&self) {
        self.has_hint.store(true, Ordering::Release);
    }

    /// Marks the segment for deletion when its last handle is dropped.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    /// Runs `f` on the segment's readable bytes: through its mapping, or a temporary one.
    pub(crate) fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        let len = usize::try_from(self.readable_len()).unwrap_or(usize::MAX);
        if let Some(bytes) = self.map.as_ref().and_then(|m| m.get(0, len)) {
            return Ok(f(bytes));
        }
        let file = fs::open_ro(&self.path)?;
        let map = MappedFile::map(&file, len.max(1)).map_err(fs::io_err(&self.path, "mmap"))?;
        Ok(f(map.get(0, len).unwrap_or(&[])))
    }

    /// The file, which only sealed mapped segments lack (and nothing writes to those).
    fn file(&self) -> Result<&File> {
        self.file.as_ref().ok_or_else(|| {
            Error::io(
                &self.path,
                "use sealed segment",
                std::io::Error::other("a sealed segment has no open file"),
            )
        })
    }

    /// Writes `bytes` at `offset` (the writer's end of file). Not yet visible to readers.
    pub(crate) fn write_at(&self, bytes: &[u8], offset: u64) -> Result<()> {
        self.io
            .write_all_at(self.file()?, &self.path, bytes, offset)
    }

    /// Makes the first `len` bytes visible to readers. Called after the bytes are written.
    pub(crate) fn publish_len(&self, len: u64) {
        self.readable_len.store(len, Ordering::Release);
    }

    /// Cuts the file back to `len` bytes (only ever beyond the readable length).
    pub(crate) fn truncate(&self, len: u64) -> Result<()> {
        self.io.set_len(self.file()?, &self.path, len)
    }

    pub(crate) fn sync(&self) -> Result<()> {
        self.io.sync_data(self.file()?, &self.path)
    }

    /// Reads the record of `key` at `offset` (one read), verifies its checksum and that it
    /// is the record the index expects (of kind `kind`), and returns its value.
    pub(crate) fn read_value(
        &self,
        offset: u32,
        key: &[u8],
        value_len: u32,
        kind: RecordKind,
    ) -> Result<Vec<u8>> {
        self.with_value(offset, key, value_len, kind, <[u8]>::to_vec)
    }

    /// `read_value`, lending the verified value to `f` instead of copying it out: a mapped
    /// segment's value is read in place (a range read copies each value once, into its
    /// reply, and allocates nothing per element).
    pub(crate) fn with_value<R>(
        &self,
        offset: u32,
        key: &[u8],
        value_len: u32,
        kind: RecordKind,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        let start = offset as usize;
        let len = record_len(key.len(), value_len as usize);
        let end = start.saturating_add(len);
        let readable = self.readable_len.load(Ordering::Acquire);
        if end as u64 > readable {
            return Err(Error::corrupted(
                &self.path,
                u64::from(offset),
                format!("index points past the readable end ({readable})"),
            ));
        }
        match &self.map {
            Some(map) => {
                let bytes = map.get(start, end).ok_or_else(|| {
                    Error::corrupted(&self.path, u64::from(offset), "record outside mapping")
                })?;
                self.verify(bytes, offset, key, kind).map(f)
            }
            None => {
                let mut buf = vec![0u8; len];
                self.io
                    .read_exact_at(self.file()?, &self.path, &mut buf, u64::from(offset))?;
                self.verify(&buf, offset, key, kind).map(f)
            }
        }
    }

    /// Whether reads go through a memory map (they do unless `Options::use_mmap(false)`).
    pub(crate) fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// `with_value` for a record whose value length the caller does not know (a list's
    /// record place, see `datatypes::members::RecordAt`): the length comes from the
    /// record's header, and the whole record's checksum, key and kind are verified before
    /// `f` sees the value. `None` where the record cannot be read so — an unmapped segment,
    /// a place past the readable end, or bytes that are not that record — and the caller
    /// reads through the index instead (which reports real damage).
    pub(crate) fn with_value_at_place<R>(
        &self,
        offset: u32,
        key: &[u8],
        kind: RecordKind,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let map = self.map.as_ref()?;
        let start = offset as usize;
        let readable = usize::try_from(self.readable_len.load(Ordering::Acquire)).ok()?;
        let header = map.get(start, start.checked_add(RECORD_HEADER_LEN)?.min(readable))?;
        let end = start.checked_add(claimed_record_len(header)?)?;
        if end > readable {
            return None;
        }
        self.verify(map.get(start, end)?, offset, key, kind)
            .ok()
            .map(f)
    }

    /// Hints that the record at `offset`, `len` bytes long, will be read soon: its first
    /// cache lines are fetched meanwhile where the segment is mapped.
    pub(crate) fn prefetch_record(&self, offset: u32, len: usize) {
        const LINE: usize = 64;
        if let Some(map) = &self.map {
            let start = (map.bytes().as_ptr() as usize).wrapping_add(offset as usize);
            // The lines the record spans, at most four (a short key and a 100-byte value
            // span three): the rest of a long value streams in behind them.
            let first = start & !(LINE - 1);
            let end = start
                .saturating_add(len)
                .min(first.saturating_add(4 * LINE));
            for line in (first..end).step_by(LINE) {
                crate::keydir::prefetch_address(line);
            }
        }
    }

    /// Whether reads can reach byte `end` of the file: always through positioned reads,
    /// through the mapping only as far as it was made.
    pub(crate) fn reaches(&self, end: u64) -> bool {
        self.map
            .as_ref()
            .is_none_or(|map| usize::try_from(end).is_ok_and(|end| end <= map.bytes().len()))
    }

    /// The readable bytes of the segment (a snapshot: appends after this call are not
    /// included), through the mapping or positioned reads.
    pub(crate) fn readable_len(&self) -> u64 {
        self.readable_len.load(Ordering::Acquire)
    }

    /// Writes the first `len` bytes of the segment (at most its readable length) to `out`.
    pub(crate) fn copy_prefix(&self, len: u64, out: &mut impl std::io::Write) -> Result<()> {
        let len = len.min(self.readable_len());
        let write_err = |e| Error::io(&self.path, "copy segment", e);
        match &self.map {
            Some(map) => {
                let end = usize::try_from(len).unwrap_or(usize::MAX);
                let bytes = map
                    .get(0, end)
                    .ok_or_else(|| Error::corrupted(&self.path, 0, "segment outside mapping"))?;
                out.write_all(bytes).map_err(write_err)
            }
            None => {
                let mut buf = vec![0u8; 1 << 20];
                let mut at = 0u64;
                while at < len {
                    let n = (len - at).min(buf.len() as u64) as usize;
                    let chunk = buf.get_mut(..n).unwrap_or(&mut []);
                    self.io.read_exact_at(self.file()?, &self.path, chunk, at)?;
                    out.write_all(chunk).map_err(write_err)?;
                    at += n as u64;
                }
                Ok(())
            }
        }
    }

    fn verify<'a>(
        &self,
        bytes: &'a [u8],
        offset: u32,
        key: &[u8],
        kind: RecordKind,
    ) -> Result<&'a [u8]> {
        let record = decode_exact_record(bytes)
            .map_err(|e| Error::corrupted(&self.path, u64::from(offset), e.to_string()))?;
        if record.key != key || record.kind != kind {
            return Err(Error::corrupted(
                &self.path,
                u64::from(offset),
                "record does not match the index entry",
            ));
        }
        Ok(record.value)
    }
}

/// The segments readers can reach, sorted by id. Replaced as a whole (copy on write) when a
/// segment is added or retired, so readers load it without locking.
#[derive(Default)]
pub(crate) struct SegmentSet {
    segments: Vec<Arc<Segment>>,
}

impl SegmentSet {
    pub(crate) fn get(&self, id: u32) -> Option<&Arc<Segment>> {
        self.segments
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .and_then(|i| self.segments.get(i))
    }

    /// A copy of this set with `segment` in place of the one with the same id.
    pub(crate) fn replaced(&self, segment: Arc<Segment>) -> SegmentSet {
        let mut segments = self.segments.clone();
        if let Ok(at) = segments.binary_search_by_key(&segment.id, |s| s.id)
            && let Some(slot) = segments.get_mut(at)
        {
            *slot = segment;
        }
        SegmentSet { segments }
    }

    /// A copy of this set with `segment` added.
    pub(crate) fn with(&self, segment: Arc<Segment>) -> SegmentSet {
        let mut segments = self.segments.clone();
        let at = segments.partition_point(|s| s.id < segment.id);
        segments.insert(at, segment);
        SegmentSet { segments }
    }

    pub(crate) fn from_sorted(segments: Vec<Arc<Segment>>) -> SegmentSet {
        SegmentSet { segments }
    }

    /// Every segment, ascending by id.
    pub(crate) fn all(&self) -> &[Arc<Segment>] {
        &self.segments
    }
}
