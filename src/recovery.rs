//! Opening a directory: clean up temporary files → read each segment in id order (its hint
//! file when valid, else a full scan) → rebuild the keydir (the highest sequence number of
//! each key wins) → cut a torn tail off the newest segment.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::datatypes::index::Collections;
use crate::error::{Error, Result};
use crate::format::{
    FILE_HEADER_LEN, FileHeader, FileHeaderError, FileKind, HINT_ENTRY_MIN_LEN, HINT_TRAILER_LEN,
    Hint, RecordKind, claimed_entries, record_len,
};
use crate::fs;
use crate::keydir::{Entry, KeyHash, Keydir, Upsert};
use crate::options::{Options, RecoveryMode};
use crate::segment::scan::{ScanEnd, ScannedRecord, is_torn_tail, scan};
use crate::segment::{FileRole, MappedFile, Segment, data_path, hint_path, list_files};
use crate::snapshot::{self, Fingerprint, Snapshot};
use crate::usage::SegmentUsage;

/// What recovery rebuilt from the files.
pub(crate) struct Recovered {
    pub keydir: Keydir,
    /// Index of live collection elements.
    pub elements: Keydir,
    /// The live collections' member sets.
    pub collections: Collections,
    /// Every segment, ascending by id; the last is the active one.
    pub segments: Vec<Arc<Segment>>,
    pub active_len: u64,
    /// The data length the newest segment's hint file describes, when it was read from it.
    pub active_hint_len: Option<u64>,
    /// Highest sequence number found (0 for an empty store).
    pub max_seq: u64,
    pub usage: BTreeMap<u32, SegmentUsage>,
    /// Bytes cut off the newest segment's torn tail.
    pub torn_bytes_truncated: u64,
    /// Higher than every segment id in use (or left behind).
    pub next_segment_id: u32,
    /// What the index snapshot the index came from describes (`None`: rebuilt from the
    /// segments and hint files).
    pub snapshot: Option<Fingerprint>,
}

pub(crate) fn recover(dir: &Path, options: &Options) -> Result<Recovered> {
    let files = list_files(dir)?;
    let mut ids: Vec<u32> = files
        .iter()
        .filter(|(_, role, _)| *role == FileRole::Data)
        .map(|(id, _, _)| *id)
        .collect();
    ids.sort_unstable();
    let hints: HashSet<u32> = files
        .iter()
        .filter(|(_, role, _)| *role == FileRole::Hint)
        .map(|(id, _, _)| *id)
        .collect();
    let next_segment_id = files
        .iter()
        .map(|(id, _, _)| *id)
        .max()
        .map_or(1, |max| max.saturating_add(1));
    remove_leftovers(dir, options, &files)?;
    if let Some(snapshot) = snapshot::load(dir, options, &ids) {
        return from_snapshot(dir, options, snapshot, &hints, next_segment_id);
    }

    // A hint whose entries turn out bad only while it is being loaded (its checksum held:
    // a bug that wrote it, or damage the checksum missed) has already changed the index:
    // start again without it.
    let mut trusted = hints.clone();
    let Read {
        mut state,
        mut segments,
        torn_bytes_truncated,
        active_len,
        active_hint_len,
        hinted_entries,
    } = loop {
        match read_segments(dir, options, &ids, &hints, &trusted)? {
            Ok(read) => break read,
            Err(DamagedHint(id)) => {
                trusted.remove(&id);
            }
        }
    };
    let mut next_segment_id = next_segment_id;
    if segments.is_empty() {
        let id = next_segment_id;
        next_segment_id += 1;
        let segment = Segment::create(dir, id, options.max_segment_size, options)?;
        state.usage.insert(id, SegmentUsage::default());
        segments.push(Arc::new(segment));
    }

    // Tombstones were kept only to shadow older puts found later in the scan.
    if state.tombstones {
        state.keydir.retain(|_, e| !e.tombstone);
        state.elements.retain(|_, e| !e.tombstone);
    }
    // Both indexes were sized for every entry the hint files hold, keys and elements
    // alike (the element index only once an element came): give back what one of them
    // reserved for the other's entries.
    if (state.keydir.len() as u64) < hinted_entries / 2 {
        state.keydir.shrink_to_fit();
    }
    // (`hinted` is taken when the element index is sized.)
    if state.hinted.is_none() && (state.elements.len() as u64) < hinted_entries / 2 {
        state.elements.shrink_to_fit();
    }
    // Stores without collections (the common case) skip the pass over every key.
    let collections = if state.collections {
        crate::datatypes::open::rebuild(
            &state.keydir,
            &state.elements,
            &segments,
            &mut state.usage,
        )?
    } else {
        Collections::default()
    };
    Ok(Recovered {
        keydir: state.keydir,
        elements: state.elements,
        collections,
        segments,
        active_len,
        active_hint_len,
        max_seq: state.max_seq,
        usage: state.usage,
        torn_bytes_truncated,
        next_segment_id,
        snapshot: None,
    })
}

