//! Durations on the command line (`10s`, `500ms`, `2h`) and in output (`1h 2m 3s`).

use std::time::Duration;

/// The unit of a number given without one.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    Seconds,
    Millis,
}

/// Parses a number with an optional unit: `ms`, `s`, `m`, `h` or `d`, e.g. `500ms`, `10s`,
/// `1.5h`. A bare number is in `bare` units (TTLs take seconds, as Redis's `EX` does).
pub fn parse(text: &str, bare: Unit) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "" => match bare {
            Unit::Seconds => 1.0,
            Unit::Millis => 0.001,
        },
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m, h or d)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 500ms, 10s or 2h"))?;
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| format!("{text:?} is out of range"))
}

/// A clap value parser for durations whose bare numbers are seconds.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    parse(text, Unit::Seconds)
}

/// `1d 2h`, `3m 4s`, `5.25s`, `120ms`: the two largest units, for people.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    let (days, hours, minutes) = (ms / 86_400_000, ms / 3_600_000 % 24, ms / 60_000 % 60);
    let seconds = ms / 1000 % 60;
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds}s")
    } else if ms >= 1000 {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

/// A latency in nanoseconds with three significant digits: `850ns`, `12.3µs`, `1.50ms`.
pub fn latency(ns: u64) -> String {
    let ns_f = ns as f64;
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{}µs", three_digits(ns_f / 1e3))
    } else if ns < 1_000_000_000 {
        format!("{}ms", three_digits(ns_f / 1e6))
    } else {
        format!("{}s", three_digits(ns_f / 1e9))
    }
}

/// `x` (at least 1) with three significant digits.
fn three_digits(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        let s = |text| parse(text, Unit::Seconds);
        assert_eq!(s("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(s("10"), Ok(Duration::from_secs(10)));
        assert_eq!(s("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(s("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(s("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(s("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("250", Unit::Millis), Ok(Duration::from_millis(250)));
        for bad in ["", "s", "10x", "-1s", "1e3s", "ten"] {
            assert!(s(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_for_people() {
        assert_eq!(human(Duration::from_millis(120)), "120ms");
        assert_eq!(human(Duration::from_millis(5250)), "5.25s");
        assert_eq!(human(Duration::from_secs(184)), "3m 4s");
        assert_eq!(human(Duration::from_secs(3 * 3600 + 120)), "3h 2m");
        assert_eq!(human(Duration::from_secs(90_000)), "1d 1h");
        assert_eq!(latency(850), "850ns");
        assert_eq!(latency(12_300), "12.3µs");
        assert_eq!(latency(1_500_000), "1.50ms");
    }
}
