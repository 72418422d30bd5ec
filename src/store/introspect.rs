//! Figures a server reports about the store it serves (Redis's INFO and CONFIG GET): the
//! sync policy it was opened with, and how many keys carry an expiry.

use super::Store;
use crate::engine::Engine;
use crate::options::SyncPolicy;
use crate::ttl::is_expired;

impl Store {
    /// The [`SyncPolicy`] the store was opened with.
    pub fn sync_policy(&self) -> SyncPolicy {
        self.engine().options.sync_policy
    }

    /// The largest value a write may store ([`Options::max_value_size`](crate::Options::max_value_size)):
    /// a server checks a value it would build (SETRANGE, SETBIT) against it before
    /// allocating, rather than building it only to have the write refused.
    pub fn max_value_size(&self) -> usize {
        self.engine().options.max_value_size
    }

    /// The longest key a write may use ([`Options::max_key_size`](crate::Options::max_key_size));
    /// a collection's members count toward it with their collection's key (see
    /// `docs/format.md`).
    pub fn max_key_size(&self) -> usize {
        self.engine().options.max_key_size
    }

    /// How many live keys have an expiry (Redis's `expires=` in INFO keyspace). Walks the
    /// index: O(keys), no disk I/O.
    pub fn expiring_len(&self) -> usize {
        self.engine().expiring_len()
    }
}

impl Engine {
    /// [`Store::expiring_len`], also for a transaction (which corrects it for its own
    /// writes).
    pub(crate) fn expiring_len(&self) -> usize {
        let now = self.now_ms();
        let mut count = 0;
        self.keydir.for_each(|_, entry| {
            if entry.expiry_ms != 0 && !is_expired(entry.expiry_ms, now) {
                count += 1;
            }
        });
        count
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Options, SyncPolicy};

    #[test]
    fn reports_policy_and_expiring_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Options::new()
            .sync_policy(SyncPolicy::Never)
            .open(dir.path())
            .unwrap();
        assert_eq!(store.sync_policy(), SyncPolicy::Never);
        store.set(b"a", b"1").unwrap();
        store
            .set_with_ttl(b"b", b"2", Duration::from_secs(100))
            .unwrap();
        assert_eq!(store.expiring_len(), 1);
    }
}
