//! The merge policy, as a pure function of segment figures: which sealed segments a merge
//! should rewrite, and whether one is worth running at all (Bitcask's triggers and
//! thresholds). No I/O; tested from numbers alone.

use super::MergePolicy;

/// What the policy knows about one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Segment id.
    pub id: u32,
    /// File length.
    pub total_bytes: u64,
    /// Bytes of records that are the newest of their key.
    pub live_bytes: u64,
    /// Every put in it has expired.
    pub fully_expired: bool,
    /// The segment the writer appends to: never merged.
    pub active: bool,
}

impl SegmentInfo {
    fn dead_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.live_bytes)
    }

    /// Dead share of the file, in percent.
    fn fragmentation(&self) -> u64 {
        self.dead_bytes()
            .saturating_mul(100)
            .checked_div(self.total_bytes)
            .unwrap_or(0)
    }
}

/// Why a merge runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// A segment is at least `fragmentation_trigger` percent dead.
    Fragmentation {
        /// The segment.
        segment: u32,
        /// Its dead share in percent.
        percent: u64,
    },
    /// A segment holds at least `dead_bytes_trigger` dead bytes.
    DeadBytes {
        /// The segment.
        segment: u32,
        /// Its dead bytes.
        bytes: u64,
    },
    /// Every put of a segment has expired.
    Expired {
        /// The segment.
        segment: u32,
    },
    /// Asked for ([`Store::merge`](crate::Store::merge)).
    Requested,
}

/// The segments a merge rewrites, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergePlan {
    /// Segment ids, ascending. Empty: nothing to do.
    pub segments: Vec<u32>,
    /// What set the merge off (`None` when there is nothing to do).
    pub trigger: Option<Trigger>,
}

impl MergePlan {
    fn nothing() -> MergePlan {
        MergePlan {
            segments: Vec::new(),
            trigger: None,
        }
    }
}

