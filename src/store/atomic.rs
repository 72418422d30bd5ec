//! Atomic read-modify-write operations of [`Store`]: counters, append, get-and-set,
//! conditional sets, compare-and-swap, and atomic batches.
//!
//! Each runs under the writer lock against the latest state, so it is atomic with respect
//! to every other writer, and is as durable as any write under the store's
//! [`SyncPolicy`](crate::SyncPolicy). Expected failures (a value that is not a number, an
//! overflow) are errors of their own and change nothing.

use super::{Store, flag, unexpected};
use crate::batch::WriteBatch;
use crate::error::{Error, Result};
use crate::numeric::LongDouble;
use crate::ops::{BatchOp, Job, Outcome};
use crate::ttl::SetOptions;

/// Most bytes one batch may carry (keys and values): keeps its records within a segment's
/// addressable size.
const MAX_BATCH_BYTES: usize = 1 << 30;

impl Store {
    /// Adds `delta` to the integer stored at `key` and returns the result (Redis `INCRBY`).
    ///
    /// The value must be a decimal integer in `i64` range as Redis writes them (optional
    /// `-`, no leading zeros, no `+`, no spaces); a missing or expired key counts as 0. The
    /// result is stored as decimal text and the key keeps its TTL. Fails with
    /// [`Error::NotAnInteger`] or [`Error::Overflow`], writing nothing.
    pub fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        let engine = self.engine();
        engine.validate_key(key)?;
        match engine.run(Job::IncrBy {
            key: key.into(),
            delta,
        })? {
            Outcome::Int(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }

    /// Adds 1 (Redis `INCR`). See [`incr_by`](Store::incr_by).
    pub fn incr(&self, key: &[u8]) -> Result<i64> {
        self.incr_by(key, 1)
    }

    /// Subtracts 1 (Redis `DECR`). See [`incr_by`](Store::incr_by).
    pub fn decr(&self, key: &[u8]) -> Result<i64> {
        self.incr_by(key, -1)
    }

    /// Subtracts `delta` (Redis `DECRBY`). `i64::MIN` cannot be negated and fails with
    /// [`Error::Overflow`]. See [`incr_by`](Store::incr_by).
    pub fn decr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        let negated = delta.checked_neg().ok_or(Error::Overflow)?;
        self.incr_by(key, negated)
    }

    /// Adds `delta` to the number stored at `key` (Redis `INCRBYFLOAT`) and returns the
    /// result as the nearest `f64`.
    ///
    /// The arithmetic and the stored text are exactly Redis's on x86-64: the value is parsed
    /// and summed in 80-bit extended precision and stored with 17 decimals, trailing zeros
    /// removed (so `0.1` + `0.2` stores `0.3`). `delta` counts as its shortest decimal form
    /// (`0.1`, not the binary fraction nearest to it), as Redis clients send it. A missing
    /// key counts as 0; the key keeps its TTL. Fails with [`Error::NotAFloat`] (a value or
    /// a `delta` that is not a number) or [`Error::NanOrInfinity`], writing nothing.
    pub fn incr_by_float(&self, key: &[u8], delta: f64) -> Result<f64> {
        let delta = LongDouble::parse(delta.to_string().as_bytes()).ok_or(Error::NotAFloat)?;
        self.incr_by_long_double(key, delta).map(LongDouble::to_f64)
    }

    /// Like [`incr_by_float`](Store::incr_by_float), with the increment given as text
    /// parsed as Redis parses it (decimal or `0x` hexadecimal, exponents, `inf`), returning
    /// the stored text — what Redis replies.
    pub fn incr_by_float_text(&self, key: &[u8], delta: &[u8]) -> Result<Vec<u8>> {
        let delta = LongDouble::parse(delta).ok_or(Error::NotAFloat)?;
        self.incr_by_long_double(key, delta)
            .map(|v| v.to_redis_text().into_bytes())
    }

    fn incr_by_long_double(&self, key: &[u8], delta: LongDouble) -> Result<LongDouble> {
        let engine = self.engine();
        engine.validate_key(key)?;
        match engine.run(Job::IncrByFloat {
            key: key.into(),
            delta,
        })? {
            Outcome::Float(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// Appends `suffix` to the value at `key` (a missing key counts as empty) and returns
    /// the new length (Redis `APPEND`). The key keeps its TTL. Fails with
    /// [`Error::ValueTooLarge`] if the result would exceed the value limit.
    pub fn append(&self, key: &[u8], suffix: &[u8]) -> Result<usize> {
        let engine = self.engine();
        engine.validate_put(key, suffix)?;
        match engine.run(Job::Append {
            key: key.into(),
            suffix: suffix.into(),
        })? {
            Outcome::Int(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets `key` to `value` and returns the previous value (Redis `GETSET`). The TTL is
    /// cleared.
    pub fn get_set(&self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        self.set_with(key, value, SetOptions::new().get_previous())
            .map(|outcome| outcome.previous)
    }

    /// Deletes `key` and returns the value it had (Redis `GETDEL`).
    pub fn get_del(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let engine = self.engine();
        engine.validate_key(key)?;
        match engine.run(Job::GetDel { key: key.into() })? {
            Outcome::Value(v) => Ok(v),
            other => Err(unexpected(&other)),
        }
    }

    /// Sets `key` only if it is absent (or expired); returns whether it did (Redis `SETNX`).
    pub fn set_nx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.set_with(key, value, SetOptions::new().only_if_absent())
            .map(|outcome| outcome.written)
    }

    /// Sets `key` only if it is present; returns whether it did (Redis `SET … XX`). The TTL
    /// is cleared.
    pub fn set_xx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.set_with(key, value, SetOptions::new().only_if_present())
            .map(|outcome| outcome.written)
    }

    /// Replaces `key`'s state by `new` if it is `expected`, atomically; returns whether it
    /// did. `None` stands for "absent": `(None, Some(v))` creates, `(Some(old), Some(v))`
    /// replaces, `(Some(old), None)` deletes. A value written this way has no TTL.
    pub fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool> {
        let engine = self.engine();
        match new {
            Some(value) => engine.validate_put(key, value)?,
            None => engine.validate_key(key)?,
        }
        flag(engine.run(Job::CompareAndSwap {
            key: key.into(),
            expected: expected.map(Into::into),
            new: new.map(Into::into),
        })?)
    }

    /// Applies every operation of `batch`, in order, as one atomic write: readers and a
    /// crash see all of it or none of it. Each key and value is checked against the limits
    /// first (and each TTL must be positive); if one fails, nothing is written.
    pub fn write(&self, batch: &WriteBatch) -> Result<()> {
        let engine = self.engine();
        let mut bytes = 0usize;
        for op in &batch.ops {
            match op {
                BatchOp::Set { key, value, ttl } => {
                    engine.validate_put(key, value)?;
                    if ttl.is_some_and(|t| t.is_zero()) {
                        return Err(Error::InvalidArgument {
                            reason: "invalid expire time: a TTL must be positive".into(),
                        });
                    }
                    bytes += key.len() + value.len();
                }
                BatchOp::Delete { key } => {
                    engine.validate_key(key)?;
                    bytes += key.len();
                }
            }
        }
        if bytes > MAX_BATCH_BYTES {
            return Err(Error::InvalidArgument {
                reason: format!("batch carries {bytes} bytes; the limit is {MAX_BATCH_BYTES}"),
            });
        }
        if batch.is_empty() {
            return engine.check_writable();
        }
        engine
            .run(Job::Batch {
                ops: batch.ops.iter().map(BatchOp::borrowed).collect(),
            })
            .map(|_| ())
    }
}
