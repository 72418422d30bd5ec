//! `open_dir_image`: `open` (and `repair`) on a whole directory image: up to three data
//! segments, each with or without a hint file — one written honestly from its data, one
//! damaged in a byte, or arbitrary bytes — plus leftover temporary files and hint files
//! whose data file is gone.
//!
//! Then, for an image that opens, the index snapshot: a clean close writes one, a byte of it
//! may be damaged (with its checksum recomputed, or not), and the next open must hold the
//! same contents (a damaged snapshot is refused) — or, for a forged one whose checksum
//! holds, still return only values some valid record of the key holds.
//!
//! Input: a flag byte (bits 0-1: segments minus one, at most three; bit 2: read with pread;
//! bit 3: a leftover `.tmp` file; bit 4: a hint file of a segment that does not exist;
//! bit 5: the snapshot round; bit 6: its damage keeps the checksum valid),
//! then per segment a hint byte (low two bits: none, honest, honest with a damaged byte,
//! arbitrary; bit 2 with "honest": forged, a valid checksum over entries that go wrong only
//! at the end), a u16 program length and that many bytes of a structured segment program
//! (`segment_program`), and what the hint choice needs: a u16 position and XOR mask, or a
//! length byte and the bytes; last, for the snapshot round, a u16 position and an XOR mask
//! (`0`: no damage).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use keg::format::{
    FILE_HEADER_LEN, FileHeader, FileKind, Hint, HintEntry, HintWriter, RecordKind, decode_record,
    record_len,
};
use keg::{Clock, Error, ManualClock, Options, SyncPolicy};

use super::reader::Reader;
use super::segment_model::{contents, model_segment, model_verdict};
use super::segment_program::run_program;

/// The manual clock's time: hint entries may carry any expiry.
const NOW_MS: u64 = 1_000_000_000;

/// One record the store may take a key's state from, and what reading it gives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// A tombstone.
    Deleted,
    /// A put: what `get` returns (a value, or `None` for a corruption error) and its expiry.
    Put(Option<Vec<u8>>, u64),
}

/// Every record of the complete batches of the valid prefix of a segment file, with offsets.
fn scanned_records(bytes: &[u8]) -> Vec<(usize, keg::format::Record<'_>)> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut pos = FILE_HEADER_LEN;
    while let Some(Ok((record, len))) = bytes
        .get(pos..)
        .filter(|r| !r.is_empty())
        .map(decode_record)
    {
        batch.push((pos, record));
        pos += len;
        if !record.batch_continues {
            out.append(&mut batch);
        }
    }
    out
}

/// The hint file `open` would have written for a whole, valid `bytes`.
fn honest_hint(bytes: &[u8], id: u32) -> Vec<u8> {
    let mut writer = HintWriter::new(id);
    for (offset, r) in scanned_records(bytes) {
        writer.push(&HintEntry {
            seq: r.seq,
            expiry_ms: r.expiry_ms,
            kind: r.kind,
            offset: offset as u32,
            value_len: r.value.len() as u32,
            key: r.key,
        });
    }
    writer.finish(bytes.len() as u64)
}

/// A hint whose checksum holds but whose entries go wrong only at the end: keys the data
/// never held first (more than `open` gathers before inserting), the honest entries, then
/// one past the data. `open` finds it bad only after loading entries from it, and must
/// leave nothing of it behind.
fn forged_hint(bytes: &[u8], id: u32) -> Vec<u8> {
    let honest = honest_hint(bytes, id);
    let parsed = Hint::parse(&honest, id).expect("an honest hint parses");
    let mut writer = HintWriter::new(id);
    let ghosts: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("ghost-{i:02}").into_bytes())
        .collect();
    let ghost = |key: &'static [u8], offset: usize| HintEntry {
        seq: 1 << 40,
        expiry_ms: 0,
        kind: RecordKind::Put,
        offset: offset as u32,
        value_len: 0,
        key,
    };
    for key in &ghosts {
        writer.push(&HintEntry {
            key,
            ..ghost(b"", FILE_HEADER_LEN)
        });
    }
    for entry in parsed.entries() {
        writer.push(&entry.expect("an honest entry"));
    }
    writer.push(&ghost(b"past-the-end", bytes.len()));
    writer.finish(bytes.len() as u64)
}

