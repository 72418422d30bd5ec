//! Keeping cached values in step with the database: delete-on-write
//! ([`Cache::invalidate`]), write-through ([`Cache::put`]) and versioned keys
//! ([`Cache::get_or_load_versioned`] with [`Cache::bump_version`]). How they compare is in
//! the module docs of `keg::cache`.

use std::time::Duration;

use super::backend::CacheBackend;
use super::cache_aside::{Cache, duration_ms};
use super::counters::read_counter;
use super::error::{CacheError, LoadError};

/// Prefix of the namespace version counters' keys.
const VERSION_PREFIX: &[u8] = b"cache:version:";

impl<B: CacheBackend> Cache<B> {
    /// Write-through: caches `value` under `key` for `ttl` (less the jitter), replacing
    /// what was there. Call it after the database commit with the value the commit
    /// produced.
    pub fn put(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), CacheError<B::Error>> {
        let now = self.now_ms()?;
        let fresh_until = now.saturating_add(duration_ms(self.jittered(ttl)));
        self.write_entry(key, value, 0, fresh_until, now)
    }

    /// Delete-on-write: drops the value cached under `key`, so the next read loads it
    /// again; returns whether there was one. Call it after the database commit.
    pub fn invalidate(&self, key: &[u8]) -> Result<bool, CacheError<B::Error>> {
        self.backend.delete(key).map_err(CacheError::Backend)
    }

    /// The current version of `namespace` (0 before the first bump).
    pub fn version(&self, namespace: &[u8]) -> Result<u64, CacheError<B::Error>> {
        read_counter(&self.backend, &version_key(namespace))
    }

    /// Versioned invalidation: moves `namespace` to a new version (INCR) and returns it.
    /// Every value cached under the old version is then unreachable (its TTL reclaims
    /// it). Call it after the database commit.
    pub fn bump_version(&self, namespace: &[u8]) -> Result<u64, CacheError<B::Error>> {
        let key = version_key(namespace);
        let version = self.backend.incr_by(&key, 1).map_err(CacheError::Backend)?;
        u64::try_from(version).map_err(|_| CacheError::BadCounter { key })
    }

    /// [`get_or_load`](Cache::get_or_load) under the current version of `namespace`: the
    /// version is read *before* the loader runs, so a result computed from data older
    /// than a commit is stored under a version that the commit's
    /// [`bump_version`](Cache::bump_version) has already left behind, or is about to.
    ///
    /// A read that starts after a bump returns has the new version and never sees values
    /// from before the bump's commit.
    pub fn get_or_load_versioned<F, E>(
        &self,
        namespace: &[u8],
        key: &[u8],
        ttl: Duration,
        loader: F,
    ) -> Result<Vec<u8>, CacheError<B::Error>>
    where
        F: FnOnce() -> Result<Vec<u8>, E>,
        E: Into<LoadError>,
    {
        let version = self.version(namespace)?;
        self.get_or_load(&versioned_key(namespace, version, key), ttl, loader)
    }
}

/// The key of `namespace`'s version counter.
pub fn version_key(namespace: &[u8]) -> Vec<u8> {
    let mut out = VERSION_PREFIX.to_vec();
    out.extend_from_slice(namespace);
    out
}

/// The key under which `key` of `namespace` at `version` is cached:
/// `vk:<namespace length>:<namespace>:<version>:<key>`. The length makes it unambiguous
/// whatever bytes the namespace and key hold.
pub fn versioned_key(namespace: &[u8], version: u64, key: &[u8]) -> Vec<u8> {
    let mut out = format!("vk:{}:", namespace.len()).into_bytes();
    out.extend_from_slice(namespace);
    out.extend_from_slice(format!(":{version}:").as_bytes());
    out.extend_from_slice(key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_keys_do_not_collide() {
        assert_eq!(
            versioned_key(b"user:42", 3, b"dashboard"),
            b"vk:7:user:42:3:dashboard"
        );
        // Namespaces and keys that share bytes around the separators stay apart.
        assert_ne!(
            versioned_key(b"a:1", 2, b"x"),
            versioned_key(b"a", 1, b"2:x")
        );
        assert_ne!(
            versioned_key(b"a", 12, b"x"),
            versioned_key(b"a", 1, b"2:x")
        );
        assert_eq!(version_key(b"user:42"), b"cache:version:user:42");
    }
}
