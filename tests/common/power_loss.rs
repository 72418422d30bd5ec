//! Simulated power loss. [`PowerLoss`] is an [`IoHook`] that logs every change a store
//! makes to the files of its directory, and builds, for any point of that log, a directory
//! that a power failure at that point could leave behind:
//!
//! - **File contents.** Bytes are durable once an fsync of their file (`SyncFile`) follows
//!   them. Of the writes and truncations since a file's last fsync, any prefix may have
//!   reached the disk, the last of them torn at a 512-byte sector boundary; the part of a
//!   torn append that did not arrive may read as zeros (the new file size reached the disk,
//!   the data did not).
//! - **Directory entries.** A creation, rename or removal is durable once the directory is
//!   fsynced (`SyncDir`). Of the entry changes since the last directory fsync, any prefix
//!   may have reached the disk (journaling file systems commit metadata in order); the rest
//!   are reverted: a new file is missing, a renamed one has its old name, a removed one is
//!   back.
//!
//! What the directory held when the hook was made counts as durable. Reads and operations
//! outside the directory are not logged.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use keg::{IoHook, IoOp};

use super::rng::Rng;

/// The unit a disk writes atomically.
pub const SECTOR: u64 = 512;

/// One logged change, by file name within the directory.
#[derive(Clone, Debug)]
pub enum Event {
    Create(String),
    Write {
        name: String,
        offset: u64,
        data: Vec<u8>,
    },
    SetLen {
        name: String,
        len: u64,
    },
    SyncFile(String),
    SyncDir,
    Remove(String),
    Rename {
        from: String,
        to: String,
    },
}

/// Which of the unsynced changes survive in an image.
#[derive(Clone, Copy, Debug)]
pub enum Survivors {
    /// None: exactly what was fsynced.
    Synced,
    /// All of them: what a crash of the process (not the machine) leaves.
    All,
    /// A random prefix per file (the last change torn) and of the directory's entry changes,
    /// drawn from this seed.
    Random(u64),
}

/// The recorder. Install it with `Options::io_hook` on a store opened at `dir`.
pub struct PowerLoss {
    dir: PathBuf,
    initial: Vec<(String, Vec<u8>)>,
    log: Mutex<Vec<Event>>,
}

impl PowerLoss {
    /// A recorder for the store directory `dir` (which may not exist yet); whatever files
    /// it holds now count as durable.
    pub fn new(dir: &Path) -> Arc<PowerLoss> {
        let mut initial = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries {
                let entry = entry.expect("directory entry");
                if entry.file_type().expect("file type").is_file() {
                    let name = entry.file_name().into_string().expect("UTF-8 name");
                    initial.push((name, std::fs::read(entry.path()).expect("read file")));
                }
            }
        }
        Arc::new(PowerLoss {
            dir: dir.to_path_buf(),
            initial,
            log: Mutex::new(Vec::new()),
        })
    }

    /// How many changes are logged: a cut point. An operation that returned when this was
    /// `n` has all of its changes among the first `n`.
    pub fn position(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// A copy of the log.
    pub fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap().clone()
    }

    /// The files a power failure after the first `at` changes could leave, by name.
    pub fn image(&self, at: usize, survivors: Survivors) -> BTreeMap<String, Vec<u8>> {
        let log = self.log.lock().unwrap();
        let mut fs = Model::new(&self.initial);
        for event in log.iter().take(at) {
            fs.apply(event);
        }
        drop(log);
        fs.image(survivors)
    }

    /// The name of `path` if it is a file directly inside the store directory.
    fn name_of(&self, path: &Path) -> Option<String> {
        if path.parent()? != self.dir {
            return None;
        }
        path.file_name()?.to_str().map(str::to_owned)
    }
}

impl IoHook for PowerLoss {
    fn before(&self, op: &IoOp<'_>) -> io::Result<()> {
        let event = match *op {
            IoOp::CreateFile { path } => self.name_of(path).map(Event::Create),
            IoOp::Write { path, offset, data } => self.name_of(path).map(|name| Event::Write {
                name,
                offset,
                data: data.to_vec(),
            }),
            IoOp::SetLen { path, len } => {
                self.name_of(path).map(|name| Event::SetLen { name, len })
            }
            IoOp::SyncFile { path } => self.name_of(path).map(Event::SyncFile),
            IoOp::SyncDir { path } => (path == self.dir).then_some(Event::SyncDir),
            IoOp::RemoveFile { path } => self.name_of(path).map(Event::Remove),
            IoOp::Rename { from, to } => match (self.name_of(from), self.name_of(to)) {
                (Some(from), Some(to)) => Some(Event::Rename { from, to }),
                _ => None,
            },
            _ => None,
        };
        if let Some(event) = event {
            self.log.lock().unwrap().push(event);
        }
        Ok(())
    }
}

/// Writes `files` into the (existing, empty) directory `dest`.
pub fn materialize(files: &BTreeMap<String, Vec<u8>>, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for (name, bytes) in files {
        std::fs::write(dest.join(name), bytes).unwrap();
    }
}

