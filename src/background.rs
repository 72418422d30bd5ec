//! Background threads owned by a guard: started by `open`, stopped and joined by `close`
//! or by dropping the last handle. They never outlive the store.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::lock;

#[derive(Default)]
struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// A thread that runs `tick` every `period` until stopped.
pub(crate) struct Periodic {
    signal: Arc<StopSignal>,
    handle: Option<JoinHandle<()>>,
}

impl Periodic {
    pub(crate) fn spawn(
        name: &str,
        period: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Periodic> {
        let signal = Arc::new(StopSignal::default());
        let thread_signal = Arc::clone(&signal);
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                loop {
                    let stopped = lock(&thread_signal.stopped);
                    let (stopped, _) = thread_signal
                        .wake
                        .wait_timeout_while(stopped, period, |s| !*s)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if *stopped {
                        return;
                    }
                    drop(stopped);
                    tick();
                }
            })?;
        Ok(Periodic {
            signal,
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it to finish its current tick.
    pub(crate) fn stop(&mut self) {
        *lock(&self.signal.stopped) = true;
        self.signal.wake.notify_all();
        if let Some(handle) = self.handle.take() {
            // A panicking tick has already reported itself; nothing more to do here.
            let _ = handle.join();
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn stop_joins_promptly_even_with_a_long_period() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = Arc::clone(&ticks);
        let mut p = Periodic::spawn("test", Duration::from_secs(3600), move || {
            t.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        let start = std::time::Instant::now();
        p.stop();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(ticks.load(Ordering::Relaxed), 0);
    }
}