/// What reading the put that a hint entry points at gives: the store reads exactly the
/// record length the entry implies and checks it decodes to a put of the entry's key.
fn read_through_hint(data: &[u8], entry: &HintEntry<'_>) -> Option<Vec<u8>> {
    let start = entry.offset as usize;
    let len = record_len(entry.key.len(), entry.value_len as usize);
    let bytes = data.get(start..start.checked_add(len)?)?;
    match decode_record(bytes) {
        Ok((r, n)) if n == len && r.key == entry.key && r.kind == RecordKind::Put => {
            Some(r.value.to_vec())
        }
        _ => None,
    }
}

/// Whether `open` reads segment `id` from `hint` (the rules of `load_hint`).
fn hint_is_used(hint: &[u8], id: u32, data_len: usize) -> bool {
    let Ok(parsed) = Hint::parse(hint, id) else {
        return false;
    };
    parsed.data_len == data_len as u64
        && parsed.entries().all(|e| {
            e.is_ok_and(|e| {
                u64::from(e.offset) + record_len(e.key.len(), e.value_len as usize) as u64
                    <= data_len as u64
            })
        })
}

/// Every (key, value) of a valid put anywhere in `bytes` (at any offset).
fn every_valid_put(bytes: &[u8], out: &mut BTreeSet<(Vec<u8>, Vec<u8>)>) {
    for at in 0..bytes.len() {
        if let Ok((r, _)) = decode_record(&bytes[at..])
            && r.kind == RecordKind::Put
        {
            out.insert((r.key.to_vec(), r.value.to_vec()));
        }
    }
}

fn options(pread: bool) -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .use_mmap(!pread)
        .clock(Arc::new(ManualClock::new(NOW_MS)) as Arc<dyn Clock>)
        .expiry_cycle_interval(std::time::Duration::ZERO)
}

/// Per key listed by `keys()`: what `get` returns (`Ok(None)` kept as it is: only a forged
/// snapshot, whose slot for the key is in the wrong place, makes a listed key unfindable),
/// with corruption errors as `Err(())`, and the key's expiry.
type Readings = BTreeMap<Vec<u8>, (Result<Option<Vec<u8>>, ()>, Option<u64>)>;

/// Every listed key's reading.
fn readings(store: &keg::Store) -> Readings {
    let mut out = BTreeMap::new();
    for key in store.keys() {
        let value = match store.get(&key) {
            Ok(value) => Ok(value),
            Err(Error::Corrupted { .. }) => Err(()),
            Err(e) => panic!("get({key:?}) failed with {e:?}"),
        };
        let expiry = store.expires_at(&key).expect("expires_at");
        out.insert(key, (value, expiry));
    }
    out
}

/// The snapshot round on a store directory that opens: see the module documentation.
fn check_snapshot_round(
    dir: &Path,
    pread: bool,
    at: u16,
    xor: u8,
    forge: bool,
    valid_puts: &BTreeSet<(Vec<u8>, Vec<u8>)>,
) {
    let store = options(pread)
        .index_snapshot_min_bytes(0)
        .open(dir)
        .expect("the image opened before");
    let before = readings(&store);
    assert!(
        before.values().all(|(v, _)| !matches!(v, Ok(None))),
        "keys() lists a key get() does not find"
    );
    store.close().expect("close");
    let path = dir.join("index.snapshot");
    let mut snapshot = std::fs::read(&path).expect("a clean close writes a snapshot");
    if xor != 0 {
        let at = usize::from(at) % snapshot.len();
        snapshot[at] ^= xor;
        if forge {
            let body = snapshot.len() - 4;
            let crc = crc32fast::hash(&snapshot[..body]);
            snapshot[body..].copy_from_slice(&crc.to_le_bytes());
        }
        std::fs::write(&path, &snapshot).expect("write snapshot");
    }
    let store = options(pread).open(dir).expect("open with a snapshot");
    let after = readings(&store);
    if xor == 0 {
        assert!(store.stats().opened_from_index_snapshot);
    }
    if xor == 0 || !forge {
        assert_eq!(after, before, "a snapshot changed what the store holds");
        return;
    }
    for (key, (value, _)) in after {
        if let Ok(Some(value)) = value {
            assert!(
                valid_puts.contains(&(key.clone(), value.clone())),
                "through a forged snapshot {key:?} holds {value:?}, which no valid record puts"
            );
        }
    }
}

