//! `ZsetIndex` against a naive model — a `Vec` kept sorted by (score, member) and searched
//! linearly — over long random operation sequences. Small chunks make splits and merges
//! happen every few operations; the invariants are checked after every step.
//!
//! `PROPTEST_CASES` raises the number of sequences (default 48 here, a few seconds).

use std::cmp::Ordering;

use proptest::prelude::*;

use super::range::{LexBound, LexRange, Limit, ScoreBound, ScoreRange};
use super::zset_index::ZsetIndex;

/// The model: entries sorted by Redis's order.
#[derive(Default)]
struct Model {
    entries: Vec<(f64, Vec<u8>)>,
}

fn order(a: &(f64, Vec<u8>), b: &(f64, Vec<u8>)) -> Ordering {
    a.0.partial_cmp(&b.0)
        .filter(|o| o.is_ne())
        .unwrap_or_else(|| a.1.cmp(&b.1))
}

impl Model {
    fn position(&self, member: &[u8]) -> Option<usize> {
        self.entries.iter().position(|(_, m)| m == member)
    }

    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let old = self.position(member).map(|i| self.entries[i].0);
        match old {
            Some(s) if s == score => {}
            _ => {
                if let Some(i) = self.position(member) {
                    self.entries.remove(i);
                }
                self.entries.push((score, member.to_vec()));
                self.entries.sort_by(order);
            }
        }
        old
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = self.position(member)?;
        Some(self.entries.remove(i).0)
    }

    /// Redis's t_zset.c index sanitizing, written out again here.
    fn rank_range(&self, start: i64, stop: i64) -> Vec<usize> {
        let len = self.entries.len() as i64;
        let mut start = if start < 0 {
            len.saturating_add(start)
        } else {
            start
        };
        let stop = if stop < 0 {
            len.saturating_add(stop)
        } else {
            stop
        };
        if start < 0 {
            start = 0;
        }
        if start > stop || start >= len {
            return Vec::new();
        }
        let stop = stop.min(len - 1);
        (start as usize..=stop as usize).collect()
    }

    fn listed(&self, positions: impl Iterator<Item = usize>) -> Vec<(Vec<u8>, u64)> {
        positions
            .map(|i| (self.entries[i].1.clone(), self.entries[i].0.to_bits()))
            .collect()
    }

    /// Positions in order (or reversed), then LIMIT applied as Redis's loops do.
    fn filtered(
        &self,
        keep: impl Fn(&(f64, Vec<u8>)) -> bool,
        reverse: bool,
        limit: (i64, i64),
    ) -> Vec<usize> {
        let mut positions: Vec<usize> = (0..self.entries.len())
            .filter(|&i| keep(&self.entries[i]))
            .collect();
        if reverse {
            positions.reverse();
        }
        let (offset, count) = limit;
        if offset < 0 {
            return Vec::new();
        }
        let rest = positions.into_iter().skip(offset as usize);
        if count < 0 {
            rest.collect()
        } else {
            rest.take(count as usize).collect()
        }
    }
}

fn in_score_range(score: f64, min: (f64, bool), max: (f64, bool)) -> bool {
    let above = if min.1 { score > min.0 } else { score >= min.0 };
    let below = if max.1 { score < max.0 } else { score <= max.0 };
    above && below
}

fn in_lex_range(member: &[u8], min: &LexArg, max: &LexArg) -> bool {
    let above = match min {
        LexArg::Minus => true,
        LexArg::Plus => false,
        LexArg::Inclusive(s) => member >= &s[..],
        LexArg::Exclusive(s) => member > &s[..],
    };
    let below = match max {
        LexArg::Minus => false,
        LexArg::Plus => true,
        LexArg::Inclusive(s) => member <= &s[..],
        LexArg::Exclusive(s) => member < &s[..],
    };
    above && below
}

#[derive(Clone, Debug)]
enum LexArg {
    Minus,
    Plus,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexArg {
    fn bound(&self) -> LexBound<'_> {
        match self {
            LexArg::Minus => LexBound::Min,
            LexArg::Plus => LexBound::Max,
            LexArg::Inclusive(s) => LexBound::Inclusive(s),
            LexArg::Exclusive(s) => LexBound::Exclusive(s),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(Vec<u8>, f64),
    Remove(Vec<u8>),
    Score(Vec<u8>),
    Rank(Vec<u8>, bool),
    ByRank(i64, i64, bool),
    ByScore((f64, bool), (f64, bool), bool, (i64, i64)),
    ByLex(LexArg, LexArg, bool, (i64, i64)),
    PopMin(usize),
    PopMax(usize),
    RemoveByRank(i64, i64),
    RemoveByScore((f64, bool), (f64, bool)),
    RemoveByLex(LexArg, LexArg),
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(0u8), Just(b'a'), Just(b'b'), Just(0xff)],
        0..4,
    )
}

