//! The cache's errors: the backend failed, or the loader did.

use std::fmt;
use std::sync::Arc;

/// A loader's failure. Cheap to clone, because single-flight hands the one failure to every
/// caller that waited for the same load.
///
/// Any error type converts into it with `?` or `.into()`; [`LoadError::msg`] makes one from
/// text.
#[derive(Clone)]
pub struct LoadError {
    source: Arc<dyn std::error::Error + Send + Sync>,
}

impl LoadError {
    /// A load error carrying only a message.
    pub fn msg(message: impl fmt::Display) -> LoadError {
        LoadError {
            source: Arc::new(Message(message.to_string())),
        }
    }

    /// The loader's own error.
    pub fn source(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

// `LoadError` deliberately does not implement `std::error::Error`: this blanket conversion
// would then overlap with `From<T> for T`.
impl<E: std::error::Error + Send + Sync + 'static> From<E> for LoadError {
    fn from(error: E) -> LoadError {
        LoadError {
            source: Arc::new(error),
        }
    }
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.source, f)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.source, f)
    }
}

/// The error [`LoadError::msg`] wraps.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

/// What a cache operation can fail with; `E` is the backend's error type
/// ([`keg::Error`](crate::Error) for a [`Store`](crate::Store)).
#[derive(Debug)]
#[non_exhaustive]
pub enum CacheError<E> {
    /// The backend (store or server) failed.
    Backend(E),
    /// The loader failed; nothing was cached. Every caller that waited for this load
    /// receives the same error.
    Load(LoadError),
    /// A counter the cache keeps (a namespace version, a statistic) holds something other
    /// than a non-negative decimal integer: someone else wrote to its key.
    BadCounter {
        /// The counter's key.
        key: Vec<u8>,
    },
}

impl<E: fmt::Display> fmt::Display for CacheError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::Backend(e) => write!(f, "cache backend failed: {e}"),
            CacheError::Load(e) => write!(f, "loading the value failed: {e}"),
            CacheError::BadCounter { key } => write!(
                f,
                "the counter {:?} does not hold a non-negative integer",
                String::from_utf8_lossy(key)
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for CacheError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CacheError::Backend(e) => Some(e),
            CacheError::Load(e) => Some(e.source()),
            CacheError::BadCounter { .. } => None,
        }
    }
}
