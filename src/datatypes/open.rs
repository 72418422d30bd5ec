//! Rebuilding the collections' member sets at open, once recovery has found the newest
//! record of every key and element.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::index::Collections;
use super::{Header, ValueType, split_element_key};
use crate::error::{Error, Result};
use crate::format::RecordKind;
use crate::keydir::{Entry, Keydir};
use crate::segment::Segment;
use crate::usage::SegmentUsage;

/// Reads every collection header the index points at, then gives each collection the
/// elements of its generation. Elements of any other generation belong to a collection
/// that was deleted or overwritten: they leave the element index, and their bytes count as
/// dead so that merge reclaims them.
pub(crate) fn rebuild(
    keydir: &Keydir,
    elements: &Keydir,
    segments: &[Arc<Segment>],
    usage: &mut BTreeMap<u32, SegmentUsage>,
) -> Result<Collections> {
    let mut collections = Collections::default();
    let mut failure = None;
    keydir.for_each(|key, entry| {
        if !entry.collection || failure.is_some() {
            return;
        }
        let header = read_value(segments, key, entry, RecordKind::Collection).and_then(|value| {
            Header::decode(&value).ok_or_else(|| {
                Error::corrupted(
                    &segment_dir(segments),
                    u64::from(entry.offset),
                    "collection header of unknown type or length",
                )
            })
        });
        match header {
            Ok(header) => collections.create(key, header),
            Err(e) => failure = Some(e),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }

    let mut dead = Vec::new();
    let mut failure = None;
    elements.for_each(|element, entry| {
        let live = split_element_key(element).and_then(|(key, generation, member)| {
            let c = collections.of_generation(key, generation)?;
            Some((key, generation, member, c.ty))
        });
        let Some((key, generation, member, ty)) = live else {
            dead.push((element.to_vec(), *entry));
            return;
        };
        // A sorted set orders its members by score: read it (8 bytes per element).
        let value = if ty == ValueType::ZSet && failure.is_none() {
            match read_value(segments, element, entry, RecordKind::ElementPut) {
                Ok(value) => value,
                Err(e) => {
                    failure = Some(e);
                    return;
                }
            }
        } else {
            Vec::new()
        };
        collections.rebuild_member(key, generation, member, &value);
    });
    if let Some(e) = failure {
        return Err(e);
    }
    collections.finish_rebuild();
    for (element, entry) in dead {
        elements.remove(&element);
        usage
            .entry(entry.file_id)
            .or_default()
            .remove_live(entry.record_len(element.len()));
    }
    Ok(collections)
}

/// Reads the value of the record `entry` points at.
fn read_value(
    segments: &[Arc<Segment>],
    key: &[u8],
    entry: &Entry,
    kind: RecordKind,
) -> Result<Vec<u8>> {
    let segment = segments
        .binary_search_by_key(&entry.file_id, |s| s.id())
        .ok()
        .and_then(|i| segments.get(i))
        .ok_or_else(|| Error::corrupted(&segment_dir(segments), 0, "missing segment"))?;
    segment.read_value(entry.offset, key, entry.value_len, kind)
}

fn segment_dir(segments: &[Arc<Segment>]) -> std::path::PathBuf {
    segments
        .first()
        .and_then(|s| s.path().parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default()
}
