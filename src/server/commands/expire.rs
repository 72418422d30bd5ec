//! The EXPIRE family (with NX, XX, GT, LT), TTL/PTTL, EXPIRETIME/PEXPIRETIME, PERSIST.

use super::expiry_arg::{ExpiryArg, absolute};
use crate::Ttl;
use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, invalid_expire};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// The condition flags of EXPIRE and friends.
#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn conditions(a: &Args) -> Result<Conditions, CmdError> {
    let mut c = Conditions::default();
    for opt in a.iter().skip(3) {
        if is(opt, "nx") {
            c.nx = true;
        } else if is(opt, "xx") {
            c.xx = true;
        } else if is(opt, "gt") {
            c.gt = true;
        } else if is(opt, "lt") {
            c.lt = true;
        } else {
            return Err(CmdError::new(format!(
                "ERR Unsupported option {}",
                args::text(opt)
            )));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CmdError::fixed(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(CmdError::fixed(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

fn expire_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    kind: ExpiryArg,
    name: &str,
    out: &mut Reply,
) -> CmdResult {
    let c = conditions(a)?;
    let n = args::int(a.get(2))?;
    let at = absolute(kind, n, name, ks.now_ms())?;
    if at > crate::MAX_EXPIRY_MS {
        return Err(invalid_expire(name));
    }
    let key = a.get(1);
    if !ks.contains(key) {
        out.int(0);
        return Ok(());
    }
    // No expiry counts as an infinite one.
    let current = ks.expires_at(key)?;
    let allowed = !(c.nx && current.is_some()
        || c.xx && current.is_none()
        || c.gt && current.is_none_or(|cur| at <= cur)
        || c.lt && current.is_some_and(|cur| at >= cur));
    if !allowed {
        out.int(0);
        return Ok(());
    }
    ks.expire_at(key, at)?;
    // An expiry already past deletes the key, and Redis reports it so.
    let event = if at <= ks.now_ms() { "del" } else { "expire" };
    shared.notify(out, class::GENERIC, event, key);
    out.int(1);
    Ok(())
}

pub(crate) fn expire(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    expire_generic(ks, shared, a, ExpiryArg::Seconds, "expire", out)
}

pub(crate) fn pexpire(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    expire_generic(ks, shared, a, ExpiryArg::Millis, "pexpire", out)
}

pub(crate) fn expireat(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    expire_generic(ks, shared, a, ExpiryArg::UnixSeconds, "expireat", out)
}

pub(crate) fn pexpireat(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    expire_generic(ks, shared, a, ExpiryArg::UnixMillis, "pexpireat", out)
}

fn expire_time(ks: &dyn KeySpace, key: &[u8], millis: bool, out: &mut Reply) -> CmdResult {
    if !ks.contains(key) {
        out.int(-2);
        return Ok(());
    }
    match ks.expires_at(key)? {
        None => out.int(-1),
        Some(at) => {
            let at = i64::try_from(at).unwrap_or(i64::MAX);
            // Redis rounds to the nearest second here, as for TTL.
            out.int(if millis {
                at
            } else {
                at.saturating_add(500) / 1000
            });
        }
    }
    Ok(())
}

pub(crate) fn expiretime(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    expire_time(ks, a.get(1), false, out)
}

pub(crate) fn pexpiretime(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    expire_time(ks, a.get(1), true, out)
}

pub(crate) fn ttl(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let ttl: Ttl = ks.ttl(a.get(1))?;
    out.int(ttl.as_redis_seconds());
    Ok(())
}

pub(crate) fn pttl(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    out.int(ks.ttl(a.get(1))?.as_redis_millis());
    Ok(())
}

pub(crate) fn persist(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let persisted = ks.persist(a.get(1))?;
    if persisted {
        shared.notify(out, class::GENERIC, "persist", a.get(1));
    }
    out.int(i64::from(persisted));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::server::ServerConfig;
    use crate::server::commands::keys::dbsize;
    use crate::server::reply::{Protocol, Reply};
    use crate::server::shared::Shared;
    use crate::{Clock, ManualClock, Options, SyncPolicy};

    const T0: u64 = 1_700_000_000_000;

    /// Relative expiries count from the clock of what the command runs against: the
    /// store's, and inside a transaction the instant it began (time stands still there, so
    /// `PEXPIRE k 0` deletes `k` for the commands after it even when a millisecond passed).
    /// They used the wall clock: a `PEXPIRE k 0` pipelined after other commands now and
    /// then left `k` alive for the rest of the pipeline (found by server_vs_redis_random).
    #[test]
    fn relative_expiries_count_from_the_store_or_transaction_clock() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let store = Options::new()
            .sync_policy(SyncPolicy::Never)
            .clock(Arc::clone(&clock) as Arc<dyn Clock>)
            .expiry_cycle_interval(Duration::ZERO)
            .open(dir.path())
            .unwrap();
        let shared = Shared::new(
            store.clone(),
            &ServerConfig::default(),
            "127.0.0.1:0".parse().unwrap(),
        );
        store.set(b"k", b"v").unwrap();
        store.set(b"other", b"v").unwrap();
        let mut out = Reply::new(Protocol::Resp2);
        pexpire(
            &store,
            &shared,
            &Args::from_slices(&["PEXPIRE", "k", "10000"]),
            &mut out,
        )
        .unwrap();
        assert_eq!(store.expires_at(b"k").unwrap(), Some(T0 + 10_000));

        store
            .transaction(|tx| {
                assert!(tx.contains(b"k"));
                clock.advance(Duration::from_millis(5));
                let mut out = Reply::new(Protocol::Resp2);
                let args = Args::from_slices(&["PEXPIRE", "k", "0"]);
                pexpire(tx, &shared, &args, &mut out).unwrap();
                assert_eq!(out.bytes(), b":1\r\n");
                assert!(!tx.contains(b"k"));
                out.clear();
                dbsize(tx, &shared, &Args::from_slices(&["DBSIZE"]), &mut out).unwrap();
                assert_eq!(out.bytes(), b":1\r\n");
                Ok(())
            })
            .unwrap();
        assert_eq!(store.get(b"k").unwrap(), None);
    }
}
