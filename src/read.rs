//! The read path: keydir lookup → segment → one read → checksum verified → value.

use crate::engine::Engine;
use crate::error::{Error, Result};

/// How often a read retries when its segment was retired between the index lookup and the
/// read (the index then already points elsewhere). More than a few means a bug.
const MAX_READ_ATTEMPTS: usize = 8;

impl Engine {
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_open()?;
        for _ in 0..MAX_READ_ATTEMPTS {
            let Some(entry) = self.keydir.get(key) else {
                return Ok(None);
            };
            let segments = self.segments.load();
            let Some(segment) = segments.get(entry.file_id) else {
                continue;
            };
            return segment
                .read_value(entry.offset, key, entry.value_len)
                .map(Some);
        }
        Err(Error::corrupted(
            &self.dir,
            0,
            "index points at a segment that no longer exists",
        ))
    }
}
