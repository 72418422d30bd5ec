//! Damage in every kind of file — sealed data segments with and without hint files, the
//! newest segment, hint files, the index snapshot, the lock file — at many offsets: single bit flips and
//! zeroed ranges. For each, on a copy of one store:
//!
//! - `check` runs without panicking;
//! - `open` either succeeds and every read is right — the value the log says (the highest
//!   sequence number of the key among the records not cut off as a torn tail), or a
//!   `Corrupted` error naming the damaged file and a record that overlaps the damage (when
//!   the index came from a hint file and the data behind it is damaged) — or fails with
//!   `Corrupted` naming the damaged file and an offset at or before the damage (or
//!   `UnsupportedVersion` for a damaged version field). Never a wrong value, never a panic;
//! - a merge of the opened store then succeeds or reports the damaged file, and every read
//!   is still right (or reports the damage as above);
//! - `repair` then leaves a store that `check` finds clean and that holds exactly what the
//!   log says without the byte ranges the report lists, and keeps the damaged original in
//!   `lost+found` (or, for a version field too damaged to tell from another format's,
//!   refuses and changes nothing); a second repair changes nothing.
//!
//! `KEG_CORRUPTION_OFFSETS=all` damages every byte of every file instead of a sample.

mod common;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::rng::{Rng, seed};
use common::workload::{Generator, Mix, T0, perform};
use keg::format::{FILE_HEADER_LEN, RecordKind, decode_record};
use keg::{Clock, Error, ManualClock, MergePolicy, Options, Store, SyncPolicy};

/// The version field of a file header.
const VERSION_FIELD: Range<u64> = 4..6;

/// Offsets sampled per file (besides the headers and record boundaries).
const SAMPLED_OFFSETS: usize = 24;

/// A record of the undamaged store, where it is and what it says.
#[derive(Clone, Debug)]
struct Rec {
    file: String,
    at: Range<u64>,
    seq: u64,
    key: Vec<u8>,
    /// `None` for a tombstone.
    value: Option<(Vec<u8>, Option<u64>)>,
}

type Contents = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

#[derive(Clone, Copy, Debug)]
enum Damage {
    Flip { offset: u64, bit: u8 },
    Zero { offset: u64, len: u64 },
}

impl Damage {
    fn range(&self, file_len: u64) -> Range<u64> {
        match *self {
            Damage::Flip { offset, .. } => offset..offset + 1,
            Damage::Zero { offset, len } => offset..(offset + len).min(file_len),
        }
    }

    fn apply(&self, path: &Path) {
        let mut bytes = std::fs::read(path).unwrap();
        match *self {
            Damage::Flip { offset, bit } => bytes[offset as usize] ^= 1 << bit,
            Damage::Zero { offset, len } => {
                let end = ((offset + len) as usize).min(bytes.len());
                bytes[offset as usize..end].fill(0);
            }
        }
        std::fs::write(path, bytes).unwrap();
    }
}

