//! The INFO text: server, clients, memory, persistence, stats, replication, cpu, modules,
//! commandstats, errorstats, cluster and keyspace sections, with figures from the store and
//! the server.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::commands::config_cmd::appendfsync_name;
use super::commands::connection::REDIS_VERSION;
use super::keyspace::KeySpace;
use super::pubsub::Kind;
use super::shared::Shared;
use crate::stats::{JobFailure, MaintenanceJob};

/// INFO's sections in Redis's order: name, title, and whether INFO shows it without
/// arguments (or with `default`); `all` and `everything` show every one.
const SECTIONS: &[(&str, &str, bool)] = &[
    ("server", "Server", true),
    ("clients", "Clients", true),
    ("memory", "Memory", true),
    ("persistence", "Persistence", true),
    ("stats", "Stats", true),
    ("replication", "Replication", true),
    ("cpu", "CPU", true),
    ("modules", "Modules", true),
    ("commandstats", "Commandstats", false),
    ("errorstats", "Errorstats", true),
    ("cluster", "Cluster", true),
    ("keyspace", "Keyspace", true),
];

/// INFO's reply for the requested sections (the default ones when none is named), with the
/// store's figures as `ks` sees them (inside MULTI or a script: the transaction so far).
pub(crate) fn render(shared: &Shared, ks: &dyn KeySpace, requested: &[String]) -> String {
    let default = requested.is_empty() || requested.iter().any(|r| r == "default");
    let all = requested
        .iter()
        .any(|r| matches!(r.as_str(), "all" | "everything"));
    let mut text = String::new();
    for &(section, title, in_default) in SECTIONS {
        if !(all || default && in_default || requested.iter().any(|r| r == section)) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let _ = write!(text, "# {title}\r\n");
        let listed = match section {
            "commandstats" => shared.command_stats.fields(),
            "errorstats" => shared.error_stats.fields(),
            _ => Vec::new(),
        };
        for (key, value) in listed {
            let _ = write!(text, "{key}:{value}\r\n");
        }
        for (key, value) in fields(shared, ks, section) {
            let _ = write!(text, "{key}:{value}\r\n");
        }
    }
    text
}

fn ok_or_err(ok: bool) -> String {
    if ok { "ok" } else { "err" }.into()
}

/// The newest failure among the failing maintenance jobs, as `job: error` on one line
/// (empty when none fails).
fn last_job_error(failing: &[JobFailure]) -> String {
    failing
        .iter()
        .max_by_key(|f| f.at_unix_ms)
        .map(|f| format!("{}: {}", f.job.name(), f.error).replace(['\r', '\n'], " "))
        .unwrap_or_default()
}

