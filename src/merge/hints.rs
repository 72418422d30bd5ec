//! Hint files for segments sealed by rotation (merge outputs get theirs as they are
//! written): scanned from the data file once, written crash-atomically, so the next `open`
//! reads the segment's keys without reading its values.

use std::sync::Arc;

use crate::engine::{Engine, lock};
use crate::error::Result;
use crate::format::{FILE_HEADER_LEN, HintEntry, HintWriter};
use crate::segment::scan::scan;
use crate::segment::{Segment, hint_path, temp_path};

impl Engine {
    /// Writes hint files for up to `limit` sealed segments that have none. Returns how
    /// many it wrote.
    pub(crate) fn write_missing_hints(&self, limit: usize) -> Result<usize> {
        let _merging = lock(&self.merge_lock);
        let active = self.lock_writer().active.id();
        let missing: Vec<Arc<Segment>> = self
            .segments
            .load()
            .all()
            .iter()
            .filter(|s| s.id() != active && !s.has_hint())
            .take(limit)
            .cloned()
            .collect();
        for segment in &missing {
            self.write_hint(segment)?;
        }
        Ok(missing.len())
    }

    fn write_hint(&self, segment: &Segment) -> Result<()> {
        let id = segment.id();
        let len = segment.readable_len();
        let hint = segment.with_bytes(|bytes| {
            let mut hint = HintWriter::new(id);
            let _ = scan::<()>(bytes, FILE_HEADER_LEN, |batch| {
                for scanned in batch {
                    let r = &scanned.record;
                    hint.push(&HintEntry {
                        seq: r.seq,
                        expiry_ms: r.expiry_ms,
                        kind: r.kind,
                        offset: u32::try_from(scanned.offset).unwrap_or(u32::MAX),
                        value_len: u32::try_from(r.value.len()).unwrap_or(u32::MAX),
                        key: r.key,
                    });
                }
                Ok(())
            });
            hint.finish(len)
        })?;
        let path = hint_path(&self.dir, id);
        self.options
            .io
            .write_file_atomic(&self.dir, &path, &temp_path(&path), &hint)?;
        segment.set_has_hint();
        Ok(())
    }
}
