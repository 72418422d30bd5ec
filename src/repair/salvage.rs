//! Which bytes of one data segment [`repair`](crate::repair) keeps: a pure function of the
//! file's bytes, unit-tested without files.
//!
//! Unlike recovery, which stops at the first invalid byte, salvage goes on past damage and
//! keeps every complete atomic unit (a single record, or a whole batch) that is certainly
//! whole. Around damaged bytes it drops:
//!
//! - the damaged bytes: one record when its header checks out and only its body does not
//!   (the header's lengths can be trusted) or when one flipped bit explains the damaged
//!   header, else everything up to the next valid record;
//! - the records of a batch that the damage cuts: the part before it and, when the damaged
//!   record's header says its batch goes on, the rest after it;
//! - after damage whose extent is unknown (a header damaged beyond one bit), the first
//!   complete unit that follows: it may be the end of a batch whose beginning was in the damaged bytes. Its
//!   bytes are dropped from the store but, like every dropped byte, kept aside by repair.

use std::ops::Range;

use crate::format::file_header::VERSION_FIELD;
use crate::format::record::{checked_batch_continues, checked_record_len};
use crate::format::{
    DecodeError, FILE_HEADER_LEN, FORMAT_VERSION, FileHeader, FileHeaderError, FileKind,
    RECORD_HEADER_LEN, decode_record,
};
use crate::segment::scan::find_valid_record;

/// A byte range salvage drops, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dropped {
    pub range: Range<usize>,
    /// Valid records inside the range (dropped to keep a batch all-or-nothing).
    pub records: u64,
    pub reason: String,
}

/// What to keep of one segment file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Salvage {
    /// Complete units to keep, in file order (ranges of the original file, after its
    /// header).
    pub kept: Vec<Range<usize>>,
    pub records_kept: u64,
    pub dropped: Vec<Dropped>,
}

impl Salvage {
    /// Whether the file must be rewritten.
    pub(crate) fn changes_anything(&self) -> bool {
        !self.dropped.is_empty()
    }

    fn drop_range(&mut self, range: Range<usize>, records: u64, reason: String) {
        self.dropped.push(Dropped {
            range,
            records,
            reason,
        });
    }
}

/// Decides what to keep of the bytes of data segment `id`. Fails with the version found
/// when the file header names a format version this build does not read: nothing of such
/// a file can be judged.
pub(crate) fn salvage(bytes: &[u8], id: u32) -> Result<Salvage, u16> {
    let mut out = Salvage::default();
    let header_end = FILE_HEADER_LEN.min(bytes.len());
    match FileHeader::decode(bytes) {
        Ok(FileHeader {
            kind: FileKind::Data,
            segment_id,
        }) if segment_id == id => {}
        Ok(header) => out.drop_range(
            0..header_end,
            0,
            format!(
                "file header describes {:?} file of segment {}, not data segment {id}",
                header.kind, header.segment_id
            ),
        ),
        Err(FileHeaderError::UnsupportedVersion(version)) if !damaged_version(bytes, id) => {
            return Err(version);
        }
        Err(FileHeaderError::UnsupportedVersion(version)) => out.drop_range(
            0..header_end,
            0,
            format!("file header: damaged version field (reads {version})"),
        ),
        Err(e) if bytes.is_empty() => out.drop_range(0..0, 0, format!("empty file ({e})")),
        Err(e) => out.drop_range(0..header_end, 0, format!("file header: {e}")),
    }
    scan_records(bytes, header_end, &mut out);
    Ok(out)
}

