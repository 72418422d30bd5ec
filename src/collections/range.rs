//! Range arguments with Redis's semantics: score bounds (`1.5`, `(1.5`, `-inf`), lex bounds
//! (`[a`, `(a`, `-`, `+`), `LIMIT offset count`, and rank ranges with negative indexes
//! counted from the end (ZRANGE, LRANGE, LTRIM, ZREMRANGEBYRANK; LINDEX, LSET).

use super::arg_error::ArgError;
use super::strtod::strtod;

/// One end of a score range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ScoreBound {
    /// The bound's value; `±inf` for `-inf`/`+inf`. Never NaN.
    pub value: f64,
    /// Written with a leading `(`: the bound itself is outside the range.
    pub exclusive: bool,
}

impl ScoreBound {
    /// Reads a bound as Redis's `zslParseRange` does: an optional `(`, then C's `strtod` up
    /// to a NUL or the end. That is laxer than a score: white space before the number is
    /// skipped, an empty text is 0, `1e400` is `inf`, and anything after a NUL byte is
    /// ignored. NaN and trailing garbage are [`ArgError::BoundNotAFloat`].
    pub(crate) fn parse(arg: &[u8]) -> Result<ScoreBound, ArgError> {
        let (exclusive, text) = match arg.split_first() {
            Some((b'(', rest)) => (true, rest),
            _ => (false, arg),
        };
        let parsed = strtod(text);
        let ends_the_c_string = matches!(text.get(parsed.consumed), None | Some(0));
        if !ends_the_c_string || parsed.value.is_nan() {
            return Err(ArgError::BoundNotAFloat);
        }
        Ok(ScoreBound {
            value: parsed.value,
            exclusive,
        })
    }
}

/// A range of scores, `min` to `max` (ZRANGEBYSCORE's order; ZREVRANGEBYSCORE's callers
/// swap their arguments).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ScoreRange {
    /// The low end.
    pub min: ScoreBound,
    /// The high end.
    pub max: ScoreBound,
}

impl ScoreRange {
    /// Reads `min` then `max` (the first error wins; both have the same text).
    pub(crate) fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, ArgError> {
        Ok(ScoreRange {
            min: ScoreBound::parse(min)?,
            max: ScoreBound::parse(max)?,
        })
    }

    /// Whether `score` is not below the low end.
    pub(crate) fn above_min(&self, score: f64) -> bool {
        if self.min.exclusive {
            score > self.min.value
        } else {
            score >= self.min.value
        }
    }

    /// Whether `score` is not above the high end.
    pub(crate) fn below_max(&self, score: f64) -> bool {
        if self.max.exclusive {
            score < self.max.value
        } else {
            score <= self.max.value
        }
    }

    /// Whether `score` is in the range.
    #[cfg(test)]
    pub(crate) fn contains(&self, score: f64) -> bool {
        self.above_min(score) && self.below_max(score)
    }
}

/// One end of a lex range, borrowing the argument's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LexBound<'a> {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    /// `[text`: `text` itself is inside.
    Inclusive(&'a [u8]),
    /// `(text`: `text` itself is outside.
    Exclusive(&'a [u8]),
}

impl<'a> LexBound<'a> {
    /// Reads a bound as Redis's `zslParseLexRangeItem` does: `-` or `+` alone (Redis reads
    /// them as C strings, so a NUL may follow), or `[`/`(` and any bytes, the empty string
    /// included. Anything else is [`ArgError::BadLexBound`].
    pub(crate) fn parse(arg: &'a [u8]) -> Result<LexBound<'a>, ArgError> {
        let alone = |rest: &[u8]| matches!(rest.first(), None | Some(0));
        match arg.split_first() {
            Some((b'-', rest)) if alone(rest) => Ok(LexBound::Min),
            Some((b'+', rest)) if alone(rest) => Ok(LexBound::Max),
            Some((b'[', rest)) => Ok(LexBound::Inclusive(rest)),
            Some((b'(', rest)) => Ok(LexBound::Exclusive(rest)),
            _ => Err(ArgError::BadLexBound),
        }
    }
}

/// A range of members by their bytes, `min` to `max` (ZRANGEBYLEX's order). Meaningful
/// when all members have one score, as Redis documents; otherwise members are compared
/// in index order all the same (Redis's answer then depends on its encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LexRange<'a> {
    /// The low end.
    pub min: LexBound<'a>,
    /// The high end.
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    /// Reads `min` then `max`.
    pub(crate) fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, ArgError> {
        Ok(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// Whether `member` is not below the low end (`+` as the low end admits nothing).
    pub(crate) fn above_min(&self, member: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(min) => member >= min,
            LexBound::Exclusive(min) => member > min,
        }
    }

    /// Whether `member` is not above the high end (`-` as the high end admits nothing).
    pub(crate) fn below_max(&self, member: &[u8]) -> bool {
        match self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(max) => member <= max,
            LexBound::Exclusive(max) => member < max,
        }
    }

    /// Whether `member` is in the range.
    #[cfg(test)]
    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        self.above_min(member) && self.below_max(member)
    }
}

