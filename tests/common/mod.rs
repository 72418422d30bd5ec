//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod power_loss;
pub mod rng;
pub mod workload;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use keg::{IoHook, IoOp, Options, Store, SyncPolicy};

/// Options for tests: no fsync (tests check logic, not the disk), small segments.
pub fn fast_options() -> Options {
    Options::new().sync_policy(SyncPolicy::Never)
}

pub fn open_fast(dir: &Path) -> Store {
    fast_options().open(dir).expect("open store")
}

/// Files of `dir` ending in `.extension`, ascending.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Segment files of `dir`, ascending.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "data")
}

/// Hint files of `dir`, ascending.
pub fn hint_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "hint")
}

pub fn newest_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().expect("a segment")
}

/// Encoded length of a record with these key and value lengths.
pub fn record_len(key_len: usize, value_len: usize) -> u64 {
    keg::format::record_len(key_len, value_len) as u64
}

/// An I/O hook that counts operations and, once armed, fails every operation from the
/// `fail_from`-th on, as if the machine stopped there (what was written stays written).
#[derive(Default)]
pub struct Crash {
    ops: AtomicUsize,
    armed: AtomicBool,
    fail_from: AtomicUsize,
}

impl Crash {
    /// Fails operations from `after` operations from now on.
    pub fn arm(&self, after: usize) {
        self.ops.store(0, Ordering::SeqCst);
        self.fail_from.store(after, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Stops failing; returns how many operations ran since `arm`.
    pub fn disarm(&self) -> usize {
        self.armed.store(false, Ordering::SeqCst);
        self.ops.load(Ordering::SeqCst)
    }
}

impl IoHook for Crash {
    fn before(&self, _op: &IoOp<'_>) -> io::Result<()> {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        if self.armed.load(Ordering::SeqCst) && n >= self.fail_from.load(Ordering::SeqCst) {
            return Err(io::Error::other("simulated crash"));
        }
        Ok(())
    }
}

/// A temporary directory on a memory file system when there is one (`/dev/shm`), else the
/// default: for tests that fsync a lot but test what happens around the fsyncs, not the
/// disk itself.
pub fn memory_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("keg-test-").tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

/// The text of the server's `INFO persistence` for `store`, from a server started on it on
/// a port of its own and shut down again.
#[cfg(feature = "server")]
pub fn info_persistence(store: &Store) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = keg::server::serve(listener, store.clone(), Default::default()).unwrap();
    let mut con = redis::Client::open(format!("redis://{}/", server.local_addr()))
        .unwrap()
        .get_connection()
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("persistence")
        .query(&mut con)
        .unwrap();
    drop(con);
    // Shutting down syncs the store: a poisoned store reports its fsync failure there.
    let shut = server.shutdown();
    assert_eq!(shut.is_err(), store.stats().poisoned.is_some(), "{shut:?}");
    info
}
