//! The same slow SQL query as `cache_embedded`, cached over the Redis protocol with the
//! `redis` crate — the code an application that shares one cache between several processes
//! writes against `kvctl serve`.
//!
//! ```text
//! kvctl --dir cache-data serve --port 6380 --appendfsync no &
//! KEG_URL=redis://127.0.0.1:6380/ cargo run --release --example cache_redis
//! ```
//!
//! Without `KEG_URL` the example starts keg's server itself, on a free loopback port over a
//! temporary store, so it also runs on its own.

use std::time::Instant;

use redis::Commands;
use rusqlite::Connection;

/// Cache-aside in a few lines: GET; on a miss run the query and SET it with a TTL (EX).
fn dashboard(
    cache: &mut redis::Connection,
    db: &Connection,
    user: i64,
) -> Result<String, Box<dyn std::error::Error>> {
    let key = format!("user:{user}:dashboard");
    if let Some(hit) = cache.get::<_, Option<String>>(&key)? {
        return Ok(hit);
    }
    let (orders, spent): (i64, i64) = db.query_row(
        "SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders WHERE user_id = ?1 \
         AND total_cents > (SELECT AVG(total_cents) FROM orders)",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let value = format!("{orders} big orders, {spent} cents");
    let _: () = cache.set_ex(&key, &value, 60)?;
    // Invalidation on write is one DEL after the database commit: cache.del(&key).
    Ok(value)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE orders (user_id INTEGER, total_cents INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000)
         INSERT INTO orders SELECT i % 5000, i % 9973 FROM n;",
    )?;

    let (url, _own_server) = match std::env::var("KEG_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = tempfile::tempdir()?;
            let store = keg::Options::new()
                .sync_policy(keg::SyncPolicy::Never)
                .open(dir.path())?;
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let server = keg::server::serve(listener, store, Default::default())?;
            (
                format!("redis://{}/", server.local_addr()),
                Some((server, dir)),
            )
        }
    };
    let mut cache = redis::Client::open(url.as_str())?.get_connection()?;
    for attempt in 1..=3 {
        let started = Instant::now();
        let text = dashboard(&mut cache, &db, 42)?;
        println!("attempt {attempt}: {text} in {:?}", started.elapsed());
    }
    let _: () = cache.del("user:42:dashboard")?;
    Ok(())
}