/// `LIMIT offset count` of ZRANGEBYSCORE, ZRANGEBYLEX and ZRANGE BYSCORE/BYLEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Matching elements skipped first.
    pub offset: usize,
    /// At most this many returned after them; `None` for all.
    pub count: Option<usize>,
}

impl Limit {
    /// No LIMIT: every matching element.
    pub(crate) const ALL: Limit = Limit {
        offset: 0,
        count: None,
    };

    /// The two integers as Redis applies them: a negative offset matches nothing (Redis's
    /// skip loop runs off the end), a negative count means no limit, a count of 0 nothing.
    pub(crate) fn from_redis(offset: i64, count: i64) -> Limit {
        match usize::try_from(offset) {
            Err(_) => Limit {
                offset: 0,
                count: Some(0),
            },
            Ok(offset) => Limit {
                offset,
                count: usize::try_from(count).ok(),
            },
        }
    }

    /// The part of `matching` elements (positions `0..matching`) this limit keeps.
    pub(crate) fn window(&self, matching: usize) -> std::ops::Range<usize> {
        let start = self.offset.min(matching);
        let len = self
            .count
            .map_or(matching - start, |c| c.min(matching - start));
        start..start + len
    }
}

/// The inclusive positions `start..=stop` select in a sequence of `len`, by Redis's rule for
/// ZRANGE, LRANGE, LTRIM and ZREMRANGEBYRANK: a negative index counts from the end (-1 is
/// the last), a start still negative becomes 0, a stop past the end becomes the last; the
/// range is empty (`None`) when start > stop or start ≥ len.
pub(crate) fn normalize_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len_wide = i128::try_from(len).ok()?;
    let from_end = |i: i64| {
        let i = i128::from(i);
        if i < 0 { len_wide + i } else { i }
    };
    let start = from_end(start).max(0);
    let stop = from_end(stop);
    if start > stop || start >= len_wide {
        return None;
    }
    let stop = stop.min(len_wide - 1);
    Some((usize::try_from(start).ok()?, usize::try_from(stop).ok()?))
}

