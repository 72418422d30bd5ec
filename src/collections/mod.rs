//! Pure, in-memory building blocks of the Redis collection types, with no I/O and no
//! knowledge of the store: Redis's argument semantics for scores and ranges, the text of a
//! score in a reply, and the ordered index of a sorted set.
//!
//! - [`range`]: score bounds, lex bounds, `LIMIT`, and rank ranges with negative indexes.
//! - [`score`]: reading a score as ZADD does, increments, and writing one as Redis replies.
//! - [`zset_index`]: [`zset_index::ZsetIndex`], members and scores in Redis's order.
//!
//! Every error text is Redis's own ([`arg_error::ArgError::message`]).

// The store and the server wire these in; until then only the tests use every item.
#![allow(dead_code)]

pub(crate) mod arg_error;
mod fenwick;
mod grisu;
mod memory;
pub(crate) mod range;
mod ranked_list;
pub(crate) mod score;
mod strtod;
pub(crate) mod zset_index;

#[cfg(test)]
mod score_vectors;
#[cfg(test)]
mod strtod_libc_tests;
#[cfg(test)]
mod zset_index_tests;
#[cfg(test)]
mod zset_model_tests;
