//! Probabilistic early expiration ("XFetch", Vattani, Chierichetti and Lowenstein,
//! *Optimal Probabilistic Cache Stampede Prevention*, VLDB 2015): each reader of a value
//! that is still fresh recomputes it early with a probability that grows as expiry nears
//! and with the time the value takes to compute, so a hot key is refreshed by one reader
//! shortly before it expires instead of by all of them just after.

/// Whether a reader at `now_ms` should recompute a value fresh until `expiry_ms` that took
/// `delta_ms` to compute: `now - delta * beta * ln(r) >= expiry`, with `r` uniform in
/// (0, 1].
///
/// `beta` = 1 is the paper's optimum; larger refreshes earlier, 0 never early. A value
/// already at or past its expiry always recomputes.
pub(crate) fn should_refresh(
    now_ms: u64,
    expiry_ms: u64,
    delta_ms: f64,
    beta: f64,
    r: f64,
) -> bool {
    if now_ms >= expiry_ms {
        return true;
    }
    // -ln(r) >= 0 for r in (0, 1]: how far ahead of now this draw "looks".
    let lookahead = delta_ms * beta * -r.ln();
    now_ms as f64 + lookahead >= expiry_ms as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_at_its_edges() {
        // Expired: always.
        assert!(should_refresh(100, 100, 0.0, 1.0, 1.0));
        // r = 1: ln(1) = 0, never early.
        assert!(!should_refresh(99, 100, 1000.0, 1.0, 1.0));
        // beta = 0: never early.
        assert!(!should_refresh(99, 100, 1000.0, 0.0, 1e-9));
        // 50 ms of work, 10 ms left: r = e^-1 looks 50 ms ahead, so refresh.
        assert!(should_refresh(990, 1000, 50.0, 1.0, (-1.0f64).exp()));
        // ... and with 60 ms left it does not.
        assert!(!should_refresh(940, 1000, 50.0, 1.0, (-1.0f64).exp()));
    }

    #[test]
    fn the_probability_grows_towards_expiry() {
        // P(refresh) = exp(-(expiry - now) / (delta * beta)); with delta 100 and beta 1:
        // 100 ms left -> e^-1 ~ 0.37, 10 ms left -> e^-0.1 ~ 0.90.
        let rng = super::super::rng::SplitMix64::seeded(42);
        let rate = |left: u64| {
            let hits = (0..10_000)
                .filter(|_| should_refresh(1000 - left, 1000, 100.0, 1.0, rng.unit_open_closed()))
                .count();
            hits as f64 / 10_000.0
        };
        let far = rate(100);
        let near = rate(10);
        assert!((far - 0.368).abs() < 0.03, "{far}");
        assert!((near - 0.905).abs() < 0.03, "{near}");
    }
}
