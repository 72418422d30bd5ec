//! One connection's protocol state and command execution: framing requests out of the
//! input, the checks Redis makes before running a command (arity, AUTH, subscribed mode,
//! MULTI queueing), and running it against the store.
//!
//! Pipelined data commands are coalesced: consecutive commands that read or write keys,
//! received in one read, run as one store transaction when any of them writes. They are
//! then appended with one `write(2)` and made durable by one fsync under `always` — as Redis
//! fsyncs once per event-loop turn — and every reply of the batch is sent after it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::clients::{ClientEntry, Unblock};
use super::cmdstats::Outcome;
use super::commands::blocking;
use super::error::{self, CmdError};
use super::frame::{self, Args};
use super::keyspace::KeySpace;
use super::pubsub::{Kind, Subscriber};
use super::reply::{Protocol, Reply};
use super::shared::{Counters, Shared};
use super::slowlog::Stopwatch;
use super::table::{self, Handler, Spec, flag};
use crate::engine::lock;
use crate::watch::WatchMark;

/// Most commands coalesced into one transaction.
const MAX_COALESCED: usize = 512;
/// Most argument bytes coalesced into one transaction.
const MAX_COALESCED_BYTES: usize = 8 << 20;

/// The command's name as CLIENT LIST shows it (`client|list` for a container command).
fn command_label(spec: &Spec, args: &Args) -> String {
    match spec.name {
        "client" | "config" | "command" | "pubsub" if args.len() > 1 => {
            format!(
                "{}|{}",
                spec.name,
                String::from_utf8_lossy(args.get(1)).to_lowercase()
            )
        }
        name => name.to_string(),
    }
}

/// Commands queued by MULTI.
pub(crate) struct Multi {
    pub(crate) queued: Vec<(&'static Spec, Args)>,
    /// A command was rejected while queueing: EXEC fails with EXECABORT.
    pub(crate) failed: bool,
}

/// CLIENT REPLY's setting for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientReply {
    /// Replies are sent.
    On,
    /// No reply is sent (ON turns them back on).
    Off,
    /// CLIENT REPLY SKIP is running: no reply to it nor to the next command.
    SkipNext,
    /// No reply to this command; the next one's is sent.
    Skip,
}

/// One connection.
pub(crate) struct Session {
    pub(crate) shared: Arc<Shared>,
    pub(crate) client: Arc<ClientEntry>,
    pub(crate) protocol: Protocol,
    pub(crate) authenticated: bool,
    pub(crate) multi: Option<Multi>,
    /// Keys WATCHed, with what they were then: EXEC aborts if any has changed since.
    pub(crate) watched: Vec<(Vec<u8>, WatchMark)>,
    pub(crate) channels: HashSet<Vec<u8>>,
    pub(crate) patterns: HashSet<Vec<u8>>,
    pub(crate) shard_channels: HashSet<Vec<u8>>,
    /// CLIENT REPLY: whether this connection's replies are sent.
    pub(crate) reply: ClientReply,
    /// Set on the first subscription: from then on, output goes through its outbox.
    pub(crate) subscriber: Option<Arc<Subscriber>>,
    /// In MONITOR mode: shown every command the server runs; may not touch keys.
    pub(crate) monitoring: bool,
    /// Close the connection once the replies so far are sent.
    pub(crate) closing: bool,
    /// Requests framed but not yet run, oldest first.
    inbox: VecDeque<Args>,
    /// A protocol error found after the requests in `inbox`: answered after them, then
    /// the connection closes.
    protocol_error: Option<String>,
    /// How far the check of the partly received request at the start of the input got.
    resume: frame::Resume,
    pending: Vec<(&'static Spec, Args)>,
    pending_bytes: usize,
    /// Spare argument buffers, reused across pipelines.
    spare: Vec<Args>,
    /// The newest record a solo write committed without waiting for durability: its reply
    /// must not leave before `Store::wait_durable` of it (the event loop waits once a turn).
    pub(crate) undurable_seq: Option<u64>,
    /// A blocking pop waiting for data: no later request of this connection runs meanwhile.
    pub(crate) blocked: Option<Blocked>,
    /// CLIENT TRACKING's mode while it is on (the server's table has a copy).
    pub(crate) tracking: Option<crate::server::tracking::Mode>,
    /// CLIENT CACHING YES / NO: whether the next command's reads are tracked (OPTIN,
    /// OPTOUT); it lasts one command, or a whole MULTI ... EXEC.
    pub(crate) caching: Option<bool>,
}

/// A blocking pop that found nothing yet.
pub(crate) struct Blocked {
    spec: &'static Spec,
    args: Args,
    /// When it gives up (`None`: never).
    deadline: Option<std::time::Instant>,
    /// When it started waiting: the oldest waiter is served first.
    pub(crate) since: std::time::Instant,
    /// Its place in the queue of waiters across all event loops.
    ticket: u64,
    /// The store's last sequence number at its last attempt: nothing to try again until a
    /// write has happened since.
    seen_seq: u64,
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, client: Arc<ClientEntry>) -> Session {
        Session {
            shared,
            client,
            protocol: Protocol::Resp2,
            authenticated: false,
            multi: None,
            watched: Vec::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard_channels: HashSet::new(),
            reply: ClientReply::On,
            subscriber: None,
            monitoring: false,
            closing: false,
            inbox: VecDeque::new(),
            protocol_error: None,
            resume: frame::Resume::default(),
            pending: Vec::new(),
            pending_bytes: 0,
            spare: Vec::new(),
            undurable_seq: None,
            blocked: None,
            tracking: None,
            caching: None,
        }
    }

