//! Exit statuses, and how an error becomes one.
//!
//! Every error a subcommand returns is an `anyhow::Error`; its status is decided by the
//! first `Failure` (kvctl's own, with an explicit status) or `keg::Error` in its chain.

use std::fmt;

/// The exit statuses of kvctl, documented in `kvctl --help` (see `cli::EXIT_STATUS_HELP`)
/// and docs/kvctl.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The command did what was asked.
    Success = 0,
    /// The answer is "not found": a missing key for get/exists/ttl/expire/persist, or a
    /// conditional set whose condition failed.
    NotFound = 1,
    /// The command line is wrong: unknown flag, bad duration, invalid pattern or escape.
    Usage = 2,
    /// The store failed: I/O error, missing store directory, anything not listed here.
    StoreError = 3,
    /// Another process has the store open.
    Locked = 4,
    /// The store is corrupt (open refused it, or check found corruption).
    Corrupt = 5,
    /// The store refused the input and wrote nothing: not an integer, too large, a string
    /// command on a collection (wrong type), an unreadable import line.
    Rejected = 6,
    /// `check` found only problems that opening the store takes care of by itself: a torn
    /// tail (the remains of an interrupted write, which open cuts off) or a hint file that
    /// does not match its data file (which open ignores, scanning the data file instead).
    Recoverable = 7,
}

/// An error with the status it exits with, for failures kvctl itself detects.
#[derive(Debug)]
pub struct Failure {
    pub status: Status,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage error (status 2) as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure {
        status: Status::Usage,
        message: message.into(),
    }
    .into()
}

/// Rejected input (status 6) as an `anyhow::Error`.
pub fn rejected(message: impl Into<String>) -> anyhow::Error {
    Failure {
        status: Status::Rejected,
        message: message.into(),
    }
    .into()
}

/// The status an error exits with.
pub fn status_of(err: &anyhow::Error) -> Status {
    for cause in err.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return failure.status;
        }
        if let Some(err) = cause.downcast_ref::<keg::Error>() {
            return status_of_store_error(err);
        }
    }
    Status::StoreError
}

fn status_of_store_error(err: &keg::Error) -> Status {
    use keg::Error as E;
    match err {
        E::Locked { .. } => Status::Locked,
        E::Corrupted { .. } | E::UnsupportedVersion { .. } => Status::Corrupt,
        E::KeyTooLarge { .. }
        | E::ValueTooLarge { .. }
        | E::InvalidArgument { .. }
        | E::NotAnInteger
        | E::NotAFloat
        | E::Overflow
        | E::NanOrInfinity
        | E::WrongType => Status::Rejected,
        // Options come from flags (e.g. --max-value-size over the format's limit).
        E::InvalidOptions { .. } => Status::Usage,
        _ => Status::StoreError,
    }
}

/// True when the error is a closed standard output (`kvctl keys | head`): not a failure
/// worth a message, the reader simply had enough.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints the error as one line ("kvctl: context: cause") and returns its status.
pub fn report(err: &anyhow::Error) -> Status {
    if is_broken_pipe(err) {
        return Status::Success;
    }
    eprintln!("kvctl: {}", one_line(err));
    status_of(err)
}

/// The error and its causes, joined by ": ". A cause whose text its parent's message
/// already includes (keg's I/O errors quote the OS error) is not repeated.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn the_first_known_cause_decides_the_status() {
        let locked: anyhow::Error = keg::Error::Locked {
            path: "d/LOCK".into(),
            holder_pid: Some(7),
        }
        .into();
        assert_eq!(status_of(&locked.context("opening d")), Status::Locked);
        let not_int: anyhow::Error = keg::Error::NotAnInteger.into();
        assert_eq!(status_of(&not_int), Status::Rejected);
        let wrong_type: anyhow::Error = keg::Error::WrongType.into();
        assert_eq!(status_of(&wrong_type), Status::Rejected);
        assert_eq!(status_of(&usage("bad")), Status::Usage);
        let other = Err::<(), _>(std::io::Error::other("x"))
            .context("y")
            .unwrap_err();
        assert_eq!(status_of(&other), Status::StoreError);
    }

    #[test]
    fn causes_already_quoted_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Err::<(), _>(io)
            .context("open failed for d: gone")
            .context("cannot open the store in d")
            .unwrap_err();
        assert_eq!(
            one_line(&err),
            "cannot open the store in d: open failed for d: gone"
        );
    }
}
