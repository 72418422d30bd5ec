//! Error reply statistics (INFO errorstats and `total_error_replies`), counted as Redis
//! counts them: every error reply a client is sent, every failed command a script runs
//! (caught or not), each once. Monitoring (redis_exporter and the like) reads these.
//!
//! An error is counted under its code, the first word of its message (`ERR`, `WRONGTYPE`,
//! `NOSCRIPT`, a script's own); a message without a space in its first 31 bytes counts as
//! `ERR`, as in Redis.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::lock;

/// Most distinct codes kept: scripts choose their own codes, and each would otherwise hold
/// memory for the server's life. Errors past it still count in `total_error_replies`.
const MAX_CODES: usize = 128;
/// Bytes of a message searched for the space that ends its code (Redis's limit).
const CODE_SEARCH: usize = 31;

#[derive(Debug, Default)]
pub(crate) struct ErrorStats {
    total: AtomicU64,
    /// Count per code, in byte order (the order INFO lists them in, as Redis does).
    codes: Mutex<BTreeMap<Vec<u8>, u64>>,
}

/// The code an error `message` (without the leading `-`) counts under.
fn code_of(message: &[u8]) -> &[u8] {
    let searched = message.get(..CODE_SEARCH).unwrap_or(message);
    match searched.iter().position(|&b| b == b' ') {
        Some(end) => message.get(..end).unwrap_or_default(),
        None => b"ERR",
    }
}

impl ErrorStats {
    /// Counts one error reply whose message (as sent, without the leading `-`) is
    /// `message`.
    pub(crate) fn count(&self, message: &[u8]) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let code = code_of(message);
        let mut codes = lock(&self.codes);
        if let Some(n) = codes.get_mut(code) {
            *n += 1;
        } else if codes.len() < MAX_CODES {
            codes.insert(code.to_vec(), 1);
        }
    }

    /// Error replies counted since the start (or CONFIG RESETSTAT).
    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT.
    pub(crate) fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        lock(&self.codes).clear();
    }

    /// INFO errorstats' fields: `errorstat_<code>` and `count=<n>`, in byte order of the
    /// codes.
    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        lock(&self.codes)
            .iter()
            .map(|(code, n)| {
                (
                    format!("errorstat_{}", String::from_utf8_lossy(code)),
                    format!("count={n}"),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_first_word_or_err() {
        assert_eq!(code_of(b"WRONGTYPE Operation against a key"), b"WRONGTYPE");
        assert_eq!(code_of(b"-ERR dash"), b"-ERR");
        assert_eq!(code_of(b"nospace"), b"ERR");
        assert_eq!(code_of(b""), b"ERR");
        assert_eq!(code_of(b" leading"), b"");
        // The space must be among the first 31 bytes.
        let long = [&[b'A'; 30][..], b" x"].concat();
        assert_eq!(code_of(&long), &[b'A'; 30][..]);
        let longer = [&[b'A'; 31][..], b" x"].concat();
        assert_eq!(code_of(&longer), b"ERR");
    }

    #[test]
    fn counts_per_code_in_byte_order_and_resets() {
        let stats = ErrorStats::default();
        for message in [&b"WRONGTYPE x"[..], b"ERR a", b"ERR b", b"-ERR c"] {
            stats.count(message);
        }
        assert_eq!(stats.total(), 4);
        let fields = stats.fields();
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["errorstat_-ERR", "errorstat_ERR", "errorstat_WRONGTYPE"]
        );
        assert_eq!(fields.get(1).map(|(_, v)| v.as_str()), Some("count=2"));
        stats.reset();
        assert_eq!(stats.total(), 0);
        assert!(stats.fields().is_empty());
    }

    #[test]
    fn codes_past_the_limit_count_only_in_the_total() {
        let stats = ErrorStats::default();
        for i in 0..MAX_CODES + 5 {
            stats.count(format!("C{i} x").as_bytes());
        }
        stats.count(b"C0 again");
        assert_eq!(stats.total(), MAX_CODES as u64 + 6);
        let fields = stats.fields();
        assert_eq!(fields.len(), MAX_CODES);
        assert!(fields.contains(&("errorstat_C0".into(), "count=2".into())));
    }
}
