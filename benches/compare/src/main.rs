//! keg-compare: the same workloads against keg, redb, fjall and sled at equal durability.
//!
//! Run from `benches/compare/`:
//!
//! ```text
//! cargo run --release -- --keys 1000000 --durable-seconds 3 --engines keg,redb,fjall,sled
//! ```
//!
//! Progress goes to stderr; the result (a Markdown table plus notes) goes to stdout.
//!
//! Data: keys are 16 bytes, values 100 bytes of pseudo-random (incompressible) bytes. Key `i`
//! is `splitmix64(i ^ SEED)` (8 bytes, big-endian) followed by `i` (8 bytes, big-endian), so
//! keys are unique and spread over the key space. Every order is a Fisher-Yates shuffle driven
//! by splitmix64 with a fixed seed, so every engine sees exactly the same sequence.
//!
//! Per engine, in a fresh directory:
//!  1. `set, no fsync per write`: insert N keys in shuffled order, one thread, no fsync per
//!     write. The clock stops after the last set returns; then one final "make everything
//!     durable" call is timed separately (reported as its own row).
//!  2. The handle is dropped and the store reopened (timed: "reopen"). For keg, before the
//!     reopen a fresh child process (`--rss-probe DIR`) opens the store and reports its RSS
//!     before and after the open (i.e. with all N keys loaded into the index).
//!  3. One untimed warm-up pass reads every key, then `get, warm` is timed with 1 thread and
//!     with 2 threads (each thread reads all N keys in its own shuffled order).
//!  4. `set, fsync per write`: 1, 8 and 64 writer threads, each for `--durable-seconds`,
//!     inserting new keys into the same (N-key) store; every set is durable before it returns.
//!
//! Baselines without any engine: N `write(2)` calls of keg's 149-byte record (first), and one
//! thread of `write(2)` + `fdatasync(2)` per record (right before keg's durable runs).
//!
//! Equal durability — what each engine is asked to do (see also `DURABILITY_NOTES`):
//!  * no fsync per write:
//!    - keg: `SyncPolicy::Never`: each set is written to the segment file (a write syscall) before it
//!      returns (survives a process crash), never fsynced.
//!    - redb: one write transaction per set with `Durability::None`. This is redb's only
//!      commit mode without fsync; it is *weaker* than keg's: redb documents that such a
//!      commit "exists only in this process's memory" until a later `Immediate` commit, so a
//!      process crash may lose it. The difference can only favour redb.
//!    - fjall: `Keyspace::insert` with the default `manual_journal_persist(false)`: fjall
//!      flushes its journal buffer to the OS (`PersistMode::Buffer`) after every write and
//!      never fsyncs on its own: the same guarantee as keg's `Never`.
//!    - sled: `insert` with the default config (no flush per op; a background thread flushes
//!      every 500 ms). Writes sit in sled's in-process IO buffers until then, so this is also
//!      *weaker* than keg's (a process crash may lose up to ~500 ms of writes).
//!  * fsync per write:
//!    - keg: `SyncPolicy::Always` (fdatasync; concurrent writers share fsyncs: group commit).
//!    - redb: one write transaction per set with `Durability::Immediate` (redb's default;
//!      fdatasync in commit). redb has a single writer: concurrent transactions queue.
//!    - fjall: `insert` then `Database::persist(PersistMode::SyncData)` (fdatasync, as keg).
//!    - sled: `insert` then `flush()`. On Linux sled 0.34's flush ends in
//!      `sync_file_range(2)`, which neither flushes the device's write cache nor the file's
//!      metadata: weaker than fdatasync, but it is the only durability call sled offers.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Barrier;
use std::time::{Duration, Instant};

const KEY_LEN: usize = 16;
const VALUE_LEN: usize = 100;
/// keg's on-disk record for one set: 33-byte header + key + value.
const KEG_RECORD_LEN: usize = 33 + KEY_LEN + VALUE_LEN;
const SEED: u64 = 0x6b65_675f_6265_6e63;
/// Loops check the clock once per this many operations (the fast, count-bound loops).
const CLOCK_EVERY: usize = 1024;
/// Upper bound on durable writes per thread and run, on top of the time bound.
const DURABLE_MAX_OPS_PER_THREAD: u64 = 10_000_000;
const ENGINES: [&str; 4] = ["keg", "redb", "fjall", "sled"];

