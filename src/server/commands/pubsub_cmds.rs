//! SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, and Redis 7's sharded
//! pub/sub: SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH.

use std::sync::Arc;

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

/// The count a (un)subscription confirmation carries: channels and patterns together, or
/// shard channels alone, as Redis counts them.
fn count(s: &Session, kind: Kind) -> usize {
    match kind {
        Kind::Channel | Kind::Pattern => s.channels.len() + s.patterns.len(),
        Kind::Shard => s.shard_channels.len(),
    }
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
        Kind::Shard => b"ssubscribe",
    };
    for name in a.iter().skip(1) {
        if s.subscriptions(kind).insert(name.to_vec()) {
            s.shared.pubsub.subscribe(kind, name, &sub);
        }
        confirm(out, what, Some(name), count(s, kind));
    }
    s.publish_subscription_counts();
    Ok(())
}

fn unsubscribe_generic(s: &mut Session, a: &Args, kind: Kind, out: &mut Reply) -> CmdResult {
    let what: &[u8] = match kind {
        Kind::Channel => b"unsubscribe",
        Kind::Pattern => b"punsubscribe",
        Kind::Shard => b"sunsubscribe",
    };
    let names: Vec<Vec<u8>> = if a.len() > 1 {
        a.iter().skip(1).map(<[u8]>::to_vec).collect()
    } else {
        s.subscriptions(kind).iter().cloned().collect()
    };
    if names.is_empty() {
        confirm(out, what, None, count(s, kind));
    }
    for name in names {
        if s.subscriptions(kind).remove(&name) {
            s.shared.pubsub.unsubscribe(kind, &name, s.client.id);
        }
        confirm(out, what, Some(&name), count(s, kind));
    }
    s.publish_subscription_counts();
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

pub(crate) fn ssubscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    subscribe_generic(s, a, Kind::Shard, out)
}

pub(crate) fn sunsubscribe(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    unsubscribe_generic(s, a, Kind::Shard, out)
}

pub(crate) fn spublish(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    out.count(s.shared.pubsub.publish_shard(a.get(1), a.get(2)));
    Ok(())
}

/// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS [pattern] |
/// SHARDNUMSUB [shardchannel ...] | HELP
pub(crate) fn pubsub(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = crate::server::table::subcommand_error("pubsub", a) {
        return Err(e);
    }
    let sub = a.get(1);
    let broker = &s.shared.pubsub;
    let kind = if is(sub, "shardchannels") || is(sub, "shardnumsub") {
        Kind::Shard
    } else {
        Kind::Channel
    };
    if (is(sub, "channels") || is(sub, "shardchannels")) && a.len() <= 3 {
        let pattern = (a.len() == 3).then(|| a.get(2));
        let channels = broker.channels(kind, pattern);
        out.array(channels.len());
        for c in &channels {
            out.bulk(c);
        }
    } else if is(sub, "numsub") || is(sub, "shardnumsub") {
        out.array((a.len() - 2) * 2);
        for channel in a.iter().skip(2) {
            out.bulk(channel);
            out.count(broker.numsub(kind, channel));
        }
    } else if is(sub, "numpat") {
        out.count(broker.channel_count(Kind::Pattern));
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
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
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
    out.simple("    Prints this help.");
}
