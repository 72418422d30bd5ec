//! Offline inspection of a store directory: [`check`] verifies every file, [`dump`] lists
//! every record in file order. Neither changes anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, FileHeader, FileKind, Hint, Record, RecordKind};
use crate::fs;
use crate::lock::DirLock;
use crate::segment::scan::{ScanEnd, is_torn_tail, scan};
use crate::segment::{MappedFile, data_path, hint_path, list_segment_ids};

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
    /// The segment's hint file, if it has one.
    pub hint: Option<HintCheck>,
}

/// What [`check`] found in a hint file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HintCheck {
    /// The file.
    pub path: PathBuf,
    /// Entries it lists (0 if it cannot be read).
    pub entries: u64,
    /// Why it does not describe its data file, if it does not. A bad hint file loses
    /// nothing: `open` ignores it and scans the data file instead (and a later hint write
    /// replaces it).
    pub problem: Option<String>,
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
    /// The index snapshot a clean close left, if there is one.
    pub index_snapshot: Option<SnapshotCheck>,
}

/// The index snapshot (`index.snapshot`), as [`check`] found it. Neither state is a problem:
/// the snapshot only saves rebuilding the index at open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotCheck {
    /// It describes exactly the segments there are, and holds together: the next open loads
    /// it instead of rebuilding the index.
    Current,
    /// It describes other segments (written, merged or cut since), or is damaged: the next
    /// open deletes it and rebuilds the index from hint files and segments.
    Stale,
}

impl CheckReport {
    /// True when no file has corruption (a torn tail alone is not corruption).
    pub fn is_consistent(&self) -> bool {
        self.segments
            .iter()
            .all(|s| s.problem.as_ref().is_none_or(|p| p.torn_tail))
    }

    /// True when every byte of every file is valid (not even a torn tail) and every hint
    /// file matches its data file.
    pub fn is_clean(&self) -> bool {
        self.segments
            .iter()
            .all(|s| s.problem.is_none() && s.hint.as_ref().is_none_or(|h| h.problem.is_none()))
    }
}

/// Verifies every record of every segment of the store in `dir` (checksums, framing,
/// headers) and every hint file against its data file, and reports each file's first
/// problem with its offset. Takes the directory lock
/// for the duration, so it fails with [`Error::Locked`] while a store has it open.
pub fn check(dir: &Path) -> Result<CheckReport> {
    let _lock = existing_dir_lock(dir)?;
    let segments = check_segments(dir)?;
    let ids = list_segment_ids(dir)?;
    let index_snapshot = crate::snapshot::matches(dir, &ids).map(|current| {
        if current {
            SnapshotCheck::Current
        } else {
            SnapshotCheck::Stale
        }
    });
    Ok(CheckReport {
        segments,
        index_snapshot,
    })
}

/// [`check`]'s verdict on every segment and hint file, for a caller that holds the
/// directory lock already ([`repair`](crate::repair), which needs no snapshot verdict: it
/// sets the snapshot aside itself when it rewrites a segment).
pub(crate) fn check_segments(dir: &Path) -> Result<Vec<SegmentCheck>> {
    let ids = list_segment_ids(dir)?;
    let mut segments = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        let newest = i + 1 == ids.len();
        let path = data_path(dir, id);
        let mut records = 0u64;
        // The records by offset, kept only to check a hint file against.
        let hint_file = hint_path(dir, id);
        let has_hint = hint_file.exists();
        let mut located: HashMap<u64, Located> = HashMap::new();
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
                    for scanned in batch.iter().filter(|_| has_hint) {
                        located.insert(scanned.offset as u64, Located::of(&scanned.record));
                    }
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
        let hint = has_hint.then(|| {
            let (entries, problem) = match std::fs::read(&hint_file) {
                Ok(hint_bytes) => hint_problem(&hint_bytes, id, bytes, &located),
                Err(e) => (0, Some(format!("cannot read: {e}"))),
            };
            HintCheck {
                path: hint_file,
                entries,
                problem,
            }
        });
        segments.push(SegmentCheck {
            path,
            bytes,
            records,
            problem,
            hint,
        });
    }
    Ok(segments)
}

/// What a hint entry must say about the record at its offset.
#[derive(PartialEq, Eq)]
struct Located {
    seq: u64,
    expiry_ms: u64,
    kind: RecordKind,
    value_len: u32,
    key: Vec<u8>,
}

impl Located {
    fn of(record: &Record<'_>) -> Located {
        Located {
            seq: record.seq,
            expiry_ms: record.expiry_ms,
            kind: record.kind,
            value_len: u32::try_from(record.value.len()).unwrap_or(u32::MAX),
            key: record.key.to_vec(),
        }
    }
}

/// Checks a hint file against the valid records of its data file (`data_len` bytes, records
/// by offset): it must be whole, describe a data file of this length, and list exactly
/// these records. Returns the entries listed and the first disagreement.
fn hint_problem(
    hint_bytes: &[u8],
    id: u32,
    data_len: u64,
    records: &HashMap<u64, Located>,
) -> (u64, Option<String>) {
    let hint = match Hint::parse(hint_bytes, id) {
        Ok(hint) => hint,
        Err(e) => return (0, Some(format!("damaged: {e}"))),
    };
    let mut listed = 0u64;
    for entry in hint.entries() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return (listed, Some(format!("damaged entry: {e}"))),
        };
        listed += 1;
        let expected = records.get(&u64::from(entry.offset));
        let matches = expected.is_some_and(|r| {
            r.seq == entry.seq
                && r.expiry_ms == entry.expiry_ms
                && r.kind == entry.kind
                && r.value_len == entry.value_len
                && r.key == entry.key
        });
        if !matches {
            return (
                listed,
                Some(format!(
                    "entry {listed} (seq {}) does not match the record at offset {} of the data file",
                    entry.seq, entry.offset
                )),
            );
        }
    }
    let problem = if hint.data_len != data_len {
        Some(format!(
            "describes a data file of {} bytes; the data file has {data_len}",
            hint.data_len
        ))
    } else if listed != records.len() as u64 {
        Some(format!(
            "lists {listed} records; the data file has {}",
            records.len()
        ))
    } else {
        None
    };
    (listed, problem)
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
pub(crate) fn with_segment_bytes<T>(path: &Path, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
    let file = fs::open_ro(path)?;
    let len = usize::try_from(fs::file_len(&file, path)?)
        .map_err(|_| Error::corrupted(path, 0, "segment too large for this platform"))?;
    if len == 0 {
        return Ok(f(&[]));
    }
    let map = MappedFile::map(&file, len).map_err(fs::io_err(path, "mmap"))?;
    Ok(f(map.bytes()))
}
