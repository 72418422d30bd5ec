//! What each write operation does. A [`Job`] is decided under the writer lock by
//! [`Txn::apply`], against the store's current state as changed by the jobs before it in the
//! same append, so read-modify-write operations (counters, compare-and-swap, `NX`) are atomic
//! with respect to every other writer. Each job's records form one atomic unit in the log.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::time::Duration;

use crate::datatypes::FastMap;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::numeric::{LongDouble, parse_i64};
use crate::ttl::{
    Condition, ExpirySpec, SetOptions, SetOutcome, expiry_after, expiry_at, is_expired,
};
use crate::write::{Op, Staged};

/// When a key expires after an `expire`-family job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NewExpiry {
    /// After this long (a zero duration expires the key at once).
    In(Duration),
    /// At this unix time in ms.
    At(u64),
    /// Never (persist).
    Never,
}

/// One change in a [`WriteBatch`](crate::WriteBatch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BatchOp<'a> {
    Set {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
        ttl: Option<Duration>,
    },
    Delete {
        key: Cow<'a, [u8]>,
    },
}

/// A write operation, with its arguments borrowed (fast path) or owned (queued).
#[derive(Clone, Debug)]
pub(crate) enum Job<'a> {
    Set {
        key: Cow<'a, [u8]>,
        value: Cow<'a, [u8]>,
        options: SetOptions,
    },
    Delete {
        key: Cow<'a, [u8]>,
    },
    GetDel {
        key: Cow<'a, [u8]>,
    },
    Expire {
        key: Cow<'a, [u8]>,
        when: NewExpiry,
    },
    IncrBy {
        key: Cow<'a, [u8]>,
        delta: i64,
    },
    IncrByFloat {
        key: Cow<'a, [u8]>,
        delta: LongDouble,
    },
    Append {
        key: Cow<'a, [u8]>,
        suffix: Cow<'a, [u8]>,
    },
    CompareAndSwap {
        key: Cow<'a, [u8]>,
        expected: Option<Cow<'a, [u8]>>,
        new: Option<Cow<'a, [u8]>>,
    },
    Batch {
        ops: Vec<BatchOp<'a>>,
    },
    /// Deletes those of `keys` that have expired (the active expiry cycle).
    Reap {
        keys: Vec<Vec<u8>>,
    },
}

fn owned(c: &[u8]) -> Cow<'static, [u8]> {
    Cow::Owned(c.to_vec())
}

impl BatchOp<'_> {
    /// The same op, borrowing this one's bytes.
    pub(crate) fn borrowed(&self) -> BatchOp<'_> {
        match self {
            BatchOp::Set { key, value, ttl } => BatchOp::Set {
                key: Cow::Borrowed(key),
                value: Cow::Borrowed(value),
                ttl: *ttl,
            },
            BatchOp::Delete { key } => BatchOp::Delete {
                key: Cow::Borrowed(key),
            },
        }
    }
}

