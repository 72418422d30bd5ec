//! The store's notion of "now", for layers built on top of it (the cache's expiry and
//! early-refresh decisions, rate-limit windows) that must agree with the TTLs it enforces.

use super::Store;

impl Store {
    /// The time on the store's clock ([`Options::clock`](crate::Options::clock)), in unix
    /// milliseconds: the time every TTL of this store is measured against. With a
    /// [`ManualClock`](crate::ManualClock) it moves only when the test moves it.
    pub fn now_ms(&self) -> u64 {
        self.engine().now_ms()
    }
}