fn score(uniform: bool) -> BoxedStrategy<f64> {
    if uniform {
        return Just(0.0).boxed();
    }
    prop_oneof![
        4 => prop::sample::select(vec![
            f64::NEG_INFINITY, -1.5, -0.0, 0.0, 1.0, 2.5, 3.0, f64::INFINITY,
        ]),
        1 => any::<f64>().prop_filter("not NaN", |s| !s.is_nan()),
    ]
    .boxed()
}

fn bound() -> impl Strategy<Value = (f64, bool)> {
    (
        prop::sample::select(vec![
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1.0,
            2.0,
            2.5,
            3.0,
            f64::INFINITY,
        ]),
        any::<bool>(),
    )
}

fn lex_arg() -> impl Strategy<Value = LexArg> {
    prop_oneof![
        1 => Just(LexArg::Minus),
        1 => Just(LexArg::Plus),
        3 => member().prop_map(LexArg::Inclusive),
        3 => member().prop_map(LexArg::Exclusive),
    ]
}

fn index() -> impl Strategy<Value = i64> {
    prop_oneof![-12i64..12, Just(i64::MIN), Just(i64::MAX)]
}

fn limit() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![Just((0, -1)), (-2i64..8, -2i64..8)]
}

/// Operations; with `uniform` every score is 0, where lex ranges are meaningful.
fn op(uniform: bool) -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (member(), score(uniform)).prop_map(|(m, s)| Op::Insert(m, s)),
        3 => member().prop_map(Op::Remove),
        1 => member().prop_map(Op::Score),
        1 => (member(), any::<bool>()).prop_map(|(m, r)| Op::Rank(m, r)),
        1 => (index(), index(), any::<bool>()).prop_map(|(a, b, r)| Op::ByRank(a, b, r)),
        1 => (bound(), bound(), any::<bool>(), limit()).prop_map(|(a, b, r, l)| Op::ByScore(a, b, r, l)),
        1 => (lex_arg(), lex_arg(), any::<bool>(), limit()).prop_map(|(a, b, r, l)| Op::ByLex(a, b, r, l)),
        1 => (0usize..4).prop_map(Op::PopMin),
        1 => (0usize..4).prop_map(Op::PopMax),
        1 => (index(), index()).prop_map(|(a, b)| Op::RemoveByRank(a, b)),
        1 => (bound(), bound()).prop_map(|(a, b)| Op::RemoveByScore(a, b)),
        1 => (lex_arg(), lex_arg()).prop_map(|(a, b)| Op::RemoveByLex(a, b)),
    ]
}

fn listed<'a>(entries: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<(Vec<u8>, u64)> {
    entries.map(|(m, s)| (m.to_vec(), s.to_bits())).collect()
}

fn score_range(min: (f64, bool), max: (f64, bool)) -> ScoreRange {
    ScoreRange {
        min: ScoreBound {
            value: min.0,
            exclusive: min.1,
        },
        max: ScoreBound {
            value: max.0,
            exclusive: max.1,
        },
    }
}

