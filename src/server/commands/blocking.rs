//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX. An attempt pops
//! at once if it can; otherwise the session waits (see `Session::block`) and the event loop
//! attempts again, oldest waiter first, until it succeeds or its timeout passes.

use crate::ValueType;
use crate::datatypes::zset;
use crate::server::args::is;
use crate::server::error::{CmdError, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;

/// Where the timeout argument is, for each blocking command.
pub(crate) fn timeout_arg(name: &str, argc: usize) -> usize {
    match name {
        "blmove" => 5,
        "brpoplpush" => 3,
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
        _ => a.iter().skip(1).take(a.len().saturating_sub(2)).collect(),
    }
}

/// Checks the arguments once, before any attempt.
pub(crate) fn check(name: &str, a: &Args) -> Result<(), CmdError> {
    if name == "blmove" {
        side(a.get(3))?;
        side(a.get(4))?;
    }
    parse_timeout(a.get(timeout_arg(name, a.len())))?;
    Ok(())
}

/// Tries the pop once; `Ok(true)` if it replied.
pub(crate) fn attempt(
    name: &str,
    ks: &dyn KeySpace,
    a: &Args,
    out: &mut Reply,
) -> Result<bool, CmdError> {
    let c = ks.collections();
    match name {
        "blpop" | "brpop" => {
            for key in a.iter().skip(1).take(a.len() - 2) {
                let popped = c.pop(key, 1, name == "blpop")?;
                if let Some(value) = popped.first() {
                    out.array(2);
                    out.bulk(key);
                    out.bulk(value);
                    return Ok(true);
                }
            }
            Ok(false)
        }
        "blmove" | "brpoplpush" => {
            let (from_left, to_left) = if name == "blmove" {
                (side(a.get(3))?, side(a.get(4))?)
            } else {
                (false, true)
            };
            match c.lmove(a.get(1), a.get(2), from_left, to_left)? {
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
                let mut popped = Vec::new();
                c.edit_with(key, ValueType::ZSet, &mut |e| {
                    popped = zset::pop(e, 1, max);
                    Ok(())
                })?;
                if let Some((member, score)) = popped.first() {
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

/// The reply when the timeout passes: a null array, for every blocking command.
pub(crate) fn timed_out(out: &mut Reply) {
    out.null_array();
}

/// The reply inside MULTI when there is nothing to pop (no waiting there): what the
/// non-blocking command would reply — a null bulk string for BLMOVE and BRPOPLPUSH (as
/// LMOVE), a null array for the others.
pub(crate) fn nothing_now(name: &str, out: &mut Reply) {
    match name {
        "blmove" | "brpoplpush" => out.null(),
        _ => out.null_array(),
    }
}
