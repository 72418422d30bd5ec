//! `kvctl ttl KEY`: a key's time to live.

use std::ffi::OsString;
use std::time::Duration;

use serde_json::Value;

use crate::context::{Context, Create};
use crate::duration;
use crate::json;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct TtlArgs {
    /// The key.
    key: OsString,

    /// Print milliseconds instead of seconds (Redis's PTTL).
    #[arg(long, conflicts_with = "human")]
    ms: bool,

    /// Print for people: "expires in 1h 2m", "no expiry", "missing".
    #[arg(long)]
    human: bool,
}

/// Prints what Redis's TTL replies: whole seconds left (rounded), -1 for a key without
/// expiry, -2 for a missing key (and exits 1). `--json` gives every field:
/// `{"key", "exists", "ttl_ms", "expires_at_ms"}` (the last two null without expiry).
pub fn run(args: &TtlArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let store = ctx.open(Create::Never)?;
    let ttl = store.ttl(&key)?;
    let expires_at = store.expires_at(&key)?;
    store.close()?;

    if ctx.wants_json() {
        let mut object = json::object_for_key(&key);
        let ttl_ms = match ttl {
            keg::Ttl::ExpiresIn(left) => Value::from(millis(left)),
            _ => Value::Null,
        };
        object.insert("exists".into(), Value::from(ttl != keg::Ttl::Missing));
        object.insert("ttl_ms".into(), ttl_ms);
        object.insert("expires_at_ms".into(), Value::from(expires_at));
        ctx.json(object)?;
    } else if args.human {
        ctx.line(match ttl {
            keg::Ttl::Missing => "missing".to_owned(),
            keg::Ttl::NoExpiry => "no expiry".to_owned(),
            keg::Ttl::ExpiresIn(left) => format!("expires in {}", duration::human(left)),
        })?;
    } else if args.ms {
        ctx.line(ttl.as_redis_millis())?;
    } else {
        ctx.line(ttl.as_redis_seconds())?;
    }
    Ok(match ttl {
        keg::Ttl::Missing => Status::NotFound,
        _ => Status::Success,
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