impl Job<'_> {
    /// A copy that owns its arguments, for the queue.
    pub(crate) fn to_owned_job(&self) -> Job<'static> {
        match self {
            Job::Set {
                key,
                value,
                options,
            } => Job::Set {
                key: owned(key),
                value: owned(value),
                options: *options,
            },
            Job::Delete { key } => Job::Delete { key: owned(key) },
            Job::GetDel { key } => Job::GetDel { key: owned(key) },
            Job::Expire { key, when } => Job::Expire {
                key: owned(key),
                when: *when,
            },
            Job::IncrBy { key, delta } => Job::IncrBy {
                key: owned(key),
                delta: *delta,
            },
            Job::IncrByFloat { key, delta } => Job::IncrByFloat {
                key: owned(key),
                delta: *delta,
            },
            Job::Append { key, suffix } => Job::Append {
                key: owned(key),
                suffix: owned(suffix),
            },
            Job::CompareAndSwap { key, expected, new } => Job::CompareAndSwap {
                key: owned(key),
                expected: expected.as_deref().map(owned),
                new: new.as_deref().map(owned),
            },
            Job::Batch { ops } => Job::Batch {
                ops: ops
                    .iter()
                    .map(|op| match op {
                        BatchOp::Set { key, value, ttl } => BatchOp::Set {
                            key: owned(key),
                            value: owned(value),
                            ttl: *ttl,
                        },
                        BatchOp::Delete { key } => BatchOp::Delete { key: owned(key) },
                    })
                    .collect(),
            },
            Job::Reap { keys } => Job::Reap { keys: keys.clone() },
        }
    }

    /// Bytes of keys and values the job carries (for batch size limits).
    pub(crate) fn payload_len(&self) -> usize {
        match self {
            Job::Set { key, value, .. } => key.len() + value.len(),
            Job::Append { key, suffix } => key.len() + suffix.len(),
            Job::CompareAndSwap { key, new, .. } => key.len() + new.as_ref().map_or(0, |n| n.len()),
            Job::Batch { ops } => ops
                .iter()
                .map(|op| match op {
                    BatchOp::Set { key, value, .. } => key.len() + value.len(),
                    BatchOp::Delete { key } => key.len(),
                })
                .sum(),
            Job::Reap { keys } => keys.iter().map(Vec::len).sum(),
            Job::Delete { key }
            | Job::GetDel { key }
            | Job::Expire { key, .. }
            | Job::IncrBy { key, .. }
            | Job::IncrByFloat { key, .. } => key.len(),
        }
    }
}

/// What a job did.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    /// A plain set.
    Done,
    /// Whether something happened (delete found the key, expire applied, CAS swapped).
    Flag(bool),
    /// A counter's new value, or a count.
    Int(i64),
    /// A float counter's new value.
    Float(LongDouble),
    /// A value that was there (get-and-delete).
    Value(Option<Vec<u8>>),
    /// The keys a reap deleted.
    Keys(Vec<Vec<u8>>),
    /// What `set_with` did.
    Set(SetOutcome),
}

/// The key an op writes in the key space (not an element record's).
fn key_op<'a>(op: &'a Op<'_>) -> Option<&'a [u8]> {
    match op {
        Op::Put { key, .. } | Op::Collection { key, .. } | Op::Delete { key } => Some(key),
        Op::ElementPut { .. } | Op::ElementDelete { .. } => None,
    }
}

/// A key's visible state: present with a value and expiry, or absent.
struct Current {
    value: Vec<u8>,
    expiry_ms: u64,
    /// The value is a collection's header (see `datatypes`), not a string.
    collection: bool,
}

