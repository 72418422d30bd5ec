//! `kvctl demo types`: the four data types at the jobs they are known for, each measured
//! and checked: a leaderboard (sorted set), unique visitors (set), a work queue with
//! blocking consumers (list) and sessions that expire (hash with a TTL).
//!
//! The parts run one after another against an embedded store, or through the redis crate
//! against keg's own server (`--over-resp`) or any Redis-protocol server (`--redis-url`):
//! the same code over a [`Backend`], so the figures compare. Each part keeps the truth
//! in memory (scores, visitors seen, jobs pushed, sessions written) and checks the store
//! against it; a failed check is printed and makes the command fail. Each part is bounded
//! in time and every key the demo wrote is deleted at the end (a scratch store is removed
//! too), its keys prefixed with demo-types-PID-TIME so that a shared server is not
//! disturbed.
//!
//! Embedded, a queue consumer cannot block (the library has no blocking pop: a blocked
//! BRPOP is the server's event loop holding a connection), so it polls RPOP with backoff,
//! and says so. Over the protocol it is a real BRPOP.

mod backend;
mod embedded;
mod leaderboard;
mod measure;
mod queue;
mod report;
mod resp;
mod sessions;
mod visitors;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use keg::SyncPolicy;

use self::backend::Backend;
use self::embedded::Embedded;
use self::report::{Cleanup, Report};
use self::resp::Resp;
use super::{LocalServer, ServerArgs, sync_name};
use crate::context::Context;
use crate::progress;
use crate::scratch::ScratchDir;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct TypesArgs {
    /// A short run for CI and a first look: 0.3 s per part and sessions with a 300 ms TTL
    /// (1.5 s per part and a 1 s TTL otherwise).
    #[arg(long)]
    quick: bool,

    #[command(flatten)]
    server: ServerArgs,
}

/// How long the parts run and how big they are.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// The leaderboard's, the visitors' and the queue producers' time.
    pub run_for: Duration,
    /// The sessions' TTL; their part takes 1.2 times it on a real clock.
    pub ttl: Duration,
    pub players: u64,
    pub visitors: u64,
}

impl Budget {
    const FULL: Budget = Budget {
        run_for: Duration::from_millis(1500),
        ttl: Duration::from_secs(1),
        players: 10_000,
        visitors: 100_000,
    };
    const QUICK: Budget = Budget {
        run_for: Duration::from_millis(300),
        ttl: Duration::from_millis(300),
        players: 1_000,
        visitors: 10_000,
    };
}

/// The same every run, as the cache demo's.
const SEED: u64 = 0x6b65_6720_7479_7065;

/// The demo's keys.
struct Keys {
    prefix: String,
    leaderboard: Vec<u8>,
    visitors: Vec<u8>,
    jobs: Vec<u8>,
}

impl Keys {
    fn new() -> Keys {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let prefix = format!("demo-types-{}-{unix_ms}:", std::process::id());
        let key = |name: &str| format!("{prefix}{name}").into_bytes();
        Keys {
            leaderboard: key("leaderboard"),
            visitors: key("visitors"),
            jobs: key("jobs"),
            prefix,
        }
    }
}

pub fn run(args: &TypesArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let budget = if args.quick {
        Budget::QUICK
    } else {
        Budget::FULL
    };
    let sync = ctx.global.sync.unwrap_or(SyncPolicy::Never);
    let keys = Keys::new();
    let report = match &args.server.redis_url {
        Some(url) => {
            let server =
                Resp::connect(url).with_context(|| format!("connecting to the server at {url}"))?;
            let what = format!("a Redis-protocol server at {url}, through the redis crate");
            run_parts(&server, &keys, budget, what, false)?
        }
        None => {
            let scratch = ScratchDir::create(&args.server.scratch_parent(), "demo-types")?;
            if args.server.over_resp {
                let local = LocalServer::start(&scratch.path().join("server"), sync)?;
                let url = local.url();
                let server = Resp::connect(&url)
                    .with_context(|| format!("connecting to keg's server at {url}"))?;
                let what = format!(
                    "keg's Redis-protocol server at {url} (sync {}), through the redis crate",
                    sync_name(sync)
                );
                let report = run_parts(&server, &keys, budget, what, false);
                drop(server);
                local.stop()?;
                report?
            } else {
                let store = Embedded::open(&scratch.path().join("store"), sync)?;
                let what = format!(
                    "an embedded keg store (sync {}; TTLs on a simulated clock)",
                    sync_name(sync)
                );
                let report = run_parts(&store, &keys, budget, what, true);
                store.close()?;
                report?
            }
        }
    };
    if ctx.wants_json() {
        ctx.json(report.to_json())?;
    } else {
        report.print(ctx)?;
    }
    let problems = report.problems();
    if !problems.is_empty() {
        anyhow::bail!(
            "the data-type demo's checks failed: {}",
            problems.join("; ")
        );
    }
    Ok(Status::Success)
}

/// Runs the four parts, then deletes what they left, also after a failed part (sessions
/// written before a failure expire with their TTL: each got it with its HSET).
fn run_parts(
    backend: &dyn Backend,
    keys: &Keys,
    budget: Budget,
    what: String,
    embedded: bool,
) -> anyhow::Result<Report> {
    let parts = run_each(backend, keys, budget);
    let session_keys = parts
        .as_ref()
        .map_or(&[][..], |(.., sessions)| &sessions.keys[..]);
    let cleanup = clean_up(backend, keys, session_keys);
    let (leaderboard, visitors, queue, sessions) = parts?;
    Ok(Report {
        backend: what,
        embedded,
        prefix: keys.prefix.clone(),
        budget,
        leaderboard,
        visitors,
        queue,
        sessions,
        cleanup: cleanup?,
    })
}

type Parts = (
    leaderboard::Leaderboard,
    visitors::Visitors,
    queue::Queue,
    sessions::Sessions,
);

fn run_each(backend: &dyn Backend, keys: &Keys, budget: Budget) -> anyhow::Result<Parts> {
    let spinner = progress::spinner("leaderboard");
    let leaderboard = leaderboard::run(
        backend,
        &keys.leaderboard,
        budget.players,
        budget.run_for,
        SEED,
    )?;
    spinner.set_message("unique visitors");
    let visitors = visitors::run(
        backend,
        &keys.visitors,
        budget.visitors,
        budget.run_for,
        SEED + 1,
    )?;
    spinner.set_message("work queue");
    let queue = queue::run(backend, &keys.jobs, budget.run_for)?;
    spinner.set_message("sessions");
    let sessions = sessions::run(backend, &keys.prefix, budget.ttl)?;
    spinner.finish_and_clear();
    Ok((leaderboard, visitors, queue, sessions))
}

/// Deletes every key the demo wrote, then counts those left (none, unless DEL failed).
fn clean_up(backend: &dyn Backend, keys: &Keys, sessions: &[Vec<u8>]) -> anyhow::Result<Cleanup> {
    let all: Vec<Vec<u8>> = [&keys.leaderboard, &keys.visitors, &keys.jobs]
        .into_iter()
        .cloned()
        .chain(sessions.iter().cloned())
        .collect();
    let mut conn = backend.connect()?;
    let deleted = conn.del(&all)?;
    let left = conn.exists(&all)?;
    Ok(Cleanup {
        deleted,
        keys: all.len() as u64,
        left,
    })
}
