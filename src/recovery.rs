//! Opening a directory: list segments → scan each in id order → rebuild the keydir (the
//! highest sequence number of each key wins) → cut a torn tail off the newest segment.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, FileHeader, FileHeaderError, FileKind, RecordKind};
use crate::fs;
use crate::keydir::{Entry, Keydir, Upsert};
use crate::options::{Options, RecoveryMode};
use crate::segment::scan::{ScanEnd, ScannedRecord, is_torn_tail, scan};
use crate::segment::{MappedFile, Segment, data_path, list_segment_ids};
use crate::write::SegmentUsage;

/// What recovery rebuilt from the files.
pub(crate) struct Recovered {
    pub keydir: Keydir,
    /// Every segment, ascending by id; the last is the active one.
    pub segments: Vec<Arc<Segment>>,
    pub active_len: u64,
    /// Highest sequence number found (0 for an empty store).
    pub max_seq: u64,
    pub usage: BTreeMap<u32, SegmentUsage>,
    /// Bytes cut off the newest segment's torn tail.
    pub torn_bytes_truncated: u64,
}

pub(crate) fn recover(dir: &Path, options: &Options) -> Result<Recovered> {
    let io = &options.io;
    let ids = list_segment_ids(dir)?;
    let mut state = Rebuild {
        keydir: Keydir::default(),
        usage: BTreeMap::new(),
        max_seq: 0,
    };
    let mut segments = Vec::with_capacity(ids.len() + 1);
    let mut torn_bytes_truncated = 0;
    let mut active_len = FILE_HEADER_LEN as u64;

    for (i, &id) in ids.iter().enumerate() {
        let newest = i + 1 == ids.len();
        let path = data_path(dir, id);
        let file = if newest {
            fs::open_rw(&path)?
        } else {
            fs::open_ro(&path)?
        };
        let file_len = fs::file_len(&file, &path)?;
        let valid_len = match scan_segment(&file, &path, id, file_len, newest, options, &mut state)?
        {
            SegmentScan::Valid(len) => len,
            SegmentScan::HeaderTorn => {
                // Created but its header never fully reached the disk: nothing in it was
                // ever acknowledged. Start it again.
                io.set_len(&file, &path, 0)?;
                let header = FileHeader {
                    kind: FileKind::Data,
                    segment_id: id,
                }
                .encode();
                io.write_all_at(&file, &path, &header, 0)?;
                FILE_HEADER_LEN as u64
            }
        };
        if newest {
            if valid_len < file_len {
                io.set_len(&file, &path, valid_len)?;
                torn_bytes_truncated = file_len - valid_len;
            }
            // What recovery read may have come from the page cache of a crashed process;
            // make it durable before acknowledging anything on top of it.
            io.sync_data(&file, &path)?;
            active_len = valid_len;
        }
        state.usage.entry(id).or_default().total_bytes = valid_len;
        let segment = if newest {
            let map_len = options.max_segment_size.max(valid_len);
            Segment::from_file(id, path, file, valid_len, map_len, options)?
        } else {
            Segment::sealed_from_file(id, path, file, valid_len, options)?
        };
        segments.push(Arc::new(segment));
    }

    if segments.is_empty() {
        let segment = Segment::create(dir, 1, options.max_segment_size, options)?;
        state.usage.insert(
            1,
            SegmentUsage {
                total_bytes: FILE_HEADER_LEN as u64,
                ..SegmentUsage::default()
            },
        );
        segments.push(Arc::new(segment));
    }

    // Tombstones were kept only to shadow older puts found later in the scan.
    state.keydir.retain(|_, e| !e.tombstone);
    Ok(Recovered {
        keydir: state.keydir,
        segments,
        active_len,
        max_seq: state.max_seq,
        usage: state.usage,
        torn_bytes_truncated,
    })
}

struct Rebuild {
    keydir: Keydir,
    usage: BTreeMap<u32, SegmentUsage>,
    max_seq: u64,
}