fn write_image(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write file");
    }
}

/// `open` of the image succeeds exactly when every segment it must scan is consistent, and
/// holds what the hints and valid records say (reads through a hint give the record there,
/// or a corruption error); leftovers are removed. `repair` of the image never panics, and
/// leaves a clean store holding only values that valid records of the image hold.
pub fn check_open_dir_image(data: &[u8]) {
    let mut r = Reader::new(data);
    let flags = r.byte_or_zero();
    let count = usize::from(flags & 3).min(2) + 1;
    let pread = flags & 4 != 0;
    let mut files = BTreeMap::new();
    let mut segments = Vec::new();
    for i in 0..count {
        let id = u32::try_from(i + 1).expect("small id");
        let choice_byte = r.byte_or_zero();
        let choice = choice_byte & 3;
        let program_len = usize::from(r.u16_or_zero());
        let mut bytes = FileHeader {
            kind: FileKind::Data,
            segment_id: id,
        }
        .encode()
        .to_vec();
        bytes.extend(run_program(r.take(program_len), id));
        let hint = match choice {
            0 => None,
            1 if choice_byte & 4 != 0 => Some(forged_hint(&bytes, id)),
            1 => Some(honest_hint(&bytes, id)),
            2 => {
                let mut hint = honest_hint(&bytes, id);
                let at = usize::from(r.u16_or_zero()) % hint.len();
                hint[at] ^= r.byte_or_zero().max(1);
                Some(hint)
            }
            _ => {
                let len = usize::from(r.byte_or_zero());
                Some(r.take(len).to_vec())
            }
        };
        let name = format!("{id:010}");
        files.insert(format!("{name}.data"), bytes.clone());
        if let Some(hint) = &hint {
            files.insert(format!("{name}.hint"), hint.clone());
        }
        segments.push((id, bytes, hint));
    }
    if flags & 8 != 0 {
        files.insert(
            "0000000009.data.tmp".into(),
            b"an interrupted merge".to_vec(),
        );
    }
    if flags & 16 != 0 {
        let orphan = honest_hint(&segments[0].1, 8);
        files.insert("0000000008.hint".into(), orphan);
    }

    // The model: which segments are read from hints, and the sources of each key.
    let mut verdict_ok = true;
    // Forged collection records or hint entries: the string model does not apply.
    let mut collections = false;
    let mut max_seq = 0u64;
    let mut best: BTreeMap<Vec<u8>, (u64, BTreeSet<Source>)> = BTreeMap::new();
    let mut offer = |key: &[u8], seq: u64, source: Source| {
        let slot = best.entry(key.to_vec()).or_insert((seq, BTreeSet::new()));
        if seq > slot.0 || slot.1.is_empty() {
            *slot = (seq, BTreeSet::new());
        }
        if seq == slot.0 {
            slot.1.insert(source);
        }
    };
    for (i, (id, bytes, hint)) in segments.iter().enumerate() {
        let newest = i + 1 == segments.len();
        if let Some(hint) = hint.as_ref().filter(|h| hint_is_used(h, *id, bytes.len())) {
            let parsed = Hint::parse(hint, *id).expect("checked");
            for e in parsed.entries().map(|e| e.expect("checked")) {
                max_seq = max_seq.max(e.seq);
                let source = match e.kind {
                    RecordKind::Delete => Source::Deleted,
                    RecordKind::Put => Source::Put(read_through_hint(bytes, &e), e.expiry_ms),
                    RecordKind::Collection | RecordKind::ElementPut | RecordKind::ElementDelete => {
                        collections = true;
                        continue;
                    }
                };
                offer(e.key, e.seq, source);
            }
            continue;
        }
        let model = model_segment(bytes, *id);
        collections |= model.collections;
        if model_verdict(bytes, &model, newest, false).is_none() {
            verdict_ok = false;
        }
        for record in model.batches.iter().flatten() {
            max_seq = max_seq.max(record.seq);
            let source = match &record.value {
                None => Source::Deleted,
                Some(v) => Source::Put(Some(v.clone()), 0),
            };
            offer(&record.key, record.seq, source);
        }
    }

    let base = tempfile::Builder::new()
        .prefix("keg-fuzz-")
        .tempdir()
        .expect("temp dir");
    let dir = base.path().join("store");
    write_image(&dir, &files);
    if collections {
        if let Err(e) = options(pread).open(&dir) {
            assert!(
                matches!(
                    e,
                    Error::Corrupted { .. } | Error::UnsupportedVersion { .. }
                ),
                "open failed with {e:?}"
            );
        }
        return;
    }
    match options(pread).open(&dir) {
        Ok(store) => {
            assert!(verdict_ok, "open accepted a segment the rules call corrupt");
            let check_reads = |store: &keg::Store, when: &str| {
                let mut keys = store.keys();
                keys.sort();
                for key in &keys {
                    let (_, sources) = best
                        .get(key)
                        .unwrap_or_else(|| panic!("key {key:?} from nowhere ({when})"));
                    let got = match store.get(key) {
                        Ok(Some(v)) => Some(v),
                        Err(Error::Corrupted { .. }) => None,
                        other => panic!("get({key:?}) = {other:?} ({when})"),
                    };
                    let expiry = store.expires_at(key).expect("expires_at").unwrap_or(0);
                    assert!(
                        sources.contains(&Source::Put(got.clone(), expiry)),
                        "get({key:?}) = {got:?} (expiry {expiry}) {when}; the newest records say {sources:?}"
                    );
                }
                for (key, (_, sources)) in &best {
                    let visible =
                        |s: &Source| matches!(s, Source::Put(_, e) if *e == 0 || *e > NOW_MS);
                    if !keys.contains(key) {
                        assert!(
                            !sources.iter().all(visible),
                            "key {key:?} is missing {when}; the newest records say {sources:?}"
                        );
                    }
                }
            };
            check_reads(&store, "after open");
            assert_eq!(store.stats().last_seq, max_seq);
            for name in std::fs::read_dir(&dir)
                .expect("list")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            {
                assert!(!name.ends_with(".tmp"), "leftover {name} kept");
                assert_ne!(name, "0000000008.hint", "orphan hint kept");
            }
            // The store may have opened from hints without reading damaged data behind them:
            // a merge must then report the damage, never drop what follows it.
            match store.merge() {
                Ok(_) | Err(Error::Corrupted { .. }) => {}
                Err(e) => panic!("merge failed with {e:?}"),
            }
            check_reads(&store, "after a merge");
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Corrupted { .. } | Error::UnsupportedVersion { .. }
                ),
                "open failed with {e:?}"
            );
            assert!(!verdict_ok, "open refused an image the rules accept: {e}");
        }
    }

    let mut valid_puts = BTreeSet::new();
    for (_, bytes, _) in &segments {
        every_valid_put(bytes, &mut valid_puts);
    }
    if verdict_ok && flags & 32 != 0 {
        let (at, xor) = (r.u16_or_zero(), r.byte_or_zero());
        check_snapshot_round(&dir, pread, at, xor, flags & 64 != 0, &valid_puts);
    }

    // Repair of the untouched image.
    let copy = base.path().join("copy");
    write_image(&copy, &files);
    match keg::repair(&copy) {
        Ok(report) => {
            let check = keg::check(&copy).expect("check after repair");
            assert!(check.is_clean(), "not clean after repair: {report:?}");
            let store = options(pread).open(&copy).expect("open after repair");
            for (key, value) in contents(&store) {
                assert!(
                    valid_puts.contains(&(key.clone(), value.clone())),
                    "after repair {key:?} holds {value:?}, which no valid record of the image puts"
                );
            }
        }
        Err(Error::UnsupportedVersion { .. }) => {}
        Err(e) => panic!("repair failed: {e}"),
    }
}
