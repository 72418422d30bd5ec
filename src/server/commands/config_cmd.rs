//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP for the settings keg has.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::SyncPolicy;
use crate::server::args::{self, is};
use crate::server::error::{CmdError, CmdResult, SYNTAX};
use crate::server::frame::Args;
use crate::server::glob;
use crate::server::notify::{KeyspaceEvents, class};
use crate::server::reply::Reply;
use crate::server::session::Session;
use crate::server::shared::Shared;
use crate::server::table;

/// Parameter names, in the order CONFIG GET lists them.
const PARAMETERS: &[&str] = &[
    "requirepass",
    "maxclients",
    "timeout",
    "proto-max-bulk-len",
    "appendonly",
    "appendfsync",
    "save",
    "databases",
    "port",
    "bind",
    "dir",
    "maxmemory",
    "maxmemory-policy",
    "notify-keyspace-events",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "tracking-table-max-keys",
];

fn value_of(shared: &Shared, name: &str) -> String {
    let settings = shared.settings();
    match name {
        "requirepass" => settings.requirepass.unwrap_or_default(),
        "maxclients" => settings.maxclients.to_string(),
        "timeout" => settings.idle_timeout.as_secs().to_string(),
        "proto-max-bulk-len" => settings.limits.max_bulk_len.to_string(),
        "appendonly" => "yes".into(),
        "appendfsync" => appendfsync_name(shared.store.sync_policy()).into(),
        "save" => String::new(),
        "databases" => "1".into(),
        "port" => shared.local_addr.port().to_string(),
        "bind" => shared.local_addr.ip().to_string(),
        "dir" => shared.store.path().display().to_string(),
        "maxmemory" => "0".into(),
        // Keg never evicts: what this says in Redis when that is so (queue libraries
        // check the policy).
        "maxmemory-policy" => "noeviction".into(),
        "notify-keyspace-events" => KeyspaceEvents::describe(shared.keyspace_events.flags()),
        "slowlog-log-slower-than" => shared.slowlog.slower_than_us().to_string(),
        "slowlog-max-len" => shared.slowlog.max_len().to_string(),
        "tracking-table-max-keys" => shared.tracking.max_keys().to_string(),
        _ => String::new(),
    }
}

/// Redis's name for a sync policy.
pub(crate) fn appendfsync_name(policy: SyncPolicy) -> &'static str {
    match policy {
        SyncPolicy::Always => "always",
        SyncPolicy::Interval(_) => "everysec",
        SyncPolicy::Never => "no",
    }
}

pub(crate) fn config(s: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = table::subcommand_error("config", a) {
        return Err(e);
    }
    let sub = a.get(1);
    if is(sub, "get") {
        let mut found: Vec<&str> = Vec::new();
        for pattern in a.iter().skip(2) {
            let pattern = pattern.to_ascii_lowercase();
            for name in PARAMETERS {
                if glob::matches(&pattern, name.as_bytes()) && !found.contains(name) {
                    found.push(name);
                }
            }
        }
        out.map(found.len());
        for name in found {
            out.bulk(name.as_bytes());
            out.bulk(value_of(&s.shared, name).as_bytes());
        }
    } else if is(sub, "set") {
        if !a.len().is_multiple_of(2) {
            // A name without a value: a syntax error in Redis, not an arity error.
            return Err(SYNTAX);
        }
        for i in (2..a.len()).step_by(2) {
            set_one(&s.shared, a.get(i), a.get(i + 1))?;
        }
        out.ok();
    } else if is(sub, "resetstat") {
        let c = &s.shared.counters;
        for counter in [
            &c.connections_received,
            &c.commands_processed,
            &c.rejected_connections,
            &c.keyspace_hits,
            &c.keyspace_misses,
            &c.net_input_bytes,
            &c.net_output_bytes,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        s.shared.command_stats.reset();
        s.shared.error_stats.reset();
        out.ok();
    } else if is(sub, "rewrite") {
        return Err(CmdError::fixed(
            "ERR The server is running without a config file",
        ));
    } else if is(sub, "help") {
        super::pubsub_cmds::help(
            out,
            "CONFIG",
            &[
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
            ],
        );
    }
    Ok(())
}

fn set_one(shared: &Shared, name: &[u8], value: &[u8]) -> CmdResult {
    let name = args::text(name).to_lowercase();
    let failed = |why: &str| {
        CmdError::new(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    let number = || -> Result<u64, CmdError> {
        std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| failed("argument couldn't be parsed into an integer"))
    };
    match name.as_str() {
        "requirepass" => {
            let password = args::text(value);
            shared.update_settings(|s| s.requirepass = (!password.is_empty()).then_some(password));
        }
        "maxclients" => {
            let n = usize::try_from(number()?).unwrap_or(usize::MAX);
            if n == 0 {
                return Err(failed(
                    "argument must be between 1 and 4294967295 inclusive",
                ));
            }
            shared.update_settings(|s| s.maxclients = n);
        }
        "timeout" => {
            let secs = number()?;
            shared.update_settings(|s| s.idle_timeout = Duration::from_secs(secs));
        }
        "proto-max-bulk-len" => {
            let n = usize::try_from(number()?).unwrap_or(usize::MAX);
            if n < 1024 * 1024 {
                return Err(failed("argument must be a memory value at least 1mb"));
            }
            shared.update_settings(|s| s.limits.max_bulk_len = n);
        }
        "slowlog-log-slower-than" => {
            let us = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| failed("argument couldn't be parsed into an integer"))?;
            shared.slowlog.set_slower_than_us(us);
        }
        "slowlog-max-len" => {
            let len = usize::try_from(number()?).unwrap_or(usize::MAX);
            shared.slowlog.set_max_len(len);
        }
        "tracking-table-max-keys" => {
            let max = usize::try_from(number()?).unwrap_or(usize::MAX);
            shared.tracking.set_max_keys(max);
        }
        "maxmemory-policy" => {
            const POLICIES: &[&str] = &[
                "volatile-lru",
                "volatile-lfu",
                "volatile-random",
                "volatile-ttl",
                "allkeys-lru",
                "allkeys-lfu",
                "allkeys-random",
                "noeviction",
            ];
            let policy = args::text(value).to_lowercase();
            if !POLICIES.contains(&policy.as_str()) {
                return Err(failed(&format!(
                    "argument(s) must be one of the following: {}",
                    POLICIES.join(", ")
                )));
            }
            if policy != "noeviction" {
                return Err(failed("keg does not evict keys: its policy is noeviction"));
            }
        }
        "notify-keyspace-events" => match KeyspaceEvents::parse(value) {
            Some(flags) if flags & (class::KEY_MISS | class::NEW) != 0 => {
                return Err(failed(
                    "keg does not send key-miss (m) or new-key (n) events",
                ));
            }
            Some(flags) => shared.keyspace_events.set_flags(flags),
            None => {
                return Err(failed(
                    "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
                ));
            }
        },
        n if PARAMETERS.contains(&n) => return Err(failed("can't set immutable config")),
        _ => {
            return Err(CmdError::new(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        }
    }
    Ok(())
}
