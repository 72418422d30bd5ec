//! The cache's counters: one INCR per event, in the backend, so that every process using
//! the same store or server adds to (and reads) the same figures.

/// One counted event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A request answered from the cache without waiting for a load.
    Hit,
    /// A request that had to wait for a load (its own or another caller's).
    Miss,
    /// A run of the loader.
    Load,
    /// A run of the loader that failed.
    LoadError,
    /// A request answered with a value past its TTL while someone else refreshed it.
    StaleServe,
    /// A load that replaced a value still present (expired within the grace, or chosen for
    /// early refresh).
    Refresh,
}

impl Event {
    /// Every event, in the order [`CacheStats`] lists them.
    pub const ALL: [Event; 6] = [
        Event::Hit,
        Event::Miss,
        Event::Load,
        Event::LoadError,
        Event::StaleServe,
        Event::Refresh,
    ];

    /// The counter's key suffix.
    pub fn name(self) -> &'static str {
        match self {
            Event::Hit => "hits",
            Event::Miss => "misses",
            Event::Load => "loads",
            Event::LoadError => "load_errors",
            Event::StaleServe => "stale_serves",
            Event::Refresh => "refreshes",
        }
    }

    /// The counter's key under `prefix`.
    pub fn key(self, prefix: &[u8]) -> Vec<u8> {
        let mut key = prefix.to_vec();
        key.extend_from_slice(self.name().as_bytes());
        key
    }
}

/// The counters' values, as [`Cache::stats`](super::Cache::stats) reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests answered from the cache without waiting for a load.
    pub hits: u64,
    /// Requests that waited for a load (their own or, under single-flight, another
    /// caller's).
    pub misses: u64,
    /// Runs of a loader (the database queries the cache did not save).
    pub loads: u64,
    /// Loader runs that failed (nothing was cached).
    pub load_errors: u64,
    /// Requests answered with a value past its TTL while another caller refreshed it
    /// (stale-while-revalidate).
    pub stale_serves: u64,
    /// Loads that replaced a value still present: expired within the stale grace, or
    /// refreshed early (XFetch).
    pub refreshes: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, 0 when there were no requests.
    pub fn hit_ratio(&self) -> f64 {
        let requests = self.hits + self.misses;
        if requests == 0 {
            0.0
        } else {
            self.hits as f64 / requests as f64
        }
    }

    /// Sets the counter of `event`.
    pub(crate) fn set(&mut self, event: Event, value: u64) {
        let slot = match event {
            Event::Hit => &mut self.hits,
            Event::Miss => &mut self.misses,
            Event::Load => &mut self.loads,
            Event::LoadError => &mut self.load_errors,
            Event::StaleServe => &mut self.stale_serves,
            Event::Refresh => &mut self.refreshes,
        };
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_ratio_and_keys() {
        assert_eq!(CacheStats::default().hit_ratio(), 0.0);
        let mut stats = CacheStats::default();
        stats.set(Event::Hit, 3);
        stats.set(Event::Miss, 1);
        assert_eq!(stats.hit_ratio(), 0.75);
        assert_eq!(Event::LoadError.key(b"p:"), b"p:load_errors");
    }
}
