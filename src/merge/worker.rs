//! Executing a merge plan.
//!
//! 1. **Copy.** Each input segment is scanned; a put the index still points at is copied
//!    (re-encoded as a single-record unit) into new segments written under temporary names,
//!    with their hint files; everything else is dropped, with one exception (below). A scan
//!    that stops before the end of an input (a damaged record) fails the merge: the records
//!    after the damage were not judged, so the input must stay.
//! 2. **No resurrection.** A tombstone, or an expired put, shadows older records of its key.
//!    It is dropped only if a newer put of the key is live, or if every *other* segment on
//!    disk holds only newer records (so whatever it shadows is in its own file, which
//!    disappears with it in one unlink). Otherwise it is copied. Because the rule looks at
//!    every other file — the other inputs included — it stays true at every point of a
//!    crash, whichever inputs were deleted by then. "Every other file" includes stray ones:
//!    merged segments not deleted yet (a reader holds them) and outputs of a merge whose
//!    publication failed after renaming them; the next open reads those too.
//! 3. **Publish.** Outputs are fsynced; the active segment is rotated so that it keeps the
//!    highest id (recovery treats the highest as the only one that may end torn); outputs
//!    are renamed into place and the directory fsynced; the index entries are moved with
//!    compare-and-set, in small batches under the writer lock (a write since always wins),
//!    as the outputs' hint files list the copied records (so a merge's memory does not
//!    grow with the number of records it copies);
//!    finally the inputs leave the segment set and are deleted once no reader holds them.
//!
//! A crash anywhere opens to the same contents: before the renames the temporary files are
//! deleted at open; after, the inputs and outputs hold the same records under the same
//! sequence numbers, and the newest per key wins either way.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hint_file::HintFile;
use super::plan::{SegmentInfo, plan};
use super::{MergeReport, MergeTotals};
use crate::engine::{Engine, lock};
use crate::error::{Error, Result};
use crate::format::{
    FILE_HEADER_LEN, FileHeader, FileKind, Hint, HintEntry, Record, RecordKind, encode_record,
};
use crate::keydir::{Entry, KeyHash};
use crate::segment::scan::{ScanEnd, ScannedRecord, scan};
use crate::segment::{MappedFile, Segment, data_path, hint_path, temp_path};
use crate::ttl::is_expired;
use crate::usage::SegmentUsage;

/// Index entries moved per writer-lock hold while publishing.
const PUBLISH_BATCH: usize = 1024;
/// Output bytes gathered before one write call.
const WRITE_BUFFER: usize = 1 << 20;
/// Records whose index lines are fetched ahead of their lookups while copying.
const LOOKUP_AHEAD: usize = 16;

/// What copying found: the expired entries to drop, and how many records were copied
/// and dropped. (The index entries to move are the outputs' puts, read back from their
/// hint files when publishing: kept in memory instead, they took ~127 bytes per copied
/// record, `cargo bench --bench merge` measured 103 MiB for a merge copying 851k.)
struct Copied {
    drops: Vec<(Vec<u8>, Entry)>,
    copied: u64,
    dropped: u64,
}

/// A finished output segment and its hint, fsynced under their temporary names.
struct Output {
    id: u32,
    len: u64,
    usage: SegmentUsage,
}

/// The output being written. Writes go through the I/O seam (as every write does), in
/// buffered chunks.
struct OutputFile {
    id: u32,
    path: PathBuf,
    file: File,
    /// Bytes appended (written or pending).
    len: u64,
    /// Bytes written to the file.
    flushed: u64,
    pending: Vec<u8>,
    usage: SegmentUsage,
    hint: HintFile,
}

impl OutputFile {
    fn flush(&mut self, engine: &Engine) -> Result<()> {
        if !self.pending.is_empty() {
            engine
                .options
                .io
                .write_all_at(&self.file, &self.path, &self.pending, self.flushed)?;
            self.flushed += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok(())
    }
}

/// Writes output segments, one after another, each up to the segment size.
struct Outputs<'e> {
    engine: &'e Engine,
    current: Option<OutputFile>,
    done: Vec<Output>,
    buf: Vec<u8>,
    written: u64,
    started: Instant,
}

