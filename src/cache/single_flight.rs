//! Single-flight: of the callers that need the same key loaded at the same time, one (the
//! leader) runs the loader and the others wait for its outcome, success or failure.
//!
//! It works within one process (one [`Cache`](super::Cache) value and its clones of the
//! backend); processes sharing a server each load at most once per key at a time.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::error::LoadError;

/// What a load ended with, as every waiter receives it.
pub(crate) type Outcome = Result<Vec<u8>, LoadError>;

/// The loads in progress, by key.
#[derive(Debug, Default)]
pub(crate) struct SingleFlight {
    flights: Mutex<HashMap<Vec<u8>, Arc<Flight>>>,
}

/// One load in progress: its outcome once known, and the waiters' wake-up call.
#[derive(Debug, Default)]
pub(crate) struct Flight {
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

/// The caller's part in a load of a key.
pub(crate) enum Role<'a> {
    /// Run the loader, then [`Leader::finish`].
    Leader(Leader<'a>),
    /// Someone else is loading: [`Flight::wait`] for the outcome.
    Follower(Arc<Flight>),
}

/// The right and duty to load one key. Dropping it unfinished (the loader panicked, or the
/// backend failed before the load) hands the waiters an error instead of leaving them
/// waiting forever.
pub(crate) struct Leader<'a> {
    group: &'a SingleFlight,
    key: Vec<u8>,
    flight: Arc<Flight>,
    finished: bool,
}

/// Locks `mutex`; a panic elsewhere while it was held leaves plain data, still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SingleFlight {
    /// Leads the load of `key` if nobody is loading it, else follows the current leader.
    pub fn join(&self, key: &[u8]) -> Role<'_> {
        let mut flights = lock(&self.flights);
        if let Some(flight) = flights.get(key) {
            return Role::Follower(Arc::clone(flight));
        }
        let flight = Arc::new(Flight::default());
        flights.insert(key.to_vec(), Arc::clone(&flight));
        Role::Leader(Leader {
            group: self,
            key: key.to_vec(),
            flight,
            finished: false,
        })
    }

    /// Leads the load of `key` if nobody is loading it; `None` if someone is (the caller
    /// then has something else to do, such as serving a stale value).
    pub fn try_lead(&self, key: &[u8]) -> Option<Leader<'_>> {
        match self.join(key) {
            Role::Leader(leader) => Some(leader),
            Role::Follower(_) => None,
        }
    }

    /// Number of loads in progress.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        lock(&self.flights).len()
    }
}

impl Leader<'_> {
    /// Publishes the outcome to every waiter and ends the flight: the next caller to miss
    /// starts a new one.
    pub fn finish(mut self, outcome: Outcome) {
        self.publish(outcome);
    }

    fn publish(&mut self, outcome: Outcome) {
        self.finished = true;
        lock(&self.group.flights).remove(&self.key);
        *lock(&self.flight.outcome) = Some(outcome);
        self.flight.done.notify_all();
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.publish(Err(LoadError::msg(
                "the load was abandoned: the loader panicked or the cache backend failed",
            )));
        }
    }
}

impl Flight {
    /// Waits until the leader finishes and returns its outcome.
    pub fn wait(&self) -> Outcome {
        let mut outcome = lock(&self.outcome);
        loop {
            if let Some(result) = outcome.as_ref() {
                return result.clone();
            }
            outcome = self
                .done
                .wait(outcome)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_get_the_leaders_outcome() {
        let group = SingleFlight::default();
        let Role::Leader(leader) = group.join(b"k") else {
            panic!("the first caller leads");
        };
        let Role::Follower(flight) = group.join(b"k") else {
            panic!("the second caller follows");
        };
        assert!(group.try_lead(b"k").is_none());
        assert!(group.try_lead(b"other").is_some());
        std::thread::scope(|s| {
            let waiter = s.spawn(|| flight.wait());
            leader.finish(Ok(b"v".to_vec()));
            assert_eq!(waiter.join().unwrap().unwrap(), b"v");
        });
        assert_eq!(group.in_flight(), 0);
        assert!(matches!(group.join(b"k"), Role::Leader(_)));
    }

    #[test]
    fn an_abandoned_flight_fails_its_followers() {
        let group = SingleFlight::default();
        let Role::Leader(leader) = group.join(b"k") else {
            panic!("the first caller leads");
        };
        let Role::Follower(flight) = group.join(b"k") else {
            panic!("the second caller follows");
        };
        drop(leader);
        let err = flight.wait().unwrap_err();
        assert!(err.to_string().contains("abandoned"), "{err}");
        assert_eq!(group.in_flight(), 0);
    }
}
