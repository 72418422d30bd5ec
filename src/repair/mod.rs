//! [`repair`]: salvage every valid record of a damaged store, and keep everything else aside.
//!
//! `open` refuses a store with damage anywhere but a torn tail (it never guesses). `repair`
//! is the explicit salvage: it rewrites each damaged data segment with exactly its complete,
//! valid atomic units (see `salvage.rs` for what is dropped around damage), sets aside hint
//! files that no longer describe their data file, and leaves a store that `check` finds
//! clean and `open` opens. It never destroys a byte: the original of every file it changes
//! is kept under `lost+found/repair-N/` in the store directory, with a `REPORT.txt` that
//! lists what was dropped.

mod salvage;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{FileHeader, FileKind};
use crate::fs::{self, Io};
use crate::inspect::{check_segments, with_segment_bytes};
use crate::lock::DirLock;
use crate::segment::{data_path, list_segment_ids, temp_path};
use salvage::{Salvage, salvage};

/// Name of the directory, inside the store directory, where repair keeps the originals.
pub const LOST_AND_FOUND: &str = "lost+found";

/// A byte range that [`repair`] removed from a data file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DroppedRange {
    /// The data file (its original is kept in [`RepairReport::lost_and_found`]).
    pub file: PathBuf,
    /// Where the range starts in the original file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Valid records in the range, dropped to keep an atomic batch all-or-nothing.
    pub records: u64,
    /// Why it was dropped.
    pub reason: String,
}

/// What [`repair`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// Data segments examined.
    pub segments: usize,
    /// Records in the repaired store's data files.
    pub records_kept: u64,
    /// Data files rewritten without their damaged bytes.
    pub rewritten: Vec<PathBuf>,
    /// Hint files set aside because they no longer describe their data file (the store
    /// writes new ones), and the index snapshot once any segment was rewritten.
    pub hints_set_aside: Vec<PathBuf>,
    /// Every byte range dropped, in file order.
    pub dropped: Vec<DroppedRange>,
    /// Where the originals of changed files are kept, with `REPORT.txt`; `None` when
    /// nothing changed.
    pub lost_and_found: Option<PathBuf>,
}

impl RepairReport {
    /// Whether repair changed anything.
    pub fn changed(&self) -> bool {
        !self.rewritten.is_empty() || !self.hints_set_aside.is_empty()
    }

    /// Bytes dropped from data files in all.
    pub fn bytes_dropped(&self) -> u64 {
        self.dropped.iter().map(|d| d.len).sum()
    }
}

/// Repairs the store in `dir`, which must not be open (fails with [`Error::Locked`]).
///
/// Keeps every valid record that belongs to a complete atomic unit, in its file and with
/// its sequence number, and drops everything else: damaged bytes, the rest of a batch that
/// damage cut, a torn tail. A dropped record may have been a key's newest: the key then
/// shows its previous value, or is gone. Hint files that do not match their data file are
/// set aside. Afterwards [`check`](crate::check) finds the store clean and it opens.
///
/// Nothing is deleted: the original of each changed file goes to
/// `lost+found/repair-N/` ([`RepairReport::lost_and_found`]), with a `REPORT.txt`. Each file
/// is replaced atomically (written aside, fsynced, renamed), so a crash during repair
/// leaves every file either as it was or repaired. A data file of an unknown format version
/// fails the repair with [`Error::UnsupportedVersion`] before anything changes. Repairing a
/// sound store changes nothing.
pub fn repair(dir: &Path) -> Result<RepairReport> {
    repair_with(dir, &Io::default())
}

