//! The demo's slow database: an SQLite shop (users, products, orders, items, reviews), its
//! dashboard query, the write that changes a dashboard, and the cheap check that tells
//! whether a dashboard is up to date.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::rng::SplitMix64;

/// How big the shop is.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Size {
    pub users: u64,
    pub products: u64,
    pub orders: u64,
    pub reviews: u64,
}

impl Size {
    /// Sized so that the dashboard query takes 100-200 ms in a release build on a
    /// 2-core machine: most of it is reading and grouping every review.
    pub const FULL: Size = Size {
        users: 5_000,
        products: 2_000,
        orders: 60_000,
        reviews: 200_000,
    };

    /// For `--quick`: the same shape, smaller, a query of about 20 ms.
    pub const QUICK: Size = Size {
        users: 1_000,
        products: 500,
        orders: 10_000,
        reviews: 20_000,
    };
}

/// What the shop's landing page shows a user, the value the demo caches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub user_id: u64,
    pub name: String,
    pub country: String,
    pub orders: u64,
    pub spent_cents: u64,
    /// The user's newest order (0 for none): what tells a stale dashboard from a fresh one.
    pub last_order: u64,
    pub favourite_category: Option<String>,
    /// Best-rated products of the favourite category the user has not bought.
    pub recommended: Vec<String>,
}

/// The dashboard of user `?1`: joins users, orders, items, products and reviews. The
/// expensive part is what a real dashboard does without a precomputed table: ranking the
/// recommendations by the ratings of reviewers from the user's country, which means
/// reading every review and its author.
const DASHBOARD_SQL: &str = "
WITH my_items AS (
    SELECT o.id AS order_id, i.product_id, i.quantity, i.price_cents
    FROM orders o JOIN items i ON i.order_id = o.id
    WHERE o.user_id = ?1
),
favourite AS (
    SELECT p.category
    FROM my_items m JOIN products p ON p.id = m.product_id
    GROUP BY p.category
    ORDER BY SUM(m.quantity * m.price_cents) DESC, p.category
    LIMIT 1
),
ratings AS (
    SELECT r.product_id, AVG(r.rating) AS average, COUNT(*) AS reviews
    FROM reviews r
    GROUP BY r.product_id
)
SELECT u.name, u.country,
    (SELECT COUNT(DISTINCT order_id) FROM my_items),
    (SELECT COALESCE(SUM(quantity * price_cents), 0) FROM my_items),
    (SELECT COALESCE(MAX(order_id), 0) FROM my_items),
    (SELECT category FROM favourite),
    (SELECT group_concat(name, '|') FROM (
        SELECT p.name
        FROM products p JOIN ratings r ON r.product_id = p.id
        WHERE p.category = (SELECT category FROM favourite)
          AND p.id NOT IN (SELECT product_id FROM my_items)
          AND r.reviews >= 3
        ORDER BY r.average DESC, r.reviews DESC, p.id
        LIMIT 3))
FROM users u
WHERE u.id = ?1";

const SCHEMA_SQL: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
                    country TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
                       price_cents INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                     created_at INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
                    product_id INTEGER NOT NULL REFERENCES products(id),
                    quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id),
                      user_id INTEGER NOT NULL REFERENCES users(id), rating INTEGER NOT NULL,
                      body TEXT NOT NULL, created_at INTEGER NOT NULL);
";

/// Indexes an application would have; created after the bulk load (faster).
const INDEX_SQL: &str = "
CREATE INDEX orders_by_user ON orders(user_id);
CREATE INDEX items_by_order ON items(order_id);
CREATE INDEX reviews_by_product ON reviews(product_id);
ANALYZE;
";

const CATEGORIES: [&str; 12] = [
    "books", "garden", "kitchen", "music", "outdoor", "office", "toys", "games", "tools", "sports",
    "beauty", "audio",
];
const COUNTRIES: [&str; 8] = ["DE", "FR", "NL", "SE", "PL", "ES", "IT", "PT"];
const FIRST: [&str; 10] = [
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony",
];
const LAST: [&str; 10] = [
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
    "Hoare",
];
const ADJECTIVES: [&str; 8] = [
    "compact", "sturdy", "classic", "deluxe", "portable", "quiet", "bright", "handy",
];
const WORDS: [&str; 16] = [
    "works",
    "as",
    "described",
    "arrived",
    "late",
    "great",
    "value",
    "broke",
    "after",
    "a",
    "week",
    "would",
    "buy",
    "again",
    "not",
    "recommended",
];