// ---------------------------------------------------------------------------------------------
// Data generation: splitmix64, keys, values, shuffles.

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn key(i: u64) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..8].copy_from_slice(&splitmix64(i ^ SEED).to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

/// Fills `buf` with the (pseudo-random, incompressible) value of key `i`.
fn fill_value(i: u64, buf: &mut [u8]) {
    let mut s = i.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ SEED;
    for chunk in buf.chunks_mut(8) {
        s = splitmix64(s);
        chunk.copy_from_slice(&s.to_le_bytes()[..chunk.len()]);
    }
}

/// 0..n in a random order fixed by `seed` (Fisher-Yates).
fn shuffled(n: usize, seed: u64) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n as u32).collect();
    let mut s = seed;
    for i in (1..n).rev() {
        s = splitmix64(s);
        let j = (s % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The engines behind one interface.

/// One opened store. `set` writes without fsync (the engine's no-sync mode, see the module
/// docs); `set_durable` returns once the write is durable; `sync` makes everything durable.
trait Kv: Send + Sync {
    fn set(&self, key: &[u8], value: &[u8]);
    fn set_durable(&self, key: &[u8], value: &[u8]);
    fn sync(&self);
    /// A per-thread reader (redb reads through a read transaction; the others need none).
    fn reader(&self) -> Box<dyn Reader + '_>;
    /// fsyncs performed so far, if the engine reports it (keg's group-commit figure).
    fn fsyncs(&self) -> Option<u64> {
        None
    }
}

trait Reader {
    /// The value's length, or `None` if the key is absent.
    fn get(&mut self, key: &[u8]) -> Option<usize>;
}

/// Which durability the store is opened for. Only keg fixes it at open (its `SyncPolicy`);
/// the others choose per call.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    NoSync,
    Durable,
}

fn open(engine: &str, dir: &Path, phase: Phase) -> Box<dyn Kv> {
    match engine {
        "keg" => Box::new(KegKv::open(dir, phase)),
        "redb" => Box::new(RedbKv::open(dir)),
        "fjall" => Box::new(FjallKv::open(dir)),
        "sled" => Box::new(SledKv::open(dir)),
        other => panic!("unknown engine {other}"),
    }
}

// --- keg ---

struct KegKv {
    store: keg::Store,
    phase: Phase,
}

impl KegKv {
    fn open(dir: &Path, phase: Phase) -> KegKv {
        let policy = match phase {
            Phase::NoSync => keg::SyncPolicy::Never,
            Phase::Durable => keg::SyncPolicy::Always,
        };
        let store = keg::Options::new()
            .sync_policy(policy)
            .open(dir)
            .expect("keg open");
        KegKv { store, phase }
    }
}

impl Kv for KegKv {
    fn set(&self, key: &[u8], value: &[u8]) {
        assert!(
            self.phase == Phase::NoSync,
            "keg opened with SyncPolicy::Always"
        );
        self.store.set(key, value).expect("keg set");
    }
    fn set_durable(&self, key: &[u8], value: &[u8]) {
        assert!(
            self.phase == Phase::Durable,
            "keg opened with SyncPolicy::Never"
        );
        self.store.set(key, value).expect("keg set");
    }
    fn sync(&self) {
        self.store.sync().expect("keg sync");
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(KegReader(&self.store))
    }
    fn fsyncs(&self) -> Option<u64> {
        Some(self.store.stats().fsyncs)
    }
}

struct KegReader<'a>(&'a keg::Store);

impl Reader for KegReader<'_> {
    fn get(&mut self, key: &[u8]) -> Option<usize> {
        self.0.get(key).expect("keg get").map(|v| v.len())
    }
}

// --- redb ---

const REDB_TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("kv");

struct RedbKv {
    db: redb::Database,
}

impl RedbKv {
    fn open(dir: &Path) -> RedbKv {
        // Default builder: 1 GiB page cache. redb stores one file; make its directory.
        std::fs::create_dir_all(dir).expect("redb mkdir");
        let db = redb::Database::create(dir.join("db.redb")).expect("redb open");
        RedbKv { db }
    }

    /// One write transaction per set: redb's unit of durability.
    fn write(&self, key: &[u8], value: &[u8], durability: redb::Durability) {
        let mut tx = self.db.begin_write().expect("redb begin_write");
        tx.set_durability(durability).expect("redb set_durability");
        {
            let mut table = tx.open_table(REDB_TABLE).expect("redb open_table");
            table.insert(key, value).expect("redb insert");
        }
        tx.commit().expect("redb commit");
    }
}

impl Kv for RedbKv {
    fn set(&self, key: &[u8], value: &[u8]) {
        self.write(key, value, redb::Durability::None);
    }
    fn set_durable(&self, key: &[u8], value: &[u8]) {
        self.write(key, value, redb::Durability::Immediate);
    }
    fn sync(&self) {
        // An (empty) Immediate commit makes every earlier Durability::None commit durable.
        let mut tx = self.db.begin_write().expect("redb begin_write");
        tx.set_durability(redb::Durability::Immediate)
            .expect("redb set_durability");
        tx.commit().expect("redb commit");
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        use redb::ReadableDatabase as _;
        // One read transaction per reader thread, reused for all its gets (the cheapest way
        // to read from redb; a transaction per get would be slower).
        let tx = self.db.begin_read().expect("redb begin_read");
        let table = tx.open_table(REDB_TABLE).expect("redb open_table");
        Box::new(RedbReader { _tx: tx, table })
    }
}