/// Whether a header naming an unknown version is a version-1 header with a damaged version
/// field rather than a file of another format: with the version set back to 1 the header
/// checks out, or a valid version-1 record follows it. (A file of another version is left
/// alone: nothing of it can be judged.)
fn damaged_version(bytes: &[u8], id: u32) -> bool {
    let mut header = [0u8; FILE_HEADER_LEN];
    if let Some(original) = bytes.get(..FILE_HEADER_LEN) {
        header.copy_from_slice(original);
    }
    if let Some(field) = header.get_mut(VERSION_FIELD) {
        field.copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    }
    let restored = matches!(
        FileHeader::decode(&header),
        Ok(FileHeader { kind: FileKind::Data, segment_id }) if segment_id == id
    );
    restored
        || bytes
            .get(FILE_HEADER_LEN..)
            .is_some_and(|rest| decode_record(rest).is_ok())
}

/// The records from `start` on: keeps whole units, drops damage and what it cuts.
fn scan_records(bytes: &[u8], start: usize, out: &mut Salvage) {
    let mut pos = start;
    // Records of the unit in progress: where it starts and how many.
    let mut unit: Option<(usize, u64)> = None;
    // Set when the next complete unit must be dropped too, and why.
    let mut doubt: Option<String> = None;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        match decode_record(rest) {
            Ok((record, len)) => {
                let (unit_start, count) = unit.unwrap_or((pos, 0));
                pos += len;
                if record.batch_continues {
                    unit = Some((unit_start, count + 1));
                    continue;
                }
                unit = None;
                match doubt.take() {
                    Some(reason) => out.drop_range(unit_start..pos, count + 1, reason),
                    None => {
                        out.kept.push(unit_start..pos);
                        out.records_kept += count + 1;
                    }
                }
            }
            Err(error) => {
                if let Some((unit_start, count)) = unit.take() {
                    let reason = doubt.take().unwrap_or_else(|| {
                        format!("atomic batch cut by the damaged bytes at offset {pos}")
                    });
                    out.drop_range(unit_start..pos, count, reason);
                }
                let (end, next_doubt) = damage_extent(bytes, pos, error);
                let reason = if end == bytes.len() {
                    format!("{error}; nothing valid follows")
                } else {
                    error.to_string()
                };
                out.drop_range(pos..end, 0, reason);
                pos = end;
                doubt = next_doubt;
            }
        }
    }
    if let Some((unit_start, count)) = unit {
        out.drop_range(
            unit_start..bytes.len(),
            count,
            "atomic batch without its end (an interrupted write)".into(),
        );
    }
}

/// Where the damage found at `pos` ends, and whether (and why) the unit after it must be
/// dropped too.
fn damage_extent(bytes: &[u8], pos: usize, error: DecodeError) -> (usize, Option<String>) {
    let rest = bytes.get(pos..).unwrap_or(&[]);
    match error {
        // A record cut off by the end of the file: the rest of the file is its remains.
        DecodeError::Incomplete => (bytes.len(), None),
        // The header checks out: its length and batch flag can be trusted.
        DecodeError::Checksum => {
            let len = checked_record_len(rest).unwrap_or(1).max(1);
            let end = pos.saturating_add(len).min(bytes.len());
            let continues = checked_batch_continues(rest).unwrap_or(true);
            let doubt = continues.then(|| {
                format!("rest of an atomic batch whose record at offset {pos} is damaged")
            });
            (end, doubt)
        }
        DecodeError::HeaderChecksum
        | DecodeError::UnknownKind(_)
        | DecodeError::LengthOutOfRange
        | DecodeError::SeqOutOfRange => {
            // A header with one flipped bit: the one header that differs from it in a
            // single bit and checks out is the original (CRC-32 tells every one-bit change
            // of so short a header apart), so its length and batch flag can be trusted.
            if let Some((len, continues)) = one_bit_repaired(rest) {
                let doubt = continues.then(|| {
                    format!("rest of an atomic batch whose record at offset {pos} is damaged")
                });
                return (pos.saturating_add(len), doubt);
            }
            // Otherwise the extent of the damage is unknown: up to the next valid record.
            let end = find_valid_record(bytes, pos.saturating_add(1)).unwrap_or(bytes.len());
            let doubt = format!(
                "may be the end of an atomic batch that began in the damaged bytes at offset {pos}"
            );
            (end, Some(doubt))
        }
    }
}

