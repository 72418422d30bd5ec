//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX, BLMPOP, BZMPOP
//! (the last two's arguments and attempts are `mpop.rs`'s). An attempt pops
//! at once if it can; otherwise the session waits (see `Session::block`) and the event loop
//! attempts again, oldest waiter first, until it succeeds or its timeout passes.
//!
//! WAIT numreplicas timeout waits the same way: keg has no replicas, so, as a Redis server
//! without any, it answers 0 at once when asked for none, and 0 when its timeout passes
//! otherwise (0 = never, as in Redis).

use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

use super::mpop::{self, MultiPop};
use super::{lists, zsets};

/// Where the timeout argument is, for each blocking command.
pub(crate) fn timeout_arg(name: &str, argc: usize) -> usize {
    match name {
        "blmove" => 5,
        "brpoplpush" => 3,
        "wait" => 2,
        "blmpop" | "bzmpop" => 1,
        _ => argc - 1,
    }
}

/// The timeout in seconds (0 = forever), as Redis reads it.
pub(crate) fn parse_timeout(arg: &[u8]) -> Result<f64, CmdError> {
    let secs: f64 = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| s.is_finite())
        .ok_or(CmdError::fixed(
            "ERR timeout is not a float or out of range",
        ))?;
    if secs < 0.0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    // Redis keeps timeouts in milliseconds in a signed 64-bit integer; one too large for it
    // overflows to a negative number there, and Redis 7.0 says so.
    if secs * 1000.0 > i64::MAX as f64 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    Ok(secs)
}

/// WAIT's timeout, in milliseconds (0 = forever).
fn wait_timeout_ms(arg: &[u8]) -> Result<i64, CmdError> {
    let ms = crate::numeric::parse_i64(arg).ok_or(CmdError::fixed(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::fixed("ERR timeout is negative"));
    }
    Ok(ms)
}

/// The timeout of a blocking command whose arguments `check` accepted, in seconds (0 =
/// forever).
pub(crate) fn timeout_secs(name: &str, a: &Args) -> f64 {
    let arg = a.get(timeout_arg(name, a.len()));
    if name == "wait" {
        wait_timeout_ms(arg).map_or(0.0, |ms| ms as f64 / 1000.0)
    } else {
        parse_timeout(arg).unwrap_or(0.0)
    }
}

fn side(word: &[u8]) -> Result<bool, CmdError> {
    if is(word, "left") {
        Ok(true)
    } else if is(word, "right") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

/// The keys a blocking command takes data from.
pub(crate) fn source_keys<'a>(name: &str, a: &'a Args) -> Vec<&'a [u8]> {
    match name {
        "blmove" | "brpoplpush" => vec![a.get(1)],
        "wait" => Vec::new(),
        "blmpop" | "bzmpop" => multi_pop(name, a).map(|m| m.keys).unwrap_or_default(),
        _ => a.iter().skip(1).take(a.len().saturating_sub(2)).collect(),
    }
}

/// Checks the arguments once, before any attempt.
pub(crate) fn check(name: &str, a: &Args) -> Result<(), CmdError> {
    if name == "wait" {
        crate::numeric::parse_i64(a.get(1)).ok_or(NOT_INTEGER)?;
        wait_timeout_ms(a.get(2))?;
        return Ok(());
    }
    if name == "blmove" {
        side(a.get(3))?;
        side(a.get(4))?;
    }
    if matches!(name, "blmpop" | "bzmpop") {
        multi_pop(name, a)?;
    }
    parse_timeout(a.get(timeout_arg(name, a.len())))?;
    Ok(())
}

/// Tries the pop once, noting its keyspace events (those of the command's non-blocking
/// form, as Redis); `Ok(true)` if it replied.
pub(crate) fn attempt(
    name: &str,
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> Result<bool, CmdError> {
    match name {
        // No replica to wait for: over at once only when asked for none.
        "wait" => {
            let over = crate::numeric::parse_i64(a.get(1)).is_some_and(|n| n <= 0);
            if over {
                out.int(0);
            }
            Ok(over)
        }
        "blmpop" => mpop::attempt_lists(ks, shared, &multi_pop(name, a)?, out),
        "bzmpop" => mpop::attempt_zsets(ks, shared, &multi_pop(name, a)?, out),
        "blpop" | "brpop" => {
            let left = name == "blpop";
            for key in a.iter().skip(1).take(a.len() - 2) {
                let popped = lists::pop_values(ks, key, 1, left)?;
                if let Some(value) = popped.values.first() {
                    lists::notify_pop(shared, out, key, left, popped.emptied);
                    out.array(2);
                    out.bulk(key);
                    out.bulk(value);
                    return Ok(true);
                }
            }
            Ok(false)
        }
        "blmove" | "brpoplpush" => {
            let ends = if name == "blmove" {
                (side(a.get(3))?, side(a.get(4))?)
            } else {
                (false, true)
            };
            match lists::move_value(ks, shared, out, (a.get(1), a.get(2)), ends)? {
                Some(value) => {
                    out.bulk(&value);
                    Ok(true)
                }
                None => Ok(false),
            }
        }
        _ => {
            let max = name == "bzpopmax";
            for key in a.iter().skip(1).take(a.len() - 2) {
                let (popped, emptied) = zsets::pop_zset(ks, key, 1, max)?;
                if let Some((member, score)) = popped.first() {
                    zsets::notify_zpop(shared, out, key, max, emptied);
                    out.array(3);
                    out.bulk(key);
                    out.bulk(member);
                    out.double(*score);
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// The reply when the timeout passes: a null array for the pops, the number of replicas
/// that acknowledged (none) for WAIT.
pub(crate) fn timed_out(name: &str, out: &mut Reply) {
    match name {
        "wait" => out.int(0),
        _ => out.null_array(),
    }
}

/// The reply inside MULTI when there is nothing to pop (no waiting there): what the
/// non-blocking command would reply — a null bulk string for BLMOVE and BRPOPLPUSH (as
/// LMOVE), a null array for the pops, 0 replicas for WAIT.
fn nothing_now(name: &str, out: &mut Reply) {
    match name {
        "blmove" | "brpoplpush" => out.null(),
        "wait" => out.int(0),
        _ => out.null_array(),
    }
}

/// WAIT numreplicas timeout, where it cannot wait (inside MULTI): the replicas that have
/// acknowledged, none.
pub(crate) fn wait(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    without_waiting("wait", ks, shared, a, out)
}

/// BLMPOP's or BZMPOP's keys, end and count, after the timeout.
fn multi_pop<'a>(name: &str, a: &'a Args) -> Result<MultiPop<'a>, CmdError> {
    let ends = if name == "blmpop" {
        ["left", "right"]
    } else {
        ["min", "max"]
    };
    mpop::parse(a, 2, ends)
}

/// A blocking command where it cannot wait (inside MULTI, or run by EXEC), as in Redis:
/// one attempt now (noting its keyspace events), else what the command answers when there
/// is nothing.
pub(crate) fn without_waiting(
    name: &str,
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    check(name, a)?;
    if !attempt(name, ks, shared, a, out)? {
        nothing_now(name, out);
    }
    Ok(())
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count], inside MULTI.
pub(crate) fn blmpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    without_waiting("blmpop", ks, shared, a, out)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count], inside MULTI.
pub(crate) fn bzmpop(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    without_waiting("bzmpop", ks, shared, a, out)
}
