//! The write operations, written once for both [`Store`](crate::Store) and
//! [`Transaction`](crate::Transaction).
//!
//! Each operation checks its arguments and hands a [`Job`] to the type's `run`: a `Store`
//! runs it as its own atomic, durable write; a `Transaction` stages it in the transaction,
//! which commits all of its jobs as one unit. Keeping one body per operation means the two
//! cannot drift apart in what they accept or return.
//!
//! The invoking type provides `fn engine(&self) -> &Engine` and
//! `fn run(&self, job: Job<'_>) -> Result<Outcome>`.

/// Most bytes one batch may carry (keys and values): keeps its records within a segment's
/// addressable size.
pub(crate) const MAX_BATCH_BYTES: usize = 1 << 30;

/// Implements the write operations for `$ty` (see the module docs).
macro_rules! write_ops {
    ($ty:ty) => {
        impl $ty {
            /// Sets `key` to `value`, clearing any TTL it had.
            ///
            /// Fails with [`Error::KeyTooLarge`](crate::Error::KeyTooLarge) or
            /// [`Error::ValueTooLarge`](crate::Error::ValueTooLarge) over the limits (writing
            /// nothing) and [`Error::Poisoned`](crate::Error::Poisoned) after an earlier fsync
            /// failure.
            pub fn set(&self, key: &[u8], value: &[u8]) -> crate::Result<()> {
                self.engine().validate_put(key, value)?;
                self.run(crate::ops::Job::Set {
                    key: key.into(),
                    value: value.into(),
                    options: crate::SetOptions::new(),
                })
                .map(|_| ())
            }

            /// Deletes `key`; returns whether it existed (an expired key does not). Deleting
            /// an absent key writes nothing.
            pub fn delete(&self, key: &[u8]) -> crate::Result<bool> {
                self.engine().validate_key(key)?;
                crate::store::flag(self.run(crate::ops::Job::Delete { key: key.into() })?)
            }

            /// Adds `delta` to the integer stored at `key` and returns the result (Redis
            /// `INCRBY`).
            ///
            /// The value must be a decimal integer in `i64` range as Redis writes them
            /// (optional `-`, no leading zeros, no `+`, no spaces); a missing or expired key
            /// counts as 0. The result is stored as decimal text and the key keeps its TTL.
            /// Fails with [`Error::NotAnInteger`](crate::Error::NotAnInteger) or
            /// [`Error::Overflow`](crate::Error::Overflow), writing nothing.
            pub fn incr_by(&self, key: &[u8], delta: i64) -> crate::Result<i64> {
                self.engine().validate_key(key)?;
                match self.run(crate::ops::Job::IncrBy {
                    key: key.into(),
                    delta,
                })? {
                    crate::ops::Outcome::Int(n) => Ok(n),
                    other => Err(crate::store::unexpected(&other)),
                }
            }

            /// Adds 1 (Redis `INCR`). See [`incr_by`](Self::incr_by).
            pub fn incr(&self, key: &[u8]) -> crate::Result<i64> {
                self.incr_by(key, 1)
            }

            /// Subtracts 1 (Redis `DECR`). See [`incr_by`](Self::incr_by).
            pub fn decr(&self, key: &[u8]) -> crate::Result<i64> {
                self.incr_by(key, -1)
            }

            /// Subtracts `delta` (Redis `DECRBY`). `i64::MIN` cannot be negated and fails
            /// with [`Error::Overflow`](crate::Error::Overflow). See
            /// [`incr_by`](Self::incr_by).
            pub fn decr_by(&self, key: &[u8], delta: i64) -> crate::Result<i64> {
                let negated = delta.checked_neg().ok_or(crate::Error::Overflow)?;
                self.incr_by(key, negated)
            }

            /// Adds `delta` to the number stored at `key` (Redis `INCRBYFLOAT`) and returns
            /// the result as the nearest `f64`.
            ///
            /// The arithmetic and the stored text are exactly Redis's on x86-64: the value
            /// is parsed and summed in 80-bit extended precision and stored with 17
            /// decimals, trailing zeros removed (so `0.1` + `0.2` stores `0.3`). `delta`
            /// counts as its shortest decimal form (`0.1`, not the binary fraction nearest
            /// to it), as Redis clients send it. A missing key counts as 0; the key keeps
            /// its TTL. Fails with [`Error::WrongType`](crate::Error::WrongType) (a
            /// collection at `key`, whatever `delta` is),
            /// [`Error::NotAFloat`](crate::Error::NotAFloat) (a value or a `delta` that is
            /// not a number) or [`Error::NanOrInfinity`](crate::Error::NanOrInfinity),
            /// writing nothing.
            pub fn incr_by_float(&self, key: &[u8], delta: f64) -> crate::Result<f64> {
                let delta = self.float_increment(key, delta.to_string().as_bytes())?;
                self.incr_by_long_double(key, delta)
                    .map(crate::numeric::LongDouble::to_f64)
            }

            /// Like [`incr_by_float`](Self::incr_by_float), with the increment given as
            /// text parsed as Redis parses it (decimal or `0x` hexadecimal, exponents,
            /// `inf`), returning the stored text — what Redis replies.
            pub fn incr_by_float_text(&self, key: &[u8], delta: &[u8]) -> crate::Result<Vec<u8>> {
                let delta = self.float_increment(key, delta)?;
                self.incr_by_long_double(key, delta)
                    .map(|v| v.to_redis_text().into_bytes())
            }

            /// The increment `text` of a float increment of `key`: `Error::NotAFloat` if
            /// it is not a number, but `Error::WrongType` first if `key` holds a
            /// collection (Redis looks at the key's type before it reads the increment).
            fn float_increment(
                &self,
                key: &[u8],
                text: &[u8],
            ) -> crate::Result<crate::numeric::LongDouble> {
                if let Some(delta) = crate::numeric::LongDouble::parse(text) {
                    return Ok(delta);
                }
                Err(match self.value_type(key)? {
                    Some(ty) if ty != crate::ValueType::String => crate::Error::WrongType,
                    _ => crate::Error::NotAFloat,
                })
            }

            fn incr_by_long_double(
                &self,
                key: &[u8],
                delta: crate::numeric::LongDouble,
            ) -> crate::Result<crate::numeric::LongDouble> {
                self.engine().validate_key(key)?;
                match self.run(crate::ops::Job::IncrByFloat {
                    key: key.into(),
                    delta,
                })? {
                    crate::ops::Outcome::Float(v) => Ok(v),
                    other => Err(crate::store::unexpected(&other)),
                }
            }

            /// Appends `suffix` to the value at `key` (a missing key counts as empty) and
            /// returns the new length (Redis `APPEND`). The key keeps its TTL. Fails with
            /// [`Error::ValueTooLarge`](crate::Error::ValueTooLarge) if the result would
            /// exceed the value limit.
            pub fn append(&self, key: &[u8], suffix: &[u8]) -> crate::Result<usize> {
                self.engine().validate_put(key, suffix)?;
                match self.run(crate::ops::Job::Append {
                    key: key.into(),
                    suffix: suffix.into(),
                })? {
                    crate::ops::Outcome::Int(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
                    other => Err(crate::store::unexpected(&other)),
                }
            }

            /// Sets `key` to `value` and returns the previous value (Redis `GETSET`). The
            /// TTL is cleared.
            pub fn get_set(&self, key: &[u8], value: &[u8]) -> crate::Result<Option<Vec<u8>>> {
                self.set_with(key, value, crate::SetOptions::new().get_previous())
                    .map(|outcome| outcome.previous)
            }

            /// Deletes `key` and returns the value it had (Redis `GETDEL`).
            pub fn get_del(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
                self.engine().validate_key(key)?;
                match self.run(crate::ops::Job::GetDel { key: key.into() })? {
                    crate::ops::Outcome::Value(v) => Ok(v),
                    other => Err(crate::store::unexpected(&other)),
                }
            }

            /// Sets `key` only if it is absent (or expired); returns whether it did (Redis
            /// `SETNX`).
            pub fn set_nx(&self, key: &[u8], value: &[u8]) -> crate::Result<bool> {
                self.set_with(key, value, crate::SetOptions::new().only_if_absent())
                    .map(|outcome| outcome.written)
            }

            /// Sets `key` only if it is present; returns whether it did (Redis `SET … XX`).
            /// The TTL is cleared.
            pub fn set_xx(&self, key: &[u8], value: &[u8]) -> crate::Result<bool> {
                self.set_with(key, value, crate::SetOptions::new().only_if_present())
                    .map(|outcome| outcome.written)
            }

            /// Replaces `key`'s state by `new` if it is `expected`, atomically; returns
            /// whether it did. `None` stands for "absent": `(None, Some(v))` creates,
            /// `(Some(old), Some(v))` replaces, `(Some(old), None)` deletes. A value written
            /// this way has no TTL.
            pub fn compare_and_swap(
                &self,
                key: &[u8],
                expected: Option<&[u8]>,
                new: Option<&[u8]>,
            ) -> crate::Result<bool> {
                match new {
                    Some(value) => self.engine().validate_put(key, value)?,
                    None => self.engine().validate_key(key)?,
                }
                crate::store::flag(self.run(crate::ops::Job::CompareAndSwap {
                    key: key.into(),
                    expected: expected.map(Into::into),
                    new: new.map(Into::into),
                })?)
            }

            /// Applies every operation of `batch`, in order, as one atomic write: readers and
            /// a crash see all of it or none of it. Each key and value is checked against the
            /// limits first (and each TTL must be positive); if one fails, nothing is
            /// written.
            pub fn write(&self, batch: &crate::WriteBatch) -> crate::Result<()> {
                use crate::ops::BatchOp;
                let max = crate::store::write_ops::MAX_BATCH_BYTES;
                let mut bytes = 0usize;
                for op in &batch.ops {
                    match op {
                        BatchOp::Set { key, value, ttl } => {
                            self.engine().validate_put(key, value)?;
                            if ttl.is_some_and(|t| t.is_zero()) {
                                return Err(crate::Error::InvalidArgument {
                                    reason: "invalid expire time: a TTL must be positive".into(),
                                });
                            }
                            bytes += key.len() + value.len();
                        }
                        BatchOp::Delete { key } => {
                            self.engine().validate_key(key)?;
                            bytes += key.len();
                        }
                    }
                }
                if bytes > max {
                    return Err(crate::Error::InvalidArgument {
                        reason: format!("batch carries {bytes} bytes; the limit is {max}"),
                    });
                }
                if batch.is_empty() {
                    return self.engine().check_writable();
                }
                self.run(crate::ops::Job::Batch {
                    ops: batch.ops.iter().map(BatchOp::borrowed).collect(),
                })
                .map(|_| ())
            }

            /// Sets `key` to `value`, expiring after `ttl` (Redis `SET key value PX ttl`).
            ///
            /// The expiry is stored as an absolute time (clock time + `ttl`, rounded up to
            /// whole milliseconds), so it holds across restarts. Fails with
            /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a zero TTL (as
            /// Redis rejects `EX 0`) or one beyond [`MAX_EXPIRY_MS`](crate::MAX_EXPIRY_MS).
            pub fn set_with_ttl(
                &self,
                key: &[u8],
                value: &[u8],
                ttl: std::time::Duration,
            ) -> crate::Result<()> {
                self.set_with(key, value, crate::SetOptions::new().ttl(ttl))
                    .map(|_| ())
            }

            /// Redis's `SET` with options: conditional on the key's absence or presence, with
            /// a TTL, an absolute expiry, or the current one kept, and optionally returning
            /// the previous value. See [`SetOptions`](crate::SetOptions).
            ///
            /// An expired key counts as absent. An absolute expiry in the past deletes the
            /// key (the write happens and is immediately expired). Without `keep_ttl`, a
            /// successful set clears any TTL the key had.
            pub fn set_with(
                &self,
                key: &[u8],
                value: &[u8],
                options: crate::SetOptions,
            ) -> crate::Result<crate::SetOutcome> {
                self.engine().validate_put(key, value)?;
                match self.run(crate::ops::Job::Set {
                    key: key.into(),
                    value: value.into(),
                    options,
                })? {
                    crate::ops::Outcome::Set(outcome) => Ok(outcome),
                    crate::ops::Outcome::Done => Ok(crate::SetOutcome {
                        written: true,
                        previous: None,
                    }),
                    other => Err(crate::store::unexpected(&other)),
                }
            }

            /// Makes `key` expire after `ttl` (Redis `PEXPIRE`). Returns whether the key
            /// exists. A zero TTL deletes the key at once. The value is rewritten with its
            /// new expiry.
            pub fn expire(&self, key: &[u8], ttl: std::time::Duration) -> crate::Result<bool> {
                self.set_expiry(key, crate::ops::NewExpiry::In(ttl))
            }

            /// Makes `key` expire at `unix_ms`, milliseconds since the epoch (Redis
            /// `PEXPIREAT`). Returns whether the key exists. A time already past deletes the
            /// key.
            pub fn expire_at(&self, key: &[u8], unix_ms: u64) -> crate::Result<bool> {
                self.set_expiry(key, crate::ops::NewExpiry::At(unix_ms))
            }

            /// Removes `key`'s expiry (Redis `PERSIST`). Returns true only if the key exists
            /// and had an expiry.
            pub fn persist(&self, key: &[u8]) -> crate::Result<bool> {
                self.set_expiry(key, crate::ops::NewExpiry::Never)
            }

            fn set_expiry(&self, key: &[u8], when: crate::ops::NewExpiry) -> crate::Result<bool> {
                self.engine().validate_key(key)?;
                crate::store::flag(self.run(crate::ops::Job::Expire {
                    key: key.into(),
                    when,
                })?)
            }
        }
    };
}

pub(crate) use write_ops;
