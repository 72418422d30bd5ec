//! Sets: a key holding unique members (Redis's SADD, SREM, SMEMBERS, ...), written once
//! over a [`CollectionView`] or an [`Edit`]; `api.rs` makes them methods.

use super::ValueType;
use super::view::CollectionView;
use super::write::Edit;
use crate::error::Result;

const SET: ValueType = ValueType::Set;

pub(crate) fn sadd(edit: &mut Edit<'_, '_, '_>, members: &[&[u8]]) -> Result<usize> {
    let mut added = 0;
    for member in members {
        // A member already there writes nothing (as Redis propagates nothing for it).
        if !edit.contains(member) {
            edit.put(member, Vec::new())?;
            added += 1;
        }
    }
    Ok(added)
}

pub(crate) fn srem(edit: &mut Edit<'_, '_, '_>, members: &[&[u8]]) -> Result<usize> {
    Ok(members.iter().filter(|m| edit.remove(m)).count())
}

pub(crate) fn smismember(
    v: &dyn CollectionView,
    key: &[u8],
    members: &[&[u8]],
) -> Result<Vec<bool>> {
    let found = v.collection(key, SET)?;
    Ok(members
        .iter()
        .map(|m| found.is_some_and(|f| v.contains(key, f.generation, m)))
        .collect())
}

pub(crate) fn scard(v: &dyn CollectionView, key: &[u8]) -> Result<usize> {
    Ok(v.collection(key, SET)?.map_or(0, |found| found.len))
}

pub(crate) fn smembers(v: &dyn CollectionView, key: &[u8]) -> Result<Vec<Vec<u8>>> {
    Ok(v.collection(key, SET)?
        .map_or_else(Vec::new, |found| v.members(key, found.generation)))
}

/// SPOP: removes and returns up to `count` random members.
pub(crate) fn pop(edit: &mut Edit<'_, '_, '_>, count: usize) -> Result<Vec<Vec<u8>>> {
    let members = edit.random_before(count)?;
    for m in &members {
        edit.remove(m);
    }
    Ok(members)
}

/// SRANDMEMBER: `count` random members, distinct (at most all of them) or with repetition.
pub(crate) fn random(
    v: &dyn CollectionView,
    key: &[u8],
    count: usize,
    distinct: bool,
) -> Result<Vec<Vec<u8>>> {
    match v.collection(key, SET)? {
        Some(found) => v.random_members(key, found.generation, count, distinct),
        None => Ok(Vec::new()),
    }
}

/// The members of the set at each of `keys` (a missing key is an empty set); a key of
/// another type is `Error::WrongType`.
fn sets_of(v: &dyn CollectionView, keys: &[&[u8]]) -> Result<Vec<Vec<Vec<u8>>>> {
    keys.iter().map(|k| smembers(v, k)).collect()
}

pub(crate) use super::api::SetCombine as Combine;

/// SINTER / SUNION / SDIFF of the sets at `keys`.
pub(crate) fn combine(
    v: &dyn CollectionView,
    keys: &[&[u8]],
    how: Combine,
) -> Result<Vec<Vec<u8>>> {
    let sets = sets_of(v, keys)?;
    let mut sets = sets.into_iter();
    let Some(first) = sets.next() else {
        return Ok(Vec::new());
    };
    let mut result: indexmap::IndexSet<Vec<u8>> = first.into_iter().collect();
    for other in sets {
        let other: std::collections::HashSet<Vec<u8>> = other.into_iter().collect();
        match how {
            Combine::Intersection => result.retain(|m| other.contains(m)),
            Combine::Union => result.extend(other),
            Combine::Difference => result.retain(|m| !other.contains(m)),
        }
    }
    Ok(result.into_iter().collect())
}

/// Replaces whatever `destination` holds with a set of `members` (deleted when empty);
/// returns its size (the STORE forms).
pub(crate) fn store_members(edit: &mut Edit<'_, '_, '_>, members: &[Vec<u8>]) -> Result<usize> {
    for m in members {
        edit.put(m, Vec::new())?;
    }
    Ok(edit.len())
}
