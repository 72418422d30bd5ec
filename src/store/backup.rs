//! Online backup: a consistent copy of an open store.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use super::Store;
use crate::error::{Error, Result};
use crate::inspect::check;
use crate::segment::data_path;

/// What [`Store::backup`] copied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupReport {
    /// Segment files copied.
    pub segments: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Sequence number of the newest record in the copy: the copy holds exactly the writes
    /// up to it.
    pub last_seq: u64,
}

impl Store {
    /// Copies the store, while it stays open for reads and writes, into `dest` (a new or
    /// empty directory), then verifies the copy.
    ///
    /// The copy is consistent: it holds exactly the writes acknowledged before the backup
    /// started (up to [`BackupReport::last_seq`]), every file is fsynced, and
    /// [`check`](crate::check) must find every record of it valid. Writes made meanwhile
    /// go on in the store and are not in the copy. Opening `dest` gives a working store.
    pub fn backup(&self, dest: impl AsRef<Path>) -> Result<BackupReport> {
        let dest = dest.as_ref();
        let engine = self.engine();
        engine.check_open()?;
        if dest.exists()
            && std::fs::read_dir(dest)
                .map_err(|e| Error::io(dest, "list directory", e))?
                .next()
                .is_some()
        {
            return Err(Error::InvalidArgument {
                reason: format!("backup destination {} is not empty", dest.display()),
            });
        }
        // A consistent cut: the segments and the active segment's length, taken together
        // under the writer lock. Sealed segments never change; the active one only grows
        // past the recorded length. The handles keep the files readable even if a merge
        // retires them meanwhile.
        let (segments, lengths, last_seq) = {
            let writer = engine.lock_writer();
            let set = engine.segments.load();
            let segments: Vec<Arc<_>> = set.all().to_vec();
            let lengths: Vec<u64> = segments.iter().map(|s| s.readable_len()).collect();
            (segments, lengths, writer.last_seq())
        };
        engine.options.io.create_dir_durable(dest)?;
        let mut bytes = 0;
        for (segment, &len) in segments.iter().zip(&lengths) {
            let path = data_path(dest, segment.id());
            let file = File::create_new(&path).map_err(|e| Error::io(&path, "create file", e))?;
            let mut out = BufWriter::new(file);
            segment.copy_prefix(len, &mut out)?;
            let file = out
                .into_inner()
                .map_err(|e| Error::io(&path, "write", e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&path, "fsync", e))?;
            bytes += len;
        }
        engine.options.io.sync_dir(dest)?;

        let report = check(dest)?;
        if let Some(bad) = report
            .segments
            .iter()
            .find_map(|s| s.problem.as_ref().map(|p| (s.path.clone(), p.clone())))
        {
            return Err(Error::corrupted(
                &bad.0,
                bad.1.offset,
                format!("backup verification failed: {}", bad.1.reason),
            ));
        }
        Ok(BackupReport {
            segments: segments.len(),
            bytes,
            last_seq,
        })
    }
}
