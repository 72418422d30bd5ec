//! What data commands run against: the store itself, or a transaction of it (inside EXEC,
//! a coalesced pipeline, or a command that reads and writes several keys atomically). Both
//! have the same methods; this trait lets one command body serve both.

use crate::datatypes::api::CollectionOps;
use crate::{Result, ScanPage, SetOptions, SetOutcome, Stats, Store, Transaction, Ttl};

/// The reads and writes data commands use.
pub(crate) trait KeySpace {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The value and its expiry (unix ms), if present.
    fn get_with_expiry(&self, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>>;
    fn contains(&self, key: &[u8]) -> bool;
    fn ttl(&self, key: &[u8]) -> Result<Ttl>;
    fn expires_at(&self, key: &[u8]) -> Result<Option<u64>>;
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()>;
    fn set_with(&self, key: &[u8], value: &[u8], options: SetOptions) -> Result<SetOutcome>;
    fn set_with_expiry(&self, key: &[u8], value: &[u8], expiry_ms: Option<u64>) -> Result<()>;
    fn delete(&self, key: &[u8]) -> Result<bool>;
    fn expire_at(&self, key: &[u8], unix_ms: u64) -> Result<bool>;
    fn persist(&self, key: &[u8]) -> Result<bool>;
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64>;
    fn incr_by_float_text(&self, key: &[u8], delta: &[u8]) -> Result<Vec<u8>>;
    fn append(&self, key: &[u8], suffix: &[u8]) -> Result<usize>;
    fn get_del(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The time relative expiries count from: the store's clock, or the instant a
    /// transaction began.
    fn now_ms(&self) -> u64;
    /// Every key present (KEYS, FLUSHDB).
    fn keys(&self) -> Vec<Vec<u8>>;
    /// How many keys are present (DBSIZE).
    fn len(&self) -> usize;
    /// Whether the keys present may differ from the store's (a transaction that wrote
    /// keys): RANDOMKEY then draws from `keys()`.
    fn wrote_keys(&self) -> bool;
    /// A SCAN page (the transaction's own writes included).
    fn scan(&self, cursor: u64, count: usize) -> ScanPage;
    /// Hashes, sets and TYPE.
    fn collections(&self) -> &dyn CollectionOps;
    /// The longest key the store takes (a collection's element keys hold its key).
    fn max_key_size(&self) -> usize;
    /// How many keys with an expiry are present (INFO keyspace).
    fn expiring_len(&self) -> usize;
    /// The store's figures (INFO); a transaction's are those from before it began.
    fn stats(&self) -> Stats;
}

impl KeySpace for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::get(self, key)
    }
    fn get_with_expiry(&self, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        // Two reads: used only where no write can interleave in a way that matters (the
        // atomic commands run against a Transaction).
        let Some(value) = Store::get(self, key)? else {
            return Ok(None);
        };
        Ok(Some((value, Store::expires_at(self, key)?)))
    }
    fn contains(&self, key: &[u8]) -> bool {
        Store::contains(self, key)
    }
    fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        Store::ttl(self, key)
    }
    fn expires_at(&self, key: &[u8]) -> Result<Option<u64>> {
        Store::expires_at(self, key)
    }
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Store::set(self, key, value)
    }
    fn set_with(&self, key: &[u8], value: &[u8], options: SetOptions) -> Result<SetOutcome> {
        Store::set_with(self, key, value, options)
    }
    fn set_with_expiry(&self, key: &[u8], value: &[u8], expiry_ms: Option<u64>) -> Result<()> {
        let options = match expiry_ms {
            Some(at) => SetOptions::new().expire_at(at),
            None => SetOptions::new(),
        };
        Store::set_with(self, key, value, options).map(|_| ())
    }
    fn delete(&self, key: &[u8]) -> Result<bool> {
        Store::delete(self, key)
    }
    fn expire_at(&self, key: &[u8], unix_ms: u64) -> Result<bool> {
        Store::expire_at(self, key, unix_ms)
    }
    fn persist(&self, key: &[u8]) -> Result<bool> {
        Store::persist(self, key)
    }
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        Store::incr_by(self, key, delta)
    }
    fn incr_by_float_text(&self, key: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
        Store::incr_by_float_text(self, key, delta)
    }
    fn append(&self, key: &[u8], suffix: &[u8]) -> Result<usize> {
        Store::append(self, key, suffix)
    }
    fn get_del(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::get_del(self, key)
    }
    fn now_ms(&self) -> u64 {
        Store::now_ms(self)
    }
    fn keys(&self) -> Vec<Vec<u8>> {
        Store::keys(self)
    }
    fn len(&self) -> usize {
        Store::len(self)
    }
    fn wrote_keys(&self) -> bool {
        false
    }
    fn scan(&self, cursor: u64, count: usize) -> ScanPage {
        Store::scan(self, cursor, count)
    }
    fn collections(&self) -> &dyn CollectionOps {
        self
    }
    fn max_key_size(&self) -> usize {
        Store::max_key_size(self)
    }
    fn expiring_len(&self) -> usize {
        Store::expiring_len(self)
    }
    fn stats(&self) -> Stats {
        Store::stats(self)
    }
}

