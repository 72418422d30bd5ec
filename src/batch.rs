//! [`WriteBatch`]: several sets and deletes applied all-or-nothing.

use std::borrow::Cow;
use std::time::Duration;

use crate::ops::BatchOp;

/// Sets and deletes applied in order as one atomic write by
/// [`Store::write`](crate::Store::write): after a crash at any point, recovery finds all of
/// them or none (the records are framed as one batch in the log).
///
/// ```
/// use std::time::Duration;
/// use keg::{Store, WriteBatch};
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(dir.path())?;
/// store.set(b"cart:7:item:1", b"socks")?;
/// let mut batch = WriteBatch::new();
/// batch
///     .delete(b"cart:7:item:1")
///     .set(b"order:99", b"socks")
///     .set_with_ttl(b"order:99:receipt-link", b"https://example.com/r/99", Duration::from_secs(3600));
/// store.write(&batch)?;
/// assert!(!store.contains(b"cart:7:item:1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub(crate) ops: Vec<BatchOp<'static>>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Sets `key` to `value` (clearing any TTL, as [`Store::set`](crate::Store::set) does).
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> &mut WriteBatch {
        self.ops.push(BatchOp::Set {
            key: Cow::Owned(key.to_vec()),
            value: Cow::Owned(value.to_vec()),
            ttl: None,
        });
        self
    }

    /// Sets `key` to `value`, expiring after `ttl` (counted from when the batch is written).
    pub fn set_with_ttl(&mut self, key: &[u8], value: &[u8], ttl: Duration) -> &mut WriteBatch {
        self.ops.push(BatchOp::Set {
            key: Cow::Owned(key.to_vec()),
            value: Cow::Owned(value.to_vec()),
            ttl: Some(ttl),
        });
        self
    }

    /// Deletes `key` (nothing happens for it if it is absent).
    pub fn delete(&mut self, key: &[u8]) -> &mut WriteBatch {
        self.ops.push(BatchOp::Delete {
            key: Cow::Owned(key.to_vec()),
        });
        self
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Removes every operation.
    pub fn clear(&mut self) {
        self.ops.clear();
    }
}
