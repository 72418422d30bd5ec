//! Per-segment figures: how many of a segment's bytes are still the newest record of their
//! key (live), and facts about the records it holds that the merge policy needs.

use crate::format::{FILE_HEADER_LEN, RecordKind};

/// Bytes of one segment and what its records are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentUsage {
    /// File length, header included.
    pub total_bytes: u64,
    /// Bytes of records that are the newest of their key.
    pub live_bytes: u64,
    /// Number of keys whose newest record is here.
    pub live_keys: u64,
    /// Smallest sequence number of any record in the file (`u64::MAX` when none): a
    /// tombstone older than every other file's records shadows nothing outside its own.
    pub min_seq: u64,
    /// Puts without an expiry.
    pub persistent_puts: u64,
    /// Latest expiry of any put with one (0 when none).
    pub max_expiry: u64,
}

impl Default for SegmentUsage {
    fn default() -> Self {
        SegmentUsage {
            total_bytes: FILE_HEADER_LEN as u64,
            live_bytes: 0,
            live_keys: 0,
            min_seq: u64::MAX,
            persistent_puts: 0,
            max_expiry: 0,
        }
    }
}

impl SegmentUsage {
    /// Notes a record in the file (live or not).
    pub(crate) fn record(&mut self, seq: u64, kind: RecordKind, expiry_ms: u64) {
        self.min_seq = self.min_seq.min(seq);
        if !kind.is_tombstone() {
            if expiry_ms == 0 {
                self.persistent_puts += 1;
            } else {
                self.max_expiry = self.max_expiry.max(expiry_ms);
            }
        }
    }

    pub(crate) fn add_live(&mut self, bytes: u64) {
        self.live_bytes += bytes;
        self.live_keys += 1;
    }

    pub(crate) fn remove_live(&mut self, bytes: u64) {
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
        self.live_keys = self.live_keys.saturating_sub(1);
    }

    /// Every put in the file has an expiry, and all of them have passed.
    pub(crate) fn fully_expired(&self, now_ms: u64) -> bool {
        self.persistent_puts == 0 && self.max_expiry != 0 && self.max_expiry <= now_ms
    }
}
