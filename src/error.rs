//! The store's error type.
//!
//! Fatal conditions (I/O, corruption, a poisoned store) and rejected input (a key over the
//! limit) are variants of [`Error`]. Expected outcomes are not errors: a missing key is `None`
//! and `delete` of a missing key is `false`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The result type of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a store operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O call failed on `path`.
    Io {
        /// The file or directory the failing call was about.
        path: PathBuf,
        /// What the store was doing, e.g. "append to segment".
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file holds bytes that are not a valid record or header, at a place where a crash
    /// cannot have left them (anywhere but the tail of the newest segment).
    Corrupted {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the first bad byte range found in `file`.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A file was written by a format version this build does not read.
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version found in its header.
        version: u16,
    },
    /// Another `Store` (in this process or another) has the directory open.
    Locked {
        /// The lock file.
        path: PathBuf,
        /// Process id recorded by the holder, when it could be read.
        holder_pid: Option<u32>,
    },
    /// An earlier fsync or write failure left the on-disk state unknown; the store refuses
    /// further writes until it is reopened (reopening recovers from the files).
    Poisoned {
        /// The failure that poisoned the store.
        reason: String,
    },
    /// A key is longer than [`Options::max_key_size`](crate::Options::max_key_size) allows.
    KeyTooLarge {
        /// Length of the rejected key.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A value is longer than [`Options::max_value_size`](crate::Options::max_value_size) allows.
    ValueTooLarge {
        /// Length of the rejected value.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// An option is out of its allowed range; checked once at open.
    InvalidOptions {
        /// Which option and why.
        reason: String,
    },
    /// The store was closed with [`Store::close`](crate::Store::close) through another handle.
    Closed,
    /// An argument is out of its allowed range, e.g. a zero TTL. Nothing was written.
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// `incr_by` found a value that is not a decimal integer in `i64` range (Redis's
    /// rules: optional `-`, no leading zeros, no spaces). Nothing was written.
    NotAnInteger,
    /// `incr_by_float` found a value (or was given an increment) that is not a number.
    /// Nothing was written.
    NotAFloat,
    /// An increment would overflow `i64`. Nothing was written.
    Overflow,
    /// A float increment would produce NaN or infinity. Nothing was written.
    NanOrInfinity,
    /// The key holds another type of value than the operation works on (a string
    /// operation on a hash, a set operation on a string; Redis's WRONGTYPE). Nothing was
    /// written.
    WrongType,
    /// The operation needs the key to exist (LSET on a missing list). Nothing was written.
    NoSuchKey,
    /// An index is outside the list (LSET). Nothing was written.
    IndexOutOfRange,
}

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(path: &Path, action: &'static str, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// Builds an [`Error::Corrupted`].
    pub(crate) fn corrupted(file: &Path, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corrupted {
            file: file.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }

    /// True for [`Error::Corrupted`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corrupted { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "{action} failed for {}: {source}", path.display()),
            Error::Corrupted {
                file,
                offset,
                reason,
            } => write!(
                f,
                "corrupted data in {} at offset {offset}: {reason}",
                file.display()
            ),
            Error::UnsupportedVersion { file, version } => write!(
                f,
                "{} has format version {version}, which this build of keg does not read",
                file.display()
            ),
            Error::Locked { path, holder_pid } => match holder_pid {
                Some(pid) => write!(
                    f,
                    "store is locked: {} is held by process {pid}",
                    path.display()
                ),
                None => write!(f, "store is locked: {} is held", path.display()),
            },
            Error::Poisoned { reason } => write!(
                f,
                "store refuses writes after an I/O failure (reopen to recover): {reason}"
            ),
            Error::KeyTooLarge { len, max } => {
                write!(f, "key is {len} bytes; the limit is {max}")
            }
            Error::ValueTooLarge { len, max } => {
                write!(f, "value is {len} bytes; the limit is {max}")
            }
            Error::InvalidOptions { reason } => write!(f, "invalid options: {reason}"),
            Error::Closed => write!(f, "store is closed"),
            Error::InvalidArgument { reason } => write!(f, "invalid argument: {reason}"),
            // The wording of Redis's replies, which the server passes on.
            Error::NotAnInteger => write!(f, "value is not an integer or out of range"),
            Error::WrongType => {
                write!(f, "operation against a key holding the wrong kind of value")
            }
            Error::NotAFloat => write!(f, "value is not a valid float"),
            Error::Overflow => write!(f, "increment or decrement would overflow"),
            Error::NanOrInfinity => write!(f, "increment would produce NaN or Infinity"),
            Error::NoSuchKey => write!(f, "no such key"),
            Error::IndexOutOfRange => write!(f, "index out of range"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
