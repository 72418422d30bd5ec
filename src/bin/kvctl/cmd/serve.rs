//! `kvctl serve`: serve the store over the Redis protocol until SIGINT, SIGTERM or a
//! client's SHUTDOWN, then drain, sync, close and exit 0.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context as _;
use keg::server::{ServerConfig, serve};
use keg::{Options, SyncPolicy};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::context::Context;
use crate::status::Status;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: String,

    /// TCP port (0 picks a free one; the address is printed on standard error).
    #[arg(long, default_value_t = 6379)]
    pub port: u16,

    /// Password clients must send with AUTH before other commands.
    #[arg(long, value_name = "PASSWORD")]
    pub requirepass: Option<String>,

    /// Most clients connected at once.
    #[arg(long, default_value_t = keg::server::DEFAULT_MAXCLIENTS, value_name = "N")]
    pub maxclients: usize,

    /// When writes are fsynced, as Redis's appendfsync: always (before each reply),
    /// everysec (a power loss may lose the last second), no (the OS decides).
    #[arg(long, value_name = "POLICY", value_parser = ["always", "everysec", "no"])]
    pub appendfsync: Option<String>,

    /// Close connections idle this many seconds (0: never; subscribers are exempt).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub timeout: u64,

    /// Event-loop threads serving connections (0: one per two cores, at most four).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

/// The sync policy: --appendfsync, else the global --sync, else everysec (Redis's default).
fn sync_policy(args: &ServeArgs, ctx: &Context) -> SyncPolicy {
    match args.appendfsync.as_deref() {
        Some("always") => SyncPolicy::Always,
        Some("no") => SyncPolicy::Never,
        Some(_) => SyncPolicy::Interval(Duration::from_secs(1)),
        None => ctx
            .global
            .sync
            .unwrap_or(SyncPolicy::Interval(Duration::from_secs(1))),
    }
}

pub fn run(args: &ServeArgs, ctx: &mut Context) -> anyhow::Result<Status> {
    let dir = &ctx.global.dir;
    // A long-running server keeps the background expiry cycle and merges on (defaults).
    let mut options = Options::new().sync_policy(sync_policy(args, ctx));
    if let Some(limit) = ctx.global.max_value_size {
        options = options.max_value_size(limit);
    }
    let store = options
        .open(dir)
        .with_context(|| format!("cannot open the store in {}", dir.display()))?;
    let address = format!("{}:{}", args.bind, args.port);
    let listener =
        TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
    let config = ServerConfig::default()
        .requirepass(args.requirepass.clone())
        .maxclients(args.maxclients)
        .idle_timeout(Duration::from_secs(args.timeout))
        .event_loops(args.threads);
    let server = serve(listener, store.clone(), config).context("cannot start the server")?;

    let mut signals = Signals::new([SIGINT, SIGTERM]).context("cannot install signal handlers")?;
    let signal_handle = signals.handle();
    let stopper = server.handle();
    let signal_thread = std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stopper.shutdown();
        }
    });
    eprintln!(
        "kvctl serve: {} listening on {} (appendfsync {})",
        dir.display(),
        server.local_addr(),
        match store.sync_policy() {
            SyncPolicy::Always => "always",
            SyncPolicy::Interval(_) => "everysec",
            SyncPolicy::Never => "no",
        }
    );

    let drained = server.wait();
    signal_handle.close();
    let _ = signal_thread.join();
    drained.context("syncing the store at shutdown")?;
    store.close().context("closing the store")?;
    eprintln!("kvctl serve: stopped; store synced and closed");
    Ok(Status::Success)
}
