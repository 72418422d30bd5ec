//! MULTI / EXEC / DISCARD / WATCH / UNWATCH. EXEC runs the queued commands as one store
//! transaction: one atomic, durable append, acknowledged under the sync policy.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::server::error::{CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::session::{Multi, Session};
use crate::server::table::{Handler, flag};

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
    let mark = out.len();
    let watched = std::mem::take(&mut s.watched);
    // Commands that need the locks the transaction holds run after it: where each reply
    // goes, and the protocol it is written in (a queued HELLO may change it).
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
        for (spec, args) in &multi.queued {
            if spec.has(flag::AFTER_COMMIT) {
                after_commit.push((out.len(), out.protocol(), *spec, args));
                continue;
            }
            let result = match spec.handler {
                Handler::Data(handler) => handler(tx as &dyn KeySpace, &shared, args, out),
                Handler::Session(handler) => handler(s, args, out),
            };
            if let Err(e) = result {
                out.error(&e.0);
            }
        }
        Ok(true)
    });
    s.watched = watched;
    unwatch_all(s);
    if matches!(ran, Ok(true)) {
        let mut replies = Vec::with_capacity(after_commit.len());
        for &(at, protocol, spec, args) in &after_commit {
            let mut reply = Reply::new(protocol);
            let result = match spec.handler {
                Handler::Data(handler) => handler(&shared.store, &shared, args, &mut reply),
                Handler::Session(handler) => handler(s, args, &mut reply),
            };
            if let Err(e) = result {
                reply.error(&e.0);
            }
            replies.push((at, reply));
        }
        // Last first, so that the earlier places stay where they were.
        for (at, reply) in replies.iter().rev() {
            out.insert(*at, reply.bytes());
        }
    }
    match ran {
        Ok(true) => {}
        Ok(false) => out.null_array(),
        Err(e) => {
            out.truncate(mark);
            return Err(CmdError::from(e));
        }
    }
    Ok(())
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
