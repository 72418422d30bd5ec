//! Server commands: INFO, TIME, LASTSAVE, SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::server::args::{self, is};
use crate::server::commands::pubsub_cmds;
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::info;
use crate::server::keyspace::KeySpace;
use crate::server::monitor::MONITOR_OUTBOX_LIMIT;
use crate::server::reply::Reply;
use crate::server::session::Session;
use crate::server::shared::Shared;
use crate::server::table;

/// INFO [section ...]: a data command, so that inside MULTI, a pipeline's transaction or a
/// script it counts the keys as the transaction has them so far (and takes no lock the
/// transaction holds).
pub(crate) fn info(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let sections: Vec<String> = a
        .iter()
        .skip(1)
        .map(|x| args::text(x).to_lowercase())
        .collect();
    out.verbatim(&info::render(shared, ks, &sections));
    Ok(())
}

/// ROLE: keg serves as a primary without replicas (Redis's `master`, replication offset
/// 0, no replicas).
pub(crate) fn role(_: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    out.array(3);
    out.bulk(b"master");
    out.int(0);
    out.array(0);
    Ok(())
}

/// REPLICAOF / SLAVEOF: `NO ONE` (stay a primary, which keg always is) answers OK, as
/// Redis does on a primary; following another server is refused: keg does not replicate.
/// A port that is not one gets Redis's error first.
pub(crate) fn replicaof(_: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if is(a.get(1), "no") && is(a.get(2), "one") {
        out.ok();
        return Ok(());
    }
    let port = args::int(a.get(2)).ok();
    if !port.is_some_and(|p| (0..=65535).contains(&p)) {
        return Err(CmdError::fixed("ERR Invalid master port"));
    }
    Err(CmdError::fixed(
        "ERR keg does not replicate: only REPLICAOF NO ONE is served",
    ))
}

/// CLUSTER (every subcommand), READONLY, READWRITE and ASKING: Redis's answer when cluster
/// support is off, which a client that probes for a cluster understands. Unknown
/// subcommands and wrong argument counts get their own errors first, as in Redis.
pub(crate) fn cluster(_: &mut Session, a: &Args, _: &mut Reply) -> CmdResult {
    if is(a.get(0), "cluster")
        && let Some(e) = table::subcommand_error("cluster", a)
    {
        return Err(e);
    }
    Err(CmdError::fixed(
        "ERR This instance has cluster support disabled",
    ))
}

pub(crate) fn time(_: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    write_time(out);
    Ok(())
}

/// TIME's reply: unix seconds and microseconds, as bulk strings (also for scripts).
pub(crate) fn write_time(out: &mut Reply) {
    let now = args::unix_now();
    out.array(2);
    out.bulk(now.as_secs().to_string().as_bytes());
    out.bulk(now.subsec_micros().to_string().as_bytes());
}

pub(crate) fn lastsave(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    out.int(i64::try_from(s.shared.last_save.load(Ordering::Relaxed)).unwrap_or(0));
    Ok(())
}

/// MONITOR: from now on, every command the server runs is shown to this connection
/// (`server::monitor`). Asked again, it answers nothing, as Redis does.
pub(crate) fn monitor(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    if s.monitoring {
        return Ok(());
    }
    let monitor = pubsub_cmds::subscriber(s, MONITOR_OUTBOX_LIMIT);
    // The replies before this one, then its OK, go out ahead of the first line shown.
    out.ok();
    if !monitor.outbox.send(out.take()) {
        s.client.kill();
        return Ok(());
    }
    s.monitoring = true;
    s.client.monitor.store(true, Ordering::Relaxed);
    s.shared.monitors.add(monitor);
    Ok(())
}

/// SAVE: everything written is already in the log; this fsyncs it.
pub(crate) fn save(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    s.shared.store.sync()?;
    s.shared
        .last_save
        .store(args::unix_now().as_secs(), Ordering::Relaxed);
    out.ok();
    Ok(())
}

pub(crate) fn bgsave(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 2 || (a.len() == 2 && !is(a.get(1), "schedule")) {
        return Err(SYNTAX);
    }
    let shared = Arc::clone(&s.shared);
    std::thread::Builder::new()
        .name("keg-bgsave".into())
        .spawn(move || {
            if shared.store.sync().is_ok() {
                shared
                    .last_save
                    .store(args::unix_now().as_secs(), Ordering::Relaxed);
            }
        })
        .map_err(|e| CmdError::new(format!("ERR cannot start the background save: {e}")))?;
    out.simple("Background saving started");
    Ok(())
}

/// BGREWRITEAOF: the log's equivalent of an AOF rewrite is a merge, run in the background.
pub(crate) fn bgrewriteaof(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    let merging = Arc::clone(&s.shared.merging);
    if merging.swap(true, Ordering::AcqRel) {
        return Err(CmdError::fixed(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    let store = s.shared.store.clone();
    let started = std::thread::Builder::new()
        .name("keg-bgrewrite".into())
        .spawn(move || {
            let _ = store.merge();
            merging.store(false, Ordering::Release);
        });
    if let Err(e) = started {
        s.shared.merging.store(false, Ordering::Release);
        return Err(CmdError::new(format!("ERR cannot start the merge: {e}")));
    }
    out.simple("Background append only file rewriting started");
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: drains the server (every connection's
/// commands finish, the store is synced). Like Redis, no reply: the connection closes.
pub(crate) fn shutdown(s: &mut Session, a: &Args, _: &mut Reply) -> CmdResult {
    let mut nosave = false;
    let mut save = false;
    for opt in a.iter().skip(1) {
        if is(opt, "nosave") {
            nosave = true;
        } else if is(opt, "save") {
            save = true;
        } else if is(opt, "now") || is(opt, "force") {
        } else if is(opt, "abort") && a.len() == 2 {
            return Err(CmdError::fixed("ERR No shutdown in progress."));
        } else {
            return Err(SYNTAX);
        }
    }
    if nosave && save {
        return Err(SYNTAX);
    }
    // With NOSAVE as without it: the log is the data, and the drain fsyncs it either way.
    crate::server::request_shutdown(&s.shared);
    s.closing = true;
    Ok(())
}
