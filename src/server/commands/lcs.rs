//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common
//! subsequence of two strings, its length, or the matching ranges — Redis 7.0's dynamic
//! programming table and its walk back from the end, so that the subsequence and the
//! ranges are the ones Redis picks among equally long ones.

use crate::ValueType;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_INTEGER, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// Largest table LCS builds, in bytes (4 per cell): `proto-max-bulk-len`.
const MAX_TABLE_BYTES: u64 = 512 << 20;

/// One matching range: `(a_start, a_end, b_start, b_end)`, inclusive.
type Range = (usize, usize, usize, usize);

/// The table `t[i][j]` = LCS length of `a[..i]` and `b[..j]`, row by row.
fn table(a: &[u8], b: &[u8]) -> Vec<u32> {
    let width = b.len() + 1;
    let mut t = vec![0u32; (a.len() + 1) * width];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let value = if a.get(i - 1) == b.get(j - 1) {
                t.get((i - 1) * width + j - 1).copied().unwrap_or(0) + 1
            } else {
                let up = t.get((i - 1) * width + j).copied().unwrap_or(0);
                let left = t.get(i * width + j - 1).copied().unwrap_or(0);
                up.max(left)
            };
            if let Some(cell) = t.get_mut(i * width + j) {
                *cell = value;
            }
        }
    }
    t
}

/// Walks the table back from the end as Redis does: the subsequence, and the ranges of
/// contiguous matches, last first.
fn walk(a: &[u8], b: &[u8], t: &[u32]) -> (Vec<u8>, Vec<Range>) {
    let width = b.len() + 1;
    let at = |i: usize, j: usize| t.get(i * width + j).copied().unwrap_or(0);
    let mut subsequence = Vec::new();
    let mut ranges = Vec::new();
    let mut open: Option<Range> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a.get(i - 1) == b.get(j - 1) {
            subsequence.push(a.get(i - 1).copied().unwrap_or(0));
            open = Some(match open {
                // Contiguous with the open range: it grows backwards.
                Some((a_start, a_end, b_start, b_end)) if a_start == i && b_start == j => {
                    (a_start - 1, a_end, b_start - 1, b_end)
                }
                _ => (i - 1, i - 1, j - 1, j - 1),
            });
            if open.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                emit = true;
            }
            i -= 1;
            j -= 1;
        } else {
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = open.is_some();
        }
        if emit && let Some(range) = open.take() {
            ranges.push(range);
        }
    }
    subsequence.reverse();
    (subsequence, ranges)
}

pub(crate) fn lcs(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let c = ks.collections();
    for key in [a.get(1), a.get(2)] {
        if !matches!(c.value_type(key)?, None | Some(ValueType::String)) {
            return Err(CmdError::fixed(
                "ERR The specified keys must contain string values",
            ));
        }
    }
    let first = ks.get(a.get(1))?.unwrap_or_default();
    let second = ks.get(a.get(2))?.unwrap_or_default();
    let (mut len_only, mut idx, mut with_match_len, mut min_match_len) = (false, false, false, 0);
    let mut j = 3;
    while j < a.len() {
        match a.get(j) {
            o if is(o, "idx") => idx = true,
            o if is(o, "len") => len_only = true,
            o if is(o, "withmatchlen") => with_match_len = true,
            o if is(o, "minmatchlen") && j + 1 < a.len() => {
                let n = crate::numeric::parse_i64(a.get(j + 1)).ok_or(NOT_INTEGER)?;
                min_match_len = usize::try_from(n).unwrap_or(0);
                j += 1;
            }
            _ => return Err(SYNTAX),
        }
        j += 1;
    }
    if idx && len_only {
        return Err(CmdError::fixed(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (first.len() as u64 + 1) * (second.len() as u64 + 1);
    if cells.saturating_mul(4) > MAX_TABLE_BYTES {
        return Err(CmdError::fixed(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let t = table(&first, &second);
    let length = t.last().copied().unwrap_or(0);
    if len_only {
        out.int(i64::from(length));
        return Ok(());
    }
    let (subsequence, ranges) = walk(&first, &second, &t);
    if !idx {
        out.bulk(&subsequence);
        return Ok(());
    }
    let shown: Vec<&Range> = ranges
        .iter()
        .filter(|(a_start, a_end, _, _)| a_end - a_start + 1 >= min_match_len)
        .collect();
    out.map(2);
    out.bulk(b"matches");
    out.array(shown.len());
    for &&(a_start, a_end, b_start, b_end) in &shown {
        out.array(2 + usize::from(with_match_len));
        out.array(2);
        out.count(a_start);
        out.count(a_end);
        out.array(2);
        out.count(b_start);
        out.count(b_end);
        if with_match_len {
            out.count(a_end - a_start + 1);
        }
    }
    out.bulk(b"len");
    out.int(i64::from(length));
    Ok(())
}
