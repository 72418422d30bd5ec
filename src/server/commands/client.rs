//! CLIENT: ID, SETNAME, GETNAME, SETINFO, LIST, INFO, KILL, UNBLOCK, NO-EVICT, HELP.

use crate::engine::lock;
use crate::server::args::{self, is};
use crate::server::clients::Unblock;
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::reply::Reply;
use crate::server::session::{ClientReply, Session};
use crate::server::table;

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
        tracking(a)?;
        out.ok();
    } else if is(sub, "trackinginfo") {
        // Tracking is never on: Redis's answer for a connection without it.
        out.map(3);
        out.bulk(b"flags");
        out.set(1);
        out.bulk(b"off");
        out.bulk(b"redirect");
        out.int(-1);
        out.bulk(b"prefixes");
        out.array(0);
    } else if is(sub, "getredir") {
        out.int(-1);
    } else if is(sub, "caching") {
        return Err(CmdError::fixed(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
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
/// [NOLOOP]: checked as Redis checks it. OFF is what every connection already has; ON is
/// refused: keg does not track the keys a client reads, so it cannot send the
/// invalidation messages client-side caching relies on.
fn tracking(a: &Args) -> CmdResult {
    let mut i = 3;
    while i < a.len() {
        let option = a.get(i);
        if is(option, "redirect") || is(option, "prefix") {
            if i + 1 >= a.len() {
                return Err(SYNTAX);
            }
            if is(option, "redirect") {
                args::int(a.get(i + 1))?;
            }
            i += 2;
        } else if ["bcast", "optin", "optout", "noloop"]
            .iter()
            .any(|o| is(option, o))
        {
            i += 1;
        } else {
            return Err(SYNTAX);
        }
    }
    if is(a.get(2), "off") {
        Ok(())
    } else if is(a.get(2), "on") {
        Err(CmdError::fixed(
            "ERR keg does not serve client-side caching: CLIENT TRACKING ON is refused",
        ))
    } else {
        Err(SYNTAX)
    }
}