/// Decides what to merge. `requested` skips the triggers (a merge was asked for) and takes
/// every sealed segment with anything to reclaim or small enough to fold in.
///
/// Once triggered, a segment is included if it is at least `fragmentation_threshold`
/// percent dead, holds at least `dead_bytes_threshold` dead bytes, is smaller than
/// `small_file_threshold`, or has fully expired. Included segments are taken in id order
/// until `max_merge_bytes` (at least one). The active segment is never included. A merge
/// that reclaims nothing and would fold fewer than two segments holding records is not
/// worth running.
pub fn plan(segments: &[SegmentInfo], policy: &MergePolicy, requested: bool) -> MergePlan {
    let sealed: Vec<&SegmentInfo> = segments.iter().filter(|s| !s.active).collect();
    let trigger = if requested {
        Some(Trigger::Requested)
    } else {
        sealed.iter().find_map(|s| {
            if s.fully_expired {
                Some(Trigger::Expired { segment: s.id })
            } else if s.fragmentation() >= u64::from(policy.fragmentation_trigger) {
                Some(Trigger::Fragmentation {
                    segment: s.id,
                    percent: s.fragmentation(),
                })
            } else if s.dead_bytes() >= policy.dead_bytes_trigger {
                Some(Trigger::DeadBytes {
                    segment: s.id,
                    bytes: s.dead_bytes(),
                })
            } else {
                None
            }
        })
    };
    let Some(trigger) = trigger else {
        return MergePlan::nothing();
    };
    let header = crate::format::FILE_HEADER_LEN as u64;
    let included = |s: &&&SegmentInfo| {
        let thresholds = s.fragmentation() >= u64::from(policy.fragmentation_threshold)
            || s.dead_bytes() >= policy.dead_bytes_threshold
            || s.total_bytes < policy.small_file_threshold
            || s.fully_expired;
        thresholds || (requested && s.dead_bytes() > header)
    };
    let mut chosen: Vec<&SegmentInfo> = sealed.iter().filter(included).copied().collect();
    chosen.sort_by_key(|s| s.id);
    let mut bytes = 0u64;
    let mut segments = Vec::new();
    for s in chosen {
        if !segments.is_empty() && bytes.saturating_add(s.total_bytes) > policy.max_merge_bytes {
            break;
        }
        bytes = bytes.saturating_add(s.total_bytes);
        segments.push(s);
    }
    let reclaimable: u64 = segments
        .iter()
        .map(|s| {
            if s.fully_expired {
                s.total_bytes
            } else {
                s.dead_bytes().saturating_sub(header)
            }
        })
        .sum();
    // Without anything to reclaim, a merge only pays if it folds two or more files that
    // hold records into fewer. (An empty file beside one small file is not worth copying
    // the small file again: every merge seals the active segment, so repeated merges
    // would otherwise rewrite the same data forever.)
    let holding_records = segments.iter().filter(|s| s.total_bytes > header).count();
    if holding_records < 2 && reclaimable == 0 {
        return MergePlan::nothing();
    }
    MergePlan {
        segments: segments.iter().map(|s| s.id).collect(),
        trigger: Some(trigger),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn seg(id: u32, total: u64, live: u64) -> SegmentInfo {
        SegmentInfo {
            id,
            total_bytes: total,
            live_bytes: live,
            fully_expired: false,
            active: false,
        }
    }

    fn policy() -> MergePolicy {
        MergePolicy::default()
    }

    #[test]
    fn nothing_happens_below_every_trigger() {
        let segments = [
            seg(1, 64 * MB, 60 * MB),
            seg(2, 64 * MB, 40 * MB),
            seg(3, 10 * MB, 9 * MB),
        ];
        assert_eq!(plan(&segments, &policy(), false), MergePlan::nothing());
    }

    #[test]
    fn fragmentation_trigger_then_thresholds_select() {
        let segments = [
            seg(1, 64 * MB, 20 * MB), // 68 % dead: triggers, included
            seg(2, 64 * MB, 37 * MB), // 42 % dead: above the 40 % threshold
            seg(3, 64 * MB, 60 * MB), // 6 % dead, 4 MiB dead: left alone
            seg(4, MB, MB),           // small: folded in
        ];
        let p = plan(&segments, &policy(), false);
        assert_eq!(p.segments, vec![1, 2, 4]);
        assert_eq!(
            p.trigger,
            Some(Trigger::Fragmentation {
                segment: 1,
                percent: 68
            })
        );
    }

    #[test]
    fn dead_bytes_trigger() {
        // 40 MiB dead is only 8 % of 512 MiB: the dead-bytes trigger fires, not the
        // fragmentation one.
        let big = 512 * MB;
        let segments = [seg(1, big, big - 40 * MB), seg(2, 64 * MB, 55 * MB)];
        let p = plan(&segments, &policy(), false);
        assert_eq!(
            p.trigger,
            Some(Trigger::DeadBytes {
                segment: 1,
                bytes: 40 * MB
            })
        );
        // Segment 2: 9 MiB dead is over the 8 MiB dead-bytes threshold.
        assert_eq!(p.segments, vec![1, 2]);
    }

    #[test]
    fn a_fully_expired_segment_triggers_and_is_included() {
        let mut expired = seg(2, 64 * MB, 64 * MB);
        expired.fully_expired = true;
        let segments = [seg(1, 64 * MB, 64 * MB), expired];
        let p = plan(&segments, &policy(), false);
        assert_eq!(p.trigger, Some(Trigger::Expired { segment: 2 }));
        assert_eq!(p.segments, vec![2]);
    }

    #[test]
    fn the_active_segment_is_never_merged() {
        let mut active = seg(9, 64 * MB, 0);
        active.active = true;
        assert_eq!(plan(&[active], &policy(), false), MergePlan::nothing());
        assert_eq!(plan(&[active], &policy(), true), MergePlan::nothing());
        let p = plan(&[seg(1, 64 * MB, 0), active], &policy(), true);
        assert_eq!(p.segments, vec![1]);
    }

    #[test]
    fn the_merge_size_cap_keeps_the_oldest_first_and_at_least_one() {
        let p = MergePolicy {
            max_merge_bytes: 100 * MB,
            ..policy()
        };
        let segments = [seg(3, 64 * MB, 0), seg(1, 64 * MB, 0), seg(2, 64 * MB, 0)];
        assert_eq!(plan(&segments, &p, false).segments, vec![1]);
        let tiny_cap = MergePolicy {
            max_merge_bytes: 1,
            ..policy()
        };
        assert_eq!(plan(&segments, &tiny_cap, false).segments, vec![1]);
    }

    #[test]
    fn a_requested_merge_takes_everything_reclaimable_but_not_a_lone_clean_file() {
        let segments = [
            seg(1, 64 * MB, 63 * MB),
            seg(2, 64 * MB, 64 * MB),
            seg(3, 10 * MB, 9 * MB),
        ];
        assert_eq!(plan(&segments, &policy(), true).segments, vec![1, 3]);
        let header = crate::format::FILE_HEADER_LEN as u64;
        // Fully compacted: nothing dead but headers, one file each time.
        let clean = [seg(1, 64 * MB, 64 * MB - header)];
        assert_eq!(plan(&clean, &policy(), true), MergePlan::nothing());
        // Several small clean files are still worth folding into one.
        let small = [seg(1, MB, MB - header), seg(2, MB, MB - header)];
        assert_eq!(plan(&small, &policy(), true).segments, vec![1, 2]);
    }

    #[test]
    fn an_empty_file_beside_one_clean_file_is_not_worth_a_merge() {
        // Found by `kvctl merge` run repeatedly: each merge seals the (empty) active
        // segment, and the next one copied the one data file again to fold it in.
        let header = crate::format::FILE_HEADER_LEN as u64;
        let segments = [seg(1, 2800, 2800 - header), seg(2, header, 0)];
        assert_eq!(plan(&segments, &policy(), true), MergePlan::nothing());
        // With something to reclaim it runs, and takes the empty file along.
        let segments = [seg(1, 2800, 2000), seg(2, header, 0)];
        assert_eq!(plan(&segments, &policy(), true).segments, vec![1, 2]);
    }
}
