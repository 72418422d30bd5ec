//! The rate-limit demonstration: the same request patterns through a fixed-window and a
//! sliding-window limiter, on a store whose clock the demo moves (so the figures are
//! exact and the demonstration takes no time).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keg::cache::{FixedWindow, SlidingWindow};
use keg::{ManualClock, Options, Store, SyncPolicy};

/// Requests per window.
pub const LIMIT: u64 = 10;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(1);

/// One request pattern and what each limiter let through.
pub struct Scenario {
    pub name: &'static str,
    pub requests: u64,
    pub fixed_allowed: u64,
    pub sliding_allowed: u64,
}

/// Requests at these offsets (ms) from the start of a window.
struct Pattern {
    name: &'static str,
    at_ms: Vec<u64>,
}

fn patterns() -> Vec<Pattern> {
    vec![
        Pattern {
            name: "steady: one request every 50 ms for 3 s",
            at_ms: (0..60).map(|i| i * 50).collect(),
        },
        Pattern {
            name: "burst: 10 requests at 0.99 s, 10 more at 1.00 s",
            at_ms: (0..20).map(|i| if i < 10 { 990 } else { 1000 }).collect(),
        },
        Pattern {
            name: "flood: 100 requests in the first 100 ms, then 1 every 100 ms to 2 s",
            at_ms: (0..100).chain((2..=20).map(|i| i * 100)).collect(),
        },
    ]
}

/// Runs every pattern through both limiters in a store created in `dir`.
pub fn run(dir: &Path) -> anyhow::Result<Vec<Scenario>> {
    let clock = Arc::new(ManualClock::new(0));
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(Arc::clone(&clock) as Arc<dyn keg::Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .open(dir)?;
    let fixed = FixedWindow::new("demo-fixed", LIMIT, WINDOW)?;
    let sliding = SlidingWindow::new("demo-sliding", LIMIT, WINDOW)?;
    let mut scenarios = Vec::new();
    for (n, pattern) in patterns().into_iter().enumerate() {
        // Each pattern starts at a window boundary of its own, far from the last one.
        let base = 1_700_000_000_000 + n as u64 * 60_000;
        let client = format!("client-{n}");
        let mut allowed = [0u64; 2];
        for &offset in &pattern.at_ms {
            clock.set(base + offset);
            allowed[0] += u64::from(fixed.check(&store, client.as_bytes())?.allowed);
            allowed[1] += u64::from(sliding.check(&store, client.as_bytes())?.allowed);
        }
        scenarios.push(Scenario {
            name: pattern.name,
            requests: pattern.at_ms.len() as u64,
            fixed_allowed: allowed[0],
            sliding_allowed: allowed[1],
        });
    }
    close(store)?;
    Ok(scenarios)
}

fn close(store: Store) -> anyhow::Result<()> {
    store.close()?;
    Ok(())
}
