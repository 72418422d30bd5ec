//! Pure, in-memory building blocks of the Redis collection types, with no I/O and no
//! knowledge of the store: Redis's argument semantics for scores and ranges, the text of a
//! score in a reply, and the ordered index of a sorted set.
//!
//! - [`range`]: score bounds, lex bounds, `LIMIT`, and rank ranges with negative indexes.
//! - [`score`]: reading a score as ZADD does, increments, and writing one as Redis replies.
//! - [`zset_index`]: [`zset_index::ZsetIndex`], members and scores in Redis's order.
//! - [`scan_cursor`]: the pages and cursors of HSCAN, SSCAN and ZSCAN.
//!
//! Every error text is Redis's own ([`arg_error::ArgError::message`]).

pub(crate) mod arg_error;
mod fenwick;
// Redis 7.2's shortest score form (`score::format_score`), tested against real servers;
// the server writes Redis 7.0's `%.17g` today, so only the tests call it for now.
#[allow(dead_code)]
mod grisu;
mod memory;
pub(crate) mod range;
pub(crate) mod scan_cursor;
// The index's whole API (pops, range removals) is tested against a model; the store
// removes members one element record at a time (`datatypes::zset`), so it calls the
// queries only.
#[allow(dead_code)]
mod ranked_list;
pub(crate) mod score;
mod strtod;
#[allow(dead_code)]
pub(crate) mod zset_index;

#[cfg(test)]
mod score_vectors;
#[cfg(test)]
mod strtod_libc_tests;
#[cfg(test)]
mod zset_index_tests;
#[cfg(test)]
mod zset_model_tests;
