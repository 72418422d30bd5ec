//! Pure byte codecs of the on-disk format (v1). No I/O here, and no panics on any input:
//! every decoder returns an error for bytes it does not accept.
//!
//! `docs/format.md` documents every byte; the committed fixtures in `tests/fixtures/` pin it.

pub mod file_header;
pub mod hint;
pub(crate) mod le;
pub mod record;

pub use file_header::{FILE_HEADER_LEN, FORMAT_VERSION, FileHeader, FileHeaderError, FileKind};
pub use hint::{
    HINT_CHUNK, HINT_ENTRY_MIN_LEN, HINT_TRAILER_LEN, Hint, HintEntry, HintError, HintWriter,
    claimed_entries,
};
pub use record::{
    COLLECTION_HEADER_LEN, DecodeError, MAX_KEY_LEN, MAX_SEQ, MAX_VALUE_LEN, RECORD_HEADER_LEN,
    Record, RecordKind, decode_exact_record, decode_record, encode_record, record_len,
};
