//! The model of a segment file that the open checks compare `open` against, built only
//! from `decode_record` and the documented rules (`RecoveryMode`, the torn-tail rule).

use std::collections::BTreeMap;
use std::path::Path;

use keg::Store;
use keg::format::{
    DecodeError, FILE_HEADER_LEN, FileHeader, FileHeaderError, FileKind, RecordKind, decode_record,
    record::checked_record_len,
};

/// A record as the model keeps it.
#[derive(Clone, Debug)]
pub(crate) struct ModelRecord {
    pub(crate) seq: u64,
    pub(crate) key: Vec<u8>,
    /// `None` for a tombstone.
    pub(crate) value: Option<Vec<u8>>,
}

/// How the model scan of one segment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelEnd {
    Clean,
    /// Stopped at `error_offset`; the bytes are consistent up to `valid_end`.
    Stopped {
        valid_end: usize,
        error_offset: usize,
        problem: ModelProblem,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelProblem {
    BadRecord(DecodeError),
    UnfinishedBatch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelHeader {
    /// A data header naming this segment.
    Valid,
    /// A valid header of the wrong kind or segment id.
    Mismatch,
    /// A header of another format version.
    Unsupported,
    /// Not a valid header.
    Invalid,
}

/// The model's reading of one segment file, straight from the format's definition.
#[derive(Debug)]
pub(crate) struct ModelSegment {
    pub(crate) header: ModelHeader,
    /// Complete batches, in file order (empty unless the header is valid).
    pub(crate) batches: Vec<Vec<ModelRecord>>,
    pub(crate) end: ModelEnd,
    /// A valid record of a collection kind (header or element) was read: this model keeps
    /// only strings, so checks of such an image are limited to "no panic, clear error".
    pub(crate) collections: bool,
}

pub(crate) fn model_segment(bytes: &[u8], id: u32) -> ModelSegment {
    let header = match FileHeader::decode(bytes) {
        Ok(FileHeader {
            kind: FileKind::Data,
            segment_id,
        }) if segment_id == id => ModelHeader::Valid,
        Ok(_) => ModelHeader::Mismatch,
        Err(FileHeaderError::UnsupportedVersion(_)) => ModelHeader::Unsupported,
        Err(_) => ModelHeader::Invalid,
    };
    let mut segment = ModelSegment {
        header,
        batches: Vec::new(),
        end: ModelEnd::Clean,
        collections: false,
    };
    if header != ModelHeader::Valid {
        return segment;
    }
    let mut pos = FILE_HEADER_LEN;
    let mut batch = Vec::new();
    let mut batch_start = pos;
    while pos < bytes.len() {
        match decode_record(&bytes[pos..]) {
            Ok((record, len)) => {
                if batch.is_empty() {
                    batch_start = pos;
                }
                if !matches!(record.kind, RecordKind::Put | RecordKind::Delete) {
                    segment.collections = true;
                }
                batch.push(ModelRecord {
                    seq: record.seq,
                    key: record.key.to_vec(),
                    value: (record.kind == RecordKind::Put).then(|| record.value.to_vec()),
                });
                pos += len;
                if !record.batch_continues {
                    segment.batches.push(std::mem::take(&mut batch));
                }
            }
            Err(e) => {
                segment.end = ModelEnd::Stopped {
                    valid_end: if batch.is_empty() { pos } else { batch_start },
                    error_offset: pos,
                    problem: ModelProblem::BadRecord(e),
                };
                return segment;
            }
        }
    }
    if !batch.is_empty() {
        segment.end = ModelEnd::Stopped {
            valid_end: batch_start,
            error_offset: pos,
            problem: ModelProblem::UnfinishedBatch,
        };
    }
    segment
}

/// Whether a valid record starts at any offset at or after `from` (brute force).
pub(crate) fn valid_record_from(bytes: &[u8], from: usize) -> bool {
    (from..bytes.len()).any(|at| decode_record(&bytes[at..]).is_ok())
}

/// The documented rule for what a torn tail is (`RecoveryMode::TolerateCorruptTail`): a
/// record cut off by the end of the file or a batch without its end is torn; a header whose
/// checksum fails is torn only if no valid record starts anywhere after it; a record whose
/// header checks out but whose body does not is torn only if no valid record starts after
/// the length its header claims; a checked header with an unknown kind or impossible length
/// is never torn.
pub(crate) fn model_is_torn(bytes: &[u8], error_offset: usize, problem: ModelProblem) -> bool {
    match problem {
        ModelProblem::UnfinishedBatch | ModelProblem::BadRecord(DecodeError::Incomplete) => true,
        ModelProblem::BadRecord(DecodeError::HeaderChecksum) => {
            !valid_record_from(bytes, error_offset + 1)
        }
        ModelProblem::BadRecord(DecodeError::Checksum) => {
            let claimed = checked_record_len(&bytes[error_offset..])
                .expect("a body checksum failure has a checked header");
            !valid_record_from(bytes, error_offset.saturating_add(claimed))
        }
        ModelProblem::BadRecord(
            DecodeError::UnknownKind(_)
            | DecodeError::LengthOutOfRange
            | DecodeError::SeqOutOfRange,
        ) => false,
    }
}

/// What `open` must do with one segment: `None` = fail, `Some(n)` = open with the first `n`
/// bytes of the file as its valid contents (`n` = the header length for a newest segment
/// whose header is torn and that is therefore started again).
pub(crate) fn model_verdict(
    bytes: &[u8],
    segment: &ModelSegment,
    newest: bool,
    absolute: bool,
) -> Option<usize> {
    let tolerate = newest && !absolute;
    match segment.header {
        ModelHeader::Valid => match segment.end {
            ModelEnd::Clean => Some(bytes.len()),
            ModelEnd::Stopped {
                valid_end,
                error_offset,
                problem,
            } => (tolerate && model_is_torn(bytes, error_offset, problem)).then_some(valid_end),
        },
        // A torn header (a short file, or only zeros) in the newest segment.
        ModelHeader::Invalid
            if tolerate && (bytes.len() <= FILE_HEADER_LEN || bytes.iter().all(|&b| b == 0)) =>
        {
            Some(FILE_HEADER_LEN)
        }
        ModelHeader::Invalid | ModelHeader::Mismatch | ModelHeader::Unsupported => None,
    }
}

/// The candidates for a key's value after recovery: every record of the highest sequence
/// number seen for the key (more than one only on a tie, which the format leaves open).
#[derive(Debug, Default)]
pub(crate) struct Candidates {
    pub(crate) seq: u64,
    pub(crate) values: Vec<Option<Vec<u8>>>,
}

pub(crate) fn segment_path(dir: &Path, id: usize) -> std::path::PathBuf {
    dir.join(format!("{id:010}.data"))
}

/// Everything a store holds, read through its public API.
pub(crate) fn contents(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let keys = store.keys();
    assert_eq!(store.len(), keys.len(), "len() disagrees with keys()");
    let mut map = BTreeMap::new();
    for key in keys {
        let value = match store.get(&key) {
            Ok(Some(v)) => v,
            other => panic!("key {key:?} is listed by keys() but get returned {other:?}"),
        };
        assert!(
            map.insert(key.clone(), value).is_none(),
            "keys() lists {key:?} twice"
        );
    }
    map
}