fn options() -> Options {
    Options::new()
        .sync_policy(SyncPolicy::Never)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        // Every clean close writes an index snapshot, so one is damaged too, and the opens
        // of damaged copies meet a snapshot that may no longer match.
        .index_snapshot_min_bytes(0)
        .clock(Arc::new(ManualClock::new(T0)) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
}

/// A store of several segments: merged ones with hint files, later ones without, and the
/// newest; every kind of write, batches included.
fn build(dir: &Path, seed: u64) {
    let store = options().open(dir).unwrap();
    let mix = Mix {
        merges: false,
        syncs: false,
        max_value: 300,
        collections: false,
    };
    let mut generator = Generator::new(seed, "", mix);
    for step in generator.steps(150) {
        perform(&store, &step).unwrap();
    }
    store.merge().unwrap();
    for step in generator.steps(60) {
        perform(&store, &step).unwrap();
    }
    store.close().unwrap();
}

/// Every record of every data file, read with the format's decoder.
fn records(dir: &Path) -> Vec<Rec> {
    let mut out = Vec::new();
    for path in common::segment_files(dir) {
        let bytes = std::fs::read(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut pos = FILE_HEADER_LEN;
        while pos < bytes.len() {
            let (r, len) = decode_record(&bytes[pos..]).expect("the undamaged store is valid");
            out.push(Rec {
                file: file.clone(),
                at: pos as u64..(pos + len) as u64,
                seq: r.seq,
                key: r.key.to_vec(),
                value: (r.kind == RecordKind::Put)
                    .then(|| (r.value.to_vec(), (r.expiry_ms != 0).then_some(r.expiry_ms))),
            });
            pos += len;
        }
    }
    out
}

fn overlaps(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

/// For each key, the newest record not in a dropped range.
fn newest<'a>(records: &'a [Rec], dropped: &[(String, Range<u64>)]) -> BTreeMap<&'a [u8], &'a Rec> {
    let mut newest: BTreeMap<&[u8], &Rec> = BTreeMap::new();
    for r in records {
        if dropped
            .iter()
            .any(|(file, range)| *file == r.file && overlaps(range, &r.at))
        {
            continue;
        }
        if newest
            .get(r.key.as_slice())
            .is_none_or(|old| old.seq < r.seq)
        {
            newest.insert(&r.key, r);
        }
    }
    newest
}

/// What the store must hold: the log without the dropped ranges.
fn expected(records: &[Rec], dropped: &[(String, Range<u64>)]) -> Contents {
    newest(records, dropped)
        .into_iter()
        .filter_map(|(k, r)| r.value.clone().map(|v| (k.to_vec(), v)))
        .collect()
}

/// Checks every read of an opened store: right, or a corruption error about the damage.
fn check_reads(
    store: &Store,
    records: &[Rec],
    dropped: &[(String, Range<u64>)],
    damaged: &(String, Range<u64>),
) -> Result<(), String> {
    let newest = newest(records, dropped);
    let want = expected(records, dropped);
    let mut keys = store.keys();
    keys.sort();
    if keys != want.keys().cloned().collect::<Vec<_>>() {
        return Err(format!(
            "keys() lists {} keys, the log {}",
            keys.len(),
            want.len()
        ));
    }
    for (key, (value, expiry)) in &want {
        let name = String::from_utf8_lossy(key);
        match store.get(key) {
            Ok(Some(v)) if v == *value => {}
            Ok(other) => return Err(format!("get({name}) = {other:?}: a wrong value")),
            Err(Error::Corrupted { file, offset, .. }) => {
                let r = newest[key.as_slice()];
                let named = file.file_name().unwrap().to_string_lossy();
                if named != damaged.0 || offset != r.at.start || !overlaps(&r.at, &damaged.1) {
                    return Err(format!(
                        "get({name}) reports corruption in {named} at {offset}, not the damaged record"
                    ));
                }
            }
            Err(e) => return Err(format!("get({name}) failed: {e}")),
        }
        if store.expires_at(key).unwrap() != *expiry {
            return Err(format!("expires_at({name}) is wrong"));
        }
    }
    Ok(())
}

/// One damaged copy: open, read, repair, reopen.
fn damage_and_check(
    pristine: &Path,
    work: &Path,
    records: &[Rec],
    file: &str,
    damage: Damage,
) -> Result<(), String> {
    copy_dir(pristine, work);
    let path = work.join(file);
    let original_len = std::fs::metadata(&path).unwrap().len();
    damage.apply(&path);
    let damaged = (file.to_owned(), damage.range(original_len));
    let _ = keg::check(work).map_err(|e| format!("check failed: {e}"))?;
    let newest_data = common::newest_segment(work);
    let newest_name = newest_data
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let newest_len = std::fs::metadata(&newest_data).unwrap().len();

    let mut dropped = Vec::new();
    match options().open(work) {
        Ok(store) => {
            let now_len = std::fs::metadata(&newest_data).unwrap().len();
            if now_len < newest_len {
                dropped.push((newest_name.clone(), now_len..newest_len));
            }
            check_reads(&store, records, &dropped, &damaged)?;
            // The store may have opened from hints or the snapshot without reading the
            // damaged data. A merge over it must not lose what the damage did not touch:
            // it succeeds, or it reports the damaged file and keeps it; the reads stay right.
            match store.merge() {
                Ok(_) => {}
                Err(Error::Corrupted { file: bad, .. })
                    if bad.file_name().is_some_and(|n| n.to_string_lossy() == file) => {}
                Err(e) => return Err(format!("merge of the damaged store failed with {e}")),
            }
            check_reads(&store, records, &dropped, &damaged)
                .map_err(|e| format!("after a merge: {e}"))?;
            store.close().unwrap();
        }
        Err(Error::Corrupted {
            file: bad, offset, ..
        }) => {
            let named = bad.file_name().unwrap().to_string_lossy();
            if named != file || offset > damaged.1.end {
                return Err(format!("open reports {named} at {offset}"));
            }
        }
        Err(Error::UnsupportedVersion { file: bad, .. }) => {
            if !bad.ends_with(file) || !overlaps(&damaged.1, &VERSION_FIELD) {
                return Err(format!(
                    "open reports an unsupported version in {}",
                    bad.display()
                ));
            }
        }
        Err(e) => return Err(format!("open failed with {e:?}")),
    }

    let before_repair = std::fs::read(&path).unwrap_or_default();
    let report = match keg::repair(work) {
        Ok(report) => report,
        // A version field damaged beyond telling it from another format's: repair leaves
        // such a file alone.
        Err(Error::UnsupportedVersion { file: bad, .. })
            if bad.ends_with(file) && overlaps(&damaged.1, &VERSION_FIELD) =>
        {
            if std::fs::read(&path).unwrap() != before_repair {
                return Err("repair refused a file but changed it".into());
            }
            return Ok(());
        }
        Err(e) => return Err(format!("repair failed: {e}")),
    };
    for d in &report.dropped {
        let name = d.file.file_name().unwrap().to_string_lossy().into_owned();
        if name != file {
            return Err(format!(
                "repair dropped bytes of {name}, not of the damaged file"
            ));
        }
        dropped.push((name, d.offset..d.offset + d.len));
    }
    if report.rewritten.iter().any(|p| p.ends_with(file)) {
        let kept = report.lost_and_found.as_ref().unwrap().join(file);
        if std::fs::read(kept).unwrap() != before_repair {
            return Err("the original is not kept byte for byte in lost+found".into());
        }
    }
    let verdict = keg::check(work).unwrap();
    if !verdict.is_clean() {
        return Err(format!("not clean after repair: {:?}", verdict.segments));
    }
    let store = options()
        .open(work)
        .map_err(|e| format!("open after repair: {e}"))?;
    let got: Contents = store
        .keys()
        .into_iter()
        .map(|k| {
            let v = store.get(&k).unwrap().unwrap();
            let e = store.expires_at(&k).unwrap();
            (k, (v, e))
        })
        .collect();
    if got != expected(records, &dropped) {
        return Err(format!(
            "after repair the store differs from the log without {:?}",
            report.dropped
        ));
    }
    drop(store);
    if keg::repair(work).unwrap().changed() {
        return Err("a second repair changed something".into());
    }
    std::fs::remove_dir_all(work).unwrap();
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Where to damage a file: header bytes, the first bytes and the middle of each record
/// (for data files), the trailer (for hints), and random offsets.
fn offsets(file: &str, len: u64, records: &[Rec], rng: &mut Rng) -> Vec<u64> {
    if std::env::var("KEG_CORRUPTION_OFFSETS").is_ok_and(|v| v == "all") {
        return (0..len).collect();
    }
    let mut at = vec![0, 4, 6, 7, 9, 13];
    for r in records.iter().filter(|r| r.file == file) {
        if rng.chance(1, 2) {
            at.extend([
                r.at.start,
                r.at.start + 10,
                r.at.start + 26,
                (r.at.start + r.at.end) / 2,
            ]);
        }
    }
    at.extend([len.saturating_sub(1), len.saturating_sub(12)]);
    at.extend((0..SAMPLED_OFFSETS).map(|_| rng.below(len.max(1))));
    at.retain(|&o| o < len);
    at.sort_unstable();
    at.dedup();
    at
}

#[test]
fn damage_in_any_file_is_reported_or_harmless_and_repair_salvages_the_rest() {
    let seed = seed(0xc0_11a7);
    let mut rng = Rng::new(seed);
    let base = common::memory_tempdir();
    let pristine = base.path().join("pristine");
    build(&pristine, seed);
    let records = records(&pristine);
    let mut files: Vec<String> = std::fs::read_dir(&pristine)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.iter().any(|f| f.ends_with(".hint")), "{files:?}");
    assert!(files.iter().any(|f| f == "index.snapshot"), "{files:?}");
    assert!(
        files.iter().filter(|f| f.ends_with(".data")).count() >= 4,
        "{files:?}"
    );

    let mut cases = 0;
    for file in &files {
        let len = std::fs::metadata(pristine.join(file)).unwrap().len();
        for offset in offsets(file, len, &records, &mut rng) {
            let damages = [
                Damage::Flip {
                    offset,
                    bit: rng.below(8) as u8,
                },
                Damage::Zero {
                    offset,
                    len: [4, 33, 200][rng.index(3)],
                },
            ];
            for damage in damages {
                cases += 1;
                let work = base.path().join(format!("case-{cases}"));
                if let Err(problem) = damage_and_check(&pristine, &work, &records, file, damage) {
                    panic!("{damage:?} in {file} (seed {seed}): {problem}");
                }
            }
        }
    }
    eprintln!(
        "{cases} damaged copies of {} files checked (seed {seed})",
        files.len()
    );
}