/// [`repair`] with its file operations going through `io` (tests inject crashes there).
fn repair_with(dir: &Path, io: &Io) -> Result<RepairReport> {
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            "open store directory",
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    let _lock = DirLock::acquire(dir)?;
    let ids = list_segment_ids(dir)?;

    // Judge every file before changing any.
    let mut damaged = Vec::new();
    let mut report = RepairReport {
        segments: ids.len(),
        ..RepairReport::default()
    };
    for &id in &ids {
        let path = data_path(dir, id);
        let salvaged =
            with_segment_bytes(&path, |bytes| salvage(bytes, id))?.map_err(|version| {
                Error::UnsupportedVersion {
                    file: path.clone(),
                    version,
                }
            })?;
        report.records_kept += salvaged.records_kept;
        if salvaged.changes_anything() {
            damaged.push((id, path, salvaged));
        }
    }

    let mut aside = None;
    for (id, path, salvaged) in &damaged {
        let keep = set_aside_dir(io, dir, &mut aside)?;
        rewrite(io, dir, &keep, *id, path, salvaged)?;
        report.rewritten.push(path.clone());
        report
            .dropped
            .extend(salvaged.dropped.iter().map(|d| DroppedRange {
                file: path.clone(),
                offset: d.range.start as u64,
                len: (d.range.end - d.range.start) as u64,
                records: d.records,
                reason: d.reason.clone(),
            }));
    }

    // So is an index snapshot once any segment was rewritten (open checks each segment's
    // length and last bytes, which a rewrite need not change if the damage was elsewhere).
    let snapshot = crate::snapshot::snapshot_path(dir);
    if !damaged.is_empty() && snapshot.exists() {
        let keep = set_aside_dir(io, dir, &mut aside)?;
        move_aside(io, dir, &keep, &snapshot)?;
        report.hints_set_aside.push(snapshot);
    }

    // Hint files of rewritten segments are stale now; others may not match for their own
    // reasons. Open would ignore them; repair leaves none behind.
    for segment in check_segments(dir)? {
        if let Some(hint) = segment.hint.filter(|h| h.problem.is_some()) {
            let keep = set_aside_dir(io, dir, &mut aside)?;
            move_aside(io, dir, &keep, &hint.path)?;
            report.hints_set_aside.push(hint.path);
        }
    }

    let verdict = check_segments(dir)?;
    if let Some((file, problem)) = verdict
        .iter()
        .find_map(|s| s.problem.as_ref().map(|p| (&s.path, p)))
    {
        return Err(Error::corrupted(
            file,
            problem.offset,
            format!("still damaged after repair: {}", problem.reason),
        ));
    }
    if let Some(keep) = &aside {
        write_report(io, keep, &report)?;
    }
    report.lost_and_found = aside;
    Ok(report)
}

/// The directory this repair keeps originals in, created (durably) on first use:
/// `lost+found/repair-N` with the first unused `N`.
fn set_aside_dir(io: &Io, dir: &Path, aside: &mut Option<PathBuf>) -> Result<PathBuf> {
    if let Some(keep) = aside {
        return Ok(keep.clone());
    }
    let lost_and_found = dir.join(LOST_AND_FOUND);
    io.create_dir_durable(&lost_and_found)?;
    let mut n = 1u32;
    let keep = loop {
        let candidate = lost_and_found.join(format!("repair-{n}"));
        if !candidate.exists() {
            break candidate;
        }
        n = n.checked_add(1).ok_or_else(|| {
            Error::io(
                &lost_and_found,
                "choose a repair directory",
                std::io::Error::other("too many repair directories"),
            )
        })?;
    };
    io.create_dir_durable(&keep)?;
    *aside = Some(keep.clone());
    Ok(keep)
}

/// Replaces data segment `id` with its salvaged records: the new file is written under a
/// temporary name and fsynced, the original is linked into `keep`, then the new file is
/// renamed over it.
fn rewrite(
    io: &Io,
    dir: &Path,
    keep: &Path,
    id: u32,
    path: &Path,
    salvaged: &Salvage,
) -> Result<()> {
    let mut content = FileHeader {
        kind: FileKind::Data,
        segment_id: id,
    }
    .encode()
    .to_vec();
    with_segment_bytes(path, |bytes| {
        for range in &salvaged.kept {
            content.extend_from_slice(bytes.get(range.clone()).unwrap_or(&[]));
        }
    })?;
    let temp = temp_path(path);
    if temp.exists() {
        // A leftover of an interrupted merge or repair: open would delete it too.
        io.remove_file(&temp)?;
    }
    let file = io.create_new(&temp)?;
    io.write_all_at(&file, &temp, &content, 0)?;
    io.sync_data(&file, &temp)?;
    keep_original(path, &keep.join(file_name(path)))?;
    io.sync_dir(keep)?;
    io.rename(&temp, path)?;
    io.sync_dir(dir)
}

/// Keeps `path`'s current content at `kept` (a second link to it, or a copy where links are
/// not possible).
fn keep_original(path: &Path, kept: &Path) -> Result<()> {
    if std::fs::hard_link(path, kept).is_ok() {
        return Ok(());
    }
    std::fs::copy(path, kept).map_err(fs::io_err(kept, "copy original"))?;
    std::fs::File::open(kept)
        .and_then(|f| f.sync_all())
        .map_err(fs::io_err(kept, "fsync"))
}

