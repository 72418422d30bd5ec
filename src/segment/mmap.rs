//! Read-only memory maps of segment files: the crate's one module with `unsafe` memory
//! access (the only other `unsafe` is a cache-prefetch hint in `keydir/prefetch.rs`).
//!
//! # SAFETY contract
//!
//! A memory map is sound only while no byte that is read through it changes or disappears
//! underneath (a truncated page raises SIGBUS; a rewritten one breaks `&[u8]` immutability).
//! The store keeps that true for every byte a reader can reach:
//!
//! 1. Segment files are append-only. Bytes below a segment's readable length are never
//!    written again; readers never look past the readable length (see `Segment`).
//! 2. A segment is truncated in only two places: recovery, before the file is mapped for
//!    reading, and the rollback of a failed append, which cuts only bytes beyond the readable
//!    length.
//! 3. A segment file is deleted only after the last handle to its segment is dropped (and
//!    on Linux an unlinked file's pages stay valid while mapped anyway).
//! 4. Hint files, mapped by recovery while it reads them, are never written in place: each
//!    is written under a temporary name and renamed over (or deleted), which leaves the
//!    mapped file's pages as they were.
//! 5. The directory lock (`LOCK`, flock) keeps every other keg process out of the directory.
//!
//! What the store cannot prevent: another program truncating or rewriting segment files
//! behind its back. That can crash the process (SIGBUS), as with every mmap-based store;
//! `Options::use_mmap(false)` reads with pread instead.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// A read-only mapping of the first `len` bytes of a file. The mapping may extend past the
/// file's current end (the active segment is mapped to its maximum size up front); callers
/// read only ranges below the file's readable length.
pub(crate) struct MappedFile {
    map: Mmap,
}

impl MappedFile {
    /// Maps `len` bytes of `file` read-only. `len` must be at least 1.
    pub(crate) fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: see the module's contract. The file belongs to a segment of a directory this
        // process holds the lock on; bytes are only read below the readable length.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(MappedFile { map })
    }

    /// The mapped bytes in `start..end`, or `None` if the range is outside the mapping.
    pub(crate) fn get(&self, start: usize, end: usize) -> Option<&[u8]> {
        self.map.get(start..end)
    }

    /// All mapped bytes. Only for mappings of exactly a file's length (recovery scans).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