fn run(ops: &[Op], chunk: usize) {
    let mut z = ZsetIndex::with_chunk_size(chunk);
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        // Lex ranges are specified only while all scores are equal, as in Redis.
        let uniform = model.entries.windows(2).all(|w| w[0].0 == w[1].0);
        match op {
            Op::Insert(m, s) => {
                let got = z.insert(m, *s).unwrap().map(f64::to_bits);
                assert_eq!(
                    got,
                    model.insert(m, *s).map(f64::to_bits),
                    "step {step}: {op:?}"
                );
            }
            Op::Remove(m) => {
                assert_eq!(
                    z.remove(m).map(f64::to_bits),
                    model.remove(m).map(f64::to_bits),
                    "step {step}"
                );
            }
            Op::Score(m) => {
                let want = model.position(m).map(|i| model.entries[i].0.to_bits());
                assert_eq!(z.score(m).map(f64::to_bits), want, "step {step}");
            }
            Op::Rank(m, reverse) => {
                let want = model.position(m).map(|i| {
                    if *reverse {
                        model.entries.len() - 1 - i
                    } else {
                        i
                    }
                });
                assert_eq!(z.rank(m, *reverse), want, "step {step}: {op:?}");
                if let Some(rank) = want {
                    assert_eq!(
                        z.get_by_rank(rank, *reverse).map(|(m, _)| m.to_vec()),
                        Some(m.clone())
                    );
                }
            }
            Op::ByRank(start, stop, reverse) => {
                let mut positions = model.rank_range(*start, *stop);
                if *reverse {
                    let len = model.entries.len();
                    positions = positions.iter().map(|i| len - 1 - i).collect();
                }
                let got = z.range_by_rank(*start, *stop, *reverse);
                assert_eq!(got.len(), positions.len(), "step {step}");
                assert_eq!(
                    listed(got),
                    model.listed(positions.into_iter()),
                    "step {step}: {op:?}"
                );
            }
            Op::ByScore(min, max, reverse, lim) => {
                let range = score_range(*min, *max);
                let want = model.filtered(|e| in_score_range(e.0, *min, *max), *reverse, *lim);
                let limit = Limit::from_redis(lim.0, lim.1);
                let got = z.range_by_score(&range, *reverse, limit);
                assert_eq!(got.len(), want.len(), "step {step}");
                assert_eq!(
                    listed(got),
                    model.listed(want.into_iter()),
                    "step {step}: {op:?}"
                );
                let count = model
                    .filtered(|e| in_score_range(e.0, *min, *max), false, (0, -1))
                    .len();
                assert_eq!(z.count_by_score(&range), count, "step {step}");
            }
            Op::ByLex(min, max, reverse, lim) => {
                let range = LexRange {
                    min: min.bound(),
                    max: max.bound(),
                };
                let got = listed(z.range_by_lex(&range, *reverse, Limit::from_redis(lim.0, lim.1)));
                let count = z.count_by_lex(&range);
                if uniform {
                    let want = model.filtered(|e| in_lex_range(&e.1, min, max), *reverse, *lim);
                    assert_eq!(got, model.listed(want.into_iter()), "step {step}: {op:?}");
                    let all = model.filtered(|e| in_lex_range(&e.1, min, max), false, (0, -1));
                    assert_eq!(count, all.len(), "step {step}");
                }
            }
            Op::PopMin(n) => {
                let want = model.listed(0..(*n).min(model.entries.len()));
                model.entries.drain(0..want.len());
                assert_eq!(
                    listed(z.pop_min(*n).iter().map(|(m, s)| (&m[..], *s))),
                    want,
                    "step {step}"
                );
            }
            Op::PopMax(n) => {
                let len = model.entries.len();
                let want = model.listed((len - (*n).min(len)..len).rev());
                model.entries.truncate(len - want.len());
                assert_eq!(
                    listed(z.pop_max(*n).iter().map(|(m, s)| (&m[..], *s))),
                    want,
                    "step {step}"
                );
            }
            Op::RemoveByRank(start, stop) => {
                let positions = model.rank_range(*start, *stop);
                let want = model.listed(positions.iter().copied());
                for i in positions.into_iter().rev() {
                    model.entries.remove(i);
                }
                let got = z.remove_range_by_rank(*start, *stop);
                assert_eq!(
                    listed(got.iter().map(|(m, s)| (&m[..], *s))),
                    want,
                    "step {step}"
                );
            }
            Op::RemoveByScore(min, max) => {
                let want: Vec<_> = model
                    .entries
                    .iter()
                    .filter(|e| in_score_range(e.0, *min, *max))
                    .map(|e| (e.1.clone(), e.0.to_bits()))
                    .collect();
                model.entries.retain(|e| !in_score_range(e.0, *min, *max));
                let got = z.remove_range_by_score(&score_range(*min, *max));
                assert_eq!(
                    listed(got.iter().map(|(m, s)| (&m[..], *s))),
                    want,
                    "step {step}: {op:?}"
                );
            }
            Op::RemoveByLex(min, max) => {
                if !uniform {
                    continue;
                }
                let want: Vec<_> = model
                    .entries
                    .iter()
                    .filter(|e| in_lex_range(&e.1, min, max))
                    .map(|e| (e.1.clone(), e.0.to_bits()))
                    .collect();
                model.entries.retain(|e| !in_lex_range(&e.1, min, max));
                let range = LexRange {
                    min: min.bound(),
                    max: max.bound(),
                };
                let got = z.remove_range_by_lex(&range);
                assert_eq!(
                    listed(got.iter().map(|(m, s)| (&m[..], *s))),
                    want,
                    "step {step}: {op:?}"
                );
            }
        }
        z.check();
        assert_eq!(z.len(), model.entries.len(), "step {step}");
    }
    assert_eq!(listed(z.iter()), model.listed(0..model.entries.len()));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mixed_scores_match_the_model(ops in prop::collection::vec(op(false), 1..600), chunk in 4usize..12) {
        run(&ops, chunk);
    }

    #[test]
    fn equal_scores_and_lex_ranges_match_the_model(ops in prop::collection::vec(op(true), 1..600), chunk in 4usize..12) {
        run(&ops, chunk);
    }
}