struct RedbReader {
    _tx: redb::ReadTransaction,
    table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl Reader for RedbReader {
    fn get(&mut self, key: &[u8]) -> Option<usize> {
        self.table
            .get(key)
            .expect("redb get")
            .map(|guard| guard.value().len())
    }
}

// --- fjall ---

struct FjallKv {
    db: fjall::Database,
    ks: fjall::Keyspace,
}

impl FjallKv {
    fn open(dir: &Path) -> FjallKv {
        // fjall's default block cache is 32 MiB; redb's and sled's default caches are 1 GiB,
        // and keg reads through the OS page cache. Give fjall 1 GiB too, so the warm-get
        // workload is served from memory for every engine.
        let db = fjall::Database::builder(dir)
            .cache_size(1 << 30)
            .open()
            .expect("fjall open");
        let ks = db
            .keyspace("kv", fjall::KeyspaceCreateOptions::default)
            .expect("fjall keyspace");
        FjallKv { db, ks }
    }
}

impl Kv for FjallKv {
    fn set(&self, key: &[u8], value: &[u8]) {
        // Default (manual_journal_persist = false): the journal is flushed to the OS
        // (PersistMode::Buffer) before insert returns; no fsync.
        self.ks.insert(key, value).expect("fjall insert");
    }
    fn set_durable(&self, key: &[u8], value: &[u8]) {
        self.ks.insert(key, value).expect("fjall insert");
        self.db
            .persist(fjall::PersistMode::SyncData)
            .expect("fjall persist");
    }
    fn sync(&self) {
        self.db
            .persist(fjall::PersistMode::SyncData)
            .expect("fjall persist");
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(FjallReader(&self.ks))
    }
}

struct FjallReader<'a>(&'a fjall::Keyspace);

impl Reader for FjallReader<'_> {
    fn get(&mut self, key: &[u8]) -> Option<usize> {
        self.0.get(key).expect("fjall get").map(|v| v.len())
    }
}

// --- sled ---

struct SledKv {
    db: sled::Db,
}

impl SledKv {
    fn open(dir: &Path) -> SledKv {
        // Defaults: 1 GiB cache, background flush every 500 ms.
        let db = sled::Config::new().path(dir).open().expect("sled open");
        SledKv { db }
    }
}

impl Kv for SledKv {
    fn set(&self, key: &[u8], value: &[u8]) {
        self.db.insert(key, value).expect("sled insert");
    }
    fn set_durable(&self, key: &[u8], value: &[u8]) {
        self.db.insert(key, value).expect("sled insert");
        self.db.flush().expect("sled flush");
    }
    fn sync(&self) {
        self.db.flush().expect("sled flush");
    }
    fn reader(&self) -> Box<dyn Reader + '_> {
        Box::new(SledReader(&self.db))
    }
}

struct SledReader<'a>(&'a sled::Db);

impl Reader for SledReader<'_> {
    fn get(&mut self, key: &[u8]) -> Option<usize> {
        self.0.get(key).expect("sled get").map(|v| v.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads.

/// A measured run: `ops` operations in `secs` seconds; `capped` if the time cap cut it short.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    ops: u64,
    secs: f64,
    capped: bool,
}

impl Run {
    fn ops_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// Wall-clock span of several threads' runs: first start to last end.
#[derive(Default)]
struct Span {
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Span {
    fn add(&mut self, start: Instant, end: Instant) {
        self.first = Some(self.first.map_or(start, |f| f.min(start)));
        self.last = Some(self.last.map_or(end, |l| l.max(end)));
    }
    fn secs(&self) -> f64 {
        match (self.first, self.last) {
            (Some(f), Some(l)) => (l - f).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// Inserts the keys `order` names, in that order, without fsync. Bound by count and `cap`.
fn run_set(kv: &dyn Kv, keys: &[[u8; KEY_LEN]], order: &[u32], cap: Duration) -> Run {
    let mut value = [0u8; VALUE_LEN];
    let start = Instant::now();
    let mut done = 0u64;
    let mut capped = false;
    for chunk in order.chunks(CLOCK_EVERY) {
        for &i in chunk {
            fill_value(i as u64, &mut value);
            kv.set(&keys[i as usize], &value);
        }
        done += chunk.len() as u64;
        if start.elapsed() > cap {
            capped = done < order.len() as u64;
            break;
        }
    }
    Run {
        ops: done,
        secs: start.elapsed().as_secs_f64(),
        capped,
    }
}

/// `threads` threads each read all `n` keys in their own shuffled order; aggregate ops/s.
/// Panics if a key is missing or a value has the wrong length.
fn run_get(
    kv: &dyn Kv,
    keys: &[[u8; KEY_LEN]],
    n: usize,
    threads: usize,
    seed: u64,
    cap: Duration,
) -> Run {
    let orders: Vec<Vec<u32>> = (0..threads)
        .map(|t| shuffled(n, seed ^ splitmix64(t as u64 + 1)))
        .collect();
    let barrier = Barrier::new(threads + 1);
    let (ops, capped, secs) = std::thread::scope(|s| {
        let handles: Vec<_> = orders
            .iter()
            .map(|order| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut reader = kv.reader();
                    barrier.wait();
                    let start = Instant::now();
                    let mut done = 0u64;
                    for chunk in order.chunks(CLOCK_EVERY) {
                        for &i in chunk {
                            let len = reader.get(&keys[i as usize]);
                            assert_eq!(len, Some(VALUE_LEN), "key {i} missing or wrong value");
                        }
                        done += chunk.len() as u64;
                        if start.elapsed() > cap {
                            break;
                        }
                    }
                    (done, done < order.len() as u64, start, Instant::now())
                })
            })
            .collect();
        barrier.wait();
        let mut ops = 0;
        let mut capped = false;
        let mut span = Span::default();
        for h in handles {
            let (done, c, start, end) = h.join().expect("reader thread");
            ops += done;
            capped |= c;
            span.add(start, end);
        }
        (ops, capped, span.secs())
    });
    Run { ops, secs, capped }
}

/// `threads` writers insert new keys durably for `duration` (and at most
/// `DURABLE_MAX_OPS_PER_THREAD` each). Keys come from `key_base + (thread << 32) + j`, disjoint
/// from the loaded keys and between runs.
fn run_durable(kv: &dyn Kv, threads: usize, duration: Duration, key_base: u64) -> Run {
    let barrier = Barrier::new(threads + 1);
    let (ops, secs) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut value = [0u8; VALUE_LEN];
                    barrier.wait();
                    let start = Instant::now();
                    let deadline = start + duration;
                    let mut done = 0u64;
                    while done < DURABLE_MAX_OPS_PER_THREAD && Instant::now() < deadline {
                        let i = key_base + ((t as u64) << 32) + done;
                        fill_value(i, &mut value);
                        kv.set_durable(&key(i), &value);
                        done += 1;
                    }
                    (done, start, Instant::now())
                })
            })
            .collect();
        barrier.wait();
        let mut ops = 0;
        let mut span = Span::default();
        for h in handles {
            let (done, start, end) = h.join().expect("writer thread");
            ops += done;
            span.add(start, end);
        }
        (ops, span.secs())
    });
    Run {
        ops,
        secs,
        capped: false,
    }
}

