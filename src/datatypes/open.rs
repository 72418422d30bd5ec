//! Rebuilding the collections' member sets at open, once recovery has found the newest
//! record of every key and element.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::index::{Collections, MemberRebuild};
use super::{Header, split_element_key};
use crate::error::{Error, Result};
use crate::format::{RecordKind, record_len};
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
    let mut scores = ScoreBatch::default();
    elements.for_each(|element, entry| {
        let rebuilt = split_element_key(element).map(|(key, generation, member)| {
            let at = super::members::record_at(entry.file_id, entry.offset);
            collections.rebuild_unscored_member(key, generation, member, at)
        });
        match rebuilt {
            None | Some(MemberRebuild::Dead) => {
                dead.push((element.to_vec(), *entry));
                return;
            }
            Some(MemberRebuild::Added) => return,
            Some(MemberRebuild::NeedsScore) => {}
        }
        // A sorted set orders its members by score: read it (8 bytes per element).
        if failure.is_none() {
            scores.push(segments, element, *entry);
            if scores.is_full()
                && let Err(e) = scores.read(segments, &mut collections)
            {
                failure = Some(e);
            }
        }
    });
    if failure.is_none()
        && let Err(e) = scores.read(segments, &mut collections)
    {
        failure = Some(e);
    }
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

/// Sorted-set elements whose scores are read together: every record is prefetched when it
/// comes, and read once `SCORE_BATCH` of them are in flight, so that the reads' cache misses
/// (one per element, at random in the mapped segments) overlap.
#[derive(Default)]
struct ScoreBatch {
    keys: Vec<u8>,
    /// Per element: where its key ends in `keys`, and its entry.
    items: Vec<(usize, Entry)>,
}

const SCORE_BATCH: usize = 16;

impl ScoreBatch {
    fn push(&mut self, segments: &[Arc<Segment>], element: &[u8], entry: Entry) {
        if let Some(segment) = segment_of(segments, entry.file_id) {
            segment.prefetch_record(
                entry.offset,
                record_len(element.len(), entry.value_len as usize),
            );
        }
        self.keys.extend_from_slice(element);
        self.items.push((self.keys.len(), entry));
    }

    fn is_full(&self) -> bool {
        self.items.len() >= SCORE_BATCH
    }

    /// Reads every score gathered into its sorted set, and empties the batch.
    fn read(&mut self, segments: &[Arc<Segment>], collections: &mut Collections) -> Result<()> {
        let mut start = 0;
        for &(end, entry) in &self.items {
            let element = self.keys.get(start..end).unwrap_or_default();
            start = end;
            let Some((key, generation, member)) = split_element_key(element) else {
                continue;
            };
            let segment = segment_of(segments, entry.file_id)
                .ok_or_else(|| Error::corrupted(&segment_dir(segments), 0, "missing segment"))?;
            segment.with_value(
                entry.offset,
                element,
                entry.value_len,
                RecordKind::ElementPut,
                |value| collections.rebuild_member(key, generation, member, value),
            )?;
        }
        self.keys.clear();
        self.items.clear();
        Ok(())
    }
}

fn segment_of(segments: &[Arc<Segment>], id: u32) -> Option<&Arc<Segment>> {
    segments
        .binary_search_by_key(&id, |s| s.id())
        .ok()
        .and_then(|i| segments.get(i))
}

/// Reads the value of the record `entry` points at.
fn read_value(
    segments: &[Arc<Segment>],
    key: &[u8],
    entry: &Entry,
    kind: RecordKind,
) -> Result<Vec<u8>> {
    let segment = segment_of(segments, entry.file_id)
        .ok_or_else(|| Error::corrupted(&segment_dir(segments), 0, "missing segment"))?;
    segment.read_value(entry.offset, key, entry.value_len, kind)
}

fn segment_dir(segments: &[Arc<Segment>]) -> std::path::PathBuf {
    segments
        .first()
        .and_then(|s| s.path().parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default()
}
