//! The ways the demo reads a dashboard, and what each does after a write commits.

use std::time::Duration;

use keg::cache::{Cache, CacheBackend, CacheOptions, LoadError, version_key};
use rusqlite::Connection;

use super::database::{self, Dashboard};

/// A caching strategy (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Every read runs the query.
    Uncached,
    /// Cache-aside; writes do nothing, values live until their TTL. With TTL jitter, early
    /// refresh (XFetch) and stale-while-revalidate.
    TtlOnly,
    /// Cache-aside; a write deletes the user's cached dashboard after it commits.
    DeleteOnWrite,
    /// Cache-aside; a write recomputes the dashboard after it commits and stores it.
    WriteThrough,
    /// Cache-aside under a per-user version; a write bumps the version after it commits.
    Versioned,
}

impl Strategy {
    pub const ALL: [Strategy; 5] = [
        Strategy::Uncached,
        Strategy::TtlOnly,
        Strategy::DeleteOnWrite,
        Strategy::WriteThrough,
        Strategy::Versioned,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Uncached => "uncached",
            Strategy::TtlOnly => "ttl-only",
            Strategy::DeleteOnWrite => "delete-on-write",
            Strategy::WriteThrough => "write-through",
            Strategy::Versioned => "versioned-keys",
        }
    }

    /// The strategy named `name` (as [`Strategy::name`] spells it).
    pub fn parse(name: &str) -> Result<Strategy, String> {
        Strategy::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                format!("unknown strategy {name:?} (use {})", names.join(", "))
            })
    }

    /// The cache settings of this strategy; `None` for uncached. Each strategy counts
    /// into its own statistics keys, under the run's key prefix `run`.
    pub fn cache_options(
        self,
        run: &str,
        seed: u64,
        stale_grace: Duration,
    ) -> Option<CacheOptions> {
        let prefix = format!("{run}:{}:stats:", self.name());
        let options = CacheOptions::new()
            .stats_prefix(prefix.as_bytes())
            .seed(seed);
        match self {
            Strategy::Uncached => None,
            Strategy::TtlOnly => Some(
                options
                    .ttl_jitter(0.1)
                    .early_refresh(1.0)
                    .stale_while_revalidate(stale_grace),
            ),
            _ => Some(options),
        }
    }
}

/// What a reader or writer needs to use a strategy.
pub struct Access<'a, B: CacheBackend> {
    pub strategy: Strategy,
    pub cache: Option<&'a Cache<B>>,
    pub ttl: Duration,
    /// Prefix of every key of this run, so runs sharing a server do not meet.
    pub run: &'a str,
    /// Counts every run of the dashboard query.
    pub queries: &'a std::sync::atomic::AtomicU64,
}

impl<B: CacheBackend> Access<'_, B>
where
    B::Error: Send + Sync + 'static,
{
    /// The key a user's dashboard is cached under (the versioned strategy adds its
    /// version to it).
    fn key(&self, user_id: u64) -> Vec<u8> {
        format!(
            "{}:{}:user:{user_id}:dashboard",
            self.run,
            self.strategy.name()
        )
        .into_bytes()
    }

    /// The version namespace of a user's cached data (versioned strategy).
    fn namespace(&self, user_id: u64) -> Vec<u8> {
        format!("{}:{}:user:{user_id}", self.run, self.strategy.name()).into_bytes()
    }

    /// Deletes the counters this phase left in the backend (statistics, versions of users
    /// `1..=users`); cached values go with their TTL.
    pub fn clean_up(&self, users: u64) -> anyhow::Result<()> {
        if let Some(cache) = self.cache {
            cache.reset_stats()?;
            for user in 1..=users {
                cache
                    .backend()
                    .delete(&version_key(&self.namespace(user)))
                    .map_err(|e| anyhow::anyhow!("cleaning up the cache: {e}"))?;
            }
        }
        Ok(())
    }
}

impl<B: CacheBackend> Access<'_, B>
where
    B::Error: Send + Sync + 'static,
{
    /// Runs the dashboard query, counted.
    fn query(&self, conn: &Connection, user_id: u64) -> Result<Vec<u8>, LoadError> {
        self.queries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dashboard = database::dashboard(conn, user_id)?;
        Ok(serde_json::to_vec(&dashboard)?)
    }

    /// Reads `user_id`'s dashboard the strategy's way.
    pub fn read(&self, conn: &Connection, user_id: u64) -> anyhow::Result<Dashboard> {
        let load = || self.query(conn, user_id);
        let json = match (self.strategy, self.cache) {
            (Strategy::Versioned, Some(cache)) => cache.get_or_load_versioned(
                &self.namespace(user_id),
                b"dashboard",
                self.ttl,
                load,
            )?,
            (_, Some(cache)) => cache.get_or_load(&self.key(user_id), self.ttl, load)?,
            (_, None) => load().map_err(|e| anyhow::anyhow!("dashboard query failed: {e}"))?,
        };
        Ok(serde_json::from_slice(&json)?)
    }

    /// What the strategy does once a write to `user_id`'s data has committed.
    pub fn after_commit(&self, conn: &Connection, user_id: u64) -> anyhow::Result<()> {
        let Some(cache) = self.cache else {
            return Ok(());
        };
        match self.strategy {
            Strategy::Uncached | Strategy::TtlOnly => {}
            Strategy::DeleteOnWrite => {
                cache.invalidate(&self.key(user_id))?;
            }
            Strategy::WriteThrough => {
                let json = self
                    .query(conn, user_id)
                    .map_err(|e| anyhow::anyhow!("dashboard query failed: {e}"))?;
                cache.put(&self.key(user_id), &json, self.ttl)?;
            }
            Strategy::Versioned => {
                cache.bump_version(&self.namespace(user_id))?;
            }
        }
        Ok(())
    }
}
