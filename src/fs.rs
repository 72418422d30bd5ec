//! The file-system seam: every I/O call the store makes goes through these functions, which
//! attach the path and the action to errors (and are where fault injection hooks in).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Opens `dir` and fsyncs it, making the creation, rename or removal of an entry durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, "fsync directory", e))
}

/// Creates `dir` (and missing parents) if needed; when it was created, fsyncs its parent so
/// the new directory entry itself is durable.
pub(crate) fn create_dir_durable(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", e))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

/// Creates a new file for reading and writing; fails if it exists.
pub(crate) fn create_new(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, "create file", e))
}

/// Opens an existing file for reading and writing.
pub(crate) fn open_rw(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, "open file", e))
}

/// Opens an existing file read-only.
pub(crate) fn open_ro(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, "open file", e))
}

pub(crate) fn file_len(file: &File, path: &Path) -> Result<u64> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| Error::io(path, "stat file", e))
}

/// Writes all of `buf` at `offset` with positioned writes (write(2) family).
pub(crate) fn write_all_at(file: &File, path: &Path, buf: &[u8], offset: u64) -> Result<()> {
    file.write_all_at(buf, offset)
        .map_err(|e| Error::io(path, "write", e))
}

/// Fills `buf` from `offset` with positioned reads.
pub(crate) fn read_exact_at(file: &File, path: &Path, buf: &mut [u8], offset: u64) -> Result<()> {
    file.read_exact_at(buf, offset)
        .map_err(|e| Error::io(path, "read", e))
}

/// fdatasync: the file's data and the metadata needed to read it (its length) are durable.
pub(crate) fn sync_data(file: &File, path: &Path) -> Result<()> {
    file.sync_data().map_err(|e| Error::io(path, "fsync", e))
}

pub(crate) fn set_len(file: &File, path: &Path, len: u64) -> Result<()> {
    file.set_len(len)
        .map_err(|e| Error::io(path, "truncate", e))
}

/// The names of the entries of `dir` (non-UTF-8 names are skipped: the store never
/// creates them, and unknown files are ignored).
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, "list directory", e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "list directory", e))?;
        if let Ok(name) = entry.file_name().into_string() {
            out.push((name, entry.path()));
        }
    }
    Ok(out)
}

/// Maps an `io::Error` for `path` (for callers that hold a raw `io::Result`).
pub(crate) fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> Error + 'a {
    move |e| Error::io(path, action, e)
}
