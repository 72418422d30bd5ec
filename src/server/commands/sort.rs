//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted as numbers or as
//! text, by themselves or by other keys (BY), limited, mapped to other keys' values (GET),
//! and returned or stored as a list (STORE) — Redis 7.0's `sortCommandGeneric`.

use std::cmp::Ordering;

use crate::ValueType;
use crate::collections::score::parse_sort_score;
use crate::datatypes::zset;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX, WRONG_TYPE};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// What a SORT call asked for.
struct Request<'a> {
    by: Option<&'a [u8]>,
    /// BY names a pattern without `*`: the elements keep their order.
    dont_sort: bool,
    start: i64,
    count: i64,
    gets: Vec<&'a [u8]>,
    desc: bool,
    alpha: bool,
    store: Option<&'a [u8]>,
}

fn parse(a: &Args, read_only: bool) -> Result<Request<'_>, CmdError> {
    let mut r = Request {
        by: None,
        dont_sort: false,
        start: 0,
        count: -1,
        gets: Vec::new(),
        desc: false,
        alpha: false,
        store: None,
    };
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let word = a.get(j);
        if is(word, "asc") {
            r.desc = false;
        } else if is(word, "desc") {
            r.desc = true;
        } else if is(word, "alpha") {
            r.alpha = true;
        } else if is(word, "limit") && left >= 2 {
            r.start = crate::numeric::parse_i64(a.get(j + 1)).ok_or(NOT_INTEGER)?;
            r.count = crate::numeric::parse_i64(a.get(j + 2)).ok_or(NOT_INTEGER)?;
            j += 2;
        } else if !read_only && is(word, "store") && left >= 1 {
            r.store = Some(a.get(j + 1));
            j += 1;
        } else if is(word, "by") && left >= 1 {
            let pattern = a.get(j + 1);
            r.by = Some(pattern);
            r.dont_sort = !pattern.contains(&b'*');
            j += 1;
        } else if is(word, "get") && left >= 1 {
            r.gets.push(a.get(j + 1));
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(r)
}

/// The value `pattern` names for `element` (Redis's `lookupKeyByPattern`): `#` is the
/// element; otherwise the first `*` becomes the element, and a `->field` after it reads
/// that field of a hash. `None` where there is no `*`, no such key, or a key of the wrong
/// type.
fn lookup(ks: &dyn KeySpace, pattern: &[u8], element: &[u8]) -> Result<Option<Vec<u8>>, CmdError> {
    if pattern == b"#" {
        return Ok(Some(element.to_vec()));
    }
    let Some(star) = pattern.iter().position(|&b| b == b'*') else {
        return Ok(None);
    };
    let after = pattern.get(star + 1..).unwrap_or_default();
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(arrow) if arrow + 2 < after.len() => (
            after.get(..arrow).unwrap_or_default(),
            after.get(arrow + 2..),
        ),
        _ => (after, None),
    };
    let mut key = pattern.get(..star).unwrap_or_default().to_vec();
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let c = ks.collections();
    Ok(match (c.value_type(&key)?, field) {
        (Some(ValueType::Hash), Some(field)) => c.hmget(&key, &[field])?.pop().flatten(),
        (Some(ValueType::String), None) => ks.get(&key)?,
        _ => None,
    })
}

/// The elements of the list, set or sorted set at `key` (none if it is missing), in their
/// own order (a sorted set's by score).
fn elements(
    ks: &dyn KeySpace,
    key: &[u8],
    ty: Option<ValueType>,
) -> Result<Vec<Vec<u8>>, CmdError> {
    let c = ks.collections();
    Ok(match ty {
        None => Vec::new(),
        Some(ValueType::List) => c.lrange(key, 0, -1)?,
        Some(ValueType::Set) => c.smembers(key)?,
        Some(ValueType::ZSet) => {
            let mut members = Vec::new();
            c.view_with(&mut |v| {
                members = zset::range_by_rank(v, key, 0, -1, false)?;
                Ok(())
            })?;
            members.into_iter().map(|(member, _)| member).collect()
        }
        Some(_) => return Err(WRONG_TYPE),
    })
}

/// What an element is sorted by.
enum SortKey {
    None,
    Score(f64),
    Text(Option<Vec<u8>>),
}