fn fields(shared: &Shared, ks: &dyn KeySpace, section: &str) -> Vec<(&'static str, String)> {
    let c = &shared.counters;
    let n = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed).to_string();
    match section {
        "server" => {
            let uptime = shared.started.elapsed().as_secs();
            vec![
                ("redis_version", REDIS_VERSION.into()),
                ("keg_version", env!("CARGO_PKG_VERSION").into()),
                ("redis_mode", "standalone".into()),
                ("os", std::env::consts::OS.into()),
                ("arch_bits", (usize::BITS).to_string()),
                ("multiplexing_api", "epoll".into()),
                ("process_id", std::process::id().to_string()),
                ("tcp_port", shared.local_addr.port().to_string()),
                ("uptime_in_seconds", uptime.to_string()),
                ("uptime_in_days", (uptime / 86_400).to_string()),
                (
                    "executable",
                    std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
            ]
        }
        "clients" => vec![
            ("connected_clients", shared.clients.len().to_string()),
            ("maxclients", shared.settings().maxclients.to_string()),
            (
                "blocked_clients",
                shared
                    .counters
                    .blocked_clients
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .to_string(),
            ),
            ("pubsub_clients", shared.clients.subscribers().to_string()),
            ("tracking_clients", shared.tracking.figures().0.to_string()),
        ],
        "memory" => {
            let stats = ks.stats();
            let rss = resident_bytes();
            vec![
                ("used_memory", stats.index_bytes.to_string()),
                ("used_memory_human", human(stats.index_bytes)),
                ("used_memory_rss", rss.to_string()),
                ("used_memory_rss_human", human(rss)),
                (
                    "index_bytes_per_key",
                    format!("{:.2}", stats.index_bytes_per_key),
                ),
                ("number_of_cached_scripts", shared.scripts.len().to_string()),
                ("maxmemory", "0".into()),
                ("maxmemory_policy", "noeviction".into()),
            ]
        }
        "persistence" => {
            let stats = ks.stats();
            vec![
                ("loading", "0".into()),
                ("aof_enabled", "1".into()),
                (
                    "appendfsync",
                    appendfsync_name(shared.store.sync_policy()).into(),
                ),
                (
                    "aof_rewrite_in_progress",
                    u8::from(shared.merging.load(Ordering::Relaxed)).to_string(),
                ),
                // Redis's "err" after a failed AOF write or fsync; here a failed fsync
                // poisons the store and every later write fails.
                ("aof_last_write_status", ok_or_err(stats.poisoned.is_none())),
                (
                    "aof_last_bgrewrite_status",
                    ok_or_err(
                        !stats
                            .failing_jobs
                            .iter()
                            .any(|f| f.job == MaintenanceJob::Merge),
                    ),
                ),
                (
                    "rdb_last_save_time",
                    shared.last_save.load(Ordering::Relaxed).to_string(),
                ),
                ("disk_bytes", stats.disk_bytes.to_string()),
                ("live_bytes", stats.live_bytes.to_string()),
                ("dead_bytes", stats.dead_bytes.to_string()),
                ("segments", stats.segments.len().to_string()),
                ("fsyncs", stats.fsyncs.to_string()),
                ("merges", stats.merges.to_string()),
                ("bytes_reclaimed", stats.bytes_reclaimed.to_string()),
                ("damaged_segments", stats.damaged_segments.len().to_string()),
                ("failing_jobs", stats.failing_jobs.len().to_string()),
                ("last_job_error", last_job_error(&stats.failing_jobs)),
            ]
        }
        "stats" => {
            let stats = ks.stats();
            let pubsub = |kind| shared.pubsub.channel_count(kind).to_string();
            let tracking = shared.tracking.figures();
            vec![
                ("total_connections_received", n(&c.connections_received)),
                ("total_commands_processed", n(&c.commands_processed)),
                ("total_net_input_bytes", n(&c.net_input_bytes)),
                ("total_net_output_bytes", n(&c.net_output_bytes)),
                ("rejected_connections", n(&c.rejected_connections)),
                ("expired_keys", stats.expired_keys_deleted.to_string()),
                ("keyspace_hits", n(&c.keyspace_hits)),
                ("keyspace_misses", n(&c.keyspace_misses)),
                ("pubsub_channels", pubsub(Kind::Channel)),
                ("pubsub_patterns", pubsub(Kind::Pattern)),
                ("pubsubshard_channels", pubsub(Kind::Shard)),
                ("tracking_total_keys", tracking.1.to_string()),
                ("tracking_total_items", tracking.2.to_string()),
                ("tracking_total_prefixes", tracking.3.to_string()),
                (
                    "total_error_replies",
                    shared.error_stats.total().to_string(),
                ),
            ]
        }
        // A primary without replicas, as clients that look for the role expect.
        "replication" => vec![
            ("role", "master".into()),
            ("connected_slaves", "0".into()),
            ("master_failover_state", "no-failover".into()),
            ("master_replid", shared.replication_id.clone()),
            ("master_replid2", "0".repeat(40)),
            ("master_repl_offset", "0".into()),
            ("second_repl_offset", "-1".into()),
            ("repl_backlog_active", "0".into()),
            ("repl_backlog_size", "1048576".into()),
            ("repl_backlog_first_byte_offset", "0".into()),
            ("repl_backlog_histlen", "0".into()),
        ],
        "cpu" => {
            let process = cpu_seconds("/proc/self/stat");
            let thread = cpu_seconds("/proc/thread-self/stat");
            vec![
                ("used_cpu_sys", process.system),
                ("used_cpu_user", process.user),
                ("used_cpu_sys_children", process.children_system),
                ("used_cpu_user_children", process.children_user),
                // The event loop thread answering (Redis's main thread serves everyone).
                ("used_cpu_sys_main_thread", thread.system),
                ("used_cpu_user_main_thread", thread.user),
            ]
        }
        "cluster" => vec![("cluster_enabled", "0".into())],
        "keyspace" => {
            let keys = ks.len();
            if keys == 0 {
                Vec::new()
            } else {
                let expires = ks.expiring_len();
                vec![("db0", format!("keys={keys},expires={expires},avg_ttl=0"))]
            }
        }
        _ => Vec::new(),
    }
}

/// CPU time from a `/proc/.../stat` file, in seconds as Redis prints them (`1.470000`).
struct CpuSeconds {
    user: String,
    system: String,
    children_user: String,
    children_system: String,
}

fn cpu_seconds(path: &str) -> CpuSeconds {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces, inside parentheses): state is
    // field 3, utime 14, stime 15, cutime 16, cstime 17, in clock ticks of 1/100 s (Linux's
    // USER_HZ for /proc, whatever the kernel's own tick).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let seconds = |field: usize| {
        let ticks: u64 = fields
            .get(field - 3)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0);
        format!("{}.{:06}", ticks / 100, ticks % 100 * 10_000)
    };
    CpuSeconds {
        user: seconds(14),
        system: seconds(15),
        children_user: seconds(16),
        children_system: seconds(17),
    }
}

/// A replication id as Redis makes one at start: 40 random hex digits.
pub(crate) fn new_replication_id() -> String {
    use std::hash::BuildHasher as _;
    let random = std::collections::hash_map::RandomState::new();
    let mut id: String = (0u8..3)
        .map(|i| format!("{:016x}", random.hash_one(i)))
        .collect();
    id.truncate(40);
    id
}

/// Bytes as Redis's `_human` fields show them (`1.50M`).
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// The process's resident memory, from /proc (0 where there is none).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