// --- Baselines: bare syscalls, no engine ---

/// N `write(2)` calls of a keg-sized record (149 bytes) to one file: the physical limit of
/// "one syscall per write". Returns the loop, and the final fdatasync separately.
fn baseline_write(dir: &Path, order: &[u32], keys: &[[u8; KEY_LEN]], cap: Duration) -> (Run, f64) {
    let mut file = File::create(dir.join("baseline.log")).expect("baseline create");
    let mut record = [0u8; KEG_RECORD_LEN];
    let start = Instant::now();
    let mut done = 0u64;
    let mut capped = false;
    for chunk in order.chunks(CLOCK_EVERY) {
        for &i in chunk {
            // Same per-op work as the engines get: build the value, copy in key and value.
            record[33..33 + KEY_LEN].copy_from_slice(&keys[i as usize]);
            fill_value(i as u64, &mut record[33 + KEY_LEN..]);
            file.write_all(&record).expect("baseline write");
        }
        done += chunk.len() as u64;
        if start.elapsed() > cap {
            capped = done < order.len() as u64;
            break;
        }
    }
    let run = Run {
        ops: done,
        secs: start.elapsed().as_secs_f64(),
        capped,
    };
    let t = Instant::now();
    file.sync_data().expect("baseline fdatasync");
    (run, t.elapsed().as_secs_f64())
}

/// The write+fdatasync baseline in a fresh temporary directory.
fn sync_baseline(args: &Args) -> Run {
    eprintln!(
        "[baseline] write(2)+fdatasync, 1 thread, {:.1} s ...",
        args.durable_secs
    );
    let dir = tempfile::Builder::new()
        .prefix("baseline-sync-")
        .tempdir_in(&args.dir)
        .expect("tempdir");
    let run = baseline_write_fdatasync(dir.path(), Duration::from_secs_f64(args.durable_secs));
    eprintln!("[baseline]   {:.0} ops/s", run.ops_per_sec());
    run
}

/// One thread: `write(2)` + `fdatasync(2)` per record, for `duration`: the physical limit of
/// one durable writer without group commit.
fn baseline_write_fdatasync(dir: &Path, duration: Duration) -> Run {
    let mut file = File::create(dir.join("baseline-sync.log")).expect("baseline create");
    let mut record = [0u8; KEG_RECORD_LEN];
    let start = Instant::now();
    let mut done = 0u64;
    while done < DURABLE_MAX_OPS_PER_THREAD && start.elapsed() < duration {
        fill_value(done, &mut record[33 + KEY_LEN..]);
        file.write_all(&record).expect("baseline write");
        file.sync_data().expect("baseline fdatasync");
        done += 1;
    }
    Run {
        ops: done,
        secs: start.elapsed().as_secs_f64(),
        capped: false,
    }
}

// ---------------------------------------------------------------------------------------------
// keg RSS probe: a fresh child process opens the N-key store and reports its memory.

#[derive(Clone, Copy, Debug, Default)]
struct Mem {
    rss_kb: u64,
    anon_kb: u64,
}

/// VmRSS and RssAnon of this process, from /proc/self/status (kB).
fn mem_now() -> Mem {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Mem {
        rss_kb: field("VmRSS:"),
        anon_kb: field("RssAnon:"),
    }
}

/// Child side: open, measure, print one line, close.
fn rss_probe_child(dir: &Path) {
    let before = mem_now();
    let start = Instant::now();
    let store = keg::Options::new()
        .sync_policy(keg::SyncPolicy::Never)
        .open(dir)
        .expect("keg open");
    let open_secs = start.elapsed().as_secs_f64();
    let after = mem_now();
    let stats = store.stats();
    println!(
        "RSS_PROBE keys={} open_secs={open_secs} before_rss_kb={} before_anon_kb={} \
         after_rss_kb={} after_anon_kb={} index_bytes_per_key={}",
        stats.keys,
        before.rss_kb,
        before.anon_kb,
        after.rss_kb,
        after.anon_kb,
        stats.index_bytes_per_key
    );
    store.close().expect("keg close");
}

#[derive(Clone, Copy, Debug, Default)]
struct RssProbe {
    keys: u64,
    open_secs: f64,
    before: Mem,
    after: Mem,
    index_bytes_per_key: f64,
}

