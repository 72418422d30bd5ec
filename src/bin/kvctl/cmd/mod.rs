//! The subcommands, one file each, dispatched through one enum.

mod backup;
mod bench;
mod check;
mod contents;
mod del;
mod demo;
mod dump;
mod dump_collections;
mod exists;
mod expire;
mod export;
mod export_line;
mod get;
mod import;
mod incr;
mod incrbyfloat;
mod key_selection;
mod key_type;
mod keys;
mod merge;
mod persist;
mod repair;
mod scan;
mod scored_members;
mod serve;
mod set;
mod stats;
mod ttl;

use clap::Subcommand;

use crate::context::Context;
use crate::status::Status;

#[derive(Debug, Subcommand)]
pub enum Command {
    // Data.
    /// Print a key's value, or a hash, set, list or sorted set whole (exit 1 if missing).
    Get(get::GetArgs),
    /// Print what a key holds: string, hash, set, list, zset, or none (exit 1 if missing).
    Type(key_type::TypeArgs),
    /// Set a key to a value from an argument, a file or standard input.
    #[command(override_usage = "kvctl set [OPTIONS] <KEY> <VALUE|--file <PATH>>")]
    Set(set::SetArgs),
    /// Delete keys; print how many existed.
    Del(del::DelArgs),
    /// Print how many of the keys exist (exit 1 unless all do).
    Exists(exists::ExistsArgs),
    /// Add to the integer at a key (default 1); a missing key counts as 0.
    Incr(incr::CounterArgs),
    /// Subtract from the integer at a key (default 1); a missing key counts as 0.
    Decr(incr::CounterArgs),
    /// Add a decimal number to the number at a key, as Redis's INCRBYFLOAT does.
    Incrbyfloat(incrbyfloat::IncrByFloatArgs),
    /// Print a key's time to live: seconds, -1 without expiry, -2 if missing (exit 1).
    Ttl(ttl::TtlArgs),
    /// Make a key expire after a duration or at a time (exit 1 if it is missing).
    Expire(expire::ExpireArgs),
    /// Remove a key's expiry (exit 1 if it is missing).
    Persist(persist::PersistArgs),
    /// List keys, sorted, optionally matching a glob pattern, prefix or type.
    Keys(keys::KeysArgs),
    /// List keys with their contents, sorted, optionally matching a pattern, prefix or type.
    Scan(scan::ScanArgs),

    // Operations.
    /// Show the store's size, layout and space reclaimable by a merge.
    Stats(stats::StatsArgs),
    /// Reclaim the space of overwritten, deleted and expired records now.
    Merge(merge::MergeArgs),
    /// Verify every record and hint file; exit 5 on corruption, 7 if open would fix it.
    Check(check::CheckArgs),
    /// Salvage every valid record of a damaged store; keep the originals in lost+found.
    Repair(repair::RepairArgs),
    /// Copy the store into a new directory, consistently, and verify the copy.
    Backup(backup::BackupArgs),
    /// List every record of every segment in file order (for debugging).
    Dump(dump::DumpArgs),
    /// Write keys, their contents and expiry times as JSON lines to standard output.
    Export(export::ExportArgs),
    /// Read JSON lines written by export and set each key.
    Import(import::ImportArgs),
    /// Measure this machine: a set/get/incr load against a scratch store.
    Bench(bench::BenchArgs),
    /// Serve the store over the Redis protocol (redis-cli and Redis clients work with it).
    Serve(serve::ServeArgs),
    /// Keg as a cache in front of a slow SQL query: every strategy measured (no setup);
    /// `demo types`: the data types at work (leaderboard, visitors, queue, sessions).
    Demo(demo::DemoArgs),
}

/// Runs `command`; the status is what the process exits with when there is no error.
pub fn run(command: Command, ctx: &mut Context) -> anyhow::Result<Status> {
    match command {
        Command::Get(args) => get::run(&args, ctx),
        Command::Type(args) => key_type::run(&args, ctx),
        Command::Set(args) => set::run(&args, ctx),
        Command::Del(args) => del::run(&args, ctx),
        Command::Exists(args) => exists::run(&args, ctx),
        Command::Incr(args) => incr::run(&args, incr::Direction::Up, ctx),
        Command::Decr(args) => incr::run(&args, incr::Direction::Down, ctx),
        Command::Incrbyfloat(args) => incrbyfloat::run(&args, ctx),
        Command::Ttl(args) => ttl::run(&args, ctx),
        Command::Expire(args) => expire::run(&args, ctx),
        Command::Persist(args) => persist::run(&args, ctx),
        Command::Keys(args) => keys::run(&args, ctx),
        Command::Scan(args) => scan::run(&args, ctx),
        Command::Stats(args) => stats::run(&args, ctx),
        Command::Merge(args) => merge::run(&args, ctx),
        Command::Check(args) => check::run(&args, ctx),
        Command::Repair(args) => repair::run(&args, ctx),
        Command::Backup(args) => backup::run(&args, ctx),
        Command::Dump(args) => dump::run(&args, ctx),
        Command::Export(args) => export::run(&args, ctx),
        Command::Import(args) => import::run(&args, ctx),
        Command::Bench(args) => bench::run(&args, ctx),
        Command::Serve(args) => serve::run(&args, ctx),
        Command::Demo(args) => demo::run(&args, ctx),
    }
}