/// Opens the segments an index snapshot matched (see `snapshot::load`) around the index it
/// held: nothing is scanned; collections are rebuilt from the index as after a scan.
fn from_snapshot(
    dir: &Path,
    options: &Options,
    snapshot: Snapshot,
    hints: &HashSet<u32>,
    next_segment_id: u32,
) -> Result<Recovered> {
    let fingerprint = snapshot.fingerprint();
    let Snapshot {
        keydir,
        elements,
        segments: facts,
        max_seq,
        active_hint_len,
        collections,
    } = snapshot;
    let mut segments = Vec::with_capacity(facts.len());
    let mut usage = BTreeMap::new();
    let mut active_len = FILE_HEADER_LEN as u64;
    for (i, f) in facts.iter().enumerate() {
        let path = data_path(dir, f.id);
        let segment = if i + 1 == facts.len() {
            let file = fs::open_rw(&path)?;
            // As after a scan: what a crashed process left in the page cache is made
            // durable before anything is acknowledged on top of it.
            options.io.sync_data(&file, &path)?;
            active_len = f.len;
            let map_len = options.max_segment_size.max(f.len);
            Segment::from_file(f.id, path, file, f.len, map_len, options)?
        } else {
            let segment =
                Segment::sealed_from_file(f.id, path.clone(), fs::open_ro(&path)?, f.len, options)?;
            // (A hint deleted since the close is written again by the merge thread.)
            if f.has_hint && hints.contains(&f.id) {
                segment.set_has_hint();
            }
            segment
        };
        usage.insert(f.id, f.usage);
        segments.push(Arc::new(segment));
    }
    let collections = if collections {
        crate::datatypes::open::rebuild(&keydir, &elements, &segments, &mut usage)?
    } else {
        Collections::default()
    };
    // Likewise the active segment's hint: one deleted since is written again at close.
    let newest = facts.last().map(|f| f.id);
    let active_hint_len = active_hint_len.filter(|_| newest.is_some_and(|id| hints.contains(&id)));
    Ok(Recovered {
        keydir,
        elements,
        collections,
        segments,
        active_len,
        active_hint_len,
        max_seq,
        usage,
        torn_bytes_truncated: 0,
        next_segment_id,
        snapshot: Some(fingerprint),
    })
}

/// What reading every segment produced.
struct Read {
    state: Rebuild,
    segments: Vec<Arc<Segment>>,
    torn_bytes_truncated: u64,
    active_len: u64,
    active_hint_len: Option<u64>,
    /// Entries the trusted hint files claim (what the key index was sized for).
    hinted_entries: u64,
}

/// The hint of this segment went bad while it was being loaded.
struct DamagedHint(u32);

