//! CLIENT: ID, SETNAME, GETNAME, SETINFO, LIST, INFO, KILL, UNBLOCK, NO-EVICT, HELP.

use crate::engine::lock;
use crate::server::args::{self, is};
use crate::server::clients::Unblock;
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::pubsub::OUTBOX_LIMIT;
use crate::server::reply::Reply;
use crate::server::session::{ClientReply, Session};
use crate::server::table;
use crate::server::tracking::Mode;
use std::sync::atomic::Ordering;

/// Client names cannot contain spaces or special characters (they appear in CLIENT LIST).
pub(crate) fn valid_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::fixed(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

pub(crate) fn client(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = table::subcommand_error("client", a) {
        return Err(e);
    }
    let sub = a.get(1);
    let n = a.len();
    if is(sub, "id") {
        out.int(i64::try_from(s.client.id).unwrap_or(i64::MAX));
    } else if is(sub, "setname") {
        let name = a.get(2);
        valid_name(name)?;
        *lock(&s.client.name) = (!name.is_empty()).then(|| name.to_vec());
        out.ok();
    } else if is(sub, "getname") {
        let name = lock(&s.client.name).clone();
        out.bulk_or_null(name.as_deref());
    } else if is(sub, "setinfo") {
        let value = a.get(3);
        valid_name(value).map_err(|_| {
            CmdError::new(format!(
                "ERR {} cannot contain spaces, newlines or special characters.",
                args::text(a.get(2))
            ))
        })?;
        if is(a.get(2), "lib-name") {
            *lock(&s.client.lib_name) = Some(value.to_vec());
        } else if is(a.get(2), "lib-ver") {
            *lock(&s.client.lib_ver) = Some(value.to_vec());
        } else {
            return Err(CmdError::new(format!(
                "ERR Unrecognized option '{}'",
                args::text(a.get(2))
            )));
        }
        out.ok();
    } else if is(sub, "list") {
        if n != 2 && !(n >= 4 && is(a.get(2), "id")) && !(n == 4 && is(a.get(2), "type")) {
            return Err(SYNTAX);
        }
        let ids: Option<Vec<u64>> = if n >= 4 && is(a.get(2), "id") {
            let mut ids = Vec::new();
            for arg in a.iter().skip(3) {
                let id = args::int(arg)
                    .ok()
                    .and_then(|i| u64::try_from(i).ok())
                    .filter(|&i| i > 0)
                    .ok_or(CmdError::fixed("ERR Invalid client ID"))?;
                ids.push(id);
            }
            Some(ids)
        } else {
            None
        };
        let mut text = String::new();
        for c in s.shared.clients.all() {
            if ids.as_ref().is_none_or(|ids| ids.contains(&c.id)) {
                text.push_str(&c.describe());
                text.push('\n');
            }
        }
        out.verbatim(&text);
    } else if is(sub, "info") {
        let mut text = s.client.describe();
        text.push('\n');
        out.verbatim(&text);
    } else if is(sub, "kill") {
        kill(s, a, out)?;
    } else if is(sub, "unblock") {
        unblock(s, a, out)?;
    } else if is(sub, "tracking") {
        tracking(s, a)?;
        out.ok();
    } else if is(sub, "trackinginfo") {
        tracking_info(s, out);
    } else if is(sub, "getredir") {
        out.int(s.tracking.as_ref().map_or(-1, |m| m.redirect as i64));
    } else if is(sub, "caching") {
        caching(s, a.get(2))?;
        out.ok();
    } else if is(sub, "reply") {
        reply(s, a.get(2), out)?;
    } else if is(sub, "no-evict") {
        // Keg never evicts clients: either setting is accepted and changes nothing.
        if !is(a.get(2), "on") && !is(a.get(2), "off") {
            return Err(SYNTAX);
        }
        out.ok();
    } else if is(sub, "help") {
        super::pubsub_cmds::help(
            out,
            "CLIENT",
            &[
                "GETNAME",
                "    Return the name of the current connection.",
                "ID",
                "    Return the ID of the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "KILL <ip:port>",
                "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>,",
                "    SKIPME (YES|NO).",
                "LIST [ID <client-id> [<client-id> ...]]",
                "    Return information about client connections.",
                "NO-EVICT (ON|OFF)",
                "    Protect current client connection from eviction.",
                "REPLY (ON|OFF|SKIP)",
                "    Control the replies sent to the current connection.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "    Unblock the specified blocked client.",
            ],
        );
    }
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends the blocking pop client `id` waits in, as a
/// timeout (the default) or with an UNBLOCKED error; 1 if it was waiting, else 0.
fn unblock(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 4 {
        return Err(CmdError::fixed(
            "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.",
        ));
    }
    let id = args::int(a.get(2))?;
    let how = if a.len() == 3 || is(a.get(3), "timeout") {
        Unblock::Timeout
    } else if is(a.get(3), "error") {
        Unblock::Error
    } else {
        return Err(CmdError::fixed(
            "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
        ));
    };
    let target = u64::try_from(id)
        .ok()
        .and_then(|id| s.shared.clients.get(id));
    let waiting = target.is_some_and(|c| c.request_unblock(how));
    if waiting {
        // The pop's event loop may be asleep until its next deadline.
        s.shared.waiters.wake_all();
    }
    out.int(i64::from(waiting));
    Ok(())
}

/// CLIENT KILL ip:port (replies OK) or CLIENT KILL <filter> <value> ... (replies a count).
fn kill(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    let clients = s.shared.clients.all();
    if a.len() == 3 {
        let addr = a.get(2);
        let Some(target) = clients.iter().find(|c| c.addr.as_bytes() == addr) else {
            return Err(CmdError::fixed("ERR No such client"));
        };
        if target.id == s.client.id {
            s.closing = true;
        } else {
            target.kill();
        }
        out.ok();
        return Ok(());
    }
    if a.len() < 4 || !a.len().is_multiple_of(2) {
        return Err(SYNTAX);
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut skipme = true;
    for i in (2..a.len()).step_by(2) {
        let (opt, value) = (a.get(i), a.get(i + 1));
        if is(opt, "id") {
            let n = args::int(value)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or(CmdError::fixed("ERR client-id should be greater than 0"))?;
            id = Some(n);
        } else if is(opt, "addr") {
            addr = Some(value);
        } else if is(opt, "laddr") {
            laddr = Some(value);
        } else if is(opt, "skipme") {
            skipme = if is(value, "yes") {
                true
            } else if is(value, "no") {
                false
            } else {
                return Err(SYNTAX);
            };
        } else if is(opt, "type") || is(opt, "user") || is(opt, "maxage") {
            // Every client is a normal one of the default user; accepted, not filtered.
        } else {
            return Err(SYNTAX);
        }
    }
    let mut killed = 0;
    for c in &clients {
        let matches = id.is_none_or(|id| c.id == id)
            && addr.is_none_or(|a| c.addr.as_bytes() == a)
            && laddr.is_none_or(|a| c.laddr.as_bytes() == a);
        if !matches || (skipme && c.id == s.client.id) {
            continue;
        }
        if c.id == s.client.id {
            s.closing = true;
        } else {
            c.kill();
        }
        killed += 1;
    }
    out.int(killed);
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP: whether the connection's replies are sent. OFF and SKIP take
/// effect at once (no reply to themselves); SKIP also drops the next command's reply and is
/// ignored under OFF; ON answers OK. The session applies it (`Session::settle_reply`).
fn reply(s: &mut Session, mode: &[u8], out: &mut Reply) -> CmdResult {
    if is(mode, "on") {
        s.reply = ClientReply::On;
        out.ok();
    } else if is(mode, "off") {
        s.reply = ClientReply::Off;
    } else if is(mode, "skip") {
        if s.reply != ClientReply::Off {
            s.reply = ClientReply::SkipNext;
        }
    } else {
        return Err(SYNTAX);
    }
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT]
/// [NOLOOP], with Redis's checks and errors. ON again changes the mode (BCAST prefixes add
/// to those there were); switching BCAST, or between OPTIN and OPTOUT, needs OFF first.
fn tracking(s: &mut Session, a: &Args) -> CmdResult {
    let mut mode = Mode::default();
    let mut i = 3;
    while i < a.len() {
        let option = a.get(i);
        let more = i + 1 < a.len();
        if is(option, "redirect") && more {
            i += 1;
            let id = args::int(a.get(i))?;
            let exists = u64::try_from(id).is_ok_and(|id| s.shared.clients.get(id).is_some());
            if !exists {
                return Err(CmdError::fixed(
                    "ERR The client ID you want redirect to does not exist",
                ));
            }
            mode.redirect = id.unsigned_abs();
        } else if is(option, "prefix") && more {
            i += 1;
            mode.prefixes.push(a.get(i).to_vec());
        } else if is(option, "bcast") {
            mode.bcast = true;
        } else if is(option, "optin") {
            mode.optin = true;
        } else if is(option, "optout") {
            mode.optout = true;
        } else if is(option, "noloop") {
            mode.noloop = true;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    let sub = a.get(2);
    if is(sub, "off") {
        s.stop_tracking();
        return Ok(());
    }
    if !is(sub, "on") {
        return Err(SYNTAX);
    }
    let fixed = CmdError::fixed;
    if !mode.bcast && !mode.prefixes.is_empty() {
        return Err(fixed("ERR PREFIX option requires BCAST mode to be enabled"));
    }
    let current = s.tracking.clone();
    if current.as_ref().is_some_and(|c| c.bcast != mode.bcast) {
        return Err(fixed(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if mode.bcast && (mode.optin || mode.optout) {
        return Err(fixed("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if mode.optin && mode.optout {
        return Err(fixed(
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if current
        .as_ref()
        .is_some_and(|c| (mode.optin && c.optout) || (mode.optout && c.optin))
    {
        return Err(fixed(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if mode.bcast {
        let existing = current.map(|c| c.prefixes).unwrap_or_default();
        check_prefixes(&existing, &mode.prefixes)?;
        let mut prefixes = existing;
        prefixes.append(&mut mode.prefixes);
        if prefixes.is_empty() {
            // Every key: the empty prefix, as Redis shows it.
            prefixes.push(Vec::new());
        }
        mode.prefixes = prefixes;
    }
    let own = super::pubsub_cmds::subscriber(s, OUTBOX_LIMIT);
    let client = &s.client;
    client
        .tracking
        .store(if mode.bcast { 2 } else { 1 }, Ordering::Relaxed);
    client
        .redirect
        .store(mode.redirect as i64, Ordering::Relaxed);
    client.tracking_broken.store(false, Ordering::Relaxed);
    s.shared.tracking.enable(client.id, mode.clone(), own);
    s.tracking = Some(mode);
    Ok(())
}

/// BCAST prefixes must not overlap (one the start of another): Redis's errors for a new
/// one against those there were, then against another new one.
fn check_prefixes(existing: &[Vec<u8>], new: &[Vec<u8>]) -> CmdResult {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(p, e)) {
            return Err(CmdError::new(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(e)
            )));
        }
        if let Some(q) = new.iter().skip(i + 1).find(|q| overlap(p, q)) {
            return Err(CmdError::new(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(q)
            )));
        }
    }
    Ok(())
}

/// CLIENT TRACKINGINFO: the flags, the redirect (-1 when off, 0 for none) and BCAST's
/// prefixes, as Redis answers.
fn tracking_info(s: &Session, out: &mut Reply) {
    let mut flags: Vec<&str> = Vec::new();
    let (redirect, mut prefixes) = match &s.tracking {
        None => {
            flags.push("off");
            (-1, Vec::new())
        }
        Some(mode) => {
            flags.push("on");
            for (on, flag) in [
                (mode.bcast, "bcast"),
                (mode.optin, "optin"),
                (mode.optout, "optout"),
                (mode.optin && s.caching == Some(true), "caching-yes"),
                (mode.optout && s.caching == Some(false), "caching-no"),
                (mode.noloop, "noloop"),
                (
                    s.client.tracking_broken.load(Ordering::Relaxed),
                    "broken_redirect",
                ),
            ] {
                if on {
                    flags.push(flag);
                }
            }
            (mode.redirect as i64, mode.prefixes.clone())
        }
    };
    prefixes.sort();
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for flag in flags {
        out.bulk(flag.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(redirect);
    out.bulk(b"prefixes");
    out.array(prefixes.len());
    for prefix in &prefixes {
        out.bulk(prefix);
    }
}

/// CLIENT CACHING YES|NO: whether the next command's reads are tracked, under OPTIN or
/// OPTOUT.
fn caching(s: &mut Session, answer: &[u8]) -> CmdResult {
    let Some(mode) = &s.tracking else {
        return Err(CmdError::fixed(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    };
    if is(answer, "yes") {
        if !mode.optin {
            return Err(CmdError::fixed(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
        s.caching = Some(true);
    } else if is(answer, "no") {
        if !mode.optout {
            return Err(CmdError::fixed(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
        s.caching = Some(false);
    } else {
        return Err(SYNTAX);
    }
    Ok(())
}