enum SegmentScan {
    /// The first `n` bytes are valid (header and complete batches).
    Valid(u64),
    /// The newest segment has no complete header.
    HeaderTorn,
}

fn scan_segment(
    file: &std::fs::File,
    path: &Path,
    id: u32,
    file_len: u64,
    newest: bool,
    options: &Options,
    state: &mut Rebuild,
) -> Result<SegmentScan> {
    let tolerate_tail = newest && options.recovery_mode == RecoveryMode::TolerateCorruptTail;
    if file_len == 0 {
        return if tolerate_tail {
            Ok(SegmentScan::HeaderTorn)
        } else {
            Err(Error::corrupted(path, 0, "segment file is empty"))
        };
    }
    let len = usize::try_from(file_len)
        .map_err(|_| Error::corrupted(path, 0, "segment too large for this platform"))?;
    let map = MappedFile::map(file, len).map_err(fs::io_err(path, "mmap"))?;
    let bytes = map.bytes();

    match FileHeader::decode(bytes) {
        Ok(FileHeader {
            kind: FileKind::Data,
            segment_id,
        }) if segment_id == id => {}
        Ok(header) => {
            return Err(Error::corrupted(
                path,
                0,
                format!(
                    "header describes {:?} file of segment {}, not data segment {id}",
                    header.kind, header.segment_id
                ),
            ));
        }
        Err(FileHeaderError::UnsupportedVersion(version)) => {
            return Err(Error::UnsupportedVersion {
                file: path.to_path_buf(),
                version,
            });
        }
        Err(e) => {
            let torn = file_len <= FILE_HEADER_LEN as u64 || bytes.iter().all(|&b| b == 0);
            return if tolerate_tail && torn {
                Ok(SegmentScan::HeaderTorn)
            } else {
                Err(Error::corrupted(path, 0, e.to_string()))
            };
        }
    }

    let end = scan(bytes, FILE_HEADER_LEN, |batch| {
        apply_batch(state, path, id, batch)
    })?;
    match end {
        ScanEnd::Clean => Ok(SegmentScan::Valid(file_len)),
        ScanEnd::Stopped {
            valid_end,
            error_offset,
            problem,
        } => {
            if tolerate_tail && is_torn_tail(bytes, error_offset, problem) {
                Ok(SegmentScan::Valid(valid_end as u64))
            } else {
                Err(Error::corrupted(
                    path,
                    error_offset as u64,
                    problem.to_string(),
                ))
            }
        }
    }
}

fn apply_batch(
    state: &mut Rebuild,
    path: &Path,
    id: u32,
    batch: &[ScannedRecord<'_>],
) -> Result<()> {
    for scanned in batch {
        let record = scanned.record;
        let offset = u32::try_from(scanned.offset).map_err(|_| {
            Error::corrupted(path, scanned.offset as u64, "record offset beyond 4 GiB")
        })?;
        let put = record.kind == RecordKind::Put;
        let entry = Entry {
            file_id: id,
            offset,
            value_len: u32::try_from(record.value.len()).unwrap_or(u32::MAX),
            seq: record.seq,
            expiry_ms: record.expiry_ms,
            tombstone: !put,
        };
        state.max_seq = state.max_seq.max(record.seq);
        let outcome = state
            .keydir
            .upsert_if_newer(record.key, entry)
            .map_err(|_| Error::corrupted(path, scanned.offset as u64, "index is full"))?;
        let replaced = match outcome {
            Upsert::Kept(_) => continue,
            Upsert::Inserted => None,
            Upsert::Replaced(old) => Some(old),
        };
        if let Some(old) = replaced.filter(|old| !old.tombstone) {
            let u = state.usage.entry(old.file_id).or_default();
            u.live_bytes = u
                .live_bytes
                .saturating_sub(old.record_len(record.key.len()));
            u.live_keys = u.live_keys.saturating_sub(1);
        }
        if put {
            let u = state.usage.entry(id).or_default();
            u.live_bytes += record.encoded_len() as u64;
            u.live_keys += 1;
        }
    }
    Ok(())
}
