//! Expiry arguments (`EX`, `PX`, `EXAT`, `PXAT` and the EXPIRE family's numbers) turned into
//! absolute unix milliseconds, with Redis's checks and error replies.

use crate::server::args::{self, is};
use crate::server::error::{CmdError, invalid_expire};

/// How an expiry number is meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpiryArg {
    /// Seconds from now (EX, SETEX, EXPIRE).
    Seconds,
    /// Milliseconds from now (PX, PSETEX, PEXPIRE).
    Millis,
    /// Unix seconds (EXAT, EXPIREAT).
    UnixSeconds,
    /// Unix milliseconds (PXAT, PEXPIREAT).
    UnixMillis,
}

impl ExpiryArg {
    /// The option word SET and GETEX take, if `word` is one.
    pub(crate) fn parse(word: &[u8]) -> Option<ExpiryArg> {
        if is(word, "ex") {
            Some(ExpiryArg::Seconds)
        } else if is(word, "px") {
            Some(ExpiryArg::Millis)
        } else if is(word, "exat") {
            Some(ExpiryArg::UnixSeconds)
        } else if is(word, "pxat") {
            Some(ExpiryArg::UnixMillis)
        } else {
            None
        }
    }
}

/// The absolute expiry SET/SETEX/GETEX mean by `n`: it must be a positive integer (Redis:
/// `invalid expire time in 'set' command` otherwise) whose time does not overflow.
pub(crate) fn resolve(
    kind: ExpiryArg,
    n: &[u8],
    command: &str,
    now_ms: u64,
) -> Result<u64, CmdError> {
    let n = args::int(n)?;
    if n <= 0 {
        return Err(invalid_expire(command));
    }
    absolute(kind, n, command, now_ms)
}

/// `n` as an absolute time in unix ms (negative results are times long past: 1 ms).
/// Relative times count from `now_ms`, the clock of the store or transaction the command
/// runs against: inside a transaction time stands still, so `PEXPIRE k 0` there deletes
/// `k` for the commands after it too.
pub(crate) fn absolute(
    kind: ExpiryArg,
    n: i64,
    command: &str,
    now_ms: u64,
) -> Result<u64, CmdError> {
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let ms = match kind {
        ExpiryArg::Seconds | ExpiryArg::UnixSeconds => n.checked_mul(1000),
        ExpiryArg::Millis | ExpiryArg::UnixMillis => Some(n),
    }
    .ok_or_else(|| invalid_expire(command))?;
    let at = match kind {
        ExpiryArg::Seconds | ExpiryArg::Millis => ms.checked_add(now),
        ExpiryArg::UnixSeconds | ExpiryArg::UnixMillis => Some(ms),
    }
    .ok_or_else(|| invalid_expire(command))?;
    Ok(u64::try_from(at.max(1)).unwrap_or(1))
}