/// The position `index` names in a sequence of `len` (LINDEX, LSET): negative counts from
/// the end; `None` when outside.
pub(crate) fn normalize_index(index: i64, len: usize) -> Option<usize> {
    let len_wide = i128::try_from(len).ok()?;
    let i = i128::from(index);
    let i = if i < 0 { len_wide + i } else { i };
    if (0..len_wide).contains(&i) {
        usize::try_from(i).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(arg: &[u8]) -> Result<(f64, bool), ArgError> {
        ScoreBound::parse(arg).map(|b| (b.value, b.exclusive))
    }

    #[test]
    fn score_bounds_read_like_zsl_parse_range() {
        let inf = f64::INFINITY;
        for (arg, want) in [
            (&b"1"[..], (1.0, false)),
            (b"(1", (1.0, true)),
            (b" 1", (1.0, false)),
            (b"( 1", (1.0, true)),
            (b"\t2", (2.0, false)),
            (b"\n2", (2.0, false)),
            (b"", (0.0, false)),
            (b"(", (0.0, true)),
            (b"\x00", (0.0, false)),
            (b"1\x00", (1.0, false)),
            (b"1\x00abc", (1.0, false)),
            (b"(1\x00x", (1.0, true)),
            (b"inf", (inf, false)),
            (b"+inf", (inf, false)),
            (b"(+inf", (inf, true)),
            (b"-inf", (-inf, false)),
            (b"(-inf", (-inf, true)),
            (b"infinity", (inf, false)),
            (b"1e400", (inf, false)),
            (b"(1e400", (inf, true)),
            (b"-1e400", (-inf, false)),
            (b"1e-400", (0.0, false)),
            (b"0x10", (16.0, false)),
            (b"(0x10", (16.0, true)),
        ] {
            assert_eq!(bound(arg), Ok(want), "{arg:?}");
        }
        for arg in [
            &b"1 "[..],
            b" ",
            b"( ",
            b"((1",
            b"nan",
            b"(nan",
            b"2\t",
            b"[1",
            b"+",
            b"-",
            b"1e",
            b"abc",
            b"1\xff",
        ] {
            assert_eq!(bound(arg), Err(ArgError::BoundNotAFloat), "{arg:?}");
        }
    }

    #[test]
    fn score_ranges_admit_by_their_ends() {
        let r = ScoreRange::parse(b"(1", b"2").unwrap();
        assert!(!r.contains(1.0) && r.contains(1.5) && r.contains(2.0) && !r.contains(2.5));
        let r = ScoreRange::parse(b"-inf", b"+inf").unwrap();
        assert!(r.contains(f64::NEG_INFINITY) && r.contains(f64::INFINITY));
        let r = ScoreRange::parse(b"(-inf", b"(+inf").unwrap();
        assert!(!r.contains(f64::NEG_INFINITY) && !r.contains(f64::INFINITY) && r.contains(0.0));
        let r = ScoreRange::parse(b"0", b"-0").unwrap();
        assert!(r.contains(-0.0) && r.contains(0.0));
        assert_eq!(ScoreRange::parse(b"1", b"x"), Err(ArgError::BoundNotAFloat));
        assert_eq!(ScoreRange::parse(b"x", b"1"), Err(ArgError::BoundNotAFloat));
    }

    #[test]
    fn lex_bounds_read_like_zsl_parse_lex_range_item() {
        assert_eq!(LexBound::parse(b"-"), Ok(LexBound::Min));
        assert_eq!(LexBound::parse(b"+"), Ok(LexBound::Max));
        assert_eq!(LexBound::parse(b"+\x00"), Ok(LexBound::Max));
        assert_eq!(LexBound::parse(b"-\x00x"), Ok(LexBound::Min));
        assert_eq!(LexBound::parse(b"["), Ok(LexBound::Inclusive(b"")));
        assert_eq!(LexBound::parse(b"("), Ok(LexBound::Exclusive(b"")));
        assert_eq!(LexBound::parse(b"[a"), Ok(LexBound::Inclusive(b"a")));
        assert_eq!(
            LexBound::parse(b"(b\x00"),
            Ok(LexBound::Exclusive(b"b\x00"))
        );
        for bad in [&b""[..], b"+a", b"-a", b"a", b" [a", b"\x00"] {
            assert_eq!(LexBound::parse(bad), Err(ArgError::BadLexBound), "{bad:?}");
        }
    }

    #[test]
    fn lex_ranges_admit_by_their_ends() {
        let members: [&[u8]; 6] = [b"", b"\x00", b"a", b"b", b"b\x00", b"c"];
        let count = |min: &[u8], max: &[u8]| {
            let r = LexRange::parse(min, max).unwrap();
            members.iter().filter(|m| r.contains(m)).count()
        };
        // Counts as Redis 7 gives them for these members (ZLEXCOUNT).
        assert_eq!(count(b"-", b"+"), 6);
        assert_eq!(count(b"+", b"+"), 0);
        assert_eq!(count(b"-", b"-"), 0);
        assert_eq!(count(b"+", b"-"), 0);
        assert_eq!(count(b"[", b"+"), 6);
        assert_eq!(count(b"(", b"+"), 5);
        assert_eq!(count(b"-", b"["), 1);
        assert_eq!(count(b"-", b"("), 0);
        assert_eq!(count(b"[a", b"+"), 4);
        assert_eq!(count(b"(a", b"+"), 3);
        assert_eq!(count(b"[b\x00", b"+"), 2);
        assert_eq!(count(b"(b\x00", b"+"), 1);
        assert_eq!(count(b"-", b"[b\x00"), 5);
        assert_eq!(count(b"[a", b"[a"), 1);
        assert_eq!(count(b"(a", b"[a"), 0);
        assert_eq!(count(b"[b", b"[a"), 0);
        assert_eq!(count(b"[", b"["), 1);
        assert_eq!(count(b"[", b"("), 0);
    }

    #[test]
    fn limits_as_redis_applies_them() {
        assert_eq!(Limit::from_redis(0, -1), Limit::ALL);
        assert_eq!(Limit::from_redis(-1, 2).window(10), 0..0);
        assert_eq!(Limit::from_redis(1, -5).window(5), 1..5);
        assert_eq!(Limit::from_redis(1, 0).window(5), 1..1);
        assert_eq!(Limit::from_redis(10, 1).window(5), 5..5);
        assert_eq!(Limit::from_redis(2, 2).window(5), 2..4);
        assert_eq!(Limit::from_redis(4, 9).window(5), 4..5);
        assert_eq!(Limit::from_redis(i64::MAX, i64::MAX).window(5), 5..5);
        assert_eq!(Limit::ALL.window(0), 0..0);
    }

    #[test]
    fn ranges_by_rank_follow_lrange() {
        for (start, stop, len, want) in [
            (0, -1, 5, Some((0, 4))),
            (0, 0, 5, Some((0, 0))),
            (-2, -1, 5, Some((3, 4))),
            (-100, 2, 5, Some((0, 2))),
            (1, 100, 5, Some((1, 4))),
            (3, 1, 5, None),
            (5, 10, 5, None),
            (0, -6, 5, None),
            (-6, -6, 5, None),
            (-5, -5, 5, Some((0, 0))),
            (0, -1, 0, None),
            (0, 0, 0, None),
            (i64::MIN, i64::MAX, 3, Some((0, 2))),
            (i64::MAX, i64::MIN, 3, None),
            (i64::MIN, i64::MIN, 3, None),
        ] {
            assert_eq!(
                normalize_range(start, stop, len),
                want,
                "{start} {stop} of {len}"
            );
        }
    }

    #[test]
    fn single_indexes_follow_lindex() {
        for (index, len, want) in [
            (0, 3, Some(0)),
            (2, 3, Some(2)),
            (3, 3, None),
            (-1, 3, Some(2)),
            (-3, 3, Some(0)),
            (-4, 3, None),
            (0, 0, None),
            (-1, 0, None),
            (i64::MIN, 3, None),
            (i64::MAX, 3, None),
        ] {
            assert_eq!(normalize_index(index, len), want, "{index} of {len}");
        }
    }
}
