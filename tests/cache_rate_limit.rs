//! Rate limiters at their boundaries, on a manual clock.

mod cache_support;

use std::time::Duration;

use cache_support::{T0, TestStore};
use keg::cache::{FixedWindow, SlidingWindow};

const WINDOW_MS: u64 = 1000;

/// A test store whose clock sits exactly at the start of a window.
fn aligned() -> TestStore {
    let t = TestStore::new();
    t.clock.set(T0 - T0 % WINDOW_MS + 10 * WINDOW_MS);
    t
}

fn allowed<F: FnMut() -> bool>(n: u32, mut check: F) -> u32 {
    (0..n).filter(|_| check()).count() as u32
}

#[test]
fn fixed_window_allows_exactly_the_limit_per_window() {
    let t = aligned();
    let limiter = FixedWindow::new("api", 10, Duration::from_millis(WINDOW_MS)).unwrap();
    let check = |id: &[u8]| limiter.check(&t.store, id).unwrap();
    for _ in 0..10 {
        assert!(check(b"user:1").allowed);
    }
    let denied = check(b"user:1");
    assert!(!denied.allowed);
    assert_eq!((denied.count, denied.limit), (11, 10));
    assert_eq!(denied.retry_after, Duration::from_millis(WINDOW_MS));
    // Another id has its own count.
    assert!(check(b"user:2").allowed);
    // The last millisecond of the window is still the same window...
    t.advance_ms(WINDOW_MS - 1);
    let last = check(b"user:1");
    assert!(!last.allowed);
    assert_eq!(last.retry_after, Duration::from_millis(1));
    // ... and the next one starts afresh.
    t.advance_ms(1);
    assert_eq!(allowed(12, || check(b"user:1").allowed), 10);
}

#[test]
fn fixed_window_counters_expire_with_their_window() {
    let t = aligned();
    let limiter = FixedWindow::new("api", 5, Duration::from_millis(WINDOW_MS)).unwrap();
    t.advance_ms(400);
    limiter.check(&t.store, b"u").unwrap();
    assert_eq!(t.store.len(), 1);
    t.advance_ms(WINDOW_MS - 401);
    assert_eq!(t.store.len(), 1);
    t.advance_ms(1);
    assert_eq!(t.store.len(), 0, "the counter is gone when its window ends");
}

#[test]
fn fixed_window_lets_a_burst_straddle_the_boundary() {
    // The known weakness: 10 at the end of one window and 10 at the start of the next.
    let t = aligned();
    let limiter = FixedWindow::new("api", 10, Duration::from_millis(WINDOW_MS)).unwrap();
    t.advance_ms(WINDOW_MS - 1);
    let burst = allowed(10, || limiter.check(&t.store, b"u").unwrap().allowed);
    t.advance_ms(1);
    let burst = burst + allowed(10, || limiter.check(&t.store, b"u").unwrap().allowed);
    assert_eq!(burst, 20);
}

#[test]
fn sliding_window_weighs_the_previous_window() {
    let t = aligned();
    let limiter = SlidingWindow::new("api", 10, Duration::from_millis(WINDOW_MS)).unwrap();
    let check = || limiter.check(&t.store, b"u").unwrap();
    // 10 requests late in window 0: all allowed, the 11th denied.
    t.advance_ms(900);
    assert_eq!(allowed(10, || check().allowed), 10);
    assert!(!check().allowed);
    // The start of window 1: window 0 still weighs fully, so the straddling burst of the
    // fixed window is refused.
    t.advance_ms(100);
    let refused = check();
    assert!(!refused.allowed);
    assert_eq!(refused.count, 11);
    // Halfway through window 1, window 0 weighs half: 5 more fit.
    t.advance_ms(500);
    assert_eq!(allowed(8, || check().allowed), 5);
    // 10% into window 2: window 1 (5 requests) weighs 0.9 -> 4.5, so 5 more fit
    // (4.5 + 5 <= 10), a sixth does not.
    t.advance_ms(600);
    assert_eq!(allowed(8, || check().allowed), 5);
    // Two windows of silence: a fresh start.
    t.advance_ms(2 * WINDOW_MS);
    assert_eq!(allowed(12, || check().allowed), 10);
}

#[test]
fn sliding_window_does_not_count_denied_requests() {
    let t = aligned();
    let limiter = SlidingWindow::new("api", 3, Duration::from_millis(WINDOW_MS)).unwrap();
    let check = || limiter.check(&t.store, b"u").unwrap();
    assert_eq!(allowed(100, || check().allowed), 3);
    // A client that kept retrying is not punished beyond the limit: one window later,
    // the previous window weighs (1000 - 500) / 1000 of 3 = 1.5, so one more fits.
    t.advance_ms(WINDOW_MS + WINDOW_MS / 2);
    assert_eq!(allowed(5, || check().allowed), 1);
}

#[test]
fn limiter_names_and_windows_are_checked() {
    assert!(FixedWindow::new("a:b", 1, Duration::from_secs(1)).is_err());
    assert!(SlidingWindow::new("a", 1, Duration::ZERO).is_err());
    let t = aligned();
    let none = FixedWindow::new("closed", 0, Duration::from_secs(1)).unwrap();
    assert!(!none.check(&t.store, b"u").unwrap().allowed);
}
