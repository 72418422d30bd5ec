//! The leaderboard: a sorted set of players by points. Every player is added with a
//! starting score (ZADD), then random players win points (ZINCRBY) while the top 10 is
//! read every 50 writes, as a game's scoreboard page would. The scores are also kept in
//! memory, so the final top 10 and a rank are checked against the truth.

use std::time::{Duration, Instant};

use super::backend::Backend;
use super::measure::OpStats;
use crate::cmd::demo::rng::SplitMix64;

/// Writes between two reads of the top 10.
const READ_EVERY: u64 = 50;
/// Places shown and checked.
pub const TOP: usize = 10;

pub struct Leaderboard {
    pub players: u64,
    pub elapsed: Duration,
    pub zadd: OpStats,
    pub zincrby: OpStats,
    pub top_reads: OpStats,
    /// The final top 10 as the store returned it.
    pub top: Vec<(String, f64)>,
    /// The player whose rank was checked, and its rank (0 = first).
    pub ranked: (String, Option<u64>),
    /// What disagreed with the scores kept in memory; `None` if nothing did.
    pub problem: Option<String>,
}

fn member(player: u64) -> String {
    format!("player:{player:05}")
}

pub fn run(
    backend: &dyn Backend,
    key: &[u8],
    players: u64,
    run_for: Duration,
    seed: u64,
) -> anyhow::Result<Leaderboard> {
    let mut conn = backend.connect()?;
    let mut rng = SplitMix64(seed);
    let mut zadd = OpStats::default();
    let mut zincrby = OpStats::default();
    let mut top_reads = OpStats::default();
    let mut wrong_sums = 0u64;
    let started = Instant::now();
    let deadline = started + run_for;
    // Whole points only, so every sum is exact in an f64 and comparable with ==. Players
    // are added for at most half the time (a slow server gets fewer players, not more
    // time).
    let mut scores: Vec<f64> = Vec::new();
    while (scores.len() as u64) < players && started.elapsed() < run_for / 2 {
        let score = rng.below(1000) as f64;
        let name = member(scores.len() as u64);
        zadd.time(|| conn.zadd(key, score, name.as_bytes()))?;
        scores.push(score);
    }
    let players = scores.len() as u64;
    let mut writes = 0u64;
    while Instant::now() < deadline {
        // A quarter of the wins go to the first 1% of players: a leaderboard has leaders.
        let player = if rng.below(4) == 0 {
            rng.below(players.div_ceil(100))
        } else {
            rng.below(players)
        };
        let points = (1 + rng.below(100)) as f64;
        let name = member(player);
        let total = zincrby.time(|| conn.zincr_by(key, name.as_bytes(), points))?;
        if let Some(score) = scores.get_mut(player as usize) {
            *score += points;
            wrong_sums += u64::from(total != *score);
        }
        writes += 1;
        if writes.is_multiple_of(READ_EVERY) {
            top_reads.time(|| conn.ztop(key, TOP))?;
        }
    }
    let elapsed = started.elapsed();

    let top: Vec<(String, f64)> = conn
        .ztop(key, TOP)?
        .into_iter()
        .map(|(m, s)| (String::from_utf8_lossy(&m).into_owned(), s))
        .collect();
    let expected = expected_order(&scores);
    let checked = rng.below(players);
    let rank = conn.zrevrank(key, member(checked).as_bytes())?;
    let expected_rank = expected.iter().position(|&(p, _)| p == checked);
    let expected_top: Vec<(String, f64)> = expected
        .iter()
        .take(TOP)
        .map(|&(p, s)| (member(p), s))
        .collect();
    let mut problems = Vec::new();
    if wrong_sums > 0 {
        problems.push(format!("{wrong_sums} ZINCRBY returned a wrong total"));
    }
    if top != expected_top {
        problems.push(format!(
            "the top {TOP} is {top:?}, the scores kept aside say {expected_top:?}"
        ));
    }
    if rank != expected_rank.map(|r| r as u64) {
        problems.push(format!(
            "{} ranks {rank:?}, expected {expected_rank:?}",
            member(checked)
        ));
    }
    Ok(Leaderboard {
        players,
        elapsed,
        zadd,
        zincrby,
        top_reads,
        top,
        ranked: (member(checked), rank),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

/// Players by rank as ZREVRANGE orders them: highest score first, equal scores by member
/// in reverse byte order (members are zero-padded, so by player number).
fn expected_order(scores: &[f64]) -> Vec<(u64, f64)> {
    let mut order: Vec<(u64, f64)> = scores
        .iter()
        .enumerate()
        .map(|(p, &s)| (p as u64, s))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    order
}
