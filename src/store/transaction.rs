//! [`Store::transaction`]: several reads and writes decided and committed as one atomic,
//! durable unit.
//!
//! A transaction holds the writer lock from start to commit, so nothing else writes in
//! between: reads inside see the store as the transaction's own earlier writes left it, and
//! read-modify-write sequences need no retry loop. Its writes are staged in memory and
//! appended with one `write(2)` as one batch frame, so a crash keeps all of them or none.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use typed_arena::Arena;

use super::Store;
use crate::datatypes::ValueType;
use crate::datatypes::view::{CollectionView, Staged as StagedView};
use crate::datatypes::write::Edit;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ops::{Job, Outcome, Txn};
use crate::stats::Stats;
use crate::store::write_ops::{MAX_BATCH_BYTES, write_ops};
use crate::ttl::{SetOptions, Ttl, ttl_of};
use crate::usage::SegmentUsage;

/// What [`Transaction::stats`] needs from the writer: segment usage, the active segment's
/// id and the last sequence number.
type WriterFigures = (BTreeMap<u32, SegmentUsage>, u32, u64);

thread_local! {
    /// Address of the engine whose transaction this thread is running, or 0.
    static RUNNING: Cell<usize> = const { Cell::new(0) };
}

/// Whether this thread is inside a transaction of `engine` (whose writer lock it holds, so
/// any other write would wait for itself forever).
pub(crate) fn inside_transaction(engine: &Engine) -> bool {
    RUNNING.with(|r| r.get() == std::ptr::from_ref(engine) as usize)
}

/// The error for a store call that would wait on the transaction its own thread is running.
pub(crate) fn reentry_error() -> Error {
    Error::InvalidArgument {
        reason: "the store was written from inside its own transaction; use the Transaction \
                 handle instead"
            .into(),
    }
}

/// Marks this thread as running a transaction of one engine until dropped.
struct Running;

impl Running {
    fn enter(engine: &Engine) -> Result<Running> {
        RUNNING.with(|r| {
            if r.get() != 0 {
                return Err(Error::InvalidArgument {
                    reason: "transactions do not nest".into(),
                });
            }
            r.set(std::ptr::from_ref(engine) as usize);
            Ok(Running)
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(0));
    }
}

impl Store {
    /// Runs `f` as one atomic, durable unit and returns what it returns.
    ///
    /// Inside `f`, the [`Transaction`] reads and writes like the store: reads see the
    /// transaction's own earlier writes, and no other writer runs until it ends. When `f`
    /// returns `Ok`, everything it wrote is appended as one unit — readers and a crash see
    /// all of it or none of it — and is durable under the store's
    /// [`SyncPolicy`](crate::SyncPolicy) when this returns. When `f` returns `Err`, nothing
    /// is written and the error is returned.
    ///
    /// A write inside that fails (a value that is not a number, say) writes nothing itself
    /// and returns its error to `f`; the transaction's other writes go ahead unless `f`
    /// passes the error on. This is Redis's `EXEC`: a command error does not roll back the
    /// others.
    ///
    /// `f` holds the writer lock: keep it short, and use the `Transaction`, not the store,
    /// inside it (a write to the store from inside fails with
    /// [`Error::InvalidArgument`]; `stats` ([`Transaction::stats`] instead), `merge`, `sync`
    /// and `close` would wait for the transaction forever). Reads of the store itself from inside see the state before the
    /// transaction. Fails with [`Error::InvalidArgument`] if the transaction's records
    /// would exceed 1 GiB.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = keg::Store::open(dir.path())?;
    /// store.set(b"account:a", b"100")?;
    /// // Move 30 from a to b, atomically.
    /// store.transaction(|tx| {
    ///     tx.decr_by(b"account:a", 30)?;
    ///     tx.incr_by(b"account:b", 30)?;
    ///     Ok(())
    /// })?;
    /// assert_eq!(store.get(b"account:a")?.as_deref(), Some(&b"70"[..]));
    /// assert_eq!(store.get(b"account:b")?.as_deref(), Some(&b"30"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transaction<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let (value, last_seq) = self.transaction_without_wait(f)?;
        if let Some(seq) = last_seq {
            self.engine().wait_durable(seq)?;
        }
        Ok(value)
    }

