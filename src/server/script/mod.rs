//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as Redis 7.0 serves them.
//!
//! A script runs inside one store transaction (EXEC's, a pipelined turn's, or its own): every
//! command it calls sees the writes before it, no other client's command runs in between,
//! and its writes are appended together and acknowledged under the sync policy like any
//! write. A script that fails part way keeps the writes it made before the error, as in
//! Redis. Scripts are kept by SHA-1 until SCRIPT FLUSH; each event-loop thread compiles a
//! script once (`vm`).
//!
//! Where keg differs (docs/server.md): a script that runs longer than the server's script
//! time limit (default 5 s) is stopped with an error, where Redis lets it run and answers
//! BUSY to everyone else; a script may call the data commands and PING, ECHO, TIME and
//! PUBLISH (not INFO, CLIENT, CONFIG and the like). The libraries Redis adds to Lua are
//! there, each with Redis's bytes and errors: `cjson`, `bit`, `cmsgpack` and `struct`.

mod bit;
mod c_library;
mod cjson;
mod cmsgpack;
mod convert;
mod function_payload;
pub(crate) mod functions;
mod library;
mod lua_struct;
mod sha1;
mod vm;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::engine::lock;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_INTEGER};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// The server's scripts, and the one running (if any).
#[derive(Default)]
pub(crate) struct Scripts {
    /// Script bodies by lowercase hex SHA-1.
    bodies: Mutex<HashMap<String, Arc<[u8]>>>,
    /// Bumped by SCRIPT FLUSH: the threads drop what they compiled before.
    generation: AtomicU64,
    running: AtomicBool,
    /// The running script has called a command that writes (SCRIPT KILL refuses then).
    wrote: AtomicBool,
    kill_requested: AtomicBool,
}

/// Marks a script as running until dropped.
struct Running<'a>(&'a Scripts);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Relaxed);
        self.0.kill_requested.store(false, Ordering::Relaxed);
    }
}

impl Scripts {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn start(&self) -> Running<'_> {
        self.wrote.store(false, Ordering::Relaxed);
        self.kill_requested.store(false, Ordering::Relaxed);
        self.running.store(true, Ordering::Relaxed);
        Running(self)
    }

    /// Keeps `body` under its SHA-1, and returns that.
    fn add(&self, body: &[u8]) -> String {
        let sha = sha1::sha1_hex(body);
        self.keep(&sha, body);
        sha
    }

    /// Keeps `body` under `sha`, its SHA-1 (already computed).
    fn keep(&self, sha: &str, body: &[u8]) {
        lock(&self.bodies)
            .entry(sha.to_string())
            .or_insert_with(|| Arc::from(body));
    }

    fn get(&self, sha: &str) -> Option<Arc<[u8]>> {
        lock(&self.bodies).get(sha).cloned()
    }

    /// How many scripts are kept (INFO's `number_of_cached_scripts`).
    pub(crate) fn len(&self) -> usize {
        lock(&self.bodies).len()
    }
}

/// A script call's `KEYS` and `ARGV`.
type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// The keys and arguments after `numkeys` (at position 2), with Redis's errors.
fn keys_and_args(a: &Args) -> Result<KeysAndArgs<'_>, CmdError> {
    let numkeys = crate::numeric::parse_i64(a.get(2)).ok_or(NOT_INTEGER)?;
    let available = a.len() - 3;
    if numkeys > i64::try_from(available).unwrap_or(i64::MAX) {
        return Err(CmdError::fixed(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let Ok(numkeys) = usize::try_from(numkeys) else {
        return Err(CmdError::fixed("ERR Number of keys can't be negative"));
    };
    let rest: Vec<&[u8]> = a.iter().skip(3).collect();
    let (keys, argv) = rest.split_at(numkeys);
    Ok((keys.to_vec(), argv.to_vec()))
}

fn run_body(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    sha: &str,
    body: &[u8],
    read_only: bool,
) -> CmdResult {
    let (keys, argv) = keys_and_args(a)?;
    let call = vm::Call {
        ks,
        shared,
        scripts: &shared.scripts,
        read_only,
        events: Default::default(),
    };
    let result = vm::run(&call, sha, body, &keys, &argv, out);
    call.hand_events_to(out);
    result
}

fn eval_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    read_only: bool,
) -> CmdResult {
    keys_and_args(a)?;
    let body = a.get(1);
    let sha = vm::register(&shared.scripts, body)?;
    run_body(ks, shared, a, out, &sha, body, read_only)
}

fn evalsha_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    read_only: bool,
) -> CmdResult {
    let sha = String::from_utf8_lossy(a.get(1)).to_ascii_lowercase();
    let Some(body) = shared.scripts.get(&sha) else {
        return Err(CmdError::fixed(
            "NOSCRIPT No matching script. Please use EVAL.",
        ));
    };
    run_body(ks, shared, a, out, &sha, &body, read_only)
}

/// EVAL script numkeys [key ...] [arg ...]
pub(crate) fn eval(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    eval_generic(ks, shared, a, out, false)
}

/// EVAL_RO: as EVAL; the script may not call commands that write.
pub(crate) fn eval_ro(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    eval_generic(ks, shared, a, out, true)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
pub(crate) fn evalsha(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    evalsha_generic(ks, shared, a, out, false)
}

/// EVALSHA_RO: as EVALSHA; the script may not call commands that write.
pub(crate) fn evalsha_ro(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    evalsha_generic(ks, shared, a, out, true)
}

/// SCRIPT KILL and FUNCTION KILL: asks the running script (or function) to stop, unless
/// it has written.
fn kill(scripts: &Scripts) -> CmdResult {
    if !scripts.running.load(Ordering::Relaxed) {
        return Err(CmdError::fixed(
            "NOTBUSY No scripts in execution right now.",
        ));
    }
    if scripts.wrote.load(Ordering::Relaxed) {
        return Err(CmdError::fixed(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        ));
    }
    scripts.kill_requested.store(true, Ordering::Relaxed);
    Ok(())
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// SCRIPT LOAD | EXISTS | FLUSH | KILL | HELP
pub(crate) fn script(_: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = crate::server::table::subcommand_error("script", a) {
        return Err(e);
    }
    let scripts = &shared.scripts;
    let sub = a.get(1);
    if is(sub, "load") {
        let body = a.get(2);
        // Compiled here as EVAL would, so that a script that does not compile is refused
        // now rather than at its first EVALSHA.
        let sha = sha1::sha1_hex(body);
        vm::compile_only(scripts, &sha, body)?;
        scripts.keep(&sha, body);
        out.bulk(sha.as_bytes());
    } else if is(sub, "exists") {
        out.array(a.len() - 2);
        for sha in a.iter().skip(2) {
            let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
            out.int(i64::from(scripts.get(&sha).is_some()));
        }
    } else if is(sub, "flush") {
        if a.len() > 3 || (a.len() == 3 && !is(a.get(2), "async") && !is(a.get(2), "sync")) {
            return Err(CmdError::fixed(
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            ));
        }
        lock(&scripts.bodies).clear();
        scripts.generation.fetch_add(1, Ordering::Relaxed);
        out.ok();
    } else if is(sub, "kill") {
        kill(scripts)?;
        out.ok();
    } else if is(sub, "help") {
        out.simple_lines(SCRIPT_HELP);
    } else {
        return Err(crate::server::error::unknown_subcommand(sub, "script"));
    }
    Ok(())
}