/// A change to a file's contents not yet fsynced.
#[derive(Clone, Debug)]
enum Change {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

/// A change to the directory not yet fsynced.
#[derive(Clone, Debug)]
enum EntryChange {
    Link { name: String, file: usize },
    Unlink(String),
    Rename { from: String, to: String },
}

#[derive(Clone, Debug, Default)]
struct FileState {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<Change>,
}

/// The file system as the log has changed it: what is current, what is durable, and what
/// lies in between.
struct Model {
    files: Vec<FileState>,
    entries: BTreeMap<String, usize>,
    durable_entries: BTreeMap<String, usize>,
    pending_entries: Vec<EntryChange>,
}

impl Model {
    fn new(initial: &[(String, Vec<u8>)]) -> Model {
        let mut model = Model {
            files: Vec::new(),
            entries: BTreeMap::new(),
            durable_entries: BTreeMap::new(),
            pending_entries: Vec::new(),
        };
        for (name, bytes) in initial {
            model.files.push(FileState {
                durable: bytes.clone(),
                current: bytes.clone(),
                pending: Vec::new(),
            });
            model.entries.insert(name.clone(), model.files.len() - 1);
        }
        model.durable_entries = model.entries.clone();
        model
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Create(name) => {
                self.files.push(FileState::default());
                let file = self.files.len() - 1;
                self.entries.insert(name.clone(), file);
                self.pending_entries.push(EntryChange::Link {
                    name: name.clone(),
                    file,
                });
            }
            Event::Write { name, offset, data } => {
                if let Some(&file) = self.entries.get(name) {
                    let f = &mut self.files[file];
                    write_at(&mut f.current, *offset, data);
                    f.pending.push(Change::Write {
                        offset: *offset,
                        data: data.clone(),
                    });
                }
            }
            Event::SetLen { name, len } => {
                if let Some(&file) = self.entries.get(name) {
                    let f = &mut self.files[file];
                    f.current.resize(*len as usize, 0);
                    f.pending.push(Change::SetLen(*len));
                }
            }
            Event::SyncFile(name) => {
                if let Some(&file) = self.entries.get(name) {
                    let f = &mut self.files[file];
                    f.durable = f.current.clone();
                    f.pending.clear();
                }
            }
            Event::SyncDir => {
                self.durable_entries = self.entries.clone();
                self.pending_entries.clear();
            }
            Event::Remove(name) => {
                if self.entries.remove(name).is_some() {
                    self.pending_entries.push(EntryChange::Unlink(name.clone()));
                }
            }
            Event::Rename { from, to } => {
                if let Some(file) = self.entries.remove(from) {
                    self.entries.insert(to.clone(), file);
                    self.pending_entries.push(EntryChange::Rename {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
        }
    }

    fn image(&self, survivors: Survivors) -> BTreeMap<String, Vec<u8>> {
        let mut rng = match survivors {
            Survivors::Random(seed) => Some(Rng::new(seed)),
            _ => None,
        };
        let mut entries = self.durable_entries.clone();
        let kept = how_many(&mut rng, survivors, self.pending_entries.len());
        for change in &self.pending_entries[..kept] {
            match change {
                EntryChange::Link { name, file } => {
                    entries.insert(name.clone(), *file);
                }
                EntryChange::Unlink(name) => {
                    entries.remove(name);
                }
                EntryChange::Rename { from, to } => {
                    if let Some(file) = entries.remove(from) {
                        entries.insert(to.clone(), file);
                    }
                }
            }
        }
        entries
            .into_iter()
            .map(|(name, file)| {
                let contents = self.files[file].survivor(&mut rng, survivors);
                (name, contents)
            })
            .collect()
    }
}

impl FileState {
    /// The file's contents after the power failure.
    fn survivor(&self, rng: &mut Option<Rng>, survivors: Survivors) -> Vec<u8> {
        let mut bytes = self.durable.clone();
        let kept = how_many(rng, survivors, self.pending.len());
        for change in &self.pending[..kept] {
            match change {
                Change::Write { offset, data } => write_at(&mut bytes, *offset, data),
                Change::SetLen(len) => bytes.resize(*len as usize, 0),
            }
        }
        // The first change that did not survive whole may be torn.
        if let (Some(rng), Some(Change::Write { offset, data })) = (rng, self.pending.get(kept)) {
            tear(&mut bytes, *offset, data, rng);
        }
        bytes
    }
}

/// How many of `len` unsynced changes survive.
fn how_many(rng: &mut Option<Rng>, survivors: Survivors, len: usize) -> usize {
    match (survivors, rng) {
        (Survivors::Synced, _) => 0,
        (Survivors::All, _) | (Survivors::Random(_), None) => len,
        (Survivors::Random(_), Some(rng)) => match rng.below(4) {
            // The extremes are the most telling: favour them.
            0 => 0,
            1 => len,
            _ => rng.index(len + 1),
        },
    }
}

/// Applies the part of the write of `data` at `offset` that precedes a random sector
/// boundary inside it; the rest of an append may read as zeros.
fn tear(bytes: &mut Vec<u8>, offset: u64, data: &[u8], rng: &mut Rng) {
    let end = offset + data.len() as u64;
    let mut cuts = vec![offset];
    let mut boundary = (offset / SECTOR + 1) * SECTOR;
    while boundary < end {
        cuts.push(boundary);
        boundary += SECTOR;
    }
    let cut = cuts[rng.index(cuts.len())];
    let arrived = &data[..(cut - offset) as usize];
    if !arrived.is_empty() {
        write_at(bytes, offset, arrived);
    }
    if rng.chance(1, 2) && (bytes.len() as u64) < end {
        bytes.resize(end as usize, 0);
    }
}

fn write_at(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let offset = offset as usize;
    let end = offset + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(data);
}