/// Parent side: run ourselves with `--rss-probe DIR` and parse the line.
fn rss_probe(dir: &Path) -> Option<RssProbe> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .arg("--rss-probe")
        .arg(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("rss probe failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RSS_PROBE "))?;
    let get = |name: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some(RssProbe {
        keys: get("keys")? as u64,
        open_secs: get("open_secs")?,
        before: Mem {
            rss_kb: get("before_rss_kb")? as u64,
            anon_kb: get("before_anon_kb")? as u64,
        },
        after: Mem {
            rss_kb: get("after_rss_kb")? as u64,
            anon_kb: get("after_anon_kb")? as u64,
        },
        index_bytes_per_key: get("index_bytes_per_key")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Driver.

struct Args {
    keys: usize,
    durable_secs: f64,
    engines: Vec<String>,
    writers: Vec<usize>,
    max_secs: f64,
    dir: PathBuf,
}

const USAGE: &str = "\
keg-compare: keg vs redb, fjall and sled at equal durability.

USAGE: cargo run --release -- [OPTIONS]

  --keys N              keys to load and read (default 1000000)
  --durable-seconds S   seconds per durable-write configuration (default 3)
  --engines LIST        comma-separated subset of keg,redb,fjall,sled (default: all)
  --writers LIST        writer threads for the durable workload (default 1,8,64)
  --max-seconds S       time cap for each count-bound loop (set, get) (default 120)
  --dir PATH            where temporary stores are made (default: target/bench-tmp
                        next to this crate's Cargo.toml; must be a real disk, not tmpfs)
";

fn parse_args() -> Args {
    let mut args = Args {
        keys: 1_000_000,
        durable_secs: 3.0,
        engines: ENGINES.iter().map(|s| s.to_string()).collect(),
        writers: vec![1, 8, 64],
        max_secs: 120.0,
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-tmp"),
    };
    let mut it = std::env::args().skip(1);
    let num = |s: Option<String>, flag: &str| -> String {
        s.unwrap_or_else(|| die(&format!("{flag} needs a value")))
            .replace('_', "")
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--keys" => {
                args.keys = num(it.next(), &a)
                    .parse()
                    .unwrap_or_else(|_| die("--keys: not a number"))
            }
            "--durable-seconds" => {
                args.durable_secs = num(it.next(), &a)
                    .parse()
                    .unwrap_or_else(|_| die("--durable-seconds: not a number"))
            }
            "--max-seconds" => {
                args.max_secs = num(it.next(), &a)
                    .parse()
                    .unwrap_or_else(|_| die("--max-seconds: not a number"))
            }
            "--engines" => {
                args.engines = num(it.next(), &a)
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().to_lowercase())
                    .collect();
                for e in &args.engines {
                    if !ENGINES.contains(&e.as_str()) {
                        die(&format!("unknown engine {e:?}; choose from {ENGINES:?}"));
                    }
                }
            }
            "--writers" => {
                args.writers = num(it.next(), &a)
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.trim()
                            .parse()
                            .unwrap_or_else(|_| die("--writers: not a number"))
                    })
                    .collect();
            }
            "--dir" => {
                args.dir = PathBuf::from(it.next().unwrap_or_else(|| die("--dir needs a value")))
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => die(&format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    if args.keys == 0 || args.keys > u32::MAX as usize {
        die("--keys must be between 1 and 2^32-1");
    }
    if args.writers.iter().any(|&w| w == 0 || w > 1024) {
        die("--writers: each count must be between 1 and 1024");
    }
    args
}

fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2);
}

/// Everything measured for one engine.
#[derive(Default)]
struct Results {
    set: Run,
    final_sync_secs: f64,
    reopen_secs: f64,
    get1: Run,
    get2: Run,
    durable: Vec<(usize, Run, Option<u64>)>, // (writers, run, fsyncs during run)
    /// keg only: the write+fdatasync baseline, measured right before the durable runs.
    sync_baseline: Option<Run>,
    disk_bytes: u64,
}

fn dir_size(path: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            // Allocated blocks, not apparent length (fjall preallocates a sparse journal).
            Ok(m) => std::os::unix::fs::MetadataExt::blocks(&m) * 512,
            Err(_) => 0,
        })
        .sum()
}

