//! The checks the fuzz targets run, one plain function per target, so that the committed
//! corpus can be replayed on stable Rust: `tests/fuzz_corpus.rs` in the main crate includes
//! this file with `#[path]`. It may therefore use only `std`, `keg` and `tempfile`.
//!
//! Every check panics when the property it tests is violated; a check that returns normally
//! has passed.

use std::collections::BTreeMap;
use std::path::Path;

use keg::format::{
    DecodeError, FILE_HEADER_LEN, FileHeader, FileHeaderError, FileKind, MAX_SEQ, RecordKind,
    decode_record, encode_record, record::checked_record_len,
};
use keg::{Error, Options, RecoveryMode, Store, SyncPolicy};

// ---------------------------------------------------------------------------------------
// record_decode
// ---------------------------------------------------------------------------------------

/// `decode_record` never panics; what it accepts re-encodes to exactly the bytes it read.
pub fn check_record_decode(data: &[u8]) {
    match decode_record(data) {
        Ok((record, len)) => {
            assert!(
                len <= data.len(),
                "decoded length {len} > input {}",
                data.len()
            );
            assert_eq!(
                len,
                record.encoded_len(),
                "length disagrees with the record"
            );
            let mut out = Vec::new();
            let written = encode_record(&mut out, &record)
                .unwrap_or_else(|_| panic!("decoded record does not re-encode: {record:?}"));
            assert_eq!(written, len);
            assert_eq!(
                out.as_slice(),
                &data[..len],
                "re-encoding differs from the input"
            );
            // The record alone decodes the same; one byte less is a torn record.
            assert_eq!(decode_record(&data[..len]), Ok((record, len)));
            assert_eq!(
                decode_record(&data[..len - 1]),
                Err(DecodeError::Incomplete)
            );
            assert_eq!(checked_record_len(data), Some(len));
        }
        Err(e) => {
            let _ = e.to_string();
            if e == DecodeError::HeaderChecksum {
                assert_eq!(checked_record_len(data), None);
            }
            if data.len() < keg::format::RECORD_HEADER_LEN {
                assert_eq!(e, DecodeError::Incomplete);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// file_header_decode
// ---------------------------------------------------------------------------------------

/// `FileHeader::decode` never panics; what it accepts re-encodes to exactly its first
/// `FILE_HEADER_LEN` bytes; and every header round-trips through encode and decode.
pub fn check_file_header_decode(data: &[u8]) {
    match FileHeader::decode(data) {
        Ok(header) => {
            assert!(data.len() >= FILE_HEADER_LEN);
            assert_eq!(
                header.encode().as_slice(),
                &data[..FILE_HEADER_LEN],
                "FileHeader::decode accepted bytes that do not re-encode to themselves \
                 (decoded as {header:?})"
            );
        }
        Err(e) => {
            let _ = e.to_string();
            if data.len() < FILE_HEADER_LEN {
                assert_eq!(e, FileHeaderError::TooShort);
            }
        }
    }
    // Encode side: any header built from the input round-trips.
    let kind = if data.first().is_some_and(|b| b & 1 == 1) {
        FileKind::Hint
    } else {
        FileKind::Data
    };
    let mut id = [0u8; 4];
    for (dst, src) in id.iter_mut().zip(data.iter().skip(1)) {
        *dst = *src;
    }
    let header = FileHeader {
        kind,
        segment_id: u32::from_le_bytes(id),
    };
    assert_eq!(FileHeader::decode(&header.encode()), Ok(header));
}

// ---------------------------------------------------------------------------------------
// open_segment_image
// ---------------------------------------------------------------------------------------

/// Flag bits of the first input byte of `open_segment_image`.
pub mod flags {
    /// Use the segment bytes as the whole file: no valid file header is prepended.
    pub const RAW: u8 = 0x01;
    /// Two segments: a u16 LE length follows the flags; that many bytes make segment 1 (sealed),
    /// the rest segment 2 (the newest).
    pub const TWO_SEGMENTS: u8 = 0x02;
    /// Each segment's bytes are a program (see [`super::op`]) that writes valid records
    /// and damages them, rather than the segment's literal bytes.
    pub const STRUCTURED: u8 = 0x04;
    /// `Options::use_mmap(false)`: reads go through pread.
    pub const PREAD: u8 = 0x08;
    /// `Options::max_segment_size(MIN_SEGMENT_SIZE)`: the writes after open rotate segments.
    pub const SMALL_SEGMENTS: u8 = 0x10;
    /// `RecoveryMode::AbsoluteConsistency` instead of the default `TolerateCorruptTail`.
    pub const ABSOLUTE: u8 = 0x20;
}

/// Operations of a structured segment program: a sequence of op bytes, each followed by its
/// arguments. A program that ends in the middle of an op reads zeros for what is missing.
///
/// Put and delete: bits 0-2 select the op, bits 3-6 the key ([`key_for`]), bit 7 sets the
/// record's "batch continues" flag. Then one byte of sequence number ([`seq_for`]) and, for
/// a put, one byte of value length (mod 32; the value is unique per record).
pub mod op {
    /// Mask of the op-selecting bits.
    pub const MASK: u8 = 0x07;
    /// 0, 1 and 2 are puts (so that most records are puts).
    pub const PUT: u8 = 0;
    /// A tombstone.
    pub const DELETE: u8 = 3;
    /// Flip bits: u16 LE position (mod the current length), then the XOR mask (0 means 1).
    pub const FLIP: u8 = 4;
    /// Cut `n` bytes off the end: one byte `n`.
    pub const TRUNCATE: u8 = 5;
    /// Append literal bytes: one byte `n` (mod 64), then `n` bytes.
    pub const LITERAL: u8 = 6;
    /// Append zeros: one byte `n`.
    pub const ZEROS: u8 = 7;
    /// The "batch continues" bit of put and delete.
    pub const CONTINUES: u8 = 0x80;
    /// Shift of the key selector in put and delete.
    pub const KEY_SHIFT: u32 = 3;
}

/// The key that selector `sel` (0..16) of a structured put or delete names.
pub fn key_for(sel: u8) -> Vec<u8> {
    match sel & 0x0f {
        14 => Vec::new(),
        15 => vec![0xab; 300],
        n => format!("k{n}").into_bytes(),
    }
}

/// The sequence number that byte `b` of a structured put or delete names: small numbers
/// (so that keys collide and ties happen) and the top of the valid range (`MAX_SEQ`; larger
/// numbers cannot be encoded, and are covered by raw inputs).
pub fn seq_for(b: u8) -> u64 {
    match b {
        0xff => MAX_SEQ,
        0xfe => MAX_SEQ - 1,
        0xfd => MAX_SEQ - 2,
        n => u64::from(n),
    }
}

struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn byte_or_zero(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn u16_or_zero(&mut self) -> u16 {
        u16::from_le_bytes([self.byte_or_zero(), self.byte_or_zero()])
    }
}

/// Runs a structured segment program, returning the segment's bytes after the file header.
fn run_program(program: &[u8], segment_id: u32) -> Vec<u8> {
    let mut r = Reader { data: program };
    let mut out = Vec::new();
    let mut counter = 0u32;
    while let Some(op_byte) = r.byte() {
        match op_byte & op::MASK {
            code @ (0..=3) => {
                let key = key_for(op_byte >> op::KEY_SHIFT);
                let seq = seq_for(r.byte_or_zero());
                let kind = if code == op::DELETE {
                    RecordKind::Delete
                } else {
                    RecordKind::Put
                };
                let mut value = Vec::new();
                if kind == RecordKind::Put {
                    let len = usize::from(r.byte_or_zero() % 32);
                    if len > 0 {
                        value = format!("s{segment_id}v{counter}/").into_bytes();
                        value.resize(value.len().max(len), b'.');
                    }
                }
                counter += 1;
                let record = keg::format::Record {
                    seq,
                    expiry_ms: 0,
                    kind,
                    batch_continues: op_byte & op::CONTINUES != 0,
                    key: &key,
                    value: &value,
                };
                encode_record(&mut out, &record).expect("small records encode");
            }
            op::FLIP => {
                let pos = usize::from(r.u16_or_zero());
                let mask = r.byte_or_zero().max(1);
                if !out.is_empty() {
                    let at = pos % out.len();
                    out[at] ^= mask;
                }
            }
            op::TRUNCATE => {
                let n = usize::from(r.byte_or_zero());
                out.truncate(out.len().saturating_sub(n));
            }
            op::LITERAL => {
                let n = usize::from(r.byte_or_zero() % 64);
                out.extend_from_slice(r.take(n));
            }
            _ => {
                let n = usize::from(r.byte_or_zero());
                out.resize(out.len() + n, 0);
            }
        }
    }
    out
}

/// What an `open_segment_image` input means: options and the bytes of each segment file.
#[derive(Debug)]
pub struct Scenario {
    /// The flag byte (see [`flags`]).
    pub flags: u8,
    /// The files: segment ids 1, 2, ... in order; the last is the newest.
    pub segments: Vec<Vec<u8>>,
}

impl Scenario {
    /// Decodes a fuzz input.
    pub fn parse(data: &[u8]) -> Scenario {
        let mut r = Reader { data };
        let flags = r.byte_or_zero();
        let parts: Vec<&[u8]> = if flags & flags::TWO_SEGMENTS != 0 {
            let first_len = usize::from(r.u16_or_zero());
            let first = r.take(first_len);
            vec![first, r.data]
        } else {
            vec![r.data]
        };
        let segments = parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let id = u32::try_from(i + 1).expect("two segments at most");
                let body = if flags & flags::STRUCTURED != 0 {
                    run_program(part, id)
                } else {
                    part.to_vec()
                };
                if flags & flags::RAW != 0 {
                    body
                } else {
                    let mut file = FileHeader {
                        kind: FileKind::Data,
                        segment_id: id,
                    }
                    .encode()
                    .to_vec();
                    file.extend_from_slice(&body);
                    file
                }
            })
            .collect();
        Scenario { flags, segments }
    }

    /// The options the scenario opens the store with.
    pub fn options(&self) -> Options {
        let mut options = Options::new()
            .sync_policy(SyncPolicy::Never)
            .use_mmap(self.flags & flags::PREAD == 0);
        if self.flags & flags::SMALL_SEGMENTS != 0 {
            options = options.max_segment_size(keg::MIN_SEGMENT_SIZE);
        }
        if self.flags & flags::ABSOLUTE != 0 {
            options = options.recovery_mode(RecoveryMode::AbsoluteConsistency);
        }
        options
    }

    fn absolute(&self) -> bool {
        self.flags & flags::ABSOLUTE != 0
    }
}

/// A record as the model keeps it.
#[derive(Clone, Debug)]
struct ModelRecord {
    seq: u64,
    key: Vec<u8>,
    /// `None` for a tombstone.
    value: Option<Vec<u8>>,
}

/// How the model scan of one segment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModelEnd {
    Clean,
    /// Stopped at `error_offset`; the bytes are consistent up to `valid_end`.
    Stopped {
        valid_end: usize,
        error_offset: usize,
        problem: ModelProblem,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModelProblem {
    BadRecord(DecodeError),
    UnfinishedBatch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModelHeader {
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
struct ModelSegment {
    header: ModelHeader,
    /// Complete batches, in file order (empty unless the header is valid).
    batches: Vec<Vec<ModelRecord>>,
    end: ModelEnd,
}

fn model_segment(bytes: &[u8], id: u32) -> ModelSegment {
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
fn valid_record_from(bytes: &[u8], from: usize) -> bool {
    (from..bytes.len()).any(|at| decode_record(&bytes[at..]).is_ok())
}

/// The documented rule for what a torn tail is (`RecoveryMode::TolerateCorruptTail`): a
/// record cut off by the end of the file or a batch without its end is torn; a header whose
/// checksum fails is torn only if no valid record starts anywhere after it; a record whose
/// header checks out but whose body does not is torn only if no valid record starts after
/// the length its header claims; a checked header with an unknown kind or impossible length
/// is never torn.
fn model_is_torn(bytes: &[u8], error_offset: usize, problem: ModelProblem) -> bool {
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
fn model_verdict(
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
struct Candidates {
    seq: u64,
    values: Vec<Option<Vec<u8>>>,
}

fn segment_path(dir: &Path, id: usize) -> std::path::PathBuf {
    dir.join(format!("{id:010}.data"))
}

/// Everything a store holds, read through its public API.
fn contents(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
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

/// Writes the fuzz input as segment files into a fresh directory and opens a store on it.
///
/// `open` must not panic and must succeed exactly when the format's rules say the files are
/// consistent (sealed segments fully valid; the newest valid up to a torn tail); on success
/// the store must hold exactly what the valid records say (highest sequence number wins,
/// tombstones delete). Then a write, an overwrite and a delete are made, the store is closed
/// and reopened, and it must hold the same data plus those changes.
pub fn check_open_segment_image(data: &[u8]) {
    let scenario = Scenario::parse(data);
    let dir = tempfile::Builder::new()
        .prefix("keg-fuzz-")
        .tempdir()
        .expect("create temp dir");
    for (i, bytes) in scenario.segments.iter().enumerate() {
        std::fs::write(segment_path(dir.path(), i + 1), bytes).expect("write segment file");
    }

    // The model: what each segment contributes and whether open may succeed.
    let count = scenario.segments.len();
    let models: Vec<ModelSegment> = scenario
        .segments
        .iter()
        .enumerate()
        .map(|(i, bytes)| model_segment(bytes, u32::try_from(i + 1).expect("small id")))
        .collect();
    let verdicts: Vec<Option<usize>> = scenario
        .segments
        .iter()
        .zip(&models)
        .enumerate()
        .map(|(i, (bytes, m))| model_verdict(bytes, m, i + 1 == count, scenario.absolute()))
        .collect();
    let expect_ok = verdicts.iter().all(Option::is_some);

    let store = match scenario.options().open(dir.path()) {
        Ok(store) => store,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Corrupted { .. } | Error::UnsupportedVersion { .. }
                ),
                "open failed with an unexpected error kind: {e:?}"
            );
            assert!(
                !expect_ok,
                "open failed but the files are consistent (verdicts {verdicts:?}): {e}"
            );
            return;
        }
    };
    assert!(
        expect_ok,
        "open succeeded but the files are not consistent (verdicts {verdicts:?}, model ends {:?})",
        models.iter().map(|m| (m.header, m.end)).collect::<Vec<_>>()
    );

    // The newest segment was cut back to its valid length; sealed ones are untouched.
    for (i, (bytes, verdict)) in scenario.segments.iter().zip(&verdicts).enumerate() {
        let on_disk = std::fs::read(segment_path(dir.path(), i + 1)).expect("read segment");
        let valid = verdict.expect("checked above");
        if models[i].header == ModelHeader::Valid {
            assert_eq!(
                on_disk.as_slice(),
                &bytes[..valid],
                "segment {} after open is not its valid prefix",
                i + 1
            );
        } else {
            assert_eq!(on_disk.len(), FILE_HEADER_LEN, "torn header not rewritten");
        }
    }

    // Expected contents: the highest sequence number of each key wins.
    let mut expected: BTreeMap<Vec<u8>, Candidates> = BTreeMap::new();
    let mut max_seq = 0;
    for m in &models {
        for record in m.batches.iter().flatten() {
            max_seq = max_seq.max(record.seq);
            let c = expected.entry(record.key.clone()).or_default();
            if c.values.is_empty() || record.seq > c.seq {
                c.seq = record.seq;
                c.values = vec![record.value.clone()];
            } else if record.seq == c.seq {
                c.values.push(record.value.clone());
            }
        }
    }
    let got = contents(&store);
    for (key, value) in &got {
        let c = expected
            .get(key)
            .unwrap_or_else(|| panic!("store holds key {key:?}, which no valid record puts"));
        assert!(
            c.values.iter().flatten().any(|v| v == value),
            "store holds {value:?} for key {key:?}; newest records (seq {}) say {:?}",
            c.seq,
            c.values
        );
    }
    for (key, c) in &expected {
        if !got.contains_key(key) {
            assert!(
                c.values.contains(&None),
                "key {key:?} is missing; newest records (seq {}) say {:?}",
                c.seq,
                c.values
            );
        }
    }
    let stats = store.stats();
    assert_eq!(stats.keys, got.len() as u64);
    assert_eq!(
        stats.last_seq, max_seq,
        "last_seq is not the highest seq read"
    );

    // Write on top of what was recovered, then reopen. When the files already use the top of
    // the sequence-number range, the store may refuse writes with an error (it must not panic,
    // and must not lose what it acknowledged).
    let mut after = got.clone();
    let mut new_key = b"keg-fuzz-new".to_vec();
    while after.contains_key(&new_key) {
        new_key.push(b'+');
    }
    let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = vec![(new_key, Some(b"fresh".to_vec()))];
    if let Some(first) = got.keys().next() {
        writes.push((first.clone(), Some(b"overwritten".to_vec())));
    }
    if got.len() >= 2
        && let Some(last) = got.keys().next_back()
    {
        writes.push((last.clone(), None));
    }
    let seq_exhausted = max_seq > MAX_SEQ - 8;
    for (key, value) in writes {
        let result = match &value {
            Some(v) => store.set(&key, v).map(|()| true),
            None => store.delete(&key),
        };
        match result {
            Ok(existed) => {
                assert!(existed, "delete of present key {key:?} reported absence");
                match value {
                    Some(v) => after.insert(key, v),
                    None => after.remove(&key),
                };
            }
            Err(Error::Poisoned { .. }) if seq_exhausted => break,
            Err(e) => panic!("write to key {key:?} failed: {e}"),
        }
    }
    assert_eq!(contents(&store), after, "contents after the writes");
    drop(store);

    let reopened = scenario
        .options()
        .open(dir.path())
        .unwrap_or_else(|e| panic!("reopen after writing failed: {e}"));
    assert_eq!(contents(&reopened), after, "contents after reopening");
    reopened.close().expect("close");
}
