//! Command implementations, one file per family; `table.rs` maps names to them.

pub(crate) mod bits;
pub(crate) mod blocking;
pub(crate) mod client;
pub(crate) mod collection_scan;
pub(crate) mod command_docs;
pub(crate) mod config_cmd;
pub(crate) mod connection;
pub(crate) mod dump;
pub(crate) mod expire;
mod expiry_arg;
pub(crate) mod geo;
mod geo_cells;
pub(crate) mod hashes;
pub(crate) mod hll;
pub(crate) mod keys;
pub(crate) mod lcs;
pub(crate) mod lists;
pub(crate) mod mpop;
pub(crate) mod multi;
pub(crate) mod pubsub_cmds;
pub(crate) mod scan;
pub(crate) mod server_cmds;
pub(crate) mod sets;
pub(crate) mod sort;
pub(crate) mod strings;
pub(crate) mod zset_algebra;
pub(crate) mod zsets;
