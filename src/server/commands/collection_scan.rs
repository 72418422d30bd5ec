//! HSCAN, SSCAN and ZSCAN: a page of about COUNT members (default 10, as Redis) and the
//! cursor of the next one, with SCAN's guarantee: every member present for the whole
//! iteration is returned at least once (`Store::hscan` and `collections::scan_cursor` say
//! why). As in Redis, a collection of up to 128 members comes whole with cursor 0, whatever
//! the cursor, and MATCH filters a page after it is taken, so a page may come back empty
//! with a cursor that is not 0. A collection the current transaction (MULTI, or a
//! coalesced pipeline) has changed comes whole too.

use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::glob;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;
use crate::{CollectionPage, ValueType};

/// Redis's COUNT when none is given.
const DEFAULT_COUNT: usize = 10;

/// `cursor [MATCH pattern] [COUNT count]`.
struct ScanArgs<'a> {
    cursor: u64,
    pattern: Option<&'a [u8]>,
    count: usize,
}

/// Reads the arguments in Redis's order: the cursor, then the key — missing, it is an empty
/// page whatever the options (`None`); of another type, WRONGTYPE — then the options.
fn prepare<'a>(
    ks: &dyn KeySpace,
    a: &'a Args,
    ty: ValueType,
) -> Result<Option<ScanArgs<'a>>, CmdError> {
    let cursor = args::cursor(a.get(2))?;
    match ks.collections().value_type(a.get(1))? {
        None => Ok(None),
        Some(found) if found != ty => Err(crate::Error::WrongType.into()),
        Some(_) => options(a, cursor).map(Some),
    }
}

fn options(a: &Args, cursor: u64) -> Result<ScanArgs<'_>, CmdError> {
    let mut parsed = ScanArgs {
        cursor,
        pattern: None,
        count: DEFAULT_COUNT,
    };
    let mut i = 3;
    while i < a.len() {
        if i + 1 >= a.len() {
            return Err(SYNTAX);
        }
        let (opt, value) = (a.get(i), a.get(i + 1));
        if is(opt, "count") {
            let count = args::int(value)?;
            if count < 1 {
                return Err(SYNTAX);
            }
            parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if is(opt, "match") {
            parsed.pattern = Some(value);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(parsed)
}

/// Replies `[cursor, items]`, each item a run of bulk strings whose first is the member
/// the pattern applies to.
fn reply(out: &mut Reply, pattern: Option<&[u8]>, cursor: u64, items: Vec<Vec<Vec<u8>>>) {
    let items: Vec<Vec<Vec<u8>>> = items
        .into_iter()
        .filter(|parts| {
            parts
                .first()
                .is_some_and(|m| pattern.is_none_or(|p| glob::matches(p, m)))
        })
        .collect();
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.iter().map(Vec::len).sum());
    for parts in &items {
        for part in parts {
            out.bulk(part);
        }
    }
}

/// Replies a page whose items `parts` turns into bulk strings.
fn reply_page<T>(
    out: &mut Reply,
    pattern: Option<&[u8]>,
    page: CollectionPage<T>,
    parts: impl Fn(T) -> Vec<Vec<u8>>,
) {
    let items = page.items.into_iter().map(parts).collect();
    reply(out, pattern, page.cursor, items);
}

pub(crate) fn hscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let Some(o) = prepare(ks, a, ValueType::Hash)? else {
        reply(out, None, 0, Vec::new());
        return Ok(());
    };
    let page = ks.collections().hscan(a.get(1), o.cursor, o.count)?;
    reply_page(out, o.pattern, page, |(field, value)| vec![field, value]);
    Ok(())
}

pub(crate) fn sscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let Some(o) = prepare(ks, a, ValueType::Set)? else {
        reply(out, None, 0, Vec::new());
        return Ok(());
    };
    let page = ks.collections().sscan(a.get(1), o.cursor, o.count)?;
    reply_page(out, o.pattern, page, |member| vec![member]);
    Ok(())
}

pub(crate) fn zscan(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let Some(o) = prepare(ks, a, ValueType::ZSet)? else {
        reply(out, None, 0, Vec::new());
        return Ok(());
    };
    let page = ks.collections().zscan(a.get(1), o.cursor, o.count)?;
    reply_page(out, o.pattern, page, |(member, score)| {
        let score = crate::collections::score::format_score_printf(score);
        vec![member, score.as_bytes().to_vec()]
    });
    Ok(())
}