impl KeySpace for Transaction<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Transaction::get(self, key)
    }
    fn get_with_expiry(&self, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        Transaction::get_with_expiry(self, key)
    }
    fn contains(&self, key: &[u8]) -> bool {
        Transaction::contains(self, key)
    }
    fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        Transaction::ttl(self, key)
    }
    fn expires_at(&self, key: &[u8]) -> Result<Option<u64>> {
        Transaction::expires_at(self, key)
    }
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Transaction::set(self, key, value)
    }
    fn set_with(&self, key: &[u8], value: &[u8], options: SetOptions) -> Result<SetOutcome> {
        Transaction::set_with(self, key, value, options)
    }
    fn set_with_expiry(&self, key: &[u8], value: &[u8], expiry_ms: Option<u64>) -> Result<()> {
        Transaction::set_with_expiry(self, key, value, expiry_ms)
    }
    fn delete(&self, key: &[u8]) -> Result<bool> {
        Transaction::delete(self, key)
    }
    fn expire_at(&self, key: &[u8], unix_ms: u64) -> Result<bool> {
        Transaction::expire_at(self, key, unix_ms)
    }
    fn persist(&self, key: &[u8]) -> Result<bool> {
        Transaction::persist(self, key)
    }
    fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        Transaction::incr_by(self, key, delta)
    }
    fn incr_by_float_text(&self, key: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
        Transaction::incr_by_float_text(self, key, delta)
    }
    fn append(&self, key: &[u8], suffix: &[u8]) -> Result<usize> {
        Transaction::append(self, key, suffix)
    }
    fn get_del(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Transaction::get_del(self, key)
    }
    fn now_ms(&self) -> u64 {
        Transaction::now_ms(self)
    }
    fn keys(&self) -> Vec<Vec<u8>> {
        Transaction::keys(self)
    }
    fn len(&self) -> usize {
        Transaction::len(self)
    }
    fn wrote_keys(&self) -> bool {
        Transaction::wrote_keys(self)
    }
    fn scan(&self, cursor: u64, count: usize) -> ScanPage {
        Transaction::scan(self, cursor, count)
    }
    fn collections(&self) -> &dyn CollectionOps {
        self
    }
    fn max_key_size(&self) -> usize {
        self.engine().options.max_key_size
    }
    fn expiring_len(&self) -> usize {
        Transaction::expiring_len(self)
    }
    fn stats(&self) -> Stats {
        Transaction::stats(self)
    }
}

/// The store's error if members as long as `longest_member` cannot be stored in a
/// collection at `destination` (see `datatypes::element_keys_fit`). Commands that replace
/// a destination check this before deleting it, so a refused write leaves it as it was.
pub(crate) fn members_fit(
    ks: &dyn KeySpace,
    destination: &[u8],
    longest_member: usize,
) -> crate::Result<()> {
    crate::datatypes::element_keys_fit(ks.max_key_size(), destination.len(), longest_member)
}