/// Moves `path` into `keep`.
fn move_aside(io: &Io, dir: &Path, keep: &Path, path: &Path) -> Result<()> {
    io.rename(path, &keep.join(file_name(path)))?;
    io.sync_dir(keep)?;
    io.sync_dir(dir)
}

fn file_name(path: &Path) -> &std::ffi::OsStr {
    path.file_name().unwrap_or(path.as_os_str())
}

/// Writes `REPORT.txt` into `keep`: what was dropped, from which original file.
fn write_report(io: &Io, keep: &Path, report: &RepairReport) -> Result<()> {
    let mut text = String::from("keg repair: the files in this directory are the originals.\n\n");
    for d in &report.dropped {
        let _ = writeln!(
            text,
            "dropped {} bytes at offset {} of {} ({} valid records): {}",
            d.len,
            d.offset,
            d.file.display(),
            d.records,
            d.reason
        );
    }
    for hint in &report.hints_set_aside {
        let _ = writeln!(
            text,
            "set aside {}: it no longer describes its data file",
            hint.display()
        );
    }
    let path = keep.join("REPORT.txt");
    let file = io.create_new(&path)?;
    io.write_all_at(&file, &path, text.as_bytes(), 0)?;
    io.sync_data(&file, &path)?;
    io.sync_dir(keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{IoHook, IoOp};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails every operation from the `n`-th on: the machine stops there.
    struct StopAfter {
        n: usize,
        seen: AtomicUsize,
    }

    impl IoHook for StopAfter {
        fn before(&self, _op: &IoOp<'_>) -> std::io::Result<()> {
            if self.seen.fetch_add(1, Ordering::SeqCst) >= self.n {
                return Err(std::io::Error::other("stopped"));
            }
            Ok(())
        }
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

    fn contents(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
        let store = crate::Options::new()
            .sync_policy(crate::SyncPolicy::Never)
            .open(dir)
            .unwrap();
        let mut keys = store.keys();
        keys.sort();
        keys.into_iter()
            .map(|k| {
                let v = store.get(&k).unwrap().unwrap();
                (k, v)
            })
            .collect()
    }

    /// Every file under `dir`, recursively, by content.
    fn all_contents(dir: &Path, out: &mut Vec<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                all_contents(&path, out);
            } else {
                out.push(std::fs::read(path).unwrap());
            }
        }
    }

    /// A repair stopped at any of its file operations, then run again, ends as one that
    /// ran through; and the damaged original is kept whatever happened.
    #[test]
    fn a_repair_stopped_at_any_point_completes_when_run_again() {
        let base = tempfile::tempdir().unwrap();
        let damaged = base.path().join("damaged");
        {
            let store = crate::Options::new()
                .sync_policy(crate::SyncPolicy::Never)
                .max_segment_size(crate::MIN_SEGMENT_SIZE)
                .open(&damaged)
                .unwrap();
            for i in 0..60u32 {
                store.set(&i.to_le_bytes(), &[i as u8; 150]).unwrap();
            }
            store.merge().unwrap(); // hint files, set aside once their data is rewritten
            store.close().unwrap();
        }
        let first = data_path(&damaged, list_segment_ids(&damaged).unwrap()[0]);
        let mut bytes = std::fs::read(&first).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&first, &bytes).unwrap();

        let clean = base.path().join("clean");
        copy_dir(&damaged, &clean);
        let report = repair(&clean).unwrap();
        assert!(report.changed());
        let want = contents(&clean);
        let ops = {
            let counter = Arc::new(StopAfter {
                n: usize::MAX,
                seen: AtomicUsize::new(0),
            });
            let dir = base.path().join("count");
            copy_dir(&damaged, &dir);
            repair_with(&dir, &Io::with_hook(counter.clone())).unwrap();
            counter.seen.load(Ordering::SeqCst)
        };
        assert!(ops > 5, "{ops}");
        for n in 0..ops {
            let dir = base.path().join(format!("stop-{n}"));
            copy_dir(&damaged, &dir);
            let stop = Arc::new(StopAfter {
                n,
                seen: AtomicUsize::new(0),
            });
            assert!(
                repair_with(&dir, &Io::with_hook(stop)).is_err(),
                "stop at {n}"
            );
            repair(&dir).unwrap();
            assert_eq!(contents(&dir), want, "stopped at operation {n} of {ops}");
            let mut kept = Vec::new();
            all_contents(&dir.join(LOST_AND_FOUND), &mut kept);
            assert!(
                kept.contains(&bytes),
                "stopped at {n}: the original is gone"
            );
            assert!(!repair(&dir).unwrap().changed());
        }
    }
}