    /// Commits like [`Store::transaction`] but returns before the commit is durable, with
    /// the sequence number to pass to [`Store::wait_durable`] before acknowledging it (the
    /// server acknowledges a loop turn's writes after one wait).
    pub(crate) fn transaction_without_wait<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<(T, Option<u64>)> {
        let engine = self.engine();
        engine.check_open()?;
        engine.write_refused_while_reading()?;
        let _running = Running::enter(engine)?;
        // Shared with the transaction (for `Transaction::stats`) until the commit.
        let writer = RefCell::new(engine.lock_writer());
        engine.check_writable()?;
        let jobs = Arena::new();
        let writer_figures = || {
            let w = writer.borrow();
            (w.usage(), w.active.id(), w.last_seq())
        };
        let mut tx = Transaction {
            engine,
            writer_figures: &writer_figures,
            jobs: &jobs,
            txn: RefCell::new(Txn::new(engine)),
            bytes: Cell::new(0),
        };
        let value = f(&mut tx)?;
        let mut txn = tx.txn.into_inner();
        txn.join_units();
        let last_seq = match txn.staged() {
            [] => None,
            staged => Some(engine.commit(&mut writer.borrow_mut(), staged)?),
        };
        // Released before the wait so that others append during this fsync.
        drop(writer);
        Ok((value, last_seq))
    }

    /// Sequence number of the last record written (changes with every write).
    pub(crate) fn last_written_seq(&self) -> u64 {
        self.engine()
            .written_seq
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits until every record up to `seq` is durable under the store's policy.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<()> {
        self.engine().wait_durable(seq)
    }
}

/// The reads and writes of one [`Store::transaction`].
///
/// It has the store's write methods with the same names, arguments and results (`set`,
/// `set_with`, `delete`, `incr_by`, `append`, `compare_and_swap`, `expire`, …), and reads
/// (`get`, `contains`, `ttl`, `expires_at`) that see its own earlier writes. Writes are
/// staged until the transaction commits; the clock is read once, so every TTL in one
/// transaction is counted from the same instant.
pub struct Transaction<'t> {
    engine: &'t Engine,
    /// The writer's figures (segment usage, active segment, last sequence number), read
    /// under the writer lock the transaction holds (for [`Transaction::stats`]).
    writer_figures: &'t dyn Fn() -> WriterFigures,
    /// Every job run so far: the staged records borrow their keys and values from them.
    jobs: &'t Arena<Job<'static>>,
    txn: RefCell<Txn<'t, 't>>,
    /// Record bytes staged so far.
    bytes: Cell<u64>,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("staged_records", &self.txn.borrow().staged().len())
            .field("staged_bytes", &self.bytes.get())
            .finish()
    }
}

