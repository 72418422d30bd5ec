//! MULTI / EXEC / DISCARD / WATCH / UNWATCH. EXEC runs the queued commands as one store
//! transaction: one atomic, durable append, acknowledged under the sync policy.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::server::error::{CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::{Protocol, Reply};
use crate::server::session::{Multi, Session};
use crate::server::shared::Shared;
use crate::server::slowlog::Stopwatch;
use crate::server::table::{Handler, Spec, flag};

pub(crate) fn multi(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    if s.multi.is_some() {
        return Err(CmdError::fixed("ERR MULTI calls can not be nested"));
    }
    s.multi = Some(Multi {
        queued: Vec::new(),
        failed: false,
    });
    s.client.multi.store(0, Ordering::Relaxed);
    out.ok();
    Ok(())
}

pub(crate) fn discard(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    if s.multi.take().is_none() {
        return Err(CmdError::fixed("ERR DISCARD without MULTI"));
    }
    s.client.multi.store(-1, Ordering::Relaxed);
    unwatch_all(s);
    out.ok();
    Ok(())
}

pub(crate) fn exec(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    let Some(multi) = s.multi.take() else {
        return Err(CmdError::fixed("ERR EXEC without MULTI"));
    };
    s.client.multi.store(-1, Ordering::Relaxed);
    if multi.failed {
        unwatch_all(s);
        return Err(CmdError::fixed(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let shared = Arc::clone(&s.shared);
    let (mark, events) = (out.len(), out.events_len());
    let watched = std::mem::take(&mut s.watched);
    let mut after_commit = Vec::new();
    let ran = shared.store.transaction(|tx| {
        // Checked under the writer lock, so no write commits between the check and the
        // queued commands.
        let engine = shared.store.engine();
        if watched
            .iter()
            .any(|(key, mark)| engine.watched_key_changed(key, *mark))
        {
            return Ok(false);
        }
        out.array(multi.queued.len());
        let mut stopwatch = Stopwatch::start(&shared.slowlog);
        for (spec, args) in &multi.queued {
            if spec.has(flag::AFTER_COMMIT) {
                after_commit.push(AfterCommit {
                    at: out.len(),
                    protocol: out.protocol(),
                    spec,
                    args,
                });
            } else {
                run_queued(s, &shared, tx, spec, args, out);
            }
            stopwatch.lap(&shared.slowlog, args, &s.client);
        }
        Ok(true)
    });
    s.watched = watched;
    unwatch_all(s);
    if matches!(ran, Ok(true)) {
        run_after_commit(s, &shared, &after_commit, out);
    }
    match ran {
        Ok(true) => {}
        Ok(false) => out.null_array(),
        Err(e) => {
            out.truncate(mark);
            out.truncate_events(events);
            return Err(CmdError::from(e));
        }
    }
    Ok(())
}

/// Runs one queued command against `ks`; an error is its reply.
fn run_queued(
    s: &mut Session,
    shared: &Shared,
    ks: &dyn KeySpace,
    spec: &Spec,
    args: &Args,
    out: &mut Reply,
) {
    let mark = out.len();
    let started = std::time::Instant::now();
    let result = match spec.handler {
        // Redis refuses it to a client that expects one reply per command.
        _ if spec.name == "monitor" => Err(CmdError::fixed(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        )),
        // SUBSCRIBE and PSUBSCRIBE may run in EXEC (Redis keeps that for old clients);
        // the sharded form may not.
        _ if spec.name == "ssubscribe" => Err(CmdError::fixed(
            "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        )),
        Handler::Data(handler) => handler(ks, shared, args, out),
        Handler::Session(handler) => handler(s, args, out),
    };
    if let Err(e) = result {
        // One reply per command: whatever the handler wrote before failing goes.
        out.truncate(mark);
        out.command_error(&e);
    }
    (shared.command_stats).record_reply(spec, args, started.elapsed(), out, mark);
    shared.monitors.feed(&s.client, spec, args);
}

/// A queued command that needs the locks EXEC's transaction holds, run once it has
/// committed: where its reply goes in EXEC's, and the protocol in effect there (a queued
/// HELLO may change it).
struct AfterCommit<'a> {
    at: usize,
    protocol: Protocol,
    spec: &'a Spec,
    args: &'a Args,
}

/// Runs the commands put off until the transaction committed, in their order, and puts
/// each reply in its place.
fn run_after_commit(
    s: &mut Session,
    shared: &Shared,
    put_off: &[AfterCommit<'_>],
    out: &mut Reply,
) {
    let mut replies = Vec::with_capacity(put_off.len());
    for command in put_off {
        let mut reply = out.sibling(command.protocol);
        run_queued(
            s,
            shared,
            &shared.store,
            command.spec,
            command.args,
            &mut reply,
        );
        replies.push((command.at, reply));
    }
    // Last first, so that the earlier places stay where they were.
    for (at, reply) in replies.iter_mut().rev() {
        out.insert(*at, reply.bytes());
    }
    for (_, reply) in &mut replies {
        out.adopt_events(reply);
    }
}

pub(crate) fn watch(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if s.multi.is_some() {
        return Err(CmdError::fixed("ERR WATCH inside MULTI is not allowed"));
    }
    for key in a.iter().skip(1) {
        if !s.watched.iter().any(|(k, _)| k == key) {
            let mark = s.shared.store.engine().watch_key(key)?;
            s.watched.push((key.to_vec(), mark));
        }
    }
    out.ok();
    Ok(())
}

pub(crate) fn unwatch(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    unwatch_all(s);
    out.ok();
    Ok(())
}

/// Forgets every watched key (after EXEC, DISCARD, UNWATCH).
pub(crate) fn unwatch_all(s: &mut Session) {
    let engine = s.shared.store.engine();
    for (key, _) in s.watched.drain(..) {
        engine.unwatch_key(&key);
    }
}