impl<'e> Outputs<'e> {
    fn new(engine: &'e Engine) -> Outputs<'e> {
        Outputs {
            engine,
            current: None,
            done: Vec::new(),
            buf: Vec::new(),
            written: 0,
            started: Instant::now(),
        }
    }

    fn start_file(&mut self) -> Result<()> {
        let engine = self.engine;
        let id = engine.allocate_segment_id()?;
        let path = temp_path(&data_path(&engine.dir, id));
        let file = engine.options.io.create_new(&path)?;
        let hint = match HintFile::create(&engine.options.io, &engine.dir, id) {
            Ok(hint) => hint,
            Err(e) => {
                let _ = engine.options.io.remove_file(&path);
                return Err(e);
            }
        };
        let header = FileHeader {
            kind: FileKind::Data,
            segment_id: id,
        }
        .encode();
        self.current = Some(OutputFile {
            id,
            path,
            file,
            len: FILE_HEADER_LEN as u64,
            flushed: 0,
            pending: header.to_vec(),
            usage: SegmentUsage::default(),
            hint,
        });
        Ok(())
    }

    /// Appends `record`; returns the output id and offset it landed at.
    fn append(&mut self, record: &Record<'_>, counts_live: bool) -> Result<(u32, u32)> {
        self.buf.clear();
        let single = Record {
            batch_continues: false,
            ..*record
        };
        let len = encode_record(&mut self.buf, &single).map_err(|_| Error::Corrupted {
            file: self.engine.dir.clone(),
            offset: 0,
            reason: "merge met a record the format cannot hold".into(),
        })? as u64;
        let full = self.current.as_ref().is_some_and(|c| {
            c.len + len > self.engine.options.max_segment_size && c.len > FILE_HEADER_LEN as u64
        });
        if full {
            self.finish_file()?;
        }
        if self.current.is_none() {
            self.start_file()?;
        }
        let Some(current) = self.current.as_mut() else {
            return Err(Error::Poisoned {
                reason: "internal: merge output missing".into(),
            });
        };
        let offset = u32::try_from(current.len).map_err(|_| {
            Error::corrupted(&current.path, current.len, "merge output beyond 4 GiB")
        })?;
        current.pending.extend_from_slice(&self.buf);
        if current.pending.len() >= WRITE_BUFFER {
            current.flush(self.engine)?;
        }
        current.len += len;
        current.usage.total_bytes = current.len;
        current
            .usage
            .record(record.seq, record.kind, record.expiry_ms);
        if counts_live {
            current.usage.add_live(len);
        }
        current
            .hint
            .push(&self.engine.options.io, &HintEntry::of(record, offset))?;
        let id = current.id;
        self.written += len;
        self.throttle();
        Ok((id, offset))
    }

    /// Sleeps as needed to keep to the policy's rate limit.
    fn throttle(&self) {
        if let Some(limit) = self
            .engine
            .options
            .merge_policy
            .rate_limit
            .filter(|&l| l > 0)
        {
            let due = Duration::from_secs_f64(self.written as f64 / limit as f64);
            if let Some(ahead) = due.checked_sub(self.started.elapsed()) {
                std::thread::sleep(ahead);
            }
        }
    }

    /// Completes the current output: data fsynced, hint written and fsynced, both still
    /// under temporary names.
    fn finish_file(&mut self) -> Result<()> {
        let Some(mut current) = self.current.take() else {
            return Ok(());
        };
        let engine = self.engine;
        let io = &engine.options.io;
        let id = current.id;
        // Registered first, so that a failure below still cleans its files up.
        self.done.push(Output {
            id,
            len: current.len,
            usage: current.usage,
        });
        current.flush(engine)?;
        io.sync_data(&current.file, &current.path)?;
        current.hint.finish(io, current.len)
    }

    /// Removes every temporary file written (after a failure).
    fn abandon(&mut self) {
        let engine = self.engine;
        let io = &engine.options.io;
        if let Some(current) = self.current.take() {
            let _ = io.remove_file(&current.path);
            let _ = io.remove_file(&temp_path(&hint_path(&engine.dir, current.id)));
        }
        for output in self.done.drain(..) {
            let _ = io.remove_file(&temp_path(&data_path(&engine.dir, output.id)));
            let _ = io.remove_file(&temp_path(&hint_path(&engine.dir, output.id)));
        }
    }
}

/// Input bytes between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 20;

impl Engine {
    /// Plans and runs one merge. `requested`: skip the triggers (see `plan`). `progress` is
    /// told the input bytes read so far and the total, now and then while copying.
    pub(crate) fn run_merge(
        &self,
        requested: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MergeReport> {
        let _merging = lock(&self.merge_lock);
        self.check_writable()?;
        let started = Instant::now();
        let (usage, active_id, stray_floor) = {
            let mut writer = self.lock_writer();
            // A stray file deleted by now was deleted before this merge's directory fsync,
            // which makes its deletion durable before any input of this merge goes.
            let stray_floor = writer.stray_floor(|id| data_path(&self.dir, id).exists());
            (writer.usage(), writer.active.id(), stray_floor)
        };
        let now = self.now_ms();
        let damaged = lock(&self.damaged_segments).clone();
        let infos: Vec<SegmentInfo> = usage
            .iter()
            // A background merge leaves out what an earlier one found damaged.
            .filter(|&(id, _)| requested || !damaged.contains(id))
            .map(|(&id, u)| SegmentInfo {
                id,
                total_bytes: u.total_bytes,
                live_bytes: u.live_bytes,
                fully_expired: u.fully_expired(now),
                active: id == active_id,
            })
            .collect();
        let chosen = plan(&infos, &self.options.merge_policy, requested);
        if chosen.segments.is_empty() {
            return Ok(MergeReport::default());
        }
        let set = self.segments.load_full();
        let inputs: Vec<Arc<Segment>> = chosen
            .segments
            .iter()
            .filter_map(|id| set.get(*id).cloned())
            .collect();

        let mut outputs = Outputs::new(self);
        let copied = self.copy_inputs(&inputs, &usage, stray_floor, now, &mut outputs, progress);
        let copied = match copied.and_then(|c| outputs.finish_file().map(|()| c)) {
            Ok(c) => c,
            Err(e) => {
                outputs.abandon();
                self.note_damaged(&inputs, &e);
                return Err(e);
            }
        };
        let done = std::mem::take(&mut outputs.done);
        let report = MergeReport {
            merged: inputs.iter().map(|s| s.id()).collect(),
            written: done.iter().map(|o| o.id).collect(),
            bytes_before: inputs.iter().map(|s| s.readable_len()).sum(),
            bytes_after: done.iter().map(|o| o.len).sum(),
            records_copied: copied.copied,
            records_dropped: copied.dropped,
            duration: Duration::ZERO,
        };
        if let Err(e) = self.publish_merge(&inputs, &done, &copied.drops) {
            // Before the renames nothing changed: clean up. After, the outputs are part of
            // the directory (and duplicate the inputs' records): they stay, and the next
            // open reads them, so later merges must count them as stray files.
            let mut writer = self.lock_writer();
            for output in &done {
                writer.note_stray_file(output.id, output.usage.min_seq);
            }
            drop(writer);
            outputs.done = done;
            outputs.abandon();
            return Err(e);
        }
        let report = MergeReport {
            duration: started.elapsed(),
            ..report
        };
        let mut totals = lock(&self.merge_stats);
        *totals = MergeTotals {
            merges: totals.merges + 1,
            bytes_reclaimed: totals.bytes_reclaimed + report.bytes_reclaimed(),
            last_duration: Some(report.duration),
        };
        Ok(report)
    }

    /// Remembers the segment among `segments` that `error` reports damaged, if any.
    pub(crate) fn note_damaged(&self, segments: &[Arc<Segment>], error: &Error) {
        if let Error::Corrupted { file, .. } = error
            && let Some(segment) = segments.iter().find(|s| s.path() == file.as_path())
        {
            lock(&self.damaged_segments).insert(segment.id());
        }
    }

    /// Copies what must survive from `inputs` into `outputs`. Returns the expired entries
    /// to drop and how many records were copied and dropped. `stray_floor` is the oldest
    /// sequence number in files on disk outside the store.
    fn copy_inputs(
        &self,
        inputs: &[Arc<Segment>],
        usage: &BTreeMap<u32, SegmentUsage>,
        stray_floor: u64,
        now: u64,
        outputs: &mut Outputs<'_>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Copied> {
        let mut drops = Vec::new();
        let mut copied = 0u64;
        let mut dropped = 0u64;
        let total: u64 = inputs.iter().map(|s| s.readable_len()).sum();
        let mut read_before = 0u64;
        let mut reported = 0u64;
        progress(0, total);
        for input in inputs {
            let id = input.id();
            // Oldest record of every other file: anything older than it can only be here.
            let floor = usage
                .iter()
                .filter(|&(&other, _)| other != id)
                .map(|(_, u)| u.min_seq)
                .min()
                .unwrap_or(u64::MAX)
                .min(stray_floor);
            let mut judge = |scanned: &ScannedRecord<'_>, hash: KeyHash| -> Result<()> {
                let record = &scanned.record;
                let offset = u32::try_from(scanned.offset).unwrap_or(u32::MAX);
                let current = self.index_for(record.kind).get_hashed(record.key, hash);
                match record.kind {
                    RecordKind::Put | RecordKind::Collection | RecordKind::ElementPut => {
                        let live = current.filter(|e| {
                            e.file_id == id && e.offset == offset && e.seq == record.seq
                        });
                        match live {
                            None => dropped += 1,
                            Some(e) if is_expired(e.expiry_ms, now) && record.seq < floor => {
                                drops.push((record.key.to_vec(), e));
                                dropped += 1;
                            }
                            Some(_) => {
                                outputs.append(record, false)?;
                                copied += 1;
                            }
                        }
                    }
                    RecordKind::Delete | RecordKind::ElementDelete => {
                        // A live put of the key is newer and shadows all it shadows.
                        if current.is_some() || record.seq < floor {
                            dropped += 1;
                        } else {
                            // Still needed: count it live so that the output does not look
                            // reclaimable and get merged again for nothing.
                            outputs.append(record, true)?;
                        }
                    }
                }
                Ok(())
            };
            input.with_bytes(|bytes| {
                // Records are looked up LOOKUP_AHEAD at a time: first every index line is
                // asked for, then every entry those lines point at, then the lookups run.
                // Their cache misses overlap instead of following one another (they were
                // half of a merge's time). Records are still judged, and copied, in file
                // order.
                let mut ahead: Vec<(ScannedRecord<'_>, KeyHash)> = Vec::with_capacity(LOOKUP_AHEAD);
                let end = scan(bytes, FILE_HEADER_LEN, |batch| {
                    if let Some(first) = batch.first() {
                        let read = read_before + first.offset as u64;
                        if read >= reported + PROGRESS_EVERY {
                            reported = read;
                            progress(read, total);
                        }
                    }
                    for scanned in batch {
                        let hash = self
                            .index_for(scanned.record.kind)
                            .prefetch_hashed(scanned.record.key);
                        if ahead.len() == LOOKUP_AHEAD {
                            for (scanned, hash) in &ahead {
                                self.index_for(scanned.record.kind).prefetch_entries(*hash);
                            }
                            for (scanned, hash) in ahead.drain(..) {
                                judge(&scanned, hash)?;
                            }
                        }
                        ahead.push((*scanned, hash));
                    }
                    Ok::<(), Error>(())
                })?;
                // A sealed segment holds only whole records. One that stops early is damaged,
                // and the records after the damage were never judged: some may be live, so
                // the merge must not go on to delete this input.
                if let ScanEnd::Stopped {
                    error_offset,
                    problem,
                    ..
                } = end
                {
                    return Err(Error::corrupted(
                        input.path(),
                        error_offset as u64,
                        format!("merge input is damaged: {problem}"),
                    ));
                }
                for (scanned, hash) in ahead.drain(..) {
                    judge(&scanned, hash)?;
                }
                Ok::<(), Error>(())
            })??;
            read_before += input.readable_len();
        }
        progress(total, total);
        Ok(Copied {
            drops,
            copied,
            dropped,
        })
    }

    /// Makes the outputs part of the store, moves the index onto them, and retires the
    /// inputs (see the module documentation for the order and why).
    fn publish_merge(
        &self,
        inputs: &[Arc<Segment>],
        outputs: &[Output],
        drops: &[(Vec<u8>, Entry)],
    ) -> Result<()> {
        let io = &self.options.io;
        let dir = &self.dir;
        {
            let mut writer = self.lock_writer();
            self.check_writable()?;
            // The active segment must keep the highest id: give it a fresh one, higher
            // than every output's.
            self.rotate(&mut writer, 0)?;
            for output in outputs {
                let data = data_path(dir, output.id);
                io.rename(&temp_path(&data), &data)?;
                let hint = hint_path(dir, output.id);
                io.rename(&temp_path(&hint), &hint)?;
            }
            io.sync_dir(dir)?;
            let mut set = self.segments.load().all().to_vec();
            for output in outputs {
                let path = data_path(dir, output.id);
                let file = crate::fs::open_ro(&path)?;
                let segment =
                    Segment::sealed_from_file(output.id, path, file, output.len, &self.options)?;
                segment.set_has_hint();
                set.push(Arc::new(segment));
                *writer.usage_mut(output.id) = output.usage;
            }
            set.sort_by_key(|s| s.id());
            self.segments
                .store(Arc::new(crate::segment::SegmentSet::from_sorted(set)));
        }

        let input_ids: Vec<u32> = inputs.iter().map(|s| s.id()).collect();
        for output in outputs {
            self.move_index_onto(output.id, &input_ids)?;
        }
        for chunk in drops.chunks(PUBLISH_BATCH) {
            let mut writer = self.lock_writer();
            for (key, entry) in chunk {
                if self.keydir.remove_if(key, entry) {
                    writer.remove_live(entry.file_id, entry.record_len(key.len()));
                    if entry.collection {
                        self.forget_collection(&mut writer, key);
                    }
                }
            }
        }

        let mut writer = self.lock_writer();
        let kept: Vec<Arc<Segment>> = self
            .segments
            .load()
            .all()
            .iter()
            .filter(|s| !input_ids.contains(&s.id()))
            .cloned()
            .collect();
        self.segments
            .store(Arc::new(crate::segment::SegmentSet::from_sorted(kept)));
        for input in inputs {
            writer.forget_segment(input.id());
            input.retire();
        }
        Ok(())
    }

    /// Moves the index onto the puts output `id` holds, read from its hint file (mapped:
    /// it was just written): each key whose entry is still the very record that was copied
    /// — the same sequence number, in one of `inputs` — now points at the copy. A write
    /// since always wins. Batches of entries are moved under the writer lock.
    ///
    /// A hint that cannot be read fails the merge before any input is retired: entries not
    /// moved still point at their inputs, which stay.
    fn move_index_onto(&self, id: u32, inputs: &[u32]) -> Result<()> {
        let path = hint_path(&self.dir, id);
        let unreadable =
            |what: &str| Error::corrupted(&path, 0, format!("merge output's hint {what}"));
        let file = crate::fs::open_ro(&path)?;
        let len = crate::fs::file_len(&file, &path)?;
        let map = MappedFile::map(&file, usize::try_from(len).unwrap_or(usize::MAX).max(1))
            .map_err(crate::fs::io_err(&path, "mmap"))?;
        let hint = Hint::parse_frame(map.bytes(), id).map_err(|e| unreadable(&e.to_string()))?;
        let mut entries = hint.checked_entries();
        // List elements among the moved records: their lists keep their records' places.
        let mut moved_list_elements = Vec::new();
        loop {
            let mut writer = self.lock_writer();
            moved_list_elements.clear();
            for _ in 0..PUBLISH_BATCH {
                let Some(entry) = entries.next() else {
                    self.elements_relocated(&moved_list_elements);
                    return Ok(());
                };
                let entry = entry.map_err(|e| unreadable(&e.to_string()))?;
                if entry.kind.is_tombstone() {
                    continue;
                }
                let index = self.index_for(entry.kind);
                let Some(current) = index
                    .get(entry.key)
                    .filter(|e| e.seq == entry.seq && inputs.contains(&e.file_id))
                else {
                    continue;
                };
                let copy = Entry {
                    file_id: id,
                    offset: entry.offset,
                    ..current
                };
                if index.relocate_if(entry.key, &current, &copy) {
                    let len = current.record_len(entry.key.len());
                    writer.remove_live(current.file_id, len);
                    writer.usage_mut(id).add_live(len);
                    if entry.kind == RecordKind::ElementPut
                        && crate::datatypes::split_element_key(entry.key)
                            .is_some_and(|(_, _, member)| member.len() == 8)
                    {
                        moved_list_elements.push((
                            entry.key,
                            crate::datatypes::members::record_at(id, entry.offset),
                        ));
                    }
                }
            }
            self.elements_relocated(&moved_list_elements);
        }
    }
}