    /// Whether the client may run commands other than AUTH/HELLO/QUIT/RESET.
    pub(crate) fn is_authenticated(&self) -> bool {
        self.authenticated || !self.shared.password_required()
    }

    /// Whether the connection has subscriptions.
    pub(crate) fn is_subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }

    /// The connection's subscriptions of one kind.
    pub(crate) fn subscriptions(&mut self, kind: Kind) -> &mut HashSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Shows the subscription counts in CLIENT LIST.
    pub(crate) fn publish_subscription_counts(&self) {
        let counts = [
            (&self.client.channels, self.channels.len()),
            (&self.client.patterns, self.patterns.len()),
            (&self.client.shard_channels, self.shard_channels.len()),
        ];
        for (shown, n) in counts {
            shown.store(n, Ordering::Relaxed);
        }
    }

    /// Ends every subscription (RESET, the end of the connection).
    pub(crate) fn unsubscribe_all(&mut self) {
        let id = self.client.id;
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in std::mem::take(self.subscriptions(kind)) {
                self.shared.pubsub.unsubscribe(kind, &name, id);
            }
        }
        self.publish_subscription_counts();
    }

    /// Frames every complete request at the start of `input` into the inbox; returns how
    /// many bytes were consumed (all of them after a protocol error, which is answered
    /// once the requests before it have run).
    pub(crate) fn take_requests(&mut self, input: &[u8]) -> usize {
        if self.protocol_error.is_some() || self.closing {
            return input.len();
        }
        let limits = self.shared.settings().limits;
        let authenticated = self.is_authenticated();
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let frame = match frame::check_resumable(rest, &limits, authenticated, &mut self.resume)
            {
                Ok(Some(frame)) => frame,
                Ok(None) => return pos,
                Err(e) => {
                    self.protocol_error = Some(e.0);
                    return input.len();
                }
            };
            let bytes = rest.get(..frame.len).unwrap_or_default();
            pos += frame.len;
            let mut args = self.spare.pop().unwrap_or_default();
            if let Err(e) = frame::parse(bytes, frame.kind, &mut args) {
                self.protocol_error = Some(e.0);
                return input.len();
            }
            if args.is_empty() {
                self.spare.push(args);
            } else {
                self.inbox.push_back(args);
            }
            // Before AUTH, Redis's tighter limits apply to each request: frame one at a
            // time until the client has authenticated.
            if !authenticated {
                return pos;
            }
        }
    }

    /// When the blocking pop this connection waits on times out, if it does.
    pub(crate) fn blocked_deadline(&self) -> Option<std::time::Instant> {
        self.blocked.as_ref().and_then(|b| b.deadline)
    }

    /// Whether requests wait in the inbox.
    pub(crate) fn has_requests(&self) -> bool {
        self.blocked.is_none() && (!self.inbox.is_empty() || self.protocol_error.is_some())
    }

    /// The leading requests that can join a transaction shared with other connections:
    /// how many, and whether any of them writes.
    pub(crate) fn leading_data(&self) -> (usize, bool) {
        if self.blocked.is_some()
            || self.tracking.is_some()
            || self.reply != ClientReply::On
            || self.multi.is_some()
            || self.monitoring
            || self.is_subscribed()
            || !self.is_authenticated()
        {
            return (0, false);
        }
        let mut count = 0;
        let mut writes = false;
        for args in &self.inbox {
            match table::lookup(args.get(0)) {
                Some(spec) if spec.arity_ok(args.len()) && self.coalescable(spec) => {
                    count += 1;
                    writes |= spec.may_write();
                }
                _ => break,
            }
        }
        (count, writes)
    }

    /// Runs the first `count` requests (which [`leading_data`](Session::leading_data)
    /// found coalescable) inside `tx`.
    pub(crate) fn run_leading(&mut self, tx: &dyn KeySpace, count: usize, out: &mut Reply) {
        self.client.touch();
        let shared = Arc::clone(&self.shared);
        let mut stopwatch = Stopwatch::start(&shared.slowlog);
        for _ in 0..count {
            let Some(args) = self.inbox.pop_front() else {
                break;
            };
            Counters::add(&shared.counters.commands_processed, 1);
            if let Some(spec) = table::lookup(args.get(0))
                && let Handler::Data(handler) = spec.handler
            {
                let mark = out.len();
                table::run_data(handler, tx, &shared, &args, out);
                let took = stopwatch.lap(&shared.slowlog, &args, &self.client);
                (shared.command_stats).record_reply(spec, &args, took, out, mark);
                shared.monitors.feed(&self.client, spec, &args);
            }
            self.recycle(args);
        }
    }

    /// Runs the requests in the inbox, in order, then answers a pending protocol error.
    pub(crate) fn run_inbox(&mut self, out: &mut Reply) {
        while self.blocked.is_none()
            && let Some(mut args) = self.inbox.pop_front()
        {
            if self.closing {
                self.recycle(args);
                continue;
            }
            self.command(&mut args, out);
            self.recycle(args);
        }
        self.flush_pending(out);
        if let Some(e) = self.protocol_error.take() {
            let mark = out.len();
            out.error(&e);
            if self.reply != ClientReply::On {
                out.truncate(mark);
            }
            self.closing = true;
        }
    }

    fn recycle(&mut self, mut args: Args) {
        if self.spare.len() < MAX_COALESCED {
            args.clear();
            self.spare.push(args);
        }
    }

    /// One request: checked, then queued (MULTI), coalesced, or run.
    fn command(&mut self, args: &mut Args, out: &mut Reply) {
        Counters::add(&self.shared.counters.commands_processed, 1);
        let spec = table::lookup(args.get(0));
        if self.tracking.is_some() {
            self.remember_reads(spec, args);
        }
        if let Some(spec) = spec
            && spec.arity_ok(args.len())
            && self.coalescable(spec)
        {
            let mut queued = self.spare.pop().unwrap_or_default();
            std::mem::swap(&mut queued, args);
            self.pending_bytes += queued.byte_len();
            self.pending.push((spec, queued));
            if self.pending.len() >= MAX_COALESCED || self.pending_bytes >= MAX_COALESCED_BYTES {
                self.flush_pending(out);
            }
            return;
        }
        self.flush_pending(out);
        let mark = out.len();
        self.command_now(spec, args, out);
        if self.blocked.is_none() && self.reply != ClientReply::On {
            // (Un)subscription confirmations: the commands allowed in subscribed mode
            // that are pub/sub commands.
            let push = spec.is_some_and(|s| s.has(flag::PUBSUB) && s.has(flag::SUBSCRIBED))
                && out.bytes().get(mark) != Some(&b'-');
            self.settle_reply(mark, push, out);
        }
    }

    /// Client tracking in the default mode: remembers the keys a read-only command reads
    /// (under OPTIN only after CLIENT CACHING YES, under OPTOUT unless CLIENT CACHING NO),
    /// so that their changes are sent to this client. Remembered as the command arrives,
    /// before it runs: its later changes are after it either way. A script's (or
    /// function's) declared keys count as read: Redis remembers the keys its read-only
    /// commands read, which Redis asks scripts to declare. (Connections that track do not
    /// join other connections' transactions, whose commands skip this.)
    fn remember_reads(&mut self, spec: Option<&'static Spec>, args: &Args) {
        let name = spec.map(|s| s.name);
        let caching = self.caching;
        // CLIENT CACHING's answer lasts for the next command, or a whole transaction (as
        // Redis's flag, which CLIENT commands and MULTI leave alone).
        let in_multi = self.multi.is_some() && !matches!(name, Some("exec" | "discard"));
        if !matches!(name, Some("client" | "multi")) && !in_multi {
            self.caching = None;
        }
        let (Some(spec), Some(mode)) = (spec, &self.tracking) else {
            return;
        };
        let wanted = if mode.optin {
            caching == Some(true)
        } else {
            !mode.optout || caching != Some(false)
        };
        let script = matches!(
            spec.name,
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
        );
        let reads = spec.has(flag::READONLY) || script;
        if mode.bcast || !wanted || !reads || !spec.arity_ok(args.len()) {
            return;
        }
        if let Some(positions) = spec.all_key_positions(args) {
            let keys: Vec<&[u8]> = positions.into_iter().map(|p| args.get(p)).collect();
            let shared = &self.shared;
            (shared.tracking).remember(self.client.id, &keys, shared);
        }
    }

    /// Turns client tracking off (CLIENT TRACKING OFF, RESET, the connection's end).
    pub(crate) fn stop_tracking(&mut self) {
        if self.tracking.take().is_some() {
            self.shared.tracking.disable(self.client.id);
            self.client.tracking.store(0, Ordering::Relaxed);
            self.client.redirect.store(-1, Ordering::Relaxed);
            self.client.tracking_broken.store(false, Ordering::Relaxed);
        }
        self.caching = None;
    }

    /// CLIENT REPLY's effect on the reply of the command that just ended (written from
    /// `mark` on): kept, or taken back under OFF and SKIP. (Un)subscription confirmations
    /// are pushes, which Redis sends whatever the setting (`push`).
    fn settle_reply(&mut self, mark: usize, push: bool, out: &mut Reply) {
        let drop = match self.reply {
            ClientReply::On => false,
            ClientReply::Off => true,
            // CLIENT REPLY SKIP itself: the next command's reply goes too.
            ClientReply::SkipNext => {
                self.reply = ClientReply::Skip;
                true
            }
            ClientReply::Skip => {
                self.reply = ClientReply::On;
                true
            }
        };
        if drop && !push {
            out.truncate(mark);
        }
    }

    /// One request that is not coalesced: refused (unknown, wrong argument count) or
    /// checked and run.
    fn command_now(&mut self, spec: Option<&'static Spec>, args: &Args, out: &mut Reply) {
        let name = args.get(0);
        let Some(spec) = spec else {
            let e = if let Some(why) = table::unsupported(name) {
                CmdError::new(format!(
                    "ERR unsupported command '{}': {why}",
                    String::from_utf8_lossy(name).to_lowercase()
                ))
            } else {
                let rest: Vec<&[u8]> = args.iter().skip(1).collect();
                error::unknown_command(name, &rest)
            };
            self.reject(e, out);
            return;
        };
        if !spec.arity_ok(args.len()) {
            self.refuse(spec, args, error::wrong_arity(spec.name), out);
            return;
        }
        self.checked(spec, args, out);
    }

    /// Refuses a known command before it runs: counted as a rejected call of it (INFO
    /// commandstats), then answered as [`reject`](Session::reject) does.
    fn refuse(&mut self, spec: &Spec, args: &Args, e: CmdError, out: &mut Reply) {
        self.shared
            .command_stats
            .record(spec, args, Duration::ZERO, Outcome::Rejected);
        self.reject(e, out);
    }

    /// Replies with an error that, inside MULTI, also dooms the transaction.
    fn reject(&mut self, e: CmdError, out: &mut Reply) {
        if let Some(multi) = &mut self.multi {
            multi.failed = true;
        }
        out.command_error(&e);
    }

    fn coalescable(&self, spec: &Spec) -> bool {
        // Slow reads (KEYS, SCAN) would hold the writer lock for everyone: not coalesced.
        matches!(spec.handler, Handler::Data(_))
            && (spec.has(flag::FAST) || spec.has(flag::WRITE) || spec.has(flag::SCRIPT))
            && self.reply == ClientReply::On
            && self.multi.is_none()
            && !self.monitoring
            && !self.is_subscribed()
            && self.is_authenticated()
            && !spec.has(flag::ALL_KEYS)
            && !spec.has(flag::SOLO)
    }

    /// The checks after lookup and arity: AUTH, subscribed mode, MULTI.
    fn checked(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) {
        if !spec.has(flag::NO_AUTH) && !self.is_authenticated() {
            self.refuse(spec, args, error::NOAUTH, out);
            return;
        }
        if self.monitoring
            && (spec.has(flag::WRITE)
                || spec.has(flag::READONLY)
                || matches!(spec.name, "publish" | "spublish"))
        {
            let e = CmdError::fixed("ERR Replica can't interact with the keyspace");
            self.refuse(spec, args, e, out);
            return;
        }
        if self.protocol == Protocol::Resp2 && self.is_subscribed() && !spec.has(flag::SUBSCRIBED) {
            let e = CmdError::new(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            ));
            self.refuse(spec, args, e, out);
            return;
        }
        if let Some(multi) = &mut self.multi
            && !matches!(
                spec.name,
                "exec" | "discard" | "multi" | "quit" | "reset" | "watch"
            )
        {
            if spec.has(flag::NO_MULTI) {
                self.refuse(spec, args, error::NOT_IN_MULTI, out);
                return;
            }
            if let Some(e) = table::subcommand_error(spec.name, args) {
                // An unknown subcommand is not counted (`stat_slot`); a wrong argument
                // count is a rejected call of the subcommand.
                self.refuse(spec, args, e, out);
                return;
            }
            multi.queued.push((spec, args.clone()));
            self.client.multi.store(
                i64::try_from(multi.queued.len()).unwrap_or(i64::MAX),
                Ordering::Relaxed,
            );
            out.simple("QUEUED");
            return;
        }
        if let Some(e) = table::subcommand_error(spec.name, args) {
            // Refused before running, as Redis does (its handler would say the same).
            self.refuse(spec, args, e, out);
            return;
        }
        if spec.has(flag::BLOCKING) {
            self.block_or_pop(spec, args, out);
        } else {
            self.run(spec, args, out);
        }
        self.show_to_monitors(spec, args, out);
    }

    /// Shows a command that ran to the monitors. A monitor's own replies so far go out
    /// ahead of the line (its output goes through its outbox, as the lines do).
    fn show_to_monitors(&mut self, spec: &Spec, args: &Args, out: &mut Reply) {
        if self.monitoring
            && let Some(monitor) = &self.subscriber
            && !monitor.outbox.send(out.take())
        {
            self.client.kill();
        }
        self.shared.monitors.feed(&self.client, spec, args);
    }

    /// A blocking pop outside MULTI: pops now if it can, else waits (the event loop calls
    /// `retry_blocked`).
    fn block_or_pop(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) {
        self.client.touch();
        *lock(&self.client.last_command) = command_label(spec, args);
        if let Err(e) = blocking::check(spec.name, args) {
            self.shared
                .command_stats
                .record(spec, args, Duration::ZERO, Outcome::Failed);
            self.reject(e, out);
            return;
        }
        let keys = blocking::source_keys(spec.name, args);
        // Waiters that started earlier are served first, even if data is there now.
        let seq = self.shared.store.last_written_seq();
        let attempted = !self.shared.waiters.anyone_waiting_on(&keys);
        if attempted && self.attempt_pop(spec, args, out) {
            return;
        }
        // Until a write comes there is nothing new to try, unless it never tried yet.
        let seen_seq = if attempted { seq } else { u64::MAX };
        let ticket = self.shared.waiters.enqueue(&keys);
        let secs = blocking::timeout_secs(spec.name, args);
        let now = std::time::Instant::now();
        Counters::add(&self.shared.counters.blocked_clients, 1);
        self.client.set_blocked(true);
        self.blocked = Some(Blocked {
            spec,
            args: args.clone(),
            deadline: std::time::Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .and_then(|d| now.checked_add(d)),
            since: now,
            ticket,
            seen_seq,
        });
    }

    /// One attempt of a blocking pop, committed like a solo write; true if it replied (a
    /// value or an error).
    fn attempt_pop(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) -> bool {
        let started = std::time::Instant::now();
        let mark = out.len();
        let replied = self.attempt_pop_untimed(spec, args, out);
        if replied {
            // Counted once, when it replies (as Redis counts a blocked command).
            let took = started.elapsed();
            (self.shared.command_stats).record_reply(spec, args, took, out, mark);
        }
        replied
    }

    fn attempt_pop_untimed(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) -> bool {
        let shared = Arc::clone(&self.shared);
        let (mark, events) = (out.len(), out.events_len());
        let attempt = shared.store.transaction_without_wait(|tx| {
            Ok(blocking::attempt(
                spec.name,
                tx as &dyn KeySpace,
                &shared,
                args,
                out,
            ))
        });
        match attempt {
            Ok((Ok(false), _)) => false,
            Ok((Ok(true), seq)) => {
                if let Some(seq) = seq {
                    self.undurable_seq = Some(self.undurable_seq.map_or(seq, |s| s.max(seq)));
                }
                true
            }
            Ok((Err(e), _)) => {
                out.truncate(mark);
                out.truncate_events(events);
                out.command_error(&e);
                true
            }
            Err(e) => {
                out.truncate(mark);
                out.truncate_events(events);
                out.command_error(&CmdError::from(e));
                true
            }
        }
    }

    /// Counts this connection out of the blocked ones.
    fn unblocked(&self) {
        self.client.set_blocked(false);
        self.shared
            .counters
            .blocked_clients
            .fetch_sub(1, Ordering::Relaxed);
    }

    /// Attempts the waiting pop again; true if it is over (popped, failed or timed out).
    pub(crate) fn retry_blocked(&mut self, out: &mut Reply, now: std::time::Instant) -> bool {
        let Some(mut blocked) = self.blocked.take() else {
            return false;
        };
        let seq = self.shared.store.last_written_seq();
        let attempted = seq != blocked.seen_seq && self.shared.waiters.may_take(blocked.ticket);
        if attempted {
            blocked.seen_seq = seq;
        }
        let unblock = self.client.take_unblock();
        let mark = out.len();
        let stats = &self.shared.command_stats;
        let (spec, args) = (blocked.spec, &blocked.args);
        let over = match unblock {
            // CLIENT UNBLOCK: as a timeout, or Redis's error.
            Some(Unblock::Timeout) => {
                blocking::timed_out(spec.name, out);
                stats.record(spec, args, Duration::ZERO, Outcome::Done);
                true
            }
            Some(Unblock::Error) => {
                out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                stats.record(spec, args, Duration::ZERO, Outcome::Failed);
                true
            }
            None => {
                (attempted && self.attempt_pop(spec, args, out))
                    || blocked.deadline.is_some_and(|d| now >= d) && {
                        blocking::timed_out(spec.name, out);
                        let stats = &self.shared.command_stats;
                        stats.record(spec, args, Duration::ZERO, Outcome::Done);
                        true
                    }
            }
        };
        if over {
            self.shared.waiters.remove(blocked.ticket);
            self.unblocked();
            self.settle_reply(mark, false, out);
        } else {
            self.blocked = Some(blocked);
        }
        over
    }

    /// Runs a command that passed every check, outside any transaction.
    fn run(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) {
        // EXEC's commands are logged one by one, not EXEC (as Redis's `skip_slowlog`).
        let mut stopwatch = if spec.name == "exec" {
            Stopwatch::unlogged()
        } else {
            Stopwatch::start(&self.shared.slowlog)
        };
        let mark = out.len();
        self.run_untimed(spec, args, out);
        let took = stopwatch.lap(&self.shared.slowlog, args, &self.client);
        (self.shared.command_stats).record_reply(spec, args, took, out, mark);
    }

    fn run_untimed(&mut self, spec: &'static Spec, args: &Args, out: &mut Reply) {
        let mark = out.len();
        self.client.touch();
        *lock(&self.client.last_command) = command_label(spec, args);
        let result = match spec.handler {
            Handler::Session(handler) => handler(self, args, out),
            Handler::Data(handler) => {
                let shared = Arc::clone(&self.shared);
                let events = out.events_len();
                if spec.has(flag::SOLO) && spec.has(flag::WRITE) {
                    // Committed now, acknowledged after the turn's one durability wait.
                    let mark = out.len();
                    match shared
                        .store
                        .transaction_without_wait(|tx| Ok(handler(tx, &shared, args, out)))
                    {
                        Ok((result, seq)) => {
                            if let Some(seq) = seq {
                                self.undurable_seq =
                                    Some(self.undurable_seq.map_or(seq, |s| s.max(seq)));
                            }
                            result
                        }
                        Err(e) => {
                            out.truncate(mark);
                            out.truncate_events(events);
                            Err(CmdError::from(e))
                        }
                    }
                } else if spec.has(flag::ATOMIC) {
                    let mark = out.len();
                    match shared
                        .store
                        .transaction(|tx| Ok(handler(tx, &shared, args, out)))
                    {
                        Ok(result) => result,
                        Err(e) => {
                            out.truncate(mark);
                            out.truncate_events(events);
                            Err(CmdError::from(e))
                        }
                    }
                } else if spec.has(flag::READONLY) && !spec.reads_one_string() {
                    // Several records: seen as they stood between two commits (MGET never
                    // shows half of another connection's EXEC).
                    let store = &shared.store;
                    store
                        .engine()
                        .read_together(|| handler(store, &shared, args, out))
                } else {
                    handler(&shared.store, &shared, args, out)
                }
            }
        };
        if let Err(e) = result {
            // One reply per command: whatever the handler wrote before failing goes.
            out.truncate(mark);
            out.command_error(&e);
        }
    }

    /// Runs the coalesced data commands: one transaction if any of them writes.
    fn flush_pending(&mut self, out: &mut Reply) {
        let mut pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let writes = pending.iter().filter(|(s, _)| s.may_write()).count();
        if pending.len() == 1 || writes == 0 {
            for (spec, args) in &pending {
                self.checked(spec, args, out);
            }
        } else if !pending.is_empty() {
            self.client.touch();
            if let Some((spec, _)) = pending.last() {
                *lock(&self.client.last_command) = spec.name.to_string();
            }
            let shared = Arc::clone(&self.shared);
            let client = &self.client;
            let (mark, events) = (out.len(), out.events_len());
            let committed = shared.store.transaction(|tx| {
                let mut stopwatch = Stopwatch::start(&shared.slowlog);
                for (spec, args) in &pending {
                    let mark = out.len();
                    if let Handler::Data(handler) = spec.handler {
                        table::run_data(handler, tx as &dyn KeySpace, &shared, args, out);
                    }
                    let took = stopwatch.lap(&shared.slowlog, args, client);
                    (shared.command_stats).record_reply(spec, args, took, out, mark);
                    shared.monitors.feed(client, spec, args);
                }
                Ok(())
            });
            if let Err(e) = committed {
                out.truncate(mark);
                out.truncate_events(events);
                let e = CmdError::from(e);
                for _ in &pending {
                    out.command_error(&e);
                }
            }
        }
        for (_, mut args) in pending.drain(..) {
            if self.spare.len() < MAX_COALESCED {
                args.clear();
                self.spare.push(args);
            }
        }
        self.pending = pending;
    }

    /// Ends the connection's state: subscriptions, watches, registry entry.
    pub(crate) fn end(&mut self) {
        if let Some(blocked) = self.blocked.take() {
            self.shared.waiters.remove(blocked.ticket);
            self.unblocked();
        }
        self.stop_tracking();
        let id = self.client.id;
        if self.monitoring {
            self.shared.monitors.remove(id);
        }
        self.unsubscribe_all();
        super::commands::multi::unwatch_all(self);
        self.shared.clients.remove(id);
    }
}