fn bench_engine(
    engine: &str,
    args: &Args,
    keys: &[[u8; KEY_LEN]],
    order: &[u32],
    probe: &mut Option<RssProbe>,
) -> Results {
    let cap = Duration::from_secs_f64(args.max_secs);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{engine}-"))
        .tempdir_in(&args.dir)
        .expect("tempdir");
    let dir = tmp.path().join("store");
    let mut r = Results::default();

    // 1. set, no fsync per write.
    eprintln!(
        "[{engine}] set {} keys, no fsync per write ...",
        order.len()
    );
    {
        let kv = open(engine, &dir, Phase::NoSync);
        r.set = run_set(kv.as_ref(), keys, order, cap);
        let t = Instant::now();
        kv.sync();
        r.final_sync_secs = t.elapsed().as_secs_f64();
        eprintln!(
            "[{engine}]   {:.0} ops/s ({} ops in {:.2} s{}), final sync {:.3} s",
            r.set.ops_per_sec(),
            r.set.ops,
            r.set.secs,
            if r.set.capped { ", CAPPED" } else { "" },
            r.final_sync_secs
        );
    } // dropped: closed
    let loaded = r.set.ops as usize;
    r.disk_bytes = dir_size(&dir);

    // 2. keg: RSS of a fresh process that opens the store; then reopen (all engines).
    if engine == "keg" {
        eprintln!("[keg] rss probe (fresh process opens the store) ...");
        *probe = rss_probe(&dir);
    }
    eprintln!("[{engine}] reopen ...");
    let t = Instant::now();
    let kv = open(engine, &dir, Phase::Durable);
    r.reopen_secs = t.elapsed().as_secs_f64();
    eprintln!("[{engine}]   reopen {:.3} s", r.reopen_secs);

    // 3. get, warm: one untimed pass over every loaded key, then 1 and 2 threads. Reads cover
    //    the keys actually loaded (all N unless the load hit the time cap).
    let subset: Vec<[u8; KEY_LEN]>;
    let read_keys: &[[u8; KEY_LEN]] = if loaded == keys.len() {
        keys
    } else {
        subset = order[..loaded].iter().map(|&i| keys[i as usize]).collect();
        &subset
    };
    let read_n = read_keys.len();
    let get_order_seed = SEED ^ 0x0067_6574;
    {
        let mut reader = kv.reader();
        let start = Instant::now();
        for (j, k) in read_keys.iter().enumerate() {
            assert_eq!(
                reader.get(k),
                Some(VALUE_LEN),
                "key #{j} missing after reopen"
            );
            if j % CLOCK_EVERY == 0 && start.elapsed() > cap {
                break;
            }
        }
    }
    for threads in [1, 2] {
        eprintln!("[{engine}] get, warm, {threads} thread(s) ...");
        let run = run_get(kv.as_ref(), read_keys, read_n, threads, get_order_seed, cap);
        eprintln!("[{engine}]   {:.0} ops/s", run.ops_per_sec());
        if threads == 1 {
            r.get1 = run;
        } else {
            r.get2 = run;
        }
    }

    // 4. set, fsync per write. For keg, the write+fdatasync baseline runs first, next to it.
    if engine == "keg" {
        r.sync_baseline = Some(sync_baseline(args));
    }
    for (c, &writers) in args.writers.iter().enumerate() {
        eprintln!(
            "[{engine}] set, fsync per write, {writers} writer(s), {:.1} s ...",
            args.durable_secs
        );
        let before = kv.fsyncs();
        let base = (1u64 << 40) * (c as u64 + 1);
        let run = run_durable(
            kv.as_ref(),
            writers,
            Duration::from_secs_f64(args.durable_secs),
            base,
        );
        let fsyncs = match (before, kv.fsyncs()) {
            (Some(b), Some(a)) => Some(a - b),
            _ => None,
        };
        eprintln!(
            "[{engine}]   {:.0} ops/s ({} ops)",
            run.ops_per_sec(),
            run.ops
        );
        r.durable.push((writers, run, fsyncs));
    }
    drop(kv);
    r
}

// ---------------------------------------------------------------------------------------------
// Reporting.

/// 1234567.8 -> "1,234,568".
fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn cell_rate(run: &Run, keg: Option<&Run>) -> String {
    let mut s = thousands(run.ops_per_sec());
    if run.capped {
        s.push_str(" (capped)");
    }
    if let Some(k) = keg
        && k.ops_per_sec() > 0.0
    {
        let _ = write!(s, " ({:.2}×)", run.ops_per_sec() / k.ops_per_sec());
    }
    s
}

fn cell_secs(secs: f64, keg: Option<f64>) -> String {
    let mut s = if secs < 0.01 {
        format!("{:.2} ms", secs * 1000.0)
    } else if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else {
        format!("{secs:.2} s")
    };
    if let Some(k) = keg
        && k > 0.0
    {
        let _ = write!(s, " ({:.2}×)", secs / k);
    }
    s
}

/// CPU seconds (user + system + irq time) spent so far by the whole machine, and by this
/// process, from /proc/stat and /proc/self/stat (clock ticks of 1/100 s, Linux's USER_HZ).
fn cpu_secs() -> (f64, f64) {
    const TICK: f64 = 0.01;
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|st| {
            let line = st.lines().next()?.strip_prefix("cpu ")?.to_string();
            let f: Vec<u64> = line
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...: busy = all but idle, iowait.
            Some(
                f.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != 3 && *i != 4)
                    .map(|(_, v)| v)
                    .sum::<u64>(),
            )
        })
        .unwrap_or(0);
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|st| {
            // Fields after the ")" that closes the command name: utime is the 12th, stime 13th.
            let rest = &st[st.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    (machine as f64 * TICK, own as f64 * TICK)
}

/// The 1-minute load average (other work on the machine skews the figures).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / (1024.0 * 1024.0))
        .unwrap_or(0.0)
}

/// Filesystem type and device of the mount that holds `path` (longest mount-point prefix).
fn filesystem_of(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return "unknown".into();
    };
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && path.starts_with(f[1]))
                .then(|| (f[1].len(), format!("{} on {} ({})", f[2], f[1], f[0])))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, s)| s)
        .unwrap_or_else(|| "unknown".into())
}

