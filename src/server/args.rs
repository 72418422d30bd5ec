//! Reading command arguments the way Redis does.

use super::error::{CmdError, NOT_INTEGER};
use crate::numeric::parse_i64;

/// Whether `arg` is `word`, ignoring ASCII case (`word` is lowercase).
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// An integer argument (Redis's `string2ll` rules), or the "not an integer" error.
pub(crate) fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(NOT_INTEGER)
}

/// An integer argument with a specific error when it is not one.
pub(crate) fn int_or(arg: &[u8], error: CmdError) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(error)
}

/// Text for messages: the argument as UTF-8, invalid bytes replaced.
pub(crate) fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// The current wall-clock time in unix milliseconds (for TIME, LASTSAVE, CLIENT LIST ages).
pub(crate) fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}
