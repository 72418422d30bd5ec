//! Offline inspection of a store directory: [`check`] verifies every file, [`dump`] lists
//! every record in file order. Neither changes anything.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, FileHeader, FileKind, Record, RecordKind};
use crate::fs;
use crate::lock::DirLock;
use crate::segment::scan::{ScanEnd, is_torn_tail, scan};
use crate::segment::{MappedFile, data_path, list_segment_ids};

/// What [`check`] found in one segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentCheck {
    /// The file.
    pub path: PathBuf,
    /// File length.
    pub bytes: u64,
    /// Valid records read.
    pub records: u64,
    /// The first problem found, if any.
    pub problem: Option<CheckProblem>,
}

/// A problem [`check`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckProblem {
    /// Byte offset in the file.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
    /// True when this is the torn tail of the newest segment (the remains of an interrupted
    /// write): `open` cuts it off and loses nothing acknowledged. Anything else is
    /// corruption: `open` refuses the store.
    pub torn_tail: bool,
}

/// What [`check`] found in a whole store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Every segment, ascending by id.
    pub segments: Vec<SegmentCheck>,
}

impl CheckReport {
    /// True when no file has corruption (a torn tail alone is not corruption).
    pub fn is_consistent(&self) -> bool {
        self.segments
            .iter()
            .all(|s| s.problem.as_ref().is_none_or(|p| p.torn_tail))
    }

    /// True when every byte of every file is valid (not even a torn tail).
    pub fn is_clean(&self) -> bool {
        self.segments.iter().all(|s| s.problem.is_none())
    }
}

/// Verifies every record of every segment of the store in `dir` (checksums, framing,
/// headers) and reports each file's first problem with its offset. Takes the directory lock
/// for the duration, so it fails with [`Error::Locked`] while a store has it open.
pub fn check(dir: &Path) -> Result<CheckReport> {
    let _lock = existing_dir_lock(dir)?;
    let ids = list_segment_ids(dir)?;
    let mut segments = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        let newest = i + 1 == ids.len();
        let path = data_path(dir, id);
        let mut records = 0u64;
        let (bytes, problem) = with_segment_bytes(&path, |bytes| {
            let problem = match header_problem(bytes, id) {
                Some(reason) => Some(CheckProblem {
                    offset: 0,
                    reason,
                    torn_tail: newest
                        && (bytes.len() <= FILE_HEADER_LEN || bytes.iter().all(|&b| b == 0)),
                }),
                None => match scan::<()>(bytes, FILE_HEADER_LEN, |batch| {
                    records += batch.len() as u64;
                    Ok(())
                }) {
                    Ok(ScanEnd::Clean) | Err(()) => None,
                    Ok(ScanEnd::Stopped {
                        error_offset,
                        problem,
                        ..
                    }) => Some(CheckProblem {
                        offset: error_offset as u64,
                        reason: problem.to_string(),
                        torn_tail: newest && is_torn_tail(bytes, error_offset, problem),
                    }),
                },
            };
            (bytes.len() as u64, problem)
        })?;
        segments.push(SegmentCheck {
            path,
            bytes,
            records,
            problem,
        });
    }
    Ok(CheckReport { segments })
}

/// One record as [`dump`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpedRecord {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset of the record in it.
    pub offset: u64,
    /// Sequence number.
    pub seq: u64,
    /// Put or tombstone.
    pub kind: RecordKind,
    /// Expiry in unix ms (0 = none).
    pub expiry_ms: u64,
    /// True when more records of the same atomic batch follow.
    pub batch_continues: bool,
    /// The key.
    pub key: Vec<u8>,
    /// The value's length (the value itself is not copied).
    pub value_len: usize,
}

/// Calls `f` with every valid record of every segment of the store in `dir`, in file
/// order, stopping at the first invalid byte range of each file. Read-only and lock-free:
/// it may run beside an open store (then the newest file's end may still be growing).
pub fn dump(dir: &Path, mut f: impl FnMut(&DumpedRecord)) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            "open store directory",
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    for id in list_segment_ids(dir)? {
        let path = data_path(dir, id);
        with_segment_bytes(&path, |bytes| {
            if header_problem(bytes, id).is_some() {
                return;
            }
            let _ = scan::<()>(bytes, FILE_HEADER_LEN, |batch| {
                for scanned in batch {
                    let r: &Record<'_> = &scanned.record;
                    f(&DumpedRecord {
                        path: path.clone(),
                        offset: scanned.offset as u64,
                        seq: r.seq,
                        kind: r.kind,
                        expiry_ms: r.expiry_ms,
                        batch_continues: r.batch_continues,
                        key: r.key.to_vec(),
                        value_len: r.value.len(),
                    });
                }
                Ok(())
            });
        })?;
    }
    Ok(())
}

/// Takes the lock of an existing store directory (never creating one).
fn existing_dir_lock(dir: &Path) -> Result<DirLock> {
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            "open store directory",
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    DirLock::acquire(dir)
}

/// Why a segment's file header is not the one segment `id` must have, if it is not.
fn header_problem(bytes: &[u8], id: u32) -> Option<String> {
    match FileHeader::decode(bytes) {
        Ok(FileHeader {
            kind: FileKind::Data,
            segment_id,
        }) if segment_id == id => None,
        Ok(header) => Some(format!(
            "header describes {:?} file of segment {}, not data segment {id}",
            header.kind, header.segment_id
        )),
        Err(e) => Some(e.to_string()),
    }
}

/// Maps the whole file read-only and runs `f` on its bytes (an empty file maps nothing).
fn with_segment_bytes<T>(path: &Path, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
    let file = fs::open_ro(path)?;
    let len = usize::try_from(fs::file_len(&file, path)?)
        .map_err(|_| Error::corrupted(path, 0, "segment too large for this platform"))?;
    if len == 0 {
        return Ok(f(&[]));
    }
    let map = MappedFile::map(&file, len).map_err(fs::io_err(path, "mmap"))?;
    Ok(f(map.bytes()))
}
