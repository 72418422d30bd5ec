//! Sequential scan of a segment's records, as recovery (and later merge and check) read them.
//!
//! Records are delivered a committed batch at a time: a single record, or every record of
//! an atomic batch once its last record (without the "continues" flag) has been read. A
//! batch cut off by the end of the bytes is never delivered.

use crate::format::{
    DecodeError, RECORD_HEADER_LEN, Record, decode_record, record::checked_record_len,
};

/// A record and the byte offset it starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScannedRecord<'a> {
    pub offset: usize,
    pub record: Record<'a>,
}

/// Why a scan stopped before the end of the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Bytes at `error_offset` are not a valid record.
    BadRecord(DecodeError),
    /// The bytes end inside an atomic batch.
    UnfinishedBatch,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::BadRecord(e) => e.fmt(f),
            Problem::UnfinishedBatch => write!(f, "atomic batch is not finished"),
        }
    }
}

/// How a scan ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanEnd {
    /// Every byte is part of a complete record of a complete batch.
    Clean,
    /// The scan stopped at a problem.
    Stopped {
        /// End of the last complete batch: the bytes are consistent up to here.
        valid_end: usize,
        /// Where the problem was found.
        error_offset: usize,
        problem: Problem,
    },
}

/// Scans records from `start` to the end of `bytes`, calling `on_batch` for each complete
/// batch in order. Stops at the first problem, or when `on_batch` fails.
pub(crate) fn scan<'a, E>(
    bytes: &'a [u8],
    start: usize,
    mut on_batch: impl FnMut(&[ScannedRecord<'a>]) -> Result<(), E>,
) -> Result<ScanEnd, E> {
    let mut pos = start;
    let mut batch: Vec<ScannedRecord<'a>> = Vec::new();
    let mut batch_start = start;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        match decode_record(rest) {
            Ok((record, len)) => {
                if batch.is_empty() {
                    batch_start = pos;
                }
                batch.push(ScannedRecord {
                    offset: pos,
                    record,
                });
                pos += len;
                if !record.batch_continues {
                    on_batch(&batch)?;
                    batch.clear();
                }
            }
            Err(e) => {
                return Ok(ScanEnd::Stopped {
                    valid_end: if batch.is_empty() { pos } else { batch_start },
                    error_offset: pos,
                    problem: Problem::BadRecord(e),
                });
            }
        }
    }
    if batch.is_empty() {
        Ok(ScanEnd::Clean)
    } else {
        Ok(ScanEnd::Stopped {
            valid_end: batch_start,
            error_offset: pos,
            problem: Problem::UnfinishedBatch,
        })
    }
}

/// Whether the problem found at `error_offset` can be the tail of an interrupted write:
/// nothing valid follows it. Anything else is corruption.
///
/// - A record cut off by the end of the bytes, or a batch without its end, is torn.
/// - A header whose checksum fails may be the garbage or zeros a power loss leaves; it is
///   torn only if no valid record starts anywhere after it.
/// - A record whose header checks out but whose body does not may be a torn body; it is torn
///   only if no valid record starts after the length its header claims (its own body may
///   hold anything, including bytes that look like a record).
/// - A checked header with an unknown kind, an impossible length or a sequence number out of
///   range was written that way: never a tear.
pub(crate) fn is_torn_tail(bytes: &[u8], error_offset: usize, problem: Problem) -> bool {
    match problem {
        Problem::UnfinishedBatch | Problem::BadRecord(DecodeError::Incomplete) => true,
        Problem::BadRecord(DecodeError::HeaderChecksum) => {
            find_valid_record(bytes, error_offset.saturating_add(1)).is_none()
        }
        Problem::BadRecord(DecodeError::Checksum) => {
            let claimed = bytes
                .get(error_offset..)
                .and_then(checked_record_len)
                .unwrap_or(1);
            find_valid_record(bytes, error_offset.saturating_add(claimed)).is_none()
        }
        Problem::BadRecord(
            DecodeError::UnknownKind(_)
            | DecodeError::LengthOutOfRange
            | DecodeError::SeqOutOfRange,
        ) => false,
    }
}

