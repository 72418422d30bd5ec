//! `kvctl demo`: keg as a cache in front of a slow SQL query, measured.
//!
//! It creates an SQLite shop database in a scratch directory, then runs the same mixed
//! workload (readers asking for user dashboards, a writer placing orders) once without a
//! cache and once per invalidation strategy of `keg::cache`, and prints latencies, hit
//! ratios, queries saved and stale reads, the cache's counters, and a rate-limit
//! demonstration. The scratch directory is removed at the end.
//!
//! The cache runs over an embedded store, or with `--redis-url` over the Redis protocol
//! (the `redis` crate) against a running server: the same `keg::cache` logic through
//! another `CacheBackend`. `--over-resp` starts keg's own Redis-protocol server (the one
//! `kvctl serve` runs) on a free loopback port over a scratch store and goes through the
//! redis crate to it, exactly as `--redis-url` does.
//!
//! `kvctl demo types` (the `types` module) puts the data types to work instead, over the
//! same three kinds of store.

mod database;
mod rate_limits;
mod report;
mod resp_backend;
mod rng;
mod strategy;
mod types;
mod workload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use keg::cache::CacheBackend;
use keg::{Options, SyncPolicy};

use self::database::Size;
use self::report::Report;
use self::resp_backend::RespBackend;
use self::strategy::Strategy;
use self::workload::{Phase, Plan};
use crate::context::Context;
use crate::duration;
use crate::progress;
use crate::scratch::ScratchDir;
use crate::status::{Status, usage};

/// `kvctl demo` runs the cache demonstration; `kvctl demo types` the data types. A
/// subcommand rather than a `--types` flag: the cache demo's flags (`--readers`, `--only`,
/// `--ttl`...) mean nothing to the data types, and clap then refuses them there instead of
/// ignoring them, and each gets a help page of its own. The price: a global flag given
/// between `demo` and `types` counts as the cache demo's and is refused too (`kvctl demo
/// types --json` and `kvctl --json demo types` work).
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DemoArgs {
    /// A short run for CI and a first look: a smaller database (a faster query) and
    /// 0.6 s per strategy.
    #[arg(long)]
    quick: bool,

    /// How long each strategy runs (default 6s; 600ms with --quick).
    #[arg(long, value_parser = duration::parse_seconds)]
    duration: Option<Duration>,

    /// Reader threads.
    #[arg(long, default_value_t = 4)]
    readers: usize,

    /// Users whose dashboards are read and written.
    #[arg(long, default_value_t = 20)]
    hot_users: u64,

    /// TTL of a cached dashboard (default 5s; 1s with --quick).
    #[arg(long, value_parser = duration::parse_seconds)]
    ttl: Option<Duration>,

    /// The writer places an order this often (default 250ms; 100ms with --quick).
    #[arg(long, value_parser = parse_millis)]
    write_every: Option<Duration>,

    /// Run only these strategies (comma-separated: uncached, ttl-only, delete-on-write,
    /// write-through, versioned-keys). Default: all, uncached first.
    #[arg(long, value_delimiter = ',', value_parser = Strategy::parse)]
    only: Vec<Strategy>,

    #[command(flatten)]
    server: ServerArgs,

    #[command(subcommand)]
    kind: Option<DemoKind>,
}

#[derive(Debug, clap::Subcommand)]
enum DemoKind {
    /// The data types at their best-known jobs, measured and checked: a leaderboard
    /// (ZADD, ZINCRBY, ZREVRANGE), unique visitors (SADD, SCARD), a work queue (LPUSH,
    /// BRPOP) and sessions (HSET + PEXPIRE).
    Types(types::TypesArgs),
}

/// Where a demo's data lives: an embedded store (the default), keg's own server, or a
/// server already running. Shared by `demo` and `demo types`.
#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// Run over the Redis protocol against this server (redis://HOST:PORT/) instead of an
    /// embedded store. Keys start with demo-PID-TIME (demo types: demo-types-PID-TIME);
    /// what the demo leaves is deleted afterwards or expires with its TTL.
    #[arg(long, value_name = "URL", conflicts_with = "over_resp")]
    redis_url: Option<String>,

    /// Run over the Redis protocol, through the redis crate, against keg's own server
    /// (what `kvctl serve` runs), started on a free 127.0.0.1 port over a scratch store and
    /// stopped at the end.
    #[arg(long)]
    over_resp: bool,

    /// Where to create the scratch directory (database and stores; removed afterwards).
    /// Default: the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    scratch_dir: Option<PathBuf>,
}

