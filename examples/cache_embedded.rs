//! A slow SQL query cached with `keg::cache`: the first call runs it, the next ones are
//! answered from the store until the TTL ends.
//!
//! ```text
//! cargo run --release --example cache_embedded
//! ```

use std::time::{Duration, Instant};

use keg::cache::Cache;
use keg::{Options, SyncPolicy};
use rusqlite::Connection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The "slow database": half a million orders, an aggregate over all of them.
    let db = Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE orders (user_id INTEGER, total_cents INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000)
         INSERT INTO orders SELECT i % 5000, i % 9973 FROM n;",
    )?;
    let dashboard_sql = "SELECT COUNT(*), SUM(total_cents), \
         (SELECT COUNT(*) FROM (SELECT user_id FROM orders GROUP BY user_id \
          HAVING SUM(total_cents) > (SELECT SUM(total_cents) FROM orders WHERE user_id = ?1))) \
         FROM orders WHERE user_id = ?1";

    // A cache can be rebuilt from the database, so it needs no fsync per write.
    let dir = tempfile::tempdir()?;
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .open(dir.path())?;
    let cache = Cache::new(store);
    for attempt in 1..=3 {
        let started = Instant::now();
        let dashboard = cache.get_or_load(b"user:42:dashboard", Duration::from_secs(60), || {
            let (orders, spent, richer): (i64, i64, i64) =
                db.query_row(dashboard_sql, [42], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            Ok::<_, rusqlite::Error>(
                format!("{orders} orders, {spent} cents, {richer} users spent more").into_bytes(),
            )
        })?;
        let text = String::from_utf8_lossy(&dashboard);
        println!("attempt {attempt}: {text} in {:?}", started.elapsed());
    }
    println!("{:?}", cache.stats()?);
    Ok(())
}