/// The ops of one append. Most appends hold one op: that one is kept inline, so the
/// common single write allocates nothing here.
enum StagedOps<'s> {
    Empty,
    One(Staged<'s>),
    Many(Vec<Staged<'s>>),
}

impl<'s> StagedOps<'s> {
    fn as_slice(&self) -> &[Staged<'s>] {
        match self {
            StagedOps::Empty => &[],
            StagedOps::One(op) => std::slice::from_ref(op),
            StagedOps::Many(ops) => ops,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn push(&mut self, op: Staged<'s>) {
        *self = match std::mem::replace(self, StagedOps::Empty) {
            StagedOps::Empty => StagedOps::One(op),
            StagedOps::One(first) => StagedOps::Many(vec![first, op]),
            StagedOps::Many(mut ops) => {
                ops.push(op);
                StagedOps::Many(ops)
            }
        };
    }

    fn last_mut(&mut self) -> Option<&mut Staged<'s>> {
        match self {
            StagedOps::Empty => None,
            StagedOps::One(op) => Some(op),
            StagedOps::Many(ops) => ops.last_mut(),
        }
    }

    fn truncate(&mut self, len: usize) {
        match self {
            StagedOps::Many(ops) => ops.truncate(len),
            StagedOps::One(_) if len == 0 => *self = StagedOps::Empty,
            _ => {}
        }
    }
}

/// The state of one append being assembled under the writer lock.
pub(crate) struct Txn<'e, 's> {
    pub(crate) engine: &'e Engine,
    /// The clock, read once per append and only if a job needs it (a plain set does not).
    now: OnceCell<u64>,
    staged: StagedOps<'s>,
    /// Member counts of the collections this append changed: key → (generation, count).
    pub(crate) collection_lens: FastMap<Vec<u8>, (u64, usize)>,
    /// The element records staged so far, by collection key: the generation they belong to
    /// and, per member, the index of its newest staged op (so that reads of a transaction's
    /// own changes need no scan of everything it staged).
    pub(crate) staged_elements: FastMap<Vec<u8>, StagedElements>,
    /// The positions of lists this append only pushed to and popped from at their ends
    /// (see [`ListShape`](crate::datatypes::ListShape)).
    pub(crate) list_shapes: FastMap<Vec<u8>, crate::datatypes::ListShape>,
    /// Index of the newest staged key record per key, built on demand once an append
    /// stages more than a few records (so that a long pipeline's reads do not rescan
    /// everything staged before them).
    key_index: RefCell<KeyIndex>,
    /// An empty list whose allocation collection edits reuse to gather their records
    /// before staging them (one edit per command: no allocation per command).
    pub(crate) op_scratch: Vec<Op<'s>>,
}

/// Key → index of its newest staged key record (put, header or delete), covering the
/// staged ops `..covered`.
#[derive(Default)]
struct KeyIndex {
    covered: usize,
    newest: FastMap<Vec<u8>, usize>,
}

/// Below this many staged ops a backward scan is cheaper than keeping an index.
const SCAN_LIMIT: usize = 16;

/// A collection's element records staged in one append: their generation and, per member,
/// the index of its newest staged op.
pub(crate) type StagedElements = (u64, FastMap<Vec<u8>, usize>);

impl<'e, 's> Txn<'e, 's> {
    pub(crate) fn new(engine: &'e Engine) -> Txn<'e, 's> {
        Txn {
            engine,
            now: OnceCell::new(),
            staged: StagedOps::Empty,
            collection_lens: FastMap::default(),
            staged_elements: FastMap::default(),
            list_shapes: FastMap::default(),
            key_index: RefCell::new(KeyIndex::default()),
            op_scratch: Vec::new(),
        }
    }

    /// The clock's time for this append, read once.
    pub(crate) fn now_ms(&self) -> u64 {
        *self.now.get_or_init(|| self.engine.now_ms())
    }

    /// The records to append.
    pub(crate) fn staged(&self) -> &[Staged<'s>] {
        self.staged.as_slice()
    }

    /// The last staged op on `key`, if any: `Some(Some((value, expiry, collection)))` for a
    /// put or a collection header.
    pub(crate) fn staged_state(&self, key: &[u8]) -> Option<Option<(&[u8], u64, bool)>> {
        let staged = self.staged.as_slice();
        let index = if staged.len() <= SCAN_LIMIT {
            staged.iter().rposition(|s| key_op(&s.op) == Some(key))?
        } else {
            let mut index = self.key_index.borrow_mut();
            for (i, s) in staged.iter().enumerate().skip(index.covered) {
                if let Some(k) = key_op(&s.op) {
                    index.newest.insert(k.to_vec(), i);
                }
            }
            index.covered = staged.len();
            *index.newest.get(key)?
        };
        match &staged.get(index)?.op {
            Op::Put {
                value, expiry_ms, ..
            } => Some(Some((&value[..], *expiry_ms, false))),
            Op::Collection {
                value, expiry_ms, ..
            } => Some(Some((&value[..], *expiry_ms, true))),
            _ => Some(None),
        }
    }

    /// The expiry of `key` if it is present and unexpired (0 = never expires).
    pub(crate) fn expiry_if_present(&self, key: &[u8]) -> Option<u64> {
        let expiry = match self.staged_state(key) {
            Some(state) => state.map(|(_, e, _)| e),
            None => self.engine.keydir.get(key).map(|e| e.expiry_ms),
        };
        expiry.filter(|&e| !is_expired(e, self.now_ms()))
    }

    /// Every key present and unexpired as the jobs staged so far left it, in no particular
    /// order: the committed keys the transaction did not delete, and those it created.
    pub(crate) fn keys(&self) -> Vec<Vec<u8>> {
        let now = self.now_ms();
        let mut keys = Vec::new();
        self.engine.keydir.for_each(|key, entry| {
            let present = match self.staged_state(key) {
                Some(state) => state.is_some_and(|(_, e, _)| !is_expired(e, now)),
                None => !is_expired(entry.expiry_ms, now),
            };
            if present {
                keys.push(key.to_vec());
            }
        });
        keys.extend(
            self.written_keys()
                .into_iter()
                .filter(|key| self.engine.keydir.get(key).is_none())
                .filter(|key| self.expiry_if_present(key).is_some())
                .map(<[u8]>::to_vec),
        );
        keys
    }

    /// The keys the jobs staged so far wrote (put, deleted or made a collection), each once.
    pub(crate) fn written_keys(&self) -> Vec<&[u8]> {
        let mut written: Vec<&[u8]> = self
            .staged
            .as_slice()
            .iter()
            .filter_map(|s| key_op(&s.op))
            .collect();
        written.sort_unstable();
        written.dedup();
        written
    }

    /// How many keys are present and unexpired as the jobs staged so far left them: the
    /// committed count, corrected for each key the transaction wrote.
    pub(crate) fn len(&self) -> usize {
        let committed = self.engine.keydir.live_len(self.now_ms());
        self.corrected(committed, |expiry| expiry.is_some())
    }

    /// How many keys are present, unexpired and with an expiry as the jobs staged so far
    /// left them (INFO's `expires=`).
    pub(crate) fn expiring_len(&self) -> usize {
        let committed = self.engine.expiring_len();
        self.corrected(committed, |expiry| expiry.is_some_and(|e| e != 0))
    }

    /// `committed`, a count of the committed keys whose expiry (`None`: absent or
    /// expired; `Some(0)`: none) `counts`, corrected for each key the transaction wrote.
    fn corrected(&self, committed: usize, counts: impl Fn(Option<u64>) -> bool) -> usize {
        let now = self.now_ms();
        let (mut added, mut removed) = (0usize, 0usize);
        for key in self.written_keys() {
            let was = self
                .engine
                .keydir
                .get(key)
                .map(|e| e.expiry_ms)
                .filter(|&e| !is_expired(e, now));
            match (counts(was), counts(self.expiry_if_present(key))) {
                (false, true) => added += 1,
                (true, false) => removed += 1,
                _ => {}
            }
        }
        (committed + added).saturating_sub(removed)
    }

    /// `key`'s value and expiry (0 = never) if it is present and unexpired, as the jobs
    /// staged so far left it.
    pub(crate) fn value_of(&self, key: &[u8]) -> Result<Option<(Vec<u8>, u64)>> {
        Ok(self.current(key)?.map(|c| (c.value, c.expiry_ms)))
    }

    /// Drops the ops staged after the first `len` (a job refused after it was applied).
    pub(crate) fn undo_to(&mut self, len: usize) {
        // Only string jobs are undone: collection edits stage their element records after
        // every check passed, so none of them is cut here (the element index, list shapes
        // and member counts of the transaction stay true).
        debug_assert!(
            self.staged_elements
                .values()
                .all(|(_, members)| members.values().all(|&i| i < len)),
            "an undo would cut staged element records"
        );
        self.staged.truncate(len);
        let index = self.key_index.get_mut();
        if index.covered > len {
            *index = KeyIndex::default();
        }
    }

    /// Makes every staged op one atomic unit (a transaction commits all or nothing).
    pub(crate) fn join_units(&mut self) {
        match &mut self.staged {
            StagedOps::Empty => {}
            StagedOps::One(op) => op.ends_unit = true,
            StagedOps::Many(ops) => {
                let last = ops.len().saturating_sub(1);
                for (i, op) in ops.iter_mut().enumerate() {
                    op.ends_unit = i == last;
                }
            }
        }
    }

    /// `key`'s string value and expiry if it is present and unexpired; a collection is
    /// `Error::WrongType`.
    fn current(&self, key: &[u8]) -> Result<Option<Current>> {
        match self.current_any(key)? {
            Some(c) if c.collection => Err(Error::WrongType),
            other => Ok(other),
        }
    }

    /// Appends `op` to the staged records.
    pub(crate) fn stage(&mut self, op: Op<'s>) {
        if let Op::ElementPut { key, .. } | Op::ElementDelete { key } = &op
            && let Some((collection, generation, member)) = crate::datatypes::split_element_key(key)
        {
            let index = self.staged.len();
            match self.staged_elements.get_mut(collection) {
                Some(entry) => {
                    if entry.0 != generation {
                        // A newer generation of the collection: the older one's elements
                        // are dead.
                        *entry = (generation, FastMap::default());
                    }
                    match entry.1.get_mut(member) {
                        Some(newest) => *newest = index,
                        None => {
                            entry.1.insert(member.to_vec(), index);
                        }
                    }
                }
                None => {
                    let mut members = FastMap::default();
                    members.insert(member.to_vec(), index);
                    self.staged_elements
                        .insert(collection.to_vec(), (generation, members));
                }
            }
            // The edit staging this decides the list's shape again after it.
            self.list_shapes.remove(collection);
        }
        self.staged.push(Staged {
            op,
            ends_unit: false,
        });
    }

    /// `key`'s value (a string, or a collection's header) and expiry if it is present and
    /// unexpired: `(value, expiry, is a collection header)`.
    pub(crate) fn current_state(&self, key: &[u8]) -> Result<Option<(Vec<u8>, u64, bool)>> {
        Ok(self
            .current_any(key)?
            .map(|c| (c.value, c.expiry_ms, c.collection)))
    }

    /// `key`'s value (a string, or a collection's header) and expiry if it is present and
    /// unexpired.
    fn current_any(&self, key: &[u8]) -> Result<Option<Current>> {
        if let Some(state) = self.staged_state(key) {
            return Ok(state
                .filter(|&(_, e, _)| !is_expired(e, self.now_ms()))
                .map(|(v, e, collection)| Current {
                    value: v.to_vec(),
                    expiry_ms: e,
                    collection,
                }));
        }
        let now = self.now_ms();
        let engine = self.engine;
        match engine.live_entry(key, Some(now)) {
            Some(entry) if entry.collection => Ok(engine
                .read_at(key, entry, RecordKind::Collection, || {
                    engine.live_entry(key, Some(now))
                })?
                .map(|value| Current {
                    value,
                    expiry_ms: entry.expiry_ms,
                    collection: true,
                })),
            _ => Ok(engine
                .read_entry(key, now)?
                .map(|(value, expiry_ms)| Current {
                    value,
                    expiry_ms,
                    collection: false,
                })),
        }
    }

    fn put(&mut self, key: &'s [u8], value: Cow<'s, [u8]>, expiry_ms: u64) {
        self.staged.push(Staged {
            op: Op::Put {
                key: Cow::Borrowed(key),
                value,
                expiry_ms,
            },
            ends_unit: false,
        });
    }

    fn delete(&mut self, key: &'s [u8]) {
        self.staged.push(Staged {
            op: Op::Delete {
                key: Cow::Borrowed(key),
            },
            ends_unit: false,
        });
    }

    /// Puts `value` with an expiry, or deletes the key when the expiry is already past (a
    /// TTL in the past deletes, as in Redis).
    fn put_expiring(&mut self, key: &'s [u8], value: Cow<'s, [u8]>, expiry_ms: u64) {
        if is_expired(expiry_ms, self.now_ms()) {
            self.delete(key);
        } else {
            self.put(key, value, expiry_ms);
        }
    }

    /// Rewrites a collection's header with a new expiry (its members stay), or deletes the
    /// collection when the expiry is already past.
    fn header_expiring(&mut self, key: &'s [u8], header: Vec<u8>, expiry_ms: u64) {
        if is_expired(expiry_ms, self.now_ms()) {
            self.delete(key);
        } else {
            self.staged.push(Staged {
                op: Op::Collection {
                    key: Cow::Borrowed(key),
                    value: Cow::Owned(header),
                    expiry_ms,
                },
                ends_unit: false,
            });
        }
    }

    fn check_value(&self, len: usize) -> Result<()> {
        let max = self.engine.options.max_value_size;
        if len > max {
            return Err(Error::ValueTooLarge { len, max });
        }
        Ok(())
    }

    /// Decides what `job` does and stages its records as one atomic unit. A job that fails
    /// stages nothing; the other jobs of the append go ahead.
    pub(crate) fn apply(&mut self, job: &'s Job<'s>) -> Result<Outcome> {
        let mark = self.staged.len();
        let outcome = self.apply_inner(job);
        if outcome.is_err() {
            self.undo_to(mark);
        } else if self.staged.len() > mark
            && let Some(last) = self.staged.last_mut()
        {
            last.ends_unit = true;
        }
        outcome
    }

    fn apply_inner(&mut self, job: &'s Job<'s>) -> Result<Outcome> {
        match job {
            Job::Set {
                key,
                value,
                options,
            } => self.set(key, value, options),
            Job::Delete { key } => {
                let present = self.expiry_if_present(key).is_some();
                if present {
                    self.delete(key);
                }
                Ok(Outcome::Flag(present))
            }
            Job::GetDel { key } => {
                let current = self.current(key)?;
                if current.is_some() {
                    self.delete(key);
                }
                Ok(Outcome::Value(current.map(|c| c.value)))
            }
            Job::Expire { key, when } => {
                let Some(current) = self.current_any(key)? else {
                    return Ok(Outcome::Flag(false));
                };
                let expiry_ms = match *when {
                    NewExpiry::Never if current.expiry_ms == 0 => return Ok(Outcome::Flag(false)),
                    NewExpiry::Never => 0,
                    NewExpiry::In(d) if d.is_zero() => self.now_ms(),
                    NewExpiry::In(d) => expiry_after(self.now_ms(), d)?,
                    NewExpiry::At(t) => expiry_at(t)?,
                };
                if current.collection {
                    self.header_expiring(key, current.value, expiry_ms);
                } else {
                    self.put_expiring(key, Cow::Owned(current.value), expiry_ms);
                }
                Ok(Outcome::Flag(true))
            }
            Job::IncrBy { key, delta } => {
                let (old, expiry_ms) = match self.current(key)? {
                    Some(c) => (parse_i64(&c.value).ok_or(Error::NotAnInteger)?, c.expiry_ms),
                    None => (0, 0),
                };
                let new = old.checked_add(*delta).ok_or(Error::Overflow)?;
                self.put(key, Cow::Owned(new.to_string().into_bytes()), expiry_ms);
                Ok(Outcome::Int(new))
            }
            Job::IncrByFloat { key, delta } => {
                let (old, expiry_ms) = match self.current(key)? {
                    Some(c) => (
                        LongDouble::parse(&c.value).ok_or(Error::NotAFloat)?,
                        c.expiry_ms,
                    ),
                    None => (LongDouble::ZERO, 0),
                };
                let new = old.add(*delta).map_err(|_| Error::NanOrInfinity)?;
                let text = new.to_redis_text().into_bytes();
                self.check_value(text.len())?;
                self.put(key, Cow::Owned(text), expiry_ms);
                Ok(Outcome::Float(new))
            }
            Job::Append { key, suffix } => {
                let (mut value, expiry_ms) = match self.current(key)? {
                    Some(c) => (c.value, c.expiry_ms),
                    None => (Vec::new(), 0),
                };
                self.check_value(value.len() + suffix.len())?;
                value.extend_from_slice(suffix);
                let len = value.len();
                self.put(key, Cow::Owned(value), expiry_ms);
                Ok(Outcome::Int(i64::try_from(len).unwrap_or(i64::MAX)))
            }
            Job::CompareAndSwap { key, expected, new } => {
                let current = self.current(key)?;
                let matches = match (&current, expected) {
                    (None, None) => true,
                    (Some(c), Some(e)) => c.value == e[..],
                    _ => false,
                };
                if !matches {
                    return Ok(Outcome::Flag(false));
                }
                match new {
                    Some(v) => self.put(key, Cow::Borrowed(&v[..]), 0),
                    None if current.is_some() => self.delete(key),
                    None => {}
                }
                Ok(Outcome::Flag(true))
            }
            Job::Batch { ops } => {
                for op in ops {
                    match op {
                        BatchOp::Set { key, value, ttl } => {
                            let expiry_ms = match ttl {
                                Some(d) => expiry_after(self.now_ms(), *d)?,
                                None => 0,
                            };
                            self.put(key, Cow::Borrowed(&value[..]), expiry_ms);
                        }
                        BatchOp::Delete { key } => {
                            if self.expiry_if_present(key).is_some() {
                                self.delete(key);
                            }
                        }
                    }
                }
                Ok(Outcome::Done)
            }
            Job::Reap { keys } => {
                let mut reaped = Vec::new();
                for key in keys {
                    let expired = match self.staged_state(key) {
                        Some(Some((_, e, _))) => is_expired(e, self.now_ms()),
                        Some(None) => false,
                        None => self
                            .engine
                            .keydir
                            .get(key)
                            .is_some_and(|e| is_expired(e.expiry_ms, self.now_ms())),
                    };
                    if expired {
                        self.delete(key);
                        reaped.push(key.clone());
                    }
                }
                Ok(Outcome::Keys(reaped))
            }
        }
    }

    fn set(&mut self, key: &'s [u8], value: &'s [u8], options: &SetOptions) -> Result<Outcome> {
        if *options == SetOptions::default() {
            // A plain set needs neither the key's state nor the clock.
            self.put(key, Cow::Borrowed(value), 0);
            return Ok(Outcome::Done);
        }
        // The key's current state matters only to conditions, KEEPTTL and GET.
        let needs_state = options.condition != Condition::Always
            || options.expiry == ExpirySpec::Keep
            || options.get_previous;
        let present_expiry = if needs_state {
            self.expiry_if_present(key)
        } else {
            None
        };
        let previous = if options.get_previous {
            self.current(key)?.map(|c| c.value)
        } else {
            None
        };
        let allowed = match options.condition {
            Condition::Always => true,
            Condition::IfAbsent => present_expiry.is_none(),
            Condition::IfPresent => present_expiry.is_some(),
        };
        if allowed {
            let expiry_ms = match options.expiry {
                ExpirySpec::Never => 0,
                ExpirySpec::Keep => present_expiry.unwrap_or(0),
                ExpirySpec::In(d) => expiry_after(self.now_ms(), d)?,
                ExpirySpec::At(t) => expiry_at(t)?,
            };
            self.put_expiring(key, Cow::Borrowed(value), expiry_ms);
        }
        Ok(Outcome::Set(SetOutcome {
            written: allowed,
            previous,
        }))
    }
}