impl ServerArgs {
    fn scratch_parent(&self) -> PathBuf {
        self.scratch_dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

fn parse_millis(text: &str) -> Result<Duration, String> {
    duration::parse(text, duration::Unit::Millis)
}

impl DemoArgs {
    fn plan(&self) -> anyhow::Result<Plan> {
        let plan = Plan {
            readers: self.readers,
            hot_users: self.hot_users,
            duration: self.duration.unwrap_or(if self.quick {
                Duration::from_millis(600)
            } else {
                Duration::from_secs(6)
            }),
            write_every: self.write_every.unwrap_or(if self.quick {
                Duration::from_millis(100)
            } else {
                Duration::from_millis(250)
            }),
            ttl: self.ttl.unwrap_or(if self.quick {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            }),
            seed: 0x6b65_6720_6465_6d6f,
        };
        if !(1..=64).contains(&plan.readers) {
            return Err(usage("--readers must be between 1 and 64"));
        }
        if plan.hot_users == 0 || plan.hot_users > self.size().users {
            return Err(usage(format!(
                "--hot-users must be between 1 and {}",
                self.size().users
            )));
        }
        if plan.duration.is_zero() || plan.ttl.is_zero() || plan.write_every.is_zero() {
            return Err(usage(
                "--duration, --ttl and --write-every must be positive",
            ));
        }
        Ok(plan)
    }

    fn size(&self) -> Size {
        if self.quick { Size::QUICK } else { Size::FULL }
    }
}

pub fn run(args: &DemoArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    if let Some(DemoKind::Types(types)) = &args.kind {
        return types::run(types, ctx);
    }
    let plan = args.plan()?;
    let size = args.size();
    let sync = ctx.global.sync.unwrap_or(SyncPolicy::Never);
    // Before any work: a server that does not answer is an error at once.
    let server = match &args.server.redis_url {
        Some(url) => Some(
            RespBackend::connect(url)
                .with_context(|| format!("connecting to the server at {url}"))?,
        ),
        None => None,
    };
    let scratch = ScratchDir::create(&args.server.scratch_parent(), "demo")?;
    let (server, redis_url, local_server) = if args.server.over_resp {
        let local = LocalServer::start(&scratch.path().join("server"), sync)?;
        let url = local.url();
        let backend = RespBackend::connect(&url)
            .with_context(|| format!("connecting to keg's server at {url}"))?;
        (Some(backend), Some(url), Some(local))
    } else {
        (server, args.server.redis_url.clone(), None)
    };
    let db = scratch.path().join("shop.sqlite");

    let spinner = progress::spinner("creating the SQLite database");
    let started = Instant::now();
    database::create(&db, size, plan.seed)?;
    let created_in = started.elapsed();
    spinner.finish_and_clear();
    let query_alone = time_query(&db)?;

    let strategies = if args.only.is_empty() {
        Strategy::ALL.to_vec()
    } else {
        args.only.clone()
    };
    let (phases, backend) = match (server, &redis_url) {
        (Some(server), Some(url)) => {
            let phases = run_phases(&Arc::new(server), &db, &strategies, &plan)?;
            let what = match &local_server {
                Some(_) => format!(
                    "keg's Redis-protocol server at {url} (sync {}), through the redis crate",
                    sync_name(sync)
                ),
                None => format!("a Redis-protocol server at {url}, through the redis crate"),
            };
            (phases, what)
        }
        _ => {
            // A cache does not need every write on disk: its contents can be rebuilt from
            // the database. --sync changes that.
            let store = Options::new()
                .sync_policy(sync)
                .open(scratch.path().join("cache"))
                .context("opening the cache store")?;
            let phases = run_phases(&store, &db, &strategies, &plan)?;
            store.close()?;
            (
                phases,
                format!("an embedded keg store (sync {})", sync_name(sync)),
            )
        }
    };
    if let Some(local) = local_server {
        local.stop()?;
    }
    let rate_limits = rate_limits::run(&scratch.path().join("rate-limit"))?;

    let report = Report {
        size,
        created_in,
        query_alone,
        plan,
        backend,
        phases,
        rate_limits,
    };
    if ctx.wants_json() {
        ctx.json(report.to_json())?;
    } else {
        report.print(ctx)?;
    }
    Ok(Status::Success)
}

/// keg's Redis-protocol server over a store of its own, on a free loopback port.
struct LocalServer {
    server: keg::server::Server,
}

impl LocalServer {
    fn start(dir: &Path, sync: SyncPolicy) -> anyhow::Result<LocalServer> {
        let store = Options::new()
            .sync_policy(sync)
            .open(dir)
            .context("opening the server's store")?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("binding a loopback port for the server")?;
        let server = keg::server::serve(listener, store, keg::server::ServerConfig::default())
            .context("starting the server")?;
        Ok(LocalServer { server })
    }

    fn url(&self) -> String {
        format!("redis://{}/", self.server.local_addr())
    }

    /// Drains the server and closes its store.
    fn stop(self) -> anyhow::Result<()> {
        self.server.shutdown().context("stopping the server")
    }
}

/// Runs each strategy's phase with a cache over (a clone of) `backend`.
fn run_phases<B>(
    backend: &B,
    db: &Path,
    strategies: &[Strategy],
    plan: &Plan,
) -> anyhow::Result<Vec<Phase>>
where
    B: CacheBackend + Clone,
    B::Error: Send + Sync + 'static,
{
    // Keys of this run only, should the backend be a server others use too.
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let run = format!("demo-{}-{unix_ms}", std::process::id());
    let mut phases = Vec::new();
    for (n, &strategy) in strategies.iter().enumerate() {
        let spinner = progress::spinner(&format!("running {}", strategy.name()));
        let cache = strategy
            .cache_options(&run, plan.seed + n as u64, plan.ttl)
            .map(|options| options.build(backend.clone()))
            .transpose()?;
        phases.push(workload::run(db, strategy, cache.as_ref(), &run, plan)?);
        spinner.finish_and_clear();
    }
    Ok(phases)
}

/// The dashboard query's time on an idle machine: the median of three runs.
fn time_query(db: &Path) -> anyhow::Result<Duration> {
    let conn = database::connect(db)?;
    let mut times: Vec<Duration> = (1..=3)
        .map(|user| {
            let started = Instant::now();
            database::dashboard(&conn, user).map(|_| started.elapsed())
        })
        .collect::<Result<_, _>>()?;
    times.sort();
    Ok(times.get(1).copied().unwrap_or_default())
}

/// The policy as `--sync` spells it.
fn sync_name(sync: SyncPolicy) -> String {
    match sync {
        SyncPolicy::Always => "always".into(),
        SyncPolicy::Never => "never".into(),
        SyncPolicy::Interval(every) => format!("interval:{}", every.as_millis()),
    }
}
