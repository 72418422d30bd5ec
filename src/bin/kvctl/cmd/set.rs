//! `kvctl set KEY VALUE`: Redis's SET, with a TTL and conditions.

use std::ffi::OsString;
use std::time::Duration;

use anyhow::Context as _;
use keg::SetOptions;
use serde_json::json;

use crate::context::{Context, Create, shown};
use crate::duration;
use crate::status::Status;
use crate::value_input::ValueInput;

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The key.
    key: OsString,

    #[command(flatten)]
    value: ValueInput,

    /// Expire after this long: 500ms, 10s, 2h, 1d (a bare number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_seconds,
          conflicts_with_all = ["px", "keep_ttl"])]
    ttl: Option<Duration>,

    /// Expire after this many milliseconds (Redis's PX).
    #[arg(long, value_name = "MS", conflicts_with = "keep_ttl")]
    px: Option<u64>,

    /// Keep the key's current expiry instead of clearing it (Redis's KEEPTTL).
    #[arg(long)]
    keep_ttl: bool,

    /// Only set the key if it does not exist (exit 1 if it does).
    #[arg(long, conflicts_with = "xx")]
    nx: bool,

    /// Only set the key if it exists (exit 1 if it does not).
    #[arg(long)]
    xx: bool,
}

impl SetArgs {
    fn options(&self) -> SetOptions {
        let mut options = SetOptions::new();
        if let Some(ttl) = self.ttl {
            options = options.ttl(ttl);
        }
        if let Some(ms) = self.px {
            options = options.ttl(Duration::from_millis(ms));
        }
        if self.keep_ttl {
            options = options.keep_ttl();
        }
        if self.nx {
            options = options.only_if_absent();
        }
        if self.xx {
            options = options.only_if_present();
        }
        options
    }
}

/// Prints OK when written; a failed --nx/--xx condition writes nothing and exits 1.
pub fn run(args: &SetArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let key = ctx.arg_bytes(&args.key)?;
    let value = args.value.read(ctx, ctx.value_limit())?;
    let store = ctx.open(Create::IfMissing)?;
    let outcome = store
        .set_with(&key, &value, args.options())
        .with_context(|| format!("set {}", shown(&key)))?;
    store.close()?;
    if ctx.wants_json() {
        ctx.json(json!({ "written": outcome.written }))?;
    } else if outcome.written {
        ctx.line("OK")?;
    }
    if outcome.written {
        return Ok(Status::Success);
    }
    if !ctx.wants_json() {
        let why = if args.nx {
            "it exists (--nx)"
        } else {
            "it does not exist (--xx)"
        };
        eprintln!("kvctl: {} not set: {why}", shown(&key));
    }
    Ok(Status::NotFound)
}