/// Opens a connection to the demo database, ready for concurrent readers and a writer.
pub fn connect(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("opening the demo database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    // Enough page cache (and a mapping) for the whole database: the query's time goes
    // to computing, not to reading pages through system calls.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072; PRAGMA mmap_size = 1073741824;",
    )?;
    Ok(conn)
}

/// Creates the database at `path` and fills it with `size` rows of plausible data.
pub fn create(path: &Path, size: Size, seed: u64) -> anyhow::Result<()> {
    let mut conn = connect(path)?;
    conn.execute_batch(SCHEMA_SQL)?;
    let mut rng = SplitMix64(seed);
    let tx = conn.transaction()?;
    {
        let mut user = tx.prepare("INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for id in 1..=size.users {
            let first = pick(&mut rng, &FIRST);
            let last = pick(&mut rng, &LAST);
            user.execute(params![
                id,
                format!("{first} {last}"),
                format!(
                    "{}.{}{id}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                pick(&mut rng, &COUNTRIES),
                1_600_000_000 + rng.below(100_000_000),
            ])?;
        }
        let mut product = tx.prepare("INSERT INTO products VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=size.products {
            let category = pick(&mut rng, &CATEGORIES);
            product.execute(params![
                id,
                format!("{} {category} item #{id}", pick(&mut rng, &ADJECTIVES)),
                category,
                199 + rng.below(20_000),
            ])?;
        }
        let mut order = tx.prepare("INSERT INTO orders VALUES (?1, ?2, ?3, 'delivered')")?;
        let mut item = tx.prepare(
            "INSERT INTO items (order_id, product_id, quantity, price_cents) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for id in 1..=size.orders {
            order.execute(params![
                id,
                1 + rng.below(size.users),
                1_650_000_000 + id * 60
            ])?;
            for _ in 0..1 + rng.below(5) {
                item.execute(params![
                    id,
                    1 + rng.below(size.products),
                    1 + rng.below(3),
                    199 + rng.below(20_000)
                ])?;
            }
        }
        let mut review = tx.prepare("INSERT INTO reviews VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let mut body = String::new();
        for id in 1..=size.reviews {
            body.clear();
            for _ in 0..8 + rng.below(12) {
                body.push_str(pick(&mut rng, &WORDS));
                body.push(' ');
            }
            review.execute(params![
                id,
                1 + rng.below(size.products),
                1 + rng.below(size.users),
                1 + rng.below(5),
                body.trim_end(),
                1_650_000_000 + id * 7
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch(INDEX_SQL)?;
    Ok(())
}

fn pick<'a>(rng: &mut SplitMix64, from: &[&'a str]) -> &'a str {
    from.get(rng.below(from.len() as u64) as usize)
        .copied()
        .unwrap_or("")
}

/// Runs the dashboard query for `user_id`.
pub fn dashboard(conn: &Connection, user_id: u64) -> rusqlite::Result<Dashboard> {
    let mut statement = conn.prepare(DASHBOARD_SQL)?;
    statement.query_row([user_id], |row| {
        let recommended: Option<String> = row.get(6)?;
        Ok(Dashboard {
            user_id,
            name: row.get(0)?,
            country: row.get(1)?,
            orders: row.get(2)?,
            spent_cents: row.get(3)?,
            last_order: row.get(4)?,
            favourite_category: row.get(5)?,
            recommended: recommended
                .map(|names| names.split('|').map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    })
}

/// The newest order of `user_id` (0 for none), from the index: what a fresh dashboard's
/// `last_order` must be at least.
pub fn last_order(conn: &Connection, user_id: u64) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE(MAX(id), 0) FROM orders WHERE user_id = ?1",
        [user_id],
        |row| row.get(0),
    )
}

/// Places an order of one to three products for `user_id`, in one transaction; returns
/// its id once committed.
pub fn place_order(
    conn: &mut Connection,
    user_id: u64,
    rng: &mut SplitMix64,
) -> rusqlite::Result<u64> {
    let products: u64 = conn.query_row("SELECT COUNT(*) FROM products", [], |row| row.get(0))?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO orders (user_id, created_at, status) VALUES (?1, unixepoch(), 'paid')",
        [user_id],
    )?;
    let order = u64::try_from(tx.last_insert_rowid()).unwrap_or(0);
    for _ in 0..1 + rng.below(3) {
        let product = 1 + rng.below(products.max(1));
        let price: Option<u64> = tx
            .query_row(
                "SELECT price_cents FROM products WHERE id = ?1",
                [product],
                |row| row.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO items (order_id, product_id, quantity, price_cents) VALUES (?1, ?2, 1, ?3)",
            params![order, product, price.unwrap_or(0)],
        )?;
    }
    tx.commit()?;
    Ok(order)
}
