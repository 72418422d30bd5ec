//! `open_segment_image`: `open` on one or two segment files.

use std::collections::BTreeMap;

use keg::format::{FILE_HEADER_LEN, FileHeader, FileKind, MAX_SEQ};
use keg::{Error, Options, RecoveryMode, SyncPolicy};

use super::reader::Reader;
use super::segment_model::{
    Candidates, ModelHeader, ModelSegment, contents, model_segment, model_verdict, segment_path,
};
use super::segment_program::run_program;

/// Flag bits of the first input byte of `open_segment_image`.
pub mod flags {
    /// Use the segment bytes as the whole file: no valid file header is prepended.
    pub const RAW: u8 = 0x01;
    /// Two segments: a u16 LE length follows the flags; that many bytes make segment 1 (sealed),
    /// the rest segment 2 (the newest).
    pub const TWO_SEGMENTS: u8 = 0x02;
    /// Each segment's bytes are a program (see `op`) that writes valid records
    /// and damages them, rather than the segment's literal bytes.
    pub const STRUCTURED: u8 = 0x04;
    /// `Options::use_mmap(false)`: reads go through pread.
    pub const PREAD: u8 = 0x08;
    /// `Options::max_segment_size(MIN_SEGMENT_SIZE)`: the writes after open rotate segments.
    pub const SMALL_SEGMENTS: u8 = 0x10;
    /// `RecoveryMode::AbsoluteConsistency` instead of the default `TolerateCorruptTail`.
    pub const ABSOLUTE: u8 = 0x20;
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
        let mut r = Reader::new(data);
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
    if models.iter().any(|m| m.collections) {
        // Forged collection records: the string model does not apply; open must still
        // either work or refuse clearly.
        if let Err(e) = scenario.options().open(dir.path()) {
            assert!(
                matches!(
                    e,
                    Error::Corrupted { .. } | Error::UnsupportedVersion { .. }
                ),
                "open failed with an unexpected error kind: {e:?}"
            );
        }
        return;
    }

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
