//! A hint file written as it is built, under its temporary name: entries gather in a
//! buffer that goes to the file each time it fills (`HINT_CHUNK`), so the hint of a
//! segment of any size takes bounded memory (whole in memory, a 64 MiB segment's hint was
//! ~9 MiB, which the allocator then tended to keep).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::format::{HintEntry, HintWriter};
use crate::fs::Io;
use crate::segment::{hint_path, temp_path};

pub(super) struct HintFile {
    /// The temporary name.
    path: PathBuf,
    file: File,
    writer: HintWriter,
    /// Bytes written to the file so far.
    written: u64,
}

impl HintFile {
    /// Creates the temporary file of segment `id`'s hint in `dir`.
    pub(super) fn create(io: &Io, dir: &Path, id: u32) -> Result<HintFile> {
        let path = temp_path(&hint_path(dir, id));
        let file = io.create_new(&path)?;
        Ok(HintFile {
            path,
            file,
            writer: HintWriter::new(id),
            written: 0,
        })
    }

    /// Adds an entry, writing the gathered entries out once they fill a chunk.
    pub(super) fn push(&mut self, io: &Io, entry: &HintEntry<'_>) -> Result<()> {
        self.writer.push(entry);
        let (file, path, written) = (&self.file, &self.path, &mut self.written);
        self.writer.drain_full(|chunk| {
            io.write_all_at(file, path, chunk, *written)?;
            *written += chunk.len() as u64;
            Ok(())
        })
    }

    /// Writes the rest, for a data segment of `data_len` bytes, and fsyncs the file (still
    /// under its temporary name).
    pub(super) fn finish(self, io: &Io, data_len: u64) -> Result<()> {
        let tail = self.writer.finish(data_len);
        io.write_all_at(&self.file, &self.path, &tail, self.written)?;
        io.sync_data(&self.file, &self.path)
    }
}