impl Transaction<'_> {
    pub(crate) fn engine(&self) -> &Engine {
        self.engine
    }

    /// The store's figures ([`Store::stats`]) as they were when the transaction began: its
    /// own staged writes are not in them. (`Store::stats` itself would wait for the
    /// transaction to end.)
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let store = keg::Store::open(dir.path())?;
    /// store.set(b"a", b"1")?;
    /// let keys = store.transaction(|tx| {
    ///     tx.set(b"b", b"2")?;
    ///     Ok(tx.stats().keys)
    /// })?;
    /// assert_eq!(keys, 1);
    /// assert_eq!(store.stats().keys, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> Stats {
        let (usage, active_id, last_seq) = (self.writer_figures)();
        crate::store::stats_of(self.engine, &usage, active_id, last_seq)
    }

    /// Runs `f` on the collections as this transaction sees them (for `datatypes`).
    pub(crate) fn read_collections_view<T>(
        &self,
        f: impl FnOnce(&dyn CollectionView) -> Result<T>,
    ) -> Result<T> {
        let txn = self.txn.borrow();
        f(&StagedView(&txn))
    }

    /// Runs one collection operation's edit and stages its records (for `datatypes`).
    pub(crate) fn edit_collection<T>(
        &self,
        key: &[u8],
        ty: ValueType,
        f: impl FnOnce(&mut Edit<'_, '_, '_>) -> Result<T>,
    ) -> Result<T> {
        let mut txn = self.txn.borrow_mut();
        let mut edit = Edit::begin(&mut txn, key, ty)?;
        let value = f(&mut edit)?;
        let room = (MAX_BATCH_BYTES as u64).saturating_sub(self.bytes.get());
        let bytes = edit.finish(room)?;
        self.bytes.set(self.bytes.get() + bytes);
        Ok(value)
    }

    /// What `key` holds as this transaction sees it (Redis's TYPE).
    pub fn value_type(&self, key: &[u8]) -> Result<Option<ValueType>> {
        self.txn.borrow().value_type(key)
    }

    /// Stages one job (for `write_ops!`), refusing it if the transaction would outgrow
    /// what one append may carry.
    fn run(&self, job: Job<'_>) -> Result<Outcome> {
        let job: &Job<'static> = self.jobs.alloc(job.to_owned_job());
        let mut txn = self.txn.borrow_mut();
        let mark = txn.staged().len();
        let outcome = txn.apply(job)?;
        let added: u64 = txn
            .staged()
            .get(mark..)
            .unwrap_or_default()
            .iter()
            .map(|s| s.op.encoded_len())
            .sum();
        let total = self.bytes.get() + added;
        if total > MAX_BATCH_BYTES as u64 {
            txn.undo_to(mark);
            return Err(Error::InvalidArgument {
                reason: format!(
                    "transaction would carry {total} bytes; the limit is {MAX_BATCH_BYTES}"
                ),
            });
        }
        self.bytes.set(total);
        Ok(outcome)
    }

    /// The value of `key` as this transaction sees it, or `None` if absent or expired.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.get_with_expiry(key)?.map(|(value, _)| value))
    }

    /// The value of `key` and its expiry in unix ms (`None` = never), or `None` if the key
    /// is absent or expired.
    pub fn get_with_expiry(&self, key: &[u8]) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        Ok(self
            .txn
            .borrow()
            .value_of(key)?
            .map(|(value, expiry)| (value, (expiry != 0).then_some(expiry))))
    }

    /// Every key present (and not expired) as this transaction sees it, its own writes
    /// included, in no particular order.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.txn.borrow().keys()
    }

    /// How many keys are present as this transaction sees it (Redis's DBSIZE inside
    /// MULTI).
    pub fn len(&self) -> usize {
        self.txn.borrow().len()
    }

    /// How many keys with an expiry are present as this transaction sees it
    /// ([`Store::expiring_len`]).
    pub(crate) fn expiring_len(&self) -> usize {
        self.txn.borrow().expiring_len()
    }

    /// Whether no key is present as this transaction sees it.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this transaction wrote any key so far (so that its keys differ from the
    /// store's).
    pub(crate) fn wrote_keys(&self) -> bool {
        !self.txn.borrow().written_keys().is_empty()
    }

    /// The keys this transaction has written so far, sorted.
    pub(crate) fn written_keys(&self) -> Vec<Vec<u8>> {
        let txn = self.txn.borrow();
        txn.written_keys().into_iter().map(<[u8]>::to_vec).collect()
    }

    /// Whether `key` is present (and not expired) as this transaction sees it.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.txn.borrow().expiry_if_present(key).is_some()
    }

    /// `key`'s time to live as this transaction sees it (see [`Store::ttl`]).
    pub fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        let txn = self.txn.borrow();
        Ok(match txn.expiry_if_present(key) {
            Some(expiry) => ttl_of(expiry, txn.now_ms()),
            None => Ttl::Missing,
        })
    }

    /// `key`'s expiry in unix ms, `None` if absent or without expiry (see
    /// [`Store::expires_at`]).
    pub fn expires_at(&self, key: &[u8]) -> Result<Option<u64>> {
        Ok(self.txn.borrow().expiry_if_present(key).filter(|&e| e != 0))
    }

    /// The clock's time in unix ms as this transaction uses it (read once per transaction).
    pub fn now_ms(&self) -> u64 {
        self.txn.borrow().now_ms()
    }

    /// Sets `key` to `value` with an absolute expiry in unix ms (`None` = never), as a copy
    /// or a rename keeps a key's expiry. An expiry already past deletes the key.
    pub fn set_with_expiry(
        &self,
        key: &[u8],
        value: &[u8],
        expiry_unix_ms: Option<u64>,
    ) -> Result<()> {
        let options = match expiry_unix_ms {
            Some(at) => SetOptions::new().expire_at(at),
            None => SetOptions::new(),
        };
        self.set_with(key, value, options).map(|_| ())
    }
}

write_ops!(Transaction<'_>);
