//! Arguments Redis refuses while reading scores and ranges, with its exact reply texts.

use std::fmt;

/// Why a score, bound or increment was refused. [`ArgError::message`] is the error reply
/// Redis sends, code included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgError {
    /// A score (ZADD, ZINCRBY) that is not a float.
    NotAFloat,
    /// A score bound (ZRANGEBYSCORE, ZCOUNT, ZRANGE BYSCORE, ZREMRANGEBYSCORE) that is not a
    /// float.
    BoundNotAFloat,
    /// A lex bound that is not `-`, `+`, or `[`/`(` followed by a string.
    BadLexBound,
    /// An increment that left a score NaN (`inf` plus `-inf`).
    ResultIsNan,
}

impl ArgError {
    /// The error reply, as Redis words it.
    pub(crate) fn message(self) -> &'static str {
        match self {
            ArgError::NotAFloat => "ERR value is not a valid float",
            ArgError::BoundNotAFloat => "ERR min or max is not a float",
            ArgError::BadLexBound => "ERR min or max not valid string range item",
            ArgError::ResultIsNan => "ERR resulting score is not a number (NaN)",
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ArgError {}
