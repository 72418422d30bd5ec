//! SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::server::args::{self, is};
use crate::server::error::{self, CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::pubsub::{Kind, OUTBOX_LIMIT, Outbox, Subscriber};
use crate::server::reply::Reply;
use crate::server::session::Session;

/// The session's subscriber record (an outbox of at most `limit` bytes), created on first
/// use: a subscription or MONITOR.
pub(crate) fn subscriber(s: &mut Session, limit: usize) -> Arc<Subscriber> {
    if let Some(sub) = &s.subscriber {
        return Arc::clone(sub);
    }
    let sub = Arc::new(Subscriber {
        client: Arc::clone(&s.client),
        outbox: Arc::new(Outbox::new(s.protocol, limit)),
    });
    s.subscriber = Some(Arc::clone(&sub));
    sub
}

fn count(s: &Session) -> usize {
    s.channels.len() + s.patterns.len()
}

fn publish_counts(s: &Session) {
    s.client.channels.store(s.channels.len(), Ordering::Relaxed);
    s.client.patterns.store(s.patterns.len(), Ordering::Relaxed);
}

fn confirm(out: &mut Reply, what: &[u8], name: Option<&[u8]>, n: usize) {
    out.push(3);
    out.bulk(what);
    out.bulk_or_null(name);
    out.count(n);
}

fn subscribe_generic(s: &mut Session, a: &Args, kind: Kind, out: &mut Reply) -> CmdResult {
    let sub = subscriber(s, OUTBOX_LIMIT);
    let what: &[u8] = match kind {
        Kind::Channel => b"subscribe",
        Kind::Pattern => b"psubscribe",
    };
    for name in a.iter().skip(1) {
        let set = match kind {
            Kind::Channel => &mut s.channels,
            Kind::Pattern => &mut s.patterns,
        };
        if set.insert(name.to_vec()) {
            s.shared.pubsub.subscribe(kind, name, &sub);
        }
        confirm(out, what, Some(name), count(s));
    }
    publish_counts(s);
    Ok(())
}

fn unsubscribe_generic(s: &mut Session, a: &Args, kind: Kind, out: &mut Reply) -> CmdResult {
    let what: &[u8] = match kind {
        Kind::Channel => b"unsubscribe",
        Kind::Pattern => b"punsubscribe",
    };
    let set = match kind {
        Kind::Channel => &mut s.channels,
        Kind::Pattern => &mut s.patterns,
    };
    let names: Vec<Vec<u8>> = if a.len() > 1 {
        a.iter().skip(1).map(<[u8]>::to_vec).collect()
    } else {
        set.iter().cloned().collect()
    };
    if names.is_empty() {
        confirm(out, what, None, count(s));
    }
    for name in names {
        let set = match kind {
            Kind::Channel => &mut s.channels,
            Kind::Pattern => &mut s.patterns,
        };
        if set.remove(&name) {
            s.shared.pubsub.unsubscribe(kind, &name, s.client.id);
        }
        confirm(out, what, Some(&name), count(s));
    }
    publish_counts(s);
    Ok(())
}

pub(crate) fn subscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    subscribe_generic(s, a, Kind::Channel, out)
}

pub(crate) fn psubscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    subscribe_generic(s, a, Kind::Pattern, out)
}

pub(crate) fn unsubscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    unsubscribe_generic(s, a, Kind::Channel, out)
}

pub(crate) fn punsubscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    unsubscribe_generic(s, a, Kind::Pattern, out)
}

pub(crate) fn publish(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(s.shared.pubsub.publish(a.get(1), a.get(2)));
    Ok(())
}

/// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | HELP
pub(crate) fn pubsub(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = crate::server::table::subcommand_error("pubsub", a) {
        return Err(e);
    }
    let sub = a.get(1);
    let broker = &s.shared.pubsub;
    if is(sub, "channels") && a.len() <= 3 {
        let pattern = (a.len() == 3).then(|| a.get(2));
        let channels = broker.channels(pattern);
        out.array(channels.len());
        for c in &channels {
            out.bulk(c);
        }
    } else if is(sub, "numsub") {
        out.array((a.len() - 2) * 2);
        for channel in a.iter().skip(2) {
            out.bulk(channel);
            out.count(broker.numsub(channel));
        }
    } else if is(sub, "shardchannels") && a.len() <= 3 {
        // Sharded channels are not served, so none has a subscriber.
        out.array(0);
    } else if is(sub, "shardnumsub") {
        out.array((a.len() - 2) * 2);
        for channel in a.iter().skip(2) {
            out.bulk(channel);
            out.count(0);
        }
    } else if is(sub, "numpat") {
        out.count(broker.numpat());
    } else if is(sub, "help") {
        help(
            out,
            "PUBSUB",
            &[
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
            ],
        );
    } else if is(sub, "channels") || is(sub, "shardchannels") {
        // Redis checks these counts in the command itself, with its own wording.
        return Err(CmdError::new(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            args::text(sub)
        )));
    } else {
        return Err(error::unknown_subcommand(sub, "pubsub"));
    }
    Ok(())
}

/// A HELP reply: a title line and the given lines, as simple strings.
pub(crate) fn help(out: &mut Reply, command: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Print this help.");
}
