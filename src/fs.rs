//! The file-system seam. Every I/O call the store makes on its data files goes through
//! [`Io`], which attaches the path and the action to errors and first shows the operation to
//! an optional [`IoHook`]: fault-injection and crash-simulation tests observe, fail or
//! record operations there. Reads through memory maps bypass the seam (they are not calls).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// One I/O operation, shown to an [`IoHook`] before it is performed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum IoOp<'a> {
    /// Create a directory (and missing parents).
    CreateDir {
        /// The directory.
        path: &'a Path,
    },
    /// Create a new, empty file.
    CreateFile {
        /// The file.
        path: &'a Path,
    },
    /// Write `data` at `offset`.
    Write {
        /// The file.
        path: &'a Path,
        /// Where the bytes go.
        offset: u64,
        /// The bytes.
        data: &'a [u8],
    },
    /// Read `len` bytes at `offset` (positioned reads only; mapped reads are not calls).
    Read {
        /// The file.
        path: &'a Path,
        /// Where the read starts.
        offset: u64,
        /// How many bytes.
        len: usize,
    },
    /// fsync (fdatasync) a file.
    SyncFile {
        /// The file.
        path: &'a Path,
    },
    /// fsync a directory, making entries created or removed in it durable.
    SyncDir {
        /// The directory.
        path: &'a Path,
    },
    /// Truncate (or extend) a file to `len` bytes.
    SetLen {
        /// The file.
        path: &'a Path,
        /// The new length.
        len: u64,
    },
    /// Remove a file.
    RemoveFile {
        /// The file.
        path: &'a Path,
    },
    /// Rename a file (replacing the target).
    Rename {
        /// The current name.
        from: &'a Path,
        /// The new name.
        to: &'a Path,
    },
}

/// Sees every I/O operation of a store before it happens: for fault-injection and
/// crash-simulation tests, set with [`Options::io_hook`](crate::Options::io_hook).
///
/// Returning an error makes the store behave exactly as if the operating system had
/// returned it, without performing the operation.
pub trait IoHook: Send + Sync {
    /// Called before `op` is performed.
    fn before(&self, op: &IoOp<'_>) -> io::Result<()>;
}

/// The seam itself: performs I/O, consulting the hook first.
#[derive(Clone, Default)]
pub(crate) struct Io {
    hook: Option<Arc<dyn IoHook>>,
}

impl fmt::Debug for Io {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Io")
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl Io {
    pub(crate) fn with_hook(hook: Arc<dyn IoHook>) -> Io {
        Io { hook: Some(hook) }
    }

    fn before(&self, op: IoOp<'_>, path: &Path, action: &'static str) -> Result<()> {
        match &self.hook {
            Some(hook) => hook.before(&op).map_err(|e| Error::io(path, action, e)),
            None => Ok(()),
        }
    }

    /// fsyncs `dir`, making the creation or removal of entries in it durable.
    pub(crate) fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.before(IoOp::SyncDir { path: dir }, dir, "fsync directory")?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, "fsync directory", e))
    }

    /// Creates `dir` (and missing parents) if needed; when it was created, fsyncs its
    /// parent so the new directory entry itself is durable.
    pub(crate) fn create_dir_durable(&self, dir: &Path) -> Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        self.before(IoOp::CreateDir { path: dir }, dir, "create directory")?;
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", e))?;
        match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => self.sync_dir(parent),
            _ => Ok(()),
        }
    }

    /// Creates a new file for reading and writing; fails if it exists.
    pub(crate) fn create_new(&self, path: &Path) -> Result<File> {
        self.before(IoOp::CreateFile { path }, path, "create file")?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, "create file", e))
    }

    /// Writes all of `buf` at `offset` with positioned writes (the write(2) family).
    pub(crate) fn write_all_at(
        &self,
        file: &File,
        path: &Path,
        buf: &[u8],
        offset: u64,
    ) -> Result<()> {
        self.before(
            IoOp::Write {
                path,
                offset,
                data: buf,
            },
            path,
            "write",
        )?;
        file.write_all_at(buf, offset)
            .map_err(|e| Error::io(path, "write", e))
    }

    /// Fills `buf` from `offset` with positioned reads.
    pub(crate) fn read_exact_at(
        &self,
        file: &File,
        path: &Path,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<()> {
        self.before(
            IoOp::Read {
                path,
                offset,
                len: buf.len(),
            },
            path,
            "read",
        )?;
        file.read_exact_at(buf, offset)
            .map_err(|e| Error::io(path, "read", e))
    }

    /// fdatasync: the file's data and the metadata needed to read it back are durable.
    pub(crate) fn sync_data(&self, file: &File, path: &Path) -> Result<()> {
        self.before(IoOp::SyncFile { path }, path, "fsync")?;
        file.sync_data().map_err(|e| Error::io(path, "fsync", e))
    }

    pub(crate) fn set_len(&self, file: &File, path: &Path, len: u64) -> Result<()> {
        self.before(IoOp::SetLen { path, len }, path, "truncate")?;
        file.set_len(len)
            .map_err(|e| Error::io(path, "truncate", e))
    }

    /// Renames `from` to `to` atomically (replacing `to`); fsync the directory to make it
    /// durable.
    pub(crate) fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.before(IoOp::Rename { from, to }, from, "rename")?;
        fs::rename(from, to).map_err(|e| Error::io(from, "rename", e))
    }

    pub(crate) fn remove_file(&self, path: &Path) -> Result<()> {
        self.before(IoOp::RemoveFile { path }, path, "remove file")?;
        fs::remove_file(path).map_err(|e| Error::io(path, "remove file", e))
    }
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