/// Sorts `items` as Redis's `sortCompare` does: numbers ascending with ties broken by the
/// element's bytes; text by its bytes (Redis's `strcoll`, the same under the C locale),
/// a BY value that is missing first. DESC reverses the whole order.
fn sort_items(items: &mut [(Vec<u8>, SortKey)], desc: bool) {
    items.sort_by(|(e1, k1), (e2, k2)| {
        let order = match (k1, k2) {
            (SortKey::Score(s1), SortKey::Score(s2)) => s1
                .partial_cmp(s2)
                .unwrap_or(Ordering::Equal)
                .then_with(|| e1.cmp(e2)),
            (SortKey::Text(t1), SortKey::Text(t2)) => t1.cmp(t2),
            _ => e1.cmp(e2),
        };
        if desc { order.reverse() } else { order }
    });
}

fn sort_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    read_only: bool,
) -> CmdResult {
    let mut r = parse(a, read_only)?;
    let key = a.get(1);
    let ty = ks.collections().value_type(key)?;
    if matches!(ty, Some(ValueType::String | ValueType::Hash)) {
        return Err(WRONG_TYPE);
    }
    // A set has no order of its own: one that is stored is sorted as text, so that the
    // stored list does not depend on how the set happens to be laid out.
    if r.dont_sort && ty == Some(ValueType::Set) && r.store.is_some() {
        r.dont_sort = false;
        r.alpha = true;
        r.by = None;
    }
    let mut elements = elements(ks, key, ty)?;
    // Unsorted, DESC walks a list or a sorted set from its end (a set has no end).
    if r.dont_sort && r.desc && matches!(ty, Some(ValueType::List | ValueType::ZSet)) {
        elements.reverse();
    }
    let len = i64::try_from(elements.len()).unwrap_or(i64::MAX);
    let mut start = r.start.max(0);
    let mut end = if r.count < 0 {
        len - 1
    } else {
        start.saturating_add(r.count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    let mut items: Vec<(Vec<u8>, SortKey)> = Vec::with_capacity(elements.len());
    let mut not_a_number = false;
    for element in elements {
        let sort_key = if r.dont_sort {
            SortKey::None
        } else {
            let by = match r.by {
                Some(pattern) => lookup(ks, pattern, &element)?,
                None => None,
            };
            if r.alpha {
                SortKey::Text(if r.by.is_some() {
                    by
                } else {
                    Some(element.clone())
                })
            } else {
                match (r.by, by) {
                    // A BY key that is missing scores 0.
                    (Some(_), None) => SortKey::Score(0.0),
                    (Some(_), Some(text)) => score_of(&text, &mut not_a_number),
                    (None, _) => score_of(&element, &mut not_a_number),
                }
            }
        };
        items.push((element, sort_key));
    }
    if not_a_number {
        return Err(CmdError::fixed(
            "ERR One or more scores can't be converted into double",
        ));
    }
    if !r.dont_sort {
        sort_items(&mut items, r.desc);
    }
    let picked: &[(Vec<u8>, SortKey)] = if end < start {
        &[]
    } else {
        let (s, e) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(end).unwrap_or(0),
        );
        items.get(s..=e).unwrap_or_default()
    };

    let mut results: Vec<Option<Vec<u8>>> = Vec::new();
    for (element, _) in picked {
        if r.gets.is_empty() {
            results.push(Some(element.clone()));
        }
        for pattern in &r.gets {
            results.push(lookup(ks, pattern, element)?);
        }
    }
    match r.store {
        None => {
            out.array(results.len());
            for value in &results {
                match value {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                }
            }
        }
        Some(destination) => {
            if !results.is_empty() {
                crate::server::keyspace::members_fit(
                    ks,
                    destination,
                    crate::datatypes::POSITION_MEMBER_LEN,
                )?;
            }
            let deleted = ks.delete(destination)?;
            if !results.is_empty() {
                let values: Vec<&[u8]> = results
                    .iter()
                    .map(|v| v.as_deref().unwrap_or_default())
                    .collect();
                ks.collections().push(destination, &values, false, false)?;
                shared.notify(out, class::LIST, "sortstore", destination);
            } else if deleted {
                shared.notify(out, class::GENERIC, "del", destination);
            }
            out.count(results.len());
        }
    }
    Ok(())
}

/// An element or BY value read as a number, as Redis's `strtod` check does.
fn score_of(text: &[u8], not_a_number: &mut bool) -> SortKey {
    match parse_sort_score(text) {
        Some(score) => SortKey::Score(score),
        None => {
            *not_a_number = true;
            SortKey::Score(0.0)
        }
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination].
pub(crate) fn sort(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    sort_generic(ks, shared, a, out, false)
}

/// SORT_RO: SORT without STORE.
pub(crate) fn sort_ro(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    sort_generic(ks, shared, a, out, true)
}