/// Version of a dependency as locked in this crate's Cargo.lock (embedded at compile time).
fn locked_version(name: &str) -> String {
    let lock = include_str!("../Cargo.lock");
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|at| {
            let rest = &lock[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .unwrap_or_else(|| "?".into())
}

const DURABILITY_NOTES: &str = "\
Durability mode of each engine (same guarantee or, where marked, weaker than keg's):
- set, no fsync per write: every write handed to the engine; nothing fsynced per write.
  - keg:   SyncPolicy::Never — each set is written to the segment file (a write syscall) before it
           returns (survives a process crash; a power loss may lose it).
  - redb:  one write transaction per set, Durability::None — WEAKER: redb keeps such commits
           in process memory until a later Immediate commit (a process crash may lose them).
  - fjall: insert with manual_journal_persist=false (default) — journal flushed to the OS
           (PersistMode::Buffer) after every write, no fsync: SAME as keg.
  - sled:  insert, default config (background flush every 500 ms) — WEAKER: writes wait in
           sled's in-process IO buffers until the next flush.
  The row 'incl. final sync' adds one closing keg sync() / redb Immediate commit /
  fjall persist(SyncData) / sled flush() after the N sets, making all of them durable.
- set, fsync per write: every set durable (fdatasync) before it returns.
  - keg:   SyncPolicy::Always (fdatasync; concurrent writers share one fsync: group commit).
  - redb:  one write transaction per set, Durability::Immediate (fdatasync in commit;
           single writer, so concurrent transactions queue).
  - fjall: insert + Database::persist(PersistMode::SyncData) (fdatasync).
  - sled:  insert + flush() — WEAKER: on Linux sled 0.34 flushes with sync_file_range(2),
           which flushes neither the drive's write cache nor file metadata.
";

fn main() {
    // Child mode for the RSS probe.
    let raw: Vec<String> = std::env::args().collect();
    if raw.len() == 3 && raw[1] == "--rss-probe" {
        rss_probe_child(Path::new(&raw[2]));
        return;
    }

    let args = parse_args();
    std::fs::create_dir_all(&args.dir).expect("create --dir");
    let n = args.keys;
    eprintln!("generating {n} keys ...");
    let keys: Vec<[u8; KEY_LEN]> = (0..n as u64).map(key).collect();
    let order = shuffled(n, SEED);
    let cap = Duration::from_secs_f64(args.max_secs);
    let run_start = Instant::now();
    let load_start = loadavg();
    let cpu_start = cpu_secs();

    // Baselines first (no engine).
    eprintln!("[baseline] {n} x write(2) of {KEG_RECORD_LEN} bytes ...");
    let base_dir = tempfile::Builder::new()
        .prefix("baseline-")
        .tempdir_in(&args.dir)
        .expect("tempdir");
    let (base_write, base_final_sync) = baseline_write(base_dir.path(), &order, &keys, cap);
    eprintln!("[baseline]   {:.0} ops/s", base_write.ops_per_sec());
    drop(base_dir);

    let mut results: Vec<(String, Results)> = Vec::new();
    let mut probe = None;
    for engine in &args.engines {
        let r = bench_engine(engine, &args, &keys, &order, &mut probe);
        results.push((engine.clone(), r));
    }
    // The write+fdatasync baseline ran right before keg's durable runs (fsync latency on a
    // shared virtual disk drifts, so it is measured next to what it is compared with); without
    // keg, run it now.
    let base_sync = match results.iter().find_map(|(_, r)| r.sync_baseline) {
        Some(run) => run,
        None => sync_baseline(&args),
    };
    let total_secs = run_start.elapsed().as_secs_f64();
    let load_end = loadavg();
    let cpu_end = cpu_secs();
    // CPU time of everything else on the machine while this ran (the RSS-probe child counts
    // as "else"; it is a fraction of a second).
    let others_cpu = ((cpu_end.0 - cpu_start.0) - (cpu_end.1 - cpu_start.1)).max(0.0);

    // ---- Report ----
    let mut out = String::new();
    let _ = writeln!(out, "## keg-compare results\n");
    let _ = writeln!(
        out,
        "Machine: {} cores ({}), {:.0} GiB RAM; stores on {}. 1-min load average at \
         start {load_start}, at end {load_end} (the end value counts this run's own writer \
         threads blocked in fsync). Other processes (including the kernel's writeback threads) used {:.1} CPU-seconds during the run \
         ({:.0}% of one core).",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        mem_total_gib(),
        filesystem_of(&args.dir),
        others_cpu,
        100.0 * others_cpu / total_secs.max(1e-9)
    );
    let _ = writeln!(
        out,
        "Engines: keg (path), redb {}, fjall {}, sled {}. Keys {} x {KEY_LEN} B, values \
         {VALUE_LEN} B, shuffled (seed fixed); durable runs {:.1} s each. Run took {:.0} s.\n",
        locked_version("redb"),
        locked_version("fjall"),
        locked_version("sled"),
        thousands(n as f64),
        args.durable_secs,
        total_secs
    );
    let keg = results.iter().find(|(e, _)| e == "keg").map(|(_, r)| r);
    let _ = write!(out, "| workload (ops/s; × = engine ÷ keg) |");
    for (e, _) in &results {
        let _ = write!(out, " {e} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in &results {
        let _ = write!(out, "---:|");
    }
    out.push('\n');

    let row = |out: &mut String, label: &str, f: &dyn Fn(&Results) -> String| {
        let _ = write!(out, "| {label} |");
        for (_, r) in &results {
            let _ = write!(out, " {} |", f(r));
        }
        out.push('\n');
    };
    row(&mut out, "set, no fsync per write, 1 thread", &|r| {
        cell_rate(&r.set, keg.map(|k| &k.set))
    });
    let with_sync = |r: &Results| Run {
        ops: r.set.ops,
        secs: r.set.secs + r.final_sync_secs,
        capped: r.set.capped,
    };
    row(
        &mut out,
        "set, no fsync per write, incl. final sync",
        &|r| cell_rate(&with_sync(r), keg.map(with_sync).as_ref()),
    );
    row(&mut out, "get, warm, 1 thread", &|r| {
        cell_rate(&r.get1, keg.map(|k| &k.get1))
    });
    row(&mut out, "get, warm, 2 threads (aggregate)", &|r| {
        cell_rate(&r.get2, keg.map(|k| &k.get2))
    });
    for (idx, &w) in args.writers.iter().enumerate() {
        let label = format!(
            "set, fsync per write, {w} writer{}",
            if w == 1 { "" } else { "s" }
        );
        row(&mut out, &label, &|r| {
            cell_rate(&r.durable[idx].1, keg.map(|k| &k.durable[idx].1))
        });
    }
    row(
        &mut out,
        &format!("reopen with {} keys (time; × = ÷ keg)", thousands(n as f64)),
        &|r| cell_secs(r.reopen_secs, keg.map(|k| k.reopen_secs)),
    );
    row(
        &mut out,
        "disk after load + final sync (MiB allocated)",
        &|r| format!("{:.0}", r.disk_bytes as f64 / (1024.0 * 1024.0)),
    );

    // Baselines and keg-specific figures.
    let _ = writeln!(out, "\nBaselines (no engine, same machine, same run):\n");
    let _ = writeln!(
        out,
        "- {} x write(2) of a {KEG_RECORD_LEN}-byte record (keg's record size) to one file: \
         {} ops/s ({:.2} s; final fdatasync {:.0} ms).",
        thousands(base_write.ops as f64),
        thousands(base_write.ops_per_sec()),
        base_write.secs,
        base_final_sync * 1000.0
    );
    if let Some(k) = keg {
        let _ = writeln!(
            out,
            "  keg's `set, no fsync per write` reaches {:.0}% of this one-syscall-per-write limit.",
            100.0 * k.set.ops_per_sec() / base_write.ops_per_sec()
        );
    }
    let _ = writeln!(
        out,
        "- write(2) + fdatasync(2) per record (appending to a fresh file), 1 thread, measured \
         {}: {} ops/s (= {:.2} ms per durable write).",
        if keg.is_some() {
            "right before keg's durable runs"
        } else {
            "after the engines"
        },
        thousands(base_sync.ops_per_sec()),
        1000.0 / base_sync.ops_per_sec().max(1e-9)
    );
    if let Some(k) = keg
        && let Some((_, run, _)) = k.durable.iter().find(|(w, _, _)| *w == 1)
    {
        let _ = writeln!(
            out,
            "  keg's `set, fsync per write, 1 writer` reaches {:.0}% of it (fsync latency on \
             this disk drifts by tens of percent from second to second: read this as \"at the \
             limit\" or not, not as a precise percentage).",
            100.0 * run.ops_per_sec() / base_sync.ops_per_sec()
        );
    }
    if let Some(k) = keg {
        let _ = writeln!(out, "\nkeg group commit (writes per fsync):");
        for (w, run, fsyncs) in &k.durable {
            if let Some(f) = fsyncs {
                let _ = writeln!(
                    out,
                    "- {w} writer(s): {} writes, {} fsyncs = {:.1} writes/fsync",
                    thousands(run.ops as f64),
                    thousands(*f as f64),
                    run.ops as f64 / (*f).max(1) as f64
                );
            }
        }
    }
    if let Some(p) = probe {
        let drss = p.after.rss_kb.saturating_sub(p.before.rss_kb) as f64 * 1024.0;
        let danon = p.after.anon_kb.saturating_sub(p.before.anon_kb) as f64 * 1024.0;
        let keys = p.keys.max(1) as f64;
        let _ = writeln!(
            out,
            "\nkeg memory (measured in a fresh child process: /proc/self/status before and after \
             `open` of the {}-key store, which loads every key into the index):\n\
             - open in the fresh process: {}\n\
             - RSS delta: {:.1} MiB = {:.1} bytes/key (anonymous memory: {:.1} MiB = {:.1} bytes/key; \
             the rest is file pages of the store touched by recovery)\n\
             - keg's own index accounting (Stats::index_bytes_per_key): {:.1} bytes/key",
            thousands(keys),
            cell_secs(p.open_secs, None),
            drss / (1024.0 * 1024.0),
            drss / keys,
            danon / (1024.0 * 1024.0),
            danon / keys,
            p.index_bytes_per_key
        );
    }
    let _ = writeln!(out, "\n{DURABILITY_NOTES}");
    let _ = writeln!(
        out,
        "Caches: redb and sled use their 1 GiB defaults; fjall's block cache is raised from 32 MiB \
         to 1 GiB; keg reads through mmap (OS page cache). Reads of redb use one read \
         transaction per thread for all its gets. Every get checks the value's length."
    );
    print!("{out}");
}