/// The first offset at or after `from` where a complete, valid record starts.
pub(crate) fn find_valid_record(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    // The common torn tail of a power loss is zero-filled; skip it without decoding.
    let first_nonzero = rest.iter().position(|&b| b != 0)?;
    // A valid record's first bytes may happen to be zero; back up a whole header.
    let begin = from + first_nonzero.saturating_sub(RECORD_HEADER_LEN);
    (begin..bytes.len()).find(|&at| bytes.get(at..).is_some_and(|r| decode_record(r).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{RecordKind, encode_record};

    fn rec(out: &mut Vec<u8>, seq: u64, key: &[u8], cont: bool) -> usize {
        let start = out.len();
        encode_record(
            out,
            &Record {
                seq,
                expiry_ms: 0,
                kind: RecordKind::Put,
                batch_continues: cont,
                key,
                value: b"value",
            },
        )
        .unwrap();
        start
    }

    fn batches(bytes: &[u8]) -> (Vec<Vec<u64>>, ScanEnd) {
        let mut out = Vec::new();
        let end = scan::<()>(bytes, 0, |b| {
            out.push(b.iter().map(|r| r.record.seq).collect());
            Ok(())
        })
        .unwrap();
        (out, end)
    }

    #[test]
    fn delivers_singles_and_whole_batches() {
        let mut b = Vec::new();
        rec(&mut b, 1, b"a", false);
        rec(&mut b, 2, b"b", true);
        rec(&mut b, 3, b"c", true);
        rec(&mut b, 4, b"d", false);
        let (got, end) = batches(&b);
        assert_eq!(got, vec![vec![1], vec![2, 3, 4]]);
        assert_eq!(end, ScanEnd::Clean);
    }

    #[test]
    fn unfinished_batch_is_not_delivered_and_is_torn() {
        let mut b = Vec::new();
        rec(&mut b, 1, b"a", false);
        let batch_start = rec(&mut b, 2, b"b", true);
        let (got, end) = batches(&b);
        assert_eq!(got, vec![vec![1]]);
        assert_eq!(
            end,
            ScanEnd::Stopped {
                valid_end: batch_start,
                error_offset: b.len(),
                problem: Problem::UnfinishedBatch
            }
        );
        assert!(is_torn_tail(&b, b.len(), Problem::UnfinishedBatch));
    }

    #[test]
    fn bad_header_followed_by_a_valid_record_is_not_torn() {
        let mut b = Vec::new();
        let first = rec(&mut b, 1, b"a", false);
        rec(&mut b, 2, b"b", false);
        b[first + 25] ^= 0xff; // key length of the first record
        let (got, end) = batches(&b);
        assert!(got.is_empty());
        let ScanEnd::Stopped {
            error_offset,
            problem,
            ..
        } = end
        else {
            panic!("expected a stop")
        };
        assert_eq!(problem, Problem::BadRecord(DecodeError::HeaderChecksum));
        assert!(!is_torn_tail(&b, error_offset, problem));
    }

    #[test]
    fn zeros_and_garbage_after_the_last_record_are_torn() {
        let mut b = Vec::new();
        rec(&mut b, 1, b"a", false);
        let end_of_valid = b.len();
        for tail in [
            vec![0u8; 4096],
            (0..500u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ] {
            let mut t = b.clone();
            t.extend_from_slice(&tail);
            let (_, end) = batches(&t);
            let ScanEnd::Stopped {
                valid_end,
                error_offset,
                problem,
            } = end
            else {
                panic!("expected a stop")
            };
            assert_eq!(valid_end, end_of_valid);
            assert!(is_torn_tail(&t, error_offset, problem));
        }
    }

    #[test]
    fn torn_body_holding_a_record_lookalike_is_still_torn() {
        // The value of the last record is itself an encoded record; its tail is damaged.
        let mut inner = Vec::new();
        rec(&mut inner, 9, b"inner", false);
        let mut b = Vec::new();
        encode_record(
            &mut b,
            &Record {
                seq: 1,
                expiry_ms: 0,
                kind: RecordKind::Put,
                batch_continues: false,
                key: b"outer",
                value: &[inner.as_slice(), &[1, 2, 3]].concat(),
            },
        )
        .unwrap();
        let last = b.len() - 1;
        b[last] ^= 1;
        let (_, end) = batches(&b);
        let ScanEnd::Stopped {
            error_offset,
            problem,
            ..
        } = end
        else {
            panic!("expected a stop")
        };
        assert_eq!(problem, Problem::BadRecord(DecodeError::Checksum));
        assert!(is_torn_tail(&b, error_offset, problem));
    }

    #[test]
    fn find_valid_record_skips_zeros() {
        let mut b = vec![0u8; 1000];
        let at = rec(&mut b, 1, b"a", false);
        assert_eq!(find_valid_record(&b, 0), Some(at));
        assert_eq!(find_valid_record(&b, at + 1), None);
    }
}