/// Reads segments `ids` (ascending) into a fresh index, each from its hint when the hint
/// is in `trusted` and usable, else by a scan. `hints` are all the hint files there are.
fn read_segments(
    dir: &Path,
    options: &Options,
    ids: &[u32],
    hints: &HashSet<u32>,
    trusted: &HashSet<u32>,
) -> Result<std::result::Result<Read, DamagedHint>> {
    let io = &options.io;
    let mut state = Rebuild {
        keydir: Keydir::default(),
        elements: Keydir::default(),
        collections: false,
        usage: BTreeMap::new(),
        max_seq: 0,
        tombstones: false,
        hinted: None,
    };
    // Hint files say how many keys are coming: size the index for them once, instead of
    // growing it step by step (each step rehashes every key).
    let (hinted_entries, hinted_key_bytes) = hinted_sizes(dir, trusted);
    state.keydir.reserve(hinted_entries, hinted_key_bytes);
    state.hinted = Some((hinted_entries, hinted_key_bytes));
    let mut segments = Vec::with_capacity(ids.len() + 1);
    let mut torn_bytes_truncated = 0;
    let mut active_len = FILE_HEADER_LEN as u64;
    let mut active_hint_len = None;

    for (i, &id) in ids.iter().enumerate() {
        let newest = i + 1 == ids.len();
        let path = data_path(dir, id);
        let file = if newest {
            fs::open_rw(&path)?
        } else {
            fs::open_ro(&path)?
        };
        let file_len = fs::file_len(&file, &path)?;
        // A segment is read from its hint when the hint is whole and describes a data file
        // of exactly this length. For the newest segment that is a hint written at a clean
        // close: if anything was appended since, the lengths differ and the segment is
        // scanned (a torn tail included), and the stale hint is deleted.
        let from_hint = trusted.contains(&id)
            && match load_hint(dir, id, file_len, &path, &mut state)? {
                HintLoad::Loaded => true,
                HintLoad::Unusable => false,
                HintLoad::Damaged => return Ok(Err(DamagedHint(id))),
            };
        if newest && hints.contains(&id) && !from_hint {
            // Best effort: a stale hint left behind is ignored the same way next time.
            let _ = io.remove_file(&hint_path(dir, id));
        }
        if newest && from_hint {
            active_hint_len = Some(file_len);
        }
        let valid_len = if from_hint {
            file_len
        } else {
            match scan_segment(&file, &path, id, file_len, newest, options, &mut state)? {
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
        // The newest segment's hint goes stale with its next append: it is rewritten at
        // close, or when the segment is sealed.
        if from_hint && !newest {
            segment.set_has_hint();
        }
        segments.push(Arc::new(segment));
    }

    Ok(Ok(Read {
        state,
        segments,
        torn_bytes_truncated,
        active_len,
        active_hint_len,
        hinted_entries,
    }))
}

/// Deletes temporary files (an interrupted merge or hint write) and hint files whose data
/// segment is gone (a merge deleted it but not yet its hint). Both are ours by name; nothing
/// else in the directory is touched.
fn remove_leftovers(
    dir: &Path,
    options: &Options,
    files: &[(u32, FileRole, PathBuf)],
) -> Result<()> {
    let data: HashSet<u32> = files
        .iter()
        .filter(|(_, role, _)| *role == FileRole::Data)
        .map(|(id, _, _)| *id)
        .collect();
    let mut removed = false;
    for (id, role, path) in files {
        let leftover = match role {
            FileRole::Temporary => true,
            FileRole::Hint => !data.contains(id),
            FileRole::Data => false,
        };
        if leftover {
            options.io.remove_file(path)?;
            removed = true;
        }
    }
    if removed {
        options.io.sync_dir(dir)?;
    }
    Ok(())
}

/// Entries and key bytes the hint files list, from their trailers (an upper bound of the
/// keys they hold; a damaged hint only makes the estimate wrong, never the index).
fn hinted_sizes(dir: &Path, hints: &HashSet<u32>) -> (u64, u64) {
    let mut entries = 0u64;
    let mut key_bytes = 0u64;
    for &id in hints {
        let path = hint_path(dir, id);
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            continue;
        };
        let mut trailer = [0u8; HINT_TRAILER_LEN];
        let at = len.saturating_sub(HINT_TRAILER_LEN as u64);
        if std::os::unix::fs::FileExt::read_exact_at(&file, &mut trailer, at).is_err() {
            continue;
        }
        let count = claimed_entries(&trailer);
        let fixed = count
            .saturating_mul(HINT_ENTRY_MIN_LEN as u64)
            .saturating_add((FILE_HEADER_LEN + HINT_TRAILER_LEN) as u64);
        // A count the file cannot hold is a damaged hint: no estimate from it.
        if fixed > len {
            continue;
        }
        entries = entries.saturating_add(count);
        key_bytes = key_bytes.saturating_add(len - fixed);
    }
    (entries, key_bytes)
}

/// What became of reading a segment's part of the index from its hint file.
enum HintLoad {
    Loaded,
    /// Missing, damaged or describing another data length: nothing was changed.
    Unusable,
    /// An entry turned out bad after others had gone into the index.
    Damaged,
}

/// Rebuilds segment `id`'s part of the index from its hint file.
fn load_hint(
    dir: &Path,
    id: u32,
    data_len: u64,
    data: &Path,
    state: &mut Rebuild,
) -> Result<HintLoad> {
    let path = hint_path(dir, id);
    // Mapped, not read into a buffer: a copy of a big hint would cost a page fault per 4 KiB
    // of fresh memory, more than parsing it.
    let Some(map) = std::fs::File::open(&path).ok().and_then(|file| {
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        (len > 0)
            .then(|| MappedFile::map(&file, len).ok())
            .flatten()
    }) else {
        return Ok(HintLoad::Unusable);
    };
    // The entries are checked as they are loaded (checking them all first would decode
    // them twice): every one lies inside the data length the hint describes, and with that
    // length the data file's, inside the file.
    let Ok(hint) = Hint::parse_frame(map.bytes(), id) else {
        return Ok(HintLoad::Unusable);
    };
    if hint.data_len != data_len {
        return Ok(HintLoad::Unusable);
    }
    let mut pending = Pending::new(state, id);
    for entry in hint.checked_entries() {
        let Ok(entry) = entry else {
            return Ok(HintLoad::Damaged);
        };
        pending.push(
            state,
            data,
            id,
            Located {
                offset: entry.offset,
                seq: entry.seq,
                expiry_ms: entry.expiry_ms,
                kind: entry.kind,
                key: entry.key,
                value_len: entry.value_len,
            },
        )?;
    }
    pending.finish(state, data, id)?;
    Ok(HintLoad::Loaded)
}

struct Rebuild {
    keydir: Keydir,
    elements: Keydir,
    /// A collection header or element record was read (else there is nothing to rebuild).
    collections: bool,
    usage: BTreeMap<u32, SegmentUsage>,
    max_seq: u64,
    /// A tombstone went into the index (and must be taken out at the end).
    tombstones: bool,
    /// Entries and key bytes the hint files hold, until the element index is sized for
    /// them (at its first entry: most stores have none).
    hinted: Option<(u64, u64)>,
}

impl Rebuild {
    /// The index a record of `kind` goes into.
    fn index_for(&self, kind: RecordKind) -> &Keydir {
        if kind.is_element() {
            &self.elements
        } else {
            &self.keydir
        }
    }

    fn index_for_mut(&mut self, kind: RecordKind) -> &mut Keydir {
        if kind.is_element() {
            &mut self.elements
        } else {
            &mut self.keydir
        }
    }
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

    let mut pending = Pending::new(state, id);
    let end = scan(bytes, FILE_HEADER_LEN, |batch| {
        apply_batch(state, &mut pending, path, id, batch)
    })?;
    pending.finish(state, path, id)?;
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

/// A record and where it is, from a scan or a hint.
struct Located<'a> {
    offset: u32,
    seq: u64,
    expiry_ms: u64,
    kind: RecordKind,
    key: &'a [u8],
    value_len: u32,
}

/// Records of one segment waiting to go into the index. Inserting is bound by cache misses
/// on the index's table (one per key, at random); asking for the lines of several keys
/// before inserting any of them overlaps those misses instead of paying for them one after
/// another.
struct Pending<'a> {
    records: Vec<(Located<'a>, KeyHash)>,
    /// The segment's usage, kept here while it is read rather than looked up in the map
    /// for every record.
    usage: SegmentUsage,
}

/// Keys whose table lines are fetched ahead of their inserts.
const PREFETCH_AHEAD: usize = 16;

impl<'a> Pending<'a> {
    fn new(state: &mut Rebuild, id: u32) -> Pending<'a> {
        Pending {
            records: Vec::with_capacity(PREFETCH_AHEAD),
            usage: state.usage.remove(&id).unwrap_or_default(),
        }
    }

    /// Inserts what is left and hands the segment's usage back.
    fn finish(mut self, state: &mut Rebuild, path: &Path, id: u32) -> Result<()> {
        self.flush(state, path, id)?;
        state.usage.insert(id, self.usage);
        Ok(())
    }

    fn push(&mut self, state: &mut Rebuild, path: &Path, id: u32, r: Located<'a>) -> Result<()> {
        if r.kind.is_element()
            && let Some((entries, key_bytes)) = state.hinted.take()
        {
            state.elements.reserve(entries, key_bytes);
        }
        let hash = state.index_for(r.kind).prefetch_hashed(r.key);
        self.records.push((r, hash));
        if self.records.len() >= PREFETCH_AHEAD {
            self.flush(state, path, id)?;
        }
        Ok(())
    }

    fn flush(&mut self, state: &mut Rebuild, path: &Path, id: u32) -> Result<()> {
        for (r, hash) in self.records.drain(..) {
            apply_record(state, &mut self.usage, path, id, &r, hash)?;
        }
        Ok(())
    }
}

