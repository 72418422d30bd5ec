//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD: the arguments read in Redis
//! 7.0's order (`zunionInterDiffGenericCommand`), so that the same error wins when several
//! are wrong: numkeys, then the keys' types, then the options.

use crate::SetCombine;
use crate::collections::score::parse_score;
use crate::datatypes::zset::ScoredMember;
use crate::datatypes::zset_algebra::{self, ZAggregate};
use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

use super::zsets::reply_scored;

/// Which command of the family is being read.
#[derive(Clone, Copy)]
struct Form {
    name: &'static str,
    how: SetCombine,
    /// Where numkeys is: 1, or 2 after a destination.
    numkeys_at: usize,
    store: bool,
    cardinality_only: bool,
}

/// A call's arguments, read.
struct Call<'a> {
    keys: Vec<&'a [u8]>,
    weights: Option<Vec<f64>>,
    aggregate: ZAggregate,
    with_scores: bool,
    /// ZINTERCARD's LIMIT; `None` for no limit (LIMIT 0).
    limit: Option<usize>,
}

/// numkeys and the keys it names.
fn read_keys(form: Form, a: &Args) -> Result<Vec<&[u8]>, CmdError> {
    let numkeys = args::int(a.get(form.numkeys_at))?;
    if numkeys < 1 {
        return Err(CmdError::new(format!(
            "ERR at least 1 input key is needed for '{}' command",
            form.name
        )));
    }
    let first = form.numkeys_at + 1;
    let available = a.len().saturating_sub(first);
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > available {
        return Err(SYNTAX);
    }
    Ok(a.iter().skip(first).take(numkeys).collect())
}

/// The options after the keys: `[WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
/// or ZINTERCARD's `[LIMIT n]`, each where its command takes it (a later one wins).
fn read_options<'a>(form: Form, a: &'a Args, keys: Vec<&'a [u8]>) -> Result<Call<'a>, CmdError> {
    let mut call = Call {
        weights: None,
        aggregate: ZAggregate::Sum,
        with_scores: false,
        limit: None,
        keys,
    };
    let n = call.keys.len();
    let takes_weights = !matches!(form.how, SetCombine::Difference) && !form.cardinality_only;
    let mut j = form.numkeys_at + 1 + n;
    while j < a.len() {
        let (word, remaining) = (a.get(j), a.len() - j);
        if takes_weights && remaining > n && is(word, "weights") {
            let weights = (j + 1..j + 1 + n)
                .map(|i| parse_score(a.get(i)))
                .collect::<Result<Vec<f64>, _>>()
                .map_err(|_| CmdError::fixed("ERR weight value is not a float"))?;
            call.weights = Some(weights);
            j += 1 + n;
        } else if takes_weights && remaining >= 2 && is(word, "aggregate") {
            let how = a.get(j + 1);
            call.aggregate = if is(how, "sum") {
                ZAggregate::Sum
            } else if is(how, "min") {
                ZAggregate::Min
            } else if is(how, "max") {
                ZAggregate::Max
            } else {
                return Err(SYNTAX);
            };
            j += 2;
        } else if !form.store && !form.cardinality_only && is(word, "withscores") {
            call.with_scores = true;
            j += 1;
        } else if form.cardinality_only && remaining >= 2 && is(word, "limit") {
            let negative = CmdError::fixed("ERR LIMIT can't be negative");
            let limit = args::int_or(a.get(j + 1), negative.clone())?;
            let limit = usize::try_from(limit).map_err(|_| negative)?;
            call.limit = (limit > 0).then_some(limit);
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(call)
}

/// Reads a call: numkeys, then (as Redis) each key's type, then the options.
fn read_call<'a>(ks: &dyn KeySpace, form: Form, a: &'a Args) -> Result<Call<'a>, CmdError> {
    let keys = read_keys(form, a)?;
    ks.collections()
        .view_with(&mut |v| zset_algebra::check_inputs(v, &keys))?;
    read_options(form, a, keys)
}

/// The combined members and scores of a read call.
fn combined(ks: &dyn KeySpace, form: Form, call: &Call<'_>) -> Result<Vec<ScoredMember>, CmdError> {
    let mut out = Vec::new();
    ks.collections().view_with(&mut |v| {
        out = zset_algebra::combine(
            v,
            &call.keys,
            form.how,
            call.weights.as_deref(),
            call.aggregate,
        )?;
        Ok(())
    })?;
    Ok(out)
}

/// ZUNION / ZINTER / ZDIFF numkeys key [key ...] [options] [WITHSCORES]
fn read_form(ks: &dyn KeySpace, a: &Args, out: &mut Reply, form: Form) -> CmdResult {
    let call = read_call(ks, form, a)?;
    let items = combined(ks, form, &call)?;
    reply_scored(out, &items, call.with_scores);
    Ok(())
}

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key [key ...] [options]:
/// the command's event on the destination, or `del` when an empty result deleted it.
fn store_form(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    form: Form,
) -> CmdResult {
    let call = read_call(ks, form, a)?;
    let destination = a.get(1);
    // These commands run as one transaction (SOLO): nothing comes between this read and
    // the store.
    let existed = ks.contains(destination);
    let stored = ks.collections().zstore(
        destination,
        &call.keys,
        form.how,
        call.weights.as_deref(),
        call.aggregate,
    )?;
    super::zsets::notify_stored(shared, out, form.name, destination, stored > 0, existed);
    out.count(stored);
    Ok(())
}

const fn form(name: &'static str, how: SetCombine, store: bool) -> Form {
    Form {
        name,
        how,
        numkeys_at: if store { 2 } else { 1 },
        store,
        cardinality_only: false,
    }
}

pub(crate) fn zunion(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    read_form(ks, a, out, form("zunion", SetCombine::Union, false))
}

pub(crate) fn zinter(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    read_form(ks, a, out, form("zinter", SetCombine::Intersection, false))
}

pub(crate) fn zdiff(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    read_form(ks, a, out, form("zdiff", SetCombine::Difference, false))
}

pub(crate) fn zunionstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let form = form("zunionstore", SetCombine::Union, true);
    store_form(ks, shared, a, out, form)
}

pub(crate) fn zinterstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let form = form("zinterstore", SetCombine::Intersection, true);
    store_form(ks, shared, a, out, form)
}

pub(crate) fn zdiffstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    let form = form("zdiffstore", SetCombine::Difference, true);
    store_form(ks, shared, a, out, form)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(crate) fn zintercard(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let form = Form {
        cardinality_only: true,
        ..form("zintercard", SetCombine::Intersection, false)
    };
    let call = read_call(ks, form, a)?;
    let mut n = 0;
    ks.collections().view_with(&mut |v| {
        n = zset_algebra::intersection_len(v, &call.keys, call.limit)?;
        Ok(())
    })?;
    out.count(n);
    Ok(())
}
