//! [`Store::scan`]: the keyspace a page at a time, with a cursor (Redis `SCAN`).

use std::collections::HashSet;

use super::{Store, Transaction};
use crate::engine::Engine;

/// One page of a [`Store::scan`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// Where the next page starts; 0 when the scan is complete.
    pub cursor: u64,
    /// Keys of this page, in no particular order (expired keys left out).
    pub keys: Vec<Vec<u8>>,
}

/// One past the last scan position.
const END: u128 = 1 << 64;

impl Store {
    /// One page of a scan over every key: start with cursor 0 and pass each page's
    /// `cursor` to the next call until it is 0 again (Redis `SCAN`).
    ///
    /// Every key present for the whole scan is returned exactly once; a key written or
    /// deleted meanwhile may or may not be. `count` is a hint for the page size, as in
    /// Redis: a page may hold somewhat more or fewer keys, but never none unless the scan
    /// is complete. Cursors stay valid across writes, merges and index growth, but not
    /// across a reopen (a reopened store starts scans afresh). Any `u64` is accepted as a
    /// cursor.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = keg::Store::open(dir.path())?;
    /// for i in 0..100 {
    ///     store.set(format!("key:{i}").as_bytes(), b"v")?;
    /// }
    /// let mut seen = 0;
    /// let mut cursor = 0;
    /// loop {
    ///     let page = store.scan(cursor, 10);
    ///     seen += page.keys.len();
    ///     cursor = page.cursor;
    ///     if cursor == 0 {
    ///         break;
    ///     }
    /// }
    /// assert_eq!(seen, 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan(&self, cursor: u64, count: usize) -> ScanPage {
        scan_page(self.engine(), cursor, count, self.engine().now_ms())
    }
}

impl Transaction<'_> {
    /// One page of a scan as this transaction sees the keys: [`Store::scan`]'s page, less
    /// the keys this transaction deleted, plus the keys it created that lie in the page's
    /// stretch of the cursor space (Redis's SCAN inside MULTI). Cursors are the store's.
    /// Unlike the store's, a page may be empty before the scan is complete (every key
    /// the store had there deleted by this transaction), as Redis's may.
    pub fn scan(&self, cursor: u64, count: usize) -> ScanPage {
        let mut page = scan_page(self.engine(), cursor, count, self.now_ms());
        let written = self.written_keys();
        if written.is_empty() {
            return page;
        }
        let end = if page.cursor == 0 {
            END
        } else {
            u128::from(page.cursor)
        };
        let listed: HashSet<Vec<u8>> = page.keys.iter().cloned().collect();
        page.keys
            .retain(|key| written.binary_search(key).is_err() || self.contains(key));
        for key in written {
            let position = u128::from(self.engine().keydir.scan_position(&key));
            if (u128::from(cursor)..end).contains(&position)
                && !listed.contains(&key)
                && self.contains(&key)
            {
                page.keys.push(key);
            }
        }
        page
    }
}

/// The keys unexpired at `now` in the stretch of scan positions from `cursor` that holds
/// about `count` of them, and where the next stretch starts (0: the end).
fn scan_page(engine: &Engine, cursor: u64, count: usize, now: u64) -> ScanPage {
    let entries = engine.keydir.len().max(1) as u128;
    // The stretch of positions that holds about `count` keys, keys being spread evenly
    // over positions (they are hashes).
    let mut width = (END.saturating_mul(count.max(1) as u128) / entries).max(1);
    let mut lo = cursor;
    let mut keys = Vec::new();
    loop {
        let hi = (u128::from(lo) + width).min(END);
        engine.keydir.scan_range(lo, hi, now, &mut keys);
        let Ok(next) = u64::try_from(hi) else {
            return ScanPage { cursor: 0, keys };
        };
        if !keys.is_empty() {
            return ScanPage { cursor: next, keys };
        }
        lo = next;
        width = width.saturating_mul(2);
    }
}
