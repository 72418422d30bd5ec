//! `batch_decode`: atomic batches as recovery decodes them.
//!
//! The input describes units — each an atomic batch of one to four records, the "batch
//! continues" flag on all but the last — written as one data segment with consecutive
//! sequence numbers. Every put has a key of its own (so that each unit's effect can be
//! seen); deletes remove keys of earlier units. The file is then cut at an input-chosen
//! byte and an input-chosen tail appended (zeros, or literal bytes that may even restore
//! what was cut).
//!
//! Input: a unit count byte; per unit a byte whose low two bits are its record count minus
//! one, then per record a byte (bit 7: a delete of an earlier unit's key, the rest selects
//! it; else a put whose value length is the byte mod 64); then the cut (u16 LE, into the
//! records; `0xffff`: after all of them), a tail mode byte (0: none, 1: zeros, else
//! literal), a tail length byte, and for literal tails the tail bytes.

use std::collections::BTreeMap;

use keg::format::{
    FILE_HEADER_LEN, FileHeader, FileKind, Record, RecordKind, decode_record, encode_record,
};
use keg::{Error, Options, SyncPolicy};

use super::reader::Reader;
use super::segment_model::{contents, model_segment, model_verdict, segment_path};

/// A unit as written: its byte range in the file and its records.
struct Unit {
    start: usize,
    end: usize,
    /// (key, value) of its puts; `None` values are deletes.
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The units an input describes, encoded after a file header; returns the file and units.
fn build(r: &mut Reader<'_>) -> (Vec<u8>, Vec<Unit>) {
    let mut file = FileHeader {
        kind: FileKind::Data,
        segment_id: 1,
    }
    .encode()
    .to_vec();
    let mut units: Vec<Unit> = Vec::new();
    let mut put_keys: Vec<Vec<u8>> = Vec::new();
    let mut seq = 0u64;
    for u in 0..r.byte_or_zero() % 32 {
        let count = usize::from(r.byte_or_zero() & 3) + 1;
        let start = file.len();
        let mut ops = Vec::new();
        for i in 0..count {
            let b = r.byte_or_zero();
            let (key, value) = if b & 0x80 != 0 && !put_keys.is_empty() {
                (
                    put_keys[usize::from(b & 0x7f) % put_keys.len()].clone(),
                    None,
                )
            } else {
                let key = format!("u{u}r{i}").into_bytes();
                let mut value = format!("value of u{u}r{i}:").into_bytes();
                value.resize(value.len() + usize::from(b % 64), b'.');
                put_keys.push(key.clone());
                (key, Some(value))
            };
            seq += 1;
            encode_record(
                &mut file,
                &Record {
                    seq,
                    expiry_ms: 0,
                    kind: if value.is_some() {
                        RecordKind::Put
                    } else {
                        RecordKind::Delete
                    },
                    batch_continues: i + 1 < count,
                    key: &key,
                    value: value.as_deref().unwrap_or(&[]),
                },
            )
            .expect("small records encode");
            ops.push((key, value));
        }
        units.push(Unit {
            start,
            end: file.len(),
            ops,
        });
    }
    (file, units)
}

/// Whether the state `got` shows each unit all or nothing: a unit with some of its puts
/// visible (and not overwritten or deleted by a later unit that is also visible) must show
/// all of them.
fn assert_all_or_nothing(got: &BTreeMap<Vec<u8>, Vec<u8>>, units: &[Unit], what: &str) {
    for (n, unit) in units.iter().enumerate() {
        let later_deletes: Vec<&Vec<u8>> = units[n + 1..]
            .iter()
            .flat_map(|u| u.ops.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k))
            .collect();
        // The unit's net effect: a key it puts and then deletes itself shows nothing.
        let mut net: BTreeMap<&Vec<u8>, Option<&Vec<u8>>> = BTreeMap::new();
        for (k, v) in &unit.ops {
            net.insert(k, v.as_ref());
        }
        let puts: Vec<bool> = net
            .iter()
            .filter(|(k, v)| v.is_some() && !later_deletes.contains(k))
            .map(|(k, v)| got.get(*k) == *v)
            .collect();
        assert!(
            puts.iter().all(|&p| p) || puts.iter().all(|&p| !p),
            "{what}: unit {n} (bytes {}..{}) is half applied: {puts:?}",
            unit.start,
            unit.end
        );
    }
}

/// `open` of a cut batch log holds exactly its complete batches, all or nothing each, and
/// fails only when the tail holds a valid record (damage in mid-file); `repair` of the same
/// bytes keeps whole batches only.
pub fn check_batch_decode(data: &[u8]) {
    let mut r = Reader::new(data);
    let (full, units) = build(&mut r);
    let records = full.len() - FILE_HEADER_LEN;
    let cut = match r.u16_or_zero() {
        u16::MAX => full.len(),
        at => FILE_HEADER_LEN + usize::from(at) % (records + 1),
    };
    let mode = r.byte_or_zero();
    let tail_len = usize::from(r.byte_or_zero());
    let mut file = full[..cut].to_vec();
    match mode {
        0 => {}
        1 => file.resize(cut + tail_len, 0),
        _ => file.extend_from_slice(r.take(tail_len)),
    }

    // A tail that holds a valid record other than the one cut there (libFuzzer can forge
    // checksums) writes whatever it likes: then only the model comparison holds.
    let forged = (FILE_HEADER_LEN..file.len()).any(|at| {
        decode_record(&file[at..]).is_ok_and(|(_, len)| {
            at + len > cut && full.get(at..at + len) != file.get(at..at + len)
        })
    });
    let model = model_segment(&file, 1);
    if model.collections {
        // A forged collection record: the string model below does not apply.
        return;
    }
    let verdict = model_verdict(&file, &model, true, false);
    let dir = tempfile::Builder::new()
        .prefix("keg-fuzz-")
        .tempdir()
        .expect("temp dir");
    let path = segment_path(dir.path(), 1);
    std::fs::write(&path, &file).expect("write segment");
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).expect("mkdir");
    std::fs::write(segment_path(&copy, 1), &file).expect("write segment");

    let options = || {
        Options::new()
            .sync_policy(SyncPolicy::Never)
            .expiry_cycle_interval(std::time::Duration::ZERO)
    };
    match options().open(dir.path()) {
        Ok(store) => {
            assert!(
                verdict.is_some(),
                "open accepted a log the rules call corrupt"
            );
            let got = contents(&store);
            let mut want = BTreeMap::new();
            for record in model.batches.iter().flatten() {
                match &record.value {
                    Some(v) => want.insert(record.key.clone(), v.clone()),
                    None => want.remove(&record.key),
                };
            }
            assert_eq!(got, want, "open holds other than the complete batches");
            if !forged {
                assert_all_or_nothing(&got, &units, "open");
            }
        }
        Err(e) => {
            assert!(matches!(e, Error::Corrupted { .. }), "open failed: {e:?}");
            assert!(
                verdict.is_none(),
                "open refused a log the rules accept: {e}"
            );
        }
    }

    let report = keg::repair(&copy).unwrap_or_else(|e| panic!("repair failed: {e}"));
    let check = keg::check(&copy).expect("check");
    assert!(check.is_clean(), "not clean after repair: {report:?}");
    let store = options().open(&copy).expect("open after repair");
    if !forged {
        assert_all_or_nothing(&contents(&store), &units, "repair");
    }
}
