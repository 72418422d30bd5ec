//! Hint files for segments sealed by rotation (merge outputs get theirs as they are
//! written): scanned from the data file once, written crash-atomically, so the next `open`
//! reads the segment's keys without reading its values.

use std::sync::Arc;

use super::hint_file::HintFile;
use crate::engine::{Engine, lock};
use crate::error::{Error, Result};
use crate::format::{FILE_HEADER_LEN, HintEntry};
use crate::segment::scan::{ScanEnd, scan};
use crate::segment::{Segment, hint_path, temp_path};

/// An active segment shorter than this gets no hint at close: scanning it at open is
/// about as quick as reading a hint.
const ACTIVE_HINT_MIN_BYTES: u64 = 1 << 20;

impl Engine {
    /// Writes hint files for up to `limit` sealed segments that have none. Returns how
    /// many it wrote. `requested` (by `Store::merge`) tries segments found damaged before
    /// too; the background thread leaves them out.
    pub(crate) fn write_missing_hints(&self, limit: usize, requested: bool) -> Result<usize> {
        let _merging = lock(&self.merge_lock);
        let active = self.lock_writer().active.id();
        let damaged = lock(&self.damaged_segments).clone();
        let missing: Vec<Arc<Segment>> = self
            .segments
            .load()
            .all()
            .iter()
            .filter(|s| s.id() != active && !s.has_hint())
            .filter(|s| requested || !damaged.contains(&s.id()))
            .take(limit)
            .cloned()
            .collect();
        // A damaged segment gets no hint; the others still get theirs. The first failure
        // is reported.
        let mut failure = None;
        for segment in &missing {
            if let Err(e) = self.write_hint(segment) {
                self.note_damaged(std::slice::from_ref(segment), &e);
                failure.get_or_insert(e);
            }
        }
        failure.map_or(Ok(missing.len()), Err)
    }

    /// At a clean close: writes a hint file for the active segment too, if it is big enough
    /// for the hint to pay and has changed since its last hint, so that the next open reads
    /// it from the hint as well. Recovery uses it only if the segment still has exactly this
    /// length then (nothing appended, nothing torn).
    pub(crate) fn write_active_hint(&self) -> Result<()> {
        let _merging = lock(&self.merge_lock);
        let (active, len) = {
            let writer = self.lock_writer();
            (Arc::clone(&writer.active), writer.active_len)
        };
        let mut known = lock(&self.active_hint);
        if len < ACTIVE_HINT_MIN_BYTES || *known == Some((active.id(), len)) {
            return Ok(());
        }
        self.write_hint(&active)?;
        *known = Some((active.id(), len));
        Ok(())
    }

    fn write_hint(&self, segment: &Segment) -> Result<()> {
        let id = segment.id();
        let len = segment.readable_len();
        let io = &self.options.io;
        let path = hint_path(&self.dir, id);
        let temp = temp_path(&path);
        let mut hint = HintFile::create(io, &self.dir, id)?;
        let written = segment
            .with_bytes(|bytes| {
                let end = scan(bytes, FILE_HEADER_LEN, |batch| {
                    batch.iter().try_for_each(|scanned| {
                        let offset = u32::try_from(scanned.offset).unwrap_or(u32::MAX);
                        hint.push(io, &HintEntry::of(&scanned.record, offset))
                    })
                })?;
                // A hint describes the whole segment: one cut short by damage would leave
                // the records after it out of the index at the next open, without a word.
                // Without a hint, that open scans the segment and reports the damage.
                match end {
                    ScanEnd::Stopped {
                        error_offset,
                        problem,
                        ..
                    } => Err(Error::corrupted(
                        segment.path(),
                        error_offset as u64,
                        format!("no hint written for a damaged segment: {problem}"),
                    )),
                    _ => Ok(()),
                }
            })
            .and_then(|scanned| scanned)
            .and_then(|()| hint.finish(io, len))
            .and_then(|()| io.rename(&temp, &path))
            .and_then(|()| io.sync_dir(&self.dir));
        if written.is_err() {
            let _ = io.remove_file(&temp);
        }
        written?;
        segment.set_has_hint();
        Ok(())
    }
}
