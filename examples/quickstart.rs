//! The README's quick start: open a store, write, delete, reopen, read back, show stats.
//!
//! ```text
//! cargo run --release --example quickstart [DIR]
//! ```
//!
//! Without DIR the store lives in a temporary directory that is removed at the end.

use std::time::Instant;

use keg::{Options, Store, SyncPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let temp;
    let dir = match std::env::args_os().nth(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    println!("store directory: {}", dir.display());

    // Durable by default: every write below is fsynced before `set` returns.
    let store = Store::open(&dir)?;
    store.set(b"user:42:name", b"Ada Lovelace")?;
    store.set(b"user:42:email", b"ada@example.com")?;
    store.set(b"session:tmp", b"to be deleted")?;
    store.delete(b"session:tmp")?;
    store.close()?;

    // A faster policy for a bulk load: writes reach the OS at once, fsync at the end.
    let bulk = Options::new().sync_policy(SyncPolicy::Never).open(&dir)?;
    let started = Instant::now();
    for i in 0..100_000u32 {
        bulk.set(format!("item:{i:06}").as_bytes(), &[b'x'; 100])?;
    }
    bulk.sync()?;
    println!(
        "bulk load: 100000 sets + 1 fsync in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    bulk.close()?;

    // Reopen: recovery rebuilds the index from the segment files.
    let started = Instant::now();
    let store = Store::open(&dir)?;
    println!(
        "reopened {} keys in {:.0} ms",
        store.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let name = store.get(b"user:42:name")?.unwrap_or_default();
    println!("user:42:name = {}", String::from_utf8_lossy(&name));
    println!("session:tmp present: {}", store.contains(b"session:tmp"));

    let stats = store.stats();
    println!(
        "{} keys in {} segment(s): {} bytes on disk ({} live), index {:.1} bytes/key",
        stats.keys,
        stats.segments.len(),
        stats.disk_bytes,
        stats.live_bytes,
        stats.index_bytes_per_key
    );
    store.close()?;
    Ok(())
}
