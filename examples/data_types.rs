//! The data types at work, each on the job it is known for, measured on this machine:
//! a leaderboard (sorted set), unique visitors (set), a work queue (list) drained by
//! consumer threads, and session objects (hash with a TTL).
//!
//! ```text
//! cargo run --release --example data_types
//! ```
//!
//! `kvctl demo types` runs the same four jobs with each result checked against the truth,
//! also over the Redis protocol, where the queue's consumers block in BRPOP instead of
//! polling as they do here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keg::{Options, Store, SyncPolicy};

fn per_op(elapsed: Duration, ops: u64) -> String {
    format!("{:.2} µs/op", elapsed.as_secs_f64() * 1e6 / ops as f64)
}

fn leaderboard(store: &Store) -> keg::Result<()> {
    let players = 100_000u64;
    let started = Instant::now();
    for round in 0..3u64 {
        for p in 0..players {
            let points = ((p * 7919 + round * 104_729) % 1000) as f64;
            store.zincr_by(b"leaderboard", format!("player:{p}").as_bytes(), points)?;
        }
    }
    let writes = started.elapsed();
    let started = Instant::now();
    let top = store.zrange(b"leaderboard", 0, 9, true)?;
    let top_time = started.elapsed();
    let rank = store.zrank(b"leaderboard", b"player:42", true)?;
    println!(
        "leaderboard: {} ZINCRBY on {players} players ({}); top 10 in {:?}: {} with {}; player:42 ranks #{}",
        3 * players,
        per_op(writes, 3 * players),
        top_time,
        String::from_utf8_lossy(&top[0].0),
        top[0].1,
        rank.map_or(0, |r| r + 1)
    );
    Ok(())
}

fn unique_visitors(store: &Store) -> keg::Result<()> {
    let visits = 500_000u64;
    let started = Instant::now();
    for v in 0..visits {
        // Many visits, fewer visitors: every visitor comes back about 5 times.
        let visitor = (v * 2_654_435_761) % (visits / 5);
        store.sadd(
            b"visitors:2026-11-26",
            &[format!("ip:{visitor}").as_bytes()],
        )?;
    }
    let elapsed = started.elapsed();
    println!(
        "unique visitors: {visits} SADD ({}), SCARD says {} unique",
        per_op(elapsed, visits),
        store.scard(b"visitors:2026-11-26")?
    );
    Ok(())
}

fn work_queue(store: &Store) -> keg::Result<()> {
    let jobs = 200_000u64;
    let producers = 2;
    let consumers = 2;
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let consumer_threads: Vec<_> = (0..consumers)
        .map(|_| {
            let (store, done, finished) = (store.clone(), done.clone(), finished.clone());
            std::thread::spawn(move || -> keg::Result<()> {
                loop {
                    let batch = store.rpop(b"jobs", 64)?;
                    if batch.is_empty() {
                        if finished.load(Ordering::Acquire) && store.llen(b"jobs")? == 0 {
                            return Ok(());
                        }
                        // The embedded API has no blocking pop (the server's BRPOP waits): poll.
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    done.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let producer_threads: Vec<_> = (0..producers)
        .map(|p| {
            let store = store.clone();
            std::thread::spawn(move || -> keg::Result<()> {
                for j in 0..jobs / producers {
                    store.lpush(b"jobs", &[format!("resize:{p}:{j}.png").as_bytes()])?;
                }
                Ok(())
            })
        })
        .collect();
    for t in producer_threads {
        t.join().expect("producer")?;
    }
    finished.store(true, Ordering::Release);
    for t in consumer_threads {
        t.join().expect("consumer")?;
    }
    let elapsed = started.elapsed();
    println!(
        "work queue: {producers} producers LPUSH {jobs} jobs, {consumers} consumers RPOP them all ({} done) in {:?} ({:.0} jobs/s)",
        done.load(Ordering::Relaxed),
        elapsed,
        jobs as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn sessions(store: &Store) -> keg::Result<()> {
    let sessions = 100_000u64;
    let started = Instant::now();
    for s in 0..sessions {
        let key = format!("session:{s:08x}");
        let user = (s % 9973).to_string();
        store.hset_many(
            key.as_bytes(),
            &[
                (b"user", user.as_bytes()),
                (b"cart", b"3 items"),
                (b"theme", b"dark"),
            ],
        )?;
        store.expire(key.as_bytes(), Duration::from_secs(1800))?;
    }
    let writes = started.elapsed();
    let started = Instant::now();
    let mut fields = 0;
    for s in (0..sessions).step_by(10) {
        fields += store.hgetall(format!("session:{s:08x}").as_bytes())?.len();
    }
    let reads = started.elapsed();
    println!(
        "sessions: {sessions} x (HSET of 3 fields + EXPIRE) ({}); {} HGETALL ({}), {fields} fields read",
        per_op(writes, sessions),
        sessions / 10,
        per_op(reads, sessions / 10)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    // Each write reaches the OS before it returns; fsync is left to rotation and close, as a
    // cache or an analytics store would choose (SyncPolicy::Always fsyncs every write).
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir.path())?;
    leaderboard(&store)?;
    unique_visitors(&store)?;
    work_queue(&store)?;
    sessions(&store)?;
    let stats = store.stats();
    println!(
        "store: {} keys, {} collections, {} elements, {:.0} B of index memory per element, {:.1} MiB on disk",
        stats.keys,
        stats.collections,
        stats.elements,
        stats.element_bytes_per_element,
        stats.disk_bytes as f64 / (1 << 20) as f64
    );
    store.close()?;
    Ok(())
}