/// The length and batch flag of the record header at the start of `rest` if exactly one
/// single-bit change makes its checksum hold and the record it then describes fits in
/// `rest`.
fn one_bit_repaired(rest: &[u8]) -> Option<(usize, bool)> {
    let header = rest.get(..RECORD_HEADER_LEN)?;
    let mut candidate = header.to_vec();
    let mut found = None;
    // The first four bytes are the record checksum, which the header checksum does not
    // cover: a flip there cannot be what broke the header.
    for bit in 4 * 8..RECORD_HEADER_LEN * 8 {
        let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
        if let Some(b) = candidate.get_mut(byte) {
            *b ^= mask;
        }
        if let (Some(len), Some(continues)) = (
            checked_record_len(&candidate),
            checked_batch_continues(&candidate),
        ) && len <= rest.len()
        {
            if found.is_some() {
                return None;
            }
            found = Some((len, continues));
        }
        if let Some(b) = candidate.get_mut(byte) {
            *b ^= mask;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Record, RecordKind, encode_record};

    /// A segment: header, then records (key, batch continues), values 20 bytes.
    fn segment(records: &[(&str, bool)]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = FileHeader {
            kind: FileKind::Data,
            segment_id: 7,
        }
        .encode()
        .to_vec();
        let mut starts = Vec::new();
        for (i, (key, continues)) in records.iter().enumerate() {
            starts.push(bytes.len());
            encode_record(
                &mut bytes,
                &Record {
                    seq: i as u64 + 1,
                    expiry_ms: 0,
                    kind: RecordKind::Put,
                    batch_continues: *continues,
                    key: key.as_bytes(),
                    value: &[b'v'; 20],
                },
            )
            .unwrap();
        }
        starts.push(bytes.len());
        (bytes, starts)
    }

    fn kept_keys(bytes: &[u8], s: &Salvage) -> Vec<String> {
        let mut keys = Vec::new();
        for r in &s.kept {
            let mut pos = r.start;
            while pos < r.end {
                let (rec, len) = decode_record(&bytes[pos..]).unwrap();
                keys.push(String::from_utf8(rec.key.to_vec()).unwrap());
                pos += len;
            }
        }
        keys
    }

    #[test]
    fn a_clean_file_changes_nothing() {
        let (bytes, _) = segment(&[("a", false), ("b", true), ("c", false)]);
        let s = salvage(&bytes, 7).unwrap();
        assert!(!s.changes_anything());
        assert_eq!(s.records_kept, 3);
        assert_eq!(kept_keys(&bytes, &s), ["a", "b", "c"]);
    }

    #[test]
    fn a_damaged_body_drops_only_its_record() {
        let (mut bytes, at) = segment(&[("a", false), ("b", false), ("c", false)]);
        bytes[at[1] + 40] ^= 1;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "c"]);
        assert_eq!(s.dropped.len(), 1);
        assert_eq!(s.dropped[0].range, at[1]..at[2]);
        assert!(s.dropped[0].reason.contains("checksum"));
    }

    #[test]
    fn a_header_with_one_flipped_bit_drops_only_its_record() {
        let (mut bytes, at) = segment(&[("a", false), ("b", false), ("c", false)]);
        bytes[at[1] + 10] ^= 1; // sequence number: header checksum fails
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "c"]);
        assert_eq!(s.dropped.len(), 1);
        assert_eq!(s.dropped[0].range, at[1]..at[2]);
        // Its batch flag is read from the repaired header: the rest of the batch goes.
        let (mut bytes, at) = segment(&[("a", false), ("b", true), ("c", false), ("d", false)]);
        bytes[at[1] + 10] ^= 1;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "d"]);
        assert_eq!(s.dropped[1].range, at[2]..at[3]);
    }

    #[test]
    fn a_badly_damaged_header_drops_its_record_and_the_unit_after_it() {
        let (mut bytes, at) = segment(&[("a", false), ("b", false), ("c", false), ("d", false)]);
        bytes[at[1] + 10] ^= 1; // two bits of the sequence number
        bytes[at[1] + 12] ^= 4;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "d"]);
        assert_eq!(s.dropped[0].range, at[1]..at[2]);
        assert_eq!(s.dropped[1].range, at[2]..at[3]);
        assert_eq!(s.dropped[1].records, 1);
        assert!(
            s.dropped[1]
                .reason
                .contains("may be the end of an atomic batch")
        );
    }

    #[test]
    fn damage_inside_a_batch_drops_the_whole_batch() {
        let batch = [
            ("a", false),
            ("b", true),
            ("c", true),
            ("d", false),
            ("e", false),
        ];
        // Body of the middle record: its header says the batch goes on.
        let (mut bytes, at) = segment(&batch);
        bytes[at[2] + 40] ^= 1;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "e"]);
        let dropped: Vec<_> = s.dropped.iter().map(|d| d.range.clone()).collect();
        assert_eq!(dropped, [at[1]..at[2], at[2]..at[3], at[3]..at[4]]);
        // Body of the last record: the batch ends there, the next unit is sound.
        let (mut bytes, at) = segment(&batch);
        bytes[at[3] + 40] ^= 1;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "e"]);
        // Header of the first record, badly damaged: the rest of the batch is dropped as
        // doubtful.
        let (mut bytes, at) = segment(&batch);
        bytes[at[1] + 10] ^= 0x11;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "e"]);
    }

    #[test]
    fn a_torn_tail_and_zeros_are_dropped_to_the_end() {
        let (bytes, at) = segment(&[("a", false), ("b", false)]);
        let torn = &bytes[..at[2] - 5];
        let s = salvage(torn, 7).unwrap();
        assert_eq!(kept_keys(torn, &s), ["a"]);
        assert_eq!(s.dropped[0].range, at[1]..torn.len());
        let mut zeros = bytes.clone();
        zeros.extend_from_slice(&[0u8; 600]);
        let s = salvage(&zeros, 7).unwrap();
        assert_eq!(kept_keys(&zeros, &s), ["a", "b"]);
        assert_eq!(s.dropped[0].range, at[2]..zeros.len());
        assert!(s.dropped[0].reason.contains("nothing valid follows"));
    }

    #[test]
    fn an_unfinished_batch_at_the_end_is_dropped() {
        let (bytes, at) = segment(&[("a", false), ("b", true), ("c", true)]);
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a"]);
        assert_eq!(s.dropped[0].range, at[1]..bytes.len());
        assert_eq!(s.dropped[0].records, 2);
    }

    #[test]
    fn a_bad_file_header_keeps_the_records_and_a_future_version_refuses() {
        let (mut bytes, _) = segment(&[("a", false), ("b", false)]);
        bytes[9] ^= 1; // segment id
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a", "b"]);
        assert_eq!(s.dropped[0].range, 0..FILE_HEADER_LEN);
        let s = salvage(&bytes[..5], 7).unwrap();
        assert_eq!(s.dropped[0].range, 0..5);
        assert!(salvage(&[], 7).unwrap().changes_anything());
        // A flipped version bit is damage; a header of another version is not ours to judge.
        let (mut bytes, _) = segment(&[("a", false)]);
        bytes[4] ^= 8;
        let s = salvage(&bytes, 7).unwrap();
        assert_eq!(kept_keys(&bytes, &s), ["a"]);
        assert!(s.dropped[0].reason.contains("version"), "{:?}", s.dropped);
        let mut future = FileHeader {
            kind: FileKind::Data,
            segment_id: 7,
        }
        .encode();
        future[4] = 2;
        let crc = crc32fast::hash(&future[..12]);
        future[12..].copy_from_slice(&crc.to_le_bytes());
        let mut bytes = future.to_vec();
        bytes.extend_from_slice(&[0x55; 100]);
        assert_eq!(salvage(&bytes, 7), Err(2));
    }
}
