//! Error replies: the exact texts Redis sends, and how store errors become replies.

use std::borrow::Cow;

use crate::Error;

/// An error reply; the text starts with its code (`ERR`, `NOAUTH`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError {
    /// The message, code first.
    pub text: Cow<'static, str>,
    /// Already counted in INFO errorstats where it first failed: a script's error that a
    /// command it called raised (Redis's `ignore_error_stats_update`).
    pub(crate) counted_before: bool,
}

/// The result of a command handler: the reply is written, or an error is to be written.
pub(crate) type CmdResult = Result<(), CmdError>;

impl CmdError {
    /// An error with a fixed text.
    pub(crate) const fn fixed(text: &'static str) -> CmdError {
        CmdError {
            text: Cow::Borrowed(text),
            counted_before: false,
        }
    }

    /// An error with a computed text.
    pub(crate) fn new(text: String) -> CmdError {
        CmdError {
            text: Cow::Owned(text),
            counted_before: false,
        }
    }

    /// A script's error that was counted when the command it came from failed.
    pub(crate) fn counted_before(text: String) -> CmdError {
        CmdError {
            text: Cow::Owned(text),
            counted_before: true,
        }
    }
}

pub(crate) const SYNTAX: CmdError = CmdError::fixed("ERR syntax error");
pub(crate) const WRONG_TYPE: CmdError =
    CmdError::fixed("WRONGTYPE Operation against a key holding the wrong kind of value");
pub(crate) const NOT_INTEGER: CmdError =
    CmdError::fixed("ERR value is not an integer or out of range");
pub(crate) const NOT_FLOAT: CmdError = CmdError::fixed("ERR value is not a valid float");
pub(crate) const OVERFLOW: CmdError = CmdError::fixed("ERR increment or decrement would overflow");
pub(crate) const NAN_OR_INFINITY: CmdError =
    CmdError::fixed("ERR increment would produce NaN or Infinity");
pub(crate) const NO_SUCH_KEY: CmdError = CmdError::fixed("ERR no such key");
pub(crate) const TOO_LARGE: CmdError =
    CmdError::fixed("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
pub(crate) const NOAUTH: CmdError = CmdError::fixed("NOAUTH Authentication required.");
pub(crate) const WRONGPASS: CmdError =
    CmdError::fixed("WRONGPASS invalid username-password pair or user is disabled.");
pub(crate) const NOT_IN_MULTI: CmdError =
    CmdError::fixed("ERR Command not allowed inside a transaction");

/// `ERR wrong number of arguments for 'get' command`.
pub(crate) fn wrong_arity(name: &str) -> CmdError {
    CmdError::new(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// `ERR invalid expire time in 'set' command`.
pub(crate) fn invalid_expire(name: &str) -> CmdError {
    CmdError::new(format!("ERR invalid expire time in '{name}' command"))
}

/// Redis's reply to an unknown command: its name and the start of its arguments.
pub(crate) fn unknown_command(name: &[u8], args: &[&[u8]]) -> CmdError {
    let mut listed = String::new();
    for arg in args {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        let shown = String::from_utf8_lossy(arg);
        let shown: String = shown.chars().take(room).collect();
        listed.push_str(&format!("'{shown}' "));
    }
    let name: String = String::from_utf8_lossy(name).chars().take(128).collect();
    CmdError::new(format!(
        "ERR unknown command '{name}', with args beginning with: {listed}"
    ))
}

/// `ERR unknown subcommand 'x'. Try CLIENT HELP.`
pub(crate) fn unknown_subcommand(sub: &[u8], command: &str) -> CmdError {
    let sub: String = String::from_utf8_lossy(sub).chars().take(128).collect();
    CmdError::new(format!(
        "ERR unknown subcommand '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    ))
}

/// Refuses, before it is built, a string of `len` bytes that the store would refuse (its
/// `max_value_size`, `max`), with the error the store gives: a bit offset or SETRANGE
/// offset may ask for up to 512 MiB, and the server should not allocate that only to have
/// the write refused.
pub(crate) fn value_fits(len: u64, max: usize) -> Result<(), CmdError> {
    match usize::try_from(len) {
        Ok(len) if len <= max => Ok(()),
        _ => Err(Error::ValueTooLarge {
            len: usize::try_from(len).unwrap_or(usize::MAX),
            max,
        }
        .into()),
    }
}

impl From<Error> for CmdError {
    fn from(e: Error) -> CmdError {
        match e {
            Error::NotAnInteger => NOT_INTEGER,
            Error::NotAFloat => NOT_FLOAT,
            Error::Overflow => OVERFLOW,
            Error::NanOrInfinity => NAN_OR_INFINITY,
            Error::WrongType => WRONG_TYPE,
            Error::ValueTooLarge { .. } | Error::KeyTooLarge { .. } => {
                CmdError::new(format!("ERR {e}"))
            }
            // Redis refuses writes with MISCONF when it cannot persist them.
            Error::Poisoned { .. } => CmdError::new(format!("MISCONF {e}")),
            other => CmdError::new(format!("ERR {other}")),
        }
    }
}
