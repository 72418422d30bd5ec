//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH.

use std::sync::atomic::Ordering;

use super::client::valid_name;
use super::multi::unwatch_all;
use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX, WRONGPASS};
use crate::server::frame::Args;
use crate::server::reply::{Protocol, Reply};
use crate::server::session::{ClientReply, Session};

/// The Redis version reported to clients (HELLO, INFO): the command set and replies keg
/// follows.
pub(crate) const REDIS_VERSION: &str = "7.0.15";

pub(crate) fn ping(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 2 {
        return Err(crate::server::error::wrong_arity("ping"));
    }
    if s.protocol == Protocol::Resp2 && s.is_subscribed() {
        out.array(2);
        out.bulk(b"pong");
        out.bulk(if a.len() == 2 { a.get(1) } else { b"" });
    } else if a.len() == 2 {
        out.bulk(a.get(1));
    } else {
        out.simple("PONG");
    }
    Ok(())
}

pub(crate) fn echo(_: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    out.bulk(a.get(1));
    Ok(())
}

pub(crate) fn quit(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    out.ok();
    s.closing = true;
    Ok(())
}

/// RESET: back to a fresh connection's state (no MULTI, no watches, no subscriptions,
/// RESP2, no name, and unauthenticated when a password is required).
pub(crate) fn reset(s: &mut Session, _: &Args, out: &mut Reply) -> CmdResult {
    s.multi = None;
    s.client.multi.store(-1, Ordering::Relaxed);
    s.reply = ClientReply::On;
    unwatch_all(s);
    let id = s.client.id;
    s.unsubscribe_all();
    s.stop_tracking();
    if s.monitoring {
        s.shared.monitors.remove(id);
        s.monitoring = false;
        s.client.monitor.store(false, Ordering::Relaxed);
    }
    *crate::engine::lock(&s.client.name) = None;
    s.authenticated = false;
    set_protocol(s, Protocol::Resp2, out);
    out.simple("RESET");
    Ok(())
}

pub(crate) fn set_protocol(s: &mut Session, protocol: Protocol, out: &mut Reply) {
    s.protocol = protocol;
    out.set_protocol(protocol);
    if let Some(sub) = &s.subscriber {
        sub.outbox.set_protocol(protocol);
    }
    s.client.protocol.store(
        u8::try_from(protocol.version()).unwrap_or(2),
        Ordering::Relaxed,
    );
}

pub(crate) fn select(_: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    let db = args::int(a.get(1))?;
    if db != 0 {
        return Err(CmdError::fixed("ERR DB index is out of range"));
    }
    out.ok();
    Ok(())
}

/// SWAPDB index1 index2: with one database, swapping 0 with itself is all there is.
pub(crate) fn swapdb(_: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    let first = args::int(a.get(1)).map_err(|_| CmdError::fixed("ERR invalid first DB index"))?;
    let second = args::int(a.get(2)).map_err(|_| CmdError::fixed("ERR invalid second DB index"))?;
    if first != 0 || second != 0 {
        return Err(CmdError::fixed("ERR DB index is out of range"));
    }
    out.ok();
    Ok(())
}

/// Checks a password against `requirepass`; `user` must be `default`.
fn check_password(s: &mut Session, user: &[u8], password: &[u8]) -> CmdResult {
    let required = s.shared.settings().requirepass;
    match required {
        Some(p) if user == b"default" && p.as_bytes() == password => {
            s.authenticated = true;
            Ok(())
        }
        // Redis accepts any password for the default user when none is set.
        None if user == b"default" => Ok(()),
        _ => Err(WRONGPASS),
    }
}

/// AUTH [username] password
pub(crate) fn auth(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 3 {
        return Err(SYNTAX);
    }
    if a.len() == 2 && !s.shared.password_required() {
        return Err(CmdError::fixed(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        ));
    }
    let (user, password): (&[u8], &[u8]) = if a.len() == 3 {
        (a.get(1), a.get(2))
    } else {
        (b"default", a.get(1))
    };
    check_password(s, user, password)?;
    out.ok();
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub(crate) fn hello(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    let mut protocol = s.protocol;
    let mut i = 1;
    if a.len() >= 2 {
        let version = args::int_or(
            a.get(1),
            CmdError::fixed("ERR Protocol version is not an integer or out of range"),
        )?;
        protocol = match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CmdError::fixed("NOPROTO unsupported protocol version")),
        };
        i = 2;
    }
    let mut name: Option<&[u8]> = None;
    while i < a.len() {
        let more = a.len() - i - 1;
        if is(a.get(i), "auth") && more >= 2 {
            check_password(s, a.get(i + 1), a.get(i + 2))?;
            i += 3;
        } else if is(a.get(i), "setname") && more >= 1 {
            let candidate = a.get(i + 1);
            valid_name(candidate)?;
            name = Some(candidate);
            i += 2;
        } else {
            return Err(CmdError::new(format!(
                "ERR Syntax error in HELLO option '{}'",
                args::text(a.get(i))
            )));
        }
    }
    if !s.is_authenticated() {
        return Err(CmdError::fixed(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = name {
        *crate::engine::lock(&s.client.name) = Some(name.to_vec());
    }
    set_protocol(s, protocol, out);
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(protocol.version());
    out.bulk(b"id");
    out.int(i64::try_from(s.client.id).unwrap_or(i64::MAX));
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}
