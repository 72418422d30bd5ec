//! The checks the fuzz targets run, one plain function per target, so that the committed
//! corpus can be replayed on stable Rust: `tests/fuzz_corpus.rs` in the main crate includes
//! this file with `#[path]`. It (and its modules) may therefore use only `std`, `keg` and
//! `tempfile`.
//!
//! Every check panics when the property it tests is violated; a check that returns normally
//! has passed.

mod batch_decode;
mod collection_model;
mod collection_ops;
mod collection_state;
mod dir_image;
mod file_header_decode;
mod hint_decode;
mod reader;
mod record_decode;
mod restore_payload;
mod segment_image;
mod segment_model;
mod segment_program;
mod server_session;
mod store_model;

pub use batch_decode::check_batch_decode;
pub use collection_model::check_collection_model;
pub use collection_ops::code as collection_code;
pub use dir_image::check_open_dir_image;
pub use file_header_decode::check_file_header_decode;
pub use hint_decode::check_hint_decode;
pub use record_decode::check_record_decode;
pub use restore_payload::{check_restore_payload, resp};
pub use segment_image::{check_open_segment_image, flags};
pub use segment_program::op;
pub use server_session::check_server_session;
pub use store_model::check_store_model;