fn apply_batch<'a>(
    state: &mut Rebuild,
    pending: &mut Pending<'a>,
    path: &Path,
    id: u32,
    batch: &[ScannedRecord<'a>],
) -> Result<()> {
    for scanned in batch {
        let record = scanned.record;
        let offset = u32::try_from(scanned.offset).map_err(|_| {
            Error::corrupted(path, scanned.offset as u64, "record offset beyond 4 GiB")
        })?;
        pending.push(
            state,
            path,
            id,
            Located {
                offset,
                seq: record.seq,
                expiry_ms: record.expiry_ms,
                kind: record.kind,
                key: record.key,
                value_len: u32::try_from(record.value.len()).unwrap_or(u32::MAX),
            },
        )?;
    }
    Ok(())
}

/// Puts one record into the index if it is the newest of its key so far, and accounts it
/// (in `here` for segment `id`, the one being read).
fn apply_record(
    state: &mut Rebuild,
    here: &mut SegmentUsage,
    path: &Path,
    id: u32,
    r: &Located<'_>,
    hash: KeyHash,
) -> Result<()> {
    let put = !r.kind.is_tombstone();
    state.collections |= r.kind == RecordKind::Collection || r.kind.is_element();
    here.record(r.seq, r.kind, r.expiry_ms);
    let entry = Entry {
        file_id: id,
        offset: r.offset,
        value_len: r.value_len,
        seq: r.seq,
        expiry_ms: r.expiry_ms,
        tombstone: !put,
        collection: r.kind == RecordKind::Collection,
    };
    state.max_seq = state.max_seq.max(r.seq);
    let outcome = state
        .index_for_mut(r.kind)
        .upsert_owned_if_newer(r.key, hash, entry)
        .map_err(|_| Error::corrupted(path, u64::from(r.offset), "index is full"))?;
    let replaced = match outcome {
        Upsert::Kept(_) => return Ok(()),
        Upsert::Inserted => None,
        Upsert::Replaced(old) => Some(old),
    };
    if let Some(old) = replaced.filter(|old| !old.tombstone) {
        let len = old.record_len(r.key.len());
        if old.file_id == id {
            here.remove_live(len);
        } else {
            state.usage.entry(old.file_id).or_default().remove_live(len);
        }
    }
    if put {
        here.add_live(record_len(r.key.len(), r.value_len as usize) as u64);
    } else {
        state.tombstones = true;
    }
    Ok(())
}
