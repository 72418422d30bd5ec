//! Redis 7.0's functions: FUNCTION LOAD, DELETE, FLUSH, LIST, STATS, KILL, DUMP, RESTORE
//! and HELP, FCALL and FCALL_RO.
//!
//! A library is Lua code whose first line is `#!lua name=<library>`; loading it runs the
//! code with only `redis.register_function` and `redis.log` in reach, and the functions it
//! registers are then called by name with their keys and arguments (`function(keys, args)`),
//! inside a store transaction like a script. Libraries outlive a restart as Redis's do (in
//! its RDB and AOF): the server keeps them in the file `functions` of the store's
//! directory, in FUNCTION DUMP's format, written to a temporary name, fsynced and renamed
//! over before a change is acknowledged.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::function_payload;
use super::library::{FLAGS, FunctionMeta, NO_WRITES, metadata};
use super::{keys_and_args, vm};
use crate::engine::lock;
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

/// The file in a store's directory where the server keeps its function libraries
/// (FUNCTION LOAD), in FUNCTION DUMP's format. The store itself ignores it; copy it along
/// with the store (`kvctl backup` does) to keep the libraries.
pub const FUNCTIONS_FILE: &str = "functions";

/// One loaded library.
#[derive(Clone, Debug)]
pub(crate) struct Library {
    pub(crate) code: Arc<[u8]>,
    pub(crate) functions: Vec<FunctionMeta>,
}

/// The function running now, for FUNCTION STATS.
struct Running {
    name: String,
    command: Vec<Vec<u8>>,
    started: Instant,
}

/// The server's libraries.
pub(crate) struct Functions {
    libraries: Mutex<BTreeMap<String, Library>>,
    /// Bumped by every change: each thread's interpreter loads the libraries again.
    generation: AtomicU64,
    file: Option<PathBuf>,
    running: Mutex<Option<Running>>,
}

/// How new libraries treat those already there: FUNCTION LOAD's (refused, or replaced
/// with REPLACE) and FUNCTION RESTORE's policies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Load,
    Flush,
    Append,
    Replace,
}

impl Functions {
    /// No libraries; changes are kept in `file` (none: kept in memory only).
    pub(crate) fn new(file: Option<PathBuf>) -> Functions {
        Functions {
            libraries: Mutex::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
            file,
            running: Mutex::new(None),
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Every library's code, for an interpreter to load.
    pub(crate) fn codes(&self) -> Vec<Arc<[u8]>> {
        lock(&self.libraries)
            .values()
            .map(|l| Arc::clone(&l.code))
            .collect()
    }

    fn find(&self, name: &str) -> Option<FunctionMeta> {
        lock(&self.libraries)
            .values()
            .flat_map(|l| &l.functions)
            .find(|f| f.name == name)
            .cloned()
    }

    /// Loads the libraries kept in the file at the server's start. A file that is not a
    /// payload, or a library in it that no longer loads, is an error: nothing is dropped
    /// silently.
    pub(crate) fn load_kept(&self) -> io::Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let invalid = |message: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {message}", path.display()),
            )
        };
        let codes = function_payload::decode(&bytes).map_err(|e| invalid(e.to_string()))?;
        let mut libraries = BTreeMap::new();
        for code in codes {
            let (name, library) = check_library(&code).map_err(|e| invalid(e.text.into_owned()))?;
            libraries.insert(name, library);
        }
        *lock(&self.libraries) = libraries;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Adds `new` libraries under `policy`, refusing a function name another library has;
    /// kept in the file before the change is made.
    fn install(&self, new: Vec<(String, Library)>, policy: Policy) -> Result<(), CmdError> {
        let mut guard = lock(&self.libraries);
        let mut libraries = if policy == Policy::Flush {
            BTreeMap::new()
        } else {
            guard.clone()
        };
        for (name, library) in new {
            if libraries.contains_key(&name) {
                // FUNCTION LOAD quotes the name, FUNCTION RESTORE does not (as in Redis).
                if policy == Policy::Load {
                    return Err(CmdError::new(format!(
                        "ERR Library '{name}' already exists"
                    )));
                }
                if policy != Policy::Replace {
                    return Err(CmdError::new(format!("ERR Library {name} already exists")));
                }
                libraries.remove(&name);
            }
            for function in &library.functions {
                let taken = libraries
                    .values()
                    .flat_map(|l| &l.functions)
                    .any(|f| f.name == function.name);
                if taken {
                    return Err(CmdError::new(format!(
                        "ERR Function {} already exists",
                        function.name
                    )));
                }
            }
            libraries.insert(name, library);
        }
        self.keep(&libraries)?;
        *guard = libraries;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Replaces the libraries with what `change` leaves of them, kept in the file first.
    fn change(&self, change: impl FnOnce(&mut BTreeMap<String, Library>)) -> Result<(), CmdError> {
        let mut guard = lock(&self.libraries);
        let mut libraries = guard.clone();
        change(&mut libraries);
        self.keep(&libraries)?;
        *guard = libraries;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Writes `libraries` to the file: a temporary file, fsynced, renamed over the old one,
    /// and the directory fsynced.
    fn keep(&self, libraries: &BTreeMap<String, Library>) -> Result<(), CmdError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let payload = function_payload::encode(libraries.values().map(|l| &*l.code));
        let write = || -> io::Result<()> {
            let temporary = path.with_extension("tmp");
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&payload)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| CmdError::new(format!("ERR failed to keep the libraries: {e}")))
    }

    fn payload(&self) -> Vec<u8> {
        function_payload::encode(lock(&self.libraries).values().map(|l| &*l.code))
    }
}

/// A library's name and functions, from loading `code` in this thread's interpreter.
fn check_library(code: &[u8]) -> Result<(String, Library), CmdError> {
    let (name, body) = metadata(code).map_err(CmdError::new)?;
    let functions = vm::load_library(&body)?;
    Ok((
        name,
        Library {
            code: Arc::from(code),
            functions,
        },
    ))
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// `ERR unknown subcommand or wrong number of arguments for 'x'. Try FUNCTION HELP.`
fn syntax_error(sub: &[u8]) -> CmdError {
    CmdError::new(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(sub)
    ))
}

/// FUNCTION LOAD | DELETE | FLUSH | LIST | STATS | KILL | DUMP | RESTORE | HELP
pub(crate) fn function(_: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if let Some(e) = crate::server::table::subcommand_error("function", a) {
        return Err(e);
    }
    let functions = &shared.functions;
    let sub = a.get(1);
    if is(sub, "load") {
        let replace = a.len() == 4;
        if replace && !is(a.get(2), "replace") {
            return Err(CmdError::new(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(a.get(2))
            )));
        }
        if a.len() > 4 {
            return Err(syntax_error(sub));
        }
        let code = a.get(a.len() - 1);
        let (name, _) = metadata(code).map_err(CmdError::new)?;
        if !replace && lock(&functions.libraries).contains_key(&name) {
            return Err(CmdError::new(format!(
                "ERR Library '{name}' already exists"
            )));
        }
        let library = check_library(code)?;
        let policy = if replace {
            Policy::Replace
        } else {
            Policy::Load
        };
        functions.install(vec![library], policy)?;
        out.bulk(name.as_bytes());
    } else if is(sub, "delete") {
        let name = String::from_utf8_lossy(a.get(2)).into_owned();
        if !lock(&functions.libraries).contains_key(&name) {
            return Err(CmdError::fixed("ERR Library not found"));
        }
        functions.change(|libraries| {
            libraries.remove(&name);
        })?;
        out.ok();
    } else if is(sub, "flush") {
        if a.len() > 3 {
            return Err(syntax_error(sub));
        }
        if a.len() == 3 && !is(a.get(2), "async") && !is(a.get(2), "sync") {
            return Err(CmdError::fixed(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ));
        }
        functions.change(BTreeMap::clear)?;
        out.ok();
    } else if is(sub, "list") {
        list(functions, a, out)?;
    } else if is(sub, "stats") {
        stats(functions, &shared.scripts, out);
    } else if is(sub, "kill") {
        if lock(&functions.running).is_none() {
            return Err(CmdError::fixed(
                "NOTBUSY No scripts in execution right now.",
            ));
        }
        super::kill(&shared.scripts)?;
        out.ok();
    } else if is(sub, "dump") {
        out.bulk(&functions.payload());
    } else if is(sub, "restore") {
        let policy = match a.len() {
            3 => Policy::Append,
            4 if is(a.get(3), "flush") => Policy::Flush,
            4 if is(a.get(3), "append") => Policy::Append,
            4 if is(a.get(3), "replace") => Policy::Replace,
            4 => {
                return Err(CmdError::fixed(
                    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
                ));
            }
            _ => return Err(syntax_error(sub)),
        };
        let codes = function_payload::decode(a.get(2)).map_err(CmdError::fixed)?;
        let libraries = codes
            .iter()
            .map(|code| check_library(code))
            .collect::<Result<Vec<_>, _>>()?;
        functions.install(libraries, policy)?;
        out.ok();
    } else if is(sub, "help") {
        out.simple_lines(FUNCTION_HELP);
    } else {
        return Err(crate::server::error::unknown_subcommand(sub, "function"));
    }
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn list(functions: &Functions, a: &Args, out: &mut Reply) -> CmdResult {
    let (mut pattern, mut with_code) = (None, false);
    let mut i = 2;
    while i < a.len() {
        let word = a.get(i);
        if is(word, "withcode") && !with_code {
            with_code = true;
        } else if is(word, "libraryname") && pattern.is_none() {
            if i + 1 >= a.len() {
                return Err(CmdError::fixed("ERR library name argument was not given"));
            }
            pattern = Some(a.get(i + 1));
            i += 1;
        } else {
            return Err(CmdError::new(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(word)
            )));
        }
        i += 1;
    }
    let libraries = lock(&functions.libraries);
    let shown: Vec<(&String, &Library)> = libraries
        .iter()
        .filter(|(name, _)| {
            pattern.is_none_or(|p| crate::server::glob::matches(p, name.as_bytes()))
        })
        .collect();
    out.array(shown.len());
    for (name, library) in shown {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(library.functions.len());
        for function in &library.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(function.name.as_bytes());
            out.bulk(b"description");
            match &function.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let flags: Vec<&str> = FLAGS
                .iter()
                .enumerate()
                .filter(|(i, _)| function.flags & (1 << i) != 0)
                .map(|(_, f)| *f)
                .collect();
            out.set(flags.len());
            for flag in flags {
                out.simple(flag);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&library.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS: the function running (if any) and the engine's counts.
fn stats(functions: &Functions, scripts: &super::Scripts, out: &mut Reply) {
    out.map(2);
    out.bulk(b"running_script");
    // A function is shown once it runs, not while its FCALL loads the libraries before:
    // what STATS shows, FUNCTION KILL can stop.
    let running = lock(&functions.running);
    match running
        .as_ref()
        .filter(|_| scripts.running.load(Ordering::Relaxed))
    {
        None => out.null(),
        Some(running) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(running.name.as_bytes());
            out.bulk(b"command");
            out.array(running.command.len());
            for arg in &running.command {
                out.bulk(arg);
            }
            out.bulk(b"duration_ms");
            out.int(i64::try_from(running.started.elapsed().as_millis()).unwrap_or(i64::MAX));
        }
    }
    let libraries = lock(&functions.libraries);
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(i64::try_from(libraries.len()).unwrap_or(i64::MAX));
    out.bulk(b"functions_count");
    let count: usize = libraries.values().map(|l| l.functions.len()).sum();
    out.int(i64::try_from(count).unwrap_or(i64::MAX));
}

/// Marks a function as running (FUNCTION STATS, FUNCTION KILL) until dropped.
struct RunningGuard<'a>(&'a Functions);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.running) = None;
    }
}

fn fcall_generic(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
    read_only: bool,
) -> CmdResult {
    let name = String::from_utf8_lossy(a.get(1)).into_owned();
    let Some(meta) = shared.functions.find(&name) else {
        return Err(CmdError::fixed("ERR Function not found"));
    };
    // FCALL words a count that is not a number its own way (EVAL's is "not an integer").
    if crate::numeric::parse_i64(a.get(2)).is_none() {
        return Err(CmdError::fixed("ERR Bad number of keys provided"));
    }
    let (keys, args) = keys_and_args(a)?;
    let no_writes = meta.flags & NO_WRITES != 0;
    if read_only && !no_writes {
        return Err(CmdError::fixed(
            "ERR Can not execute a script with write flag using *_ro command.",
        ));
    }
    let functions = &shared.functions;
    *lock(&functions.running) = Some(Running {
        name: name.clone(),
        command: a.iter().map(<[u8]>::to_vec).collect(),
        started: Instant::now(),
    });
    let _running = RunningGuard(functions);
    let call = vm::Call {
        ks,
        shared,
        scripts: &shared.scripts,
        read_only: no_writes,
        events: Default::default(),
    };
    let result = vm::run_function(&call, functions, &name, &keys, &args, out);
    call.hand_events_to(out);
    result
}

/// FCALL function numkeys [key ...] [arg ...]
pub(crate) fn fcall(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    fcall_generic(ks, shared, a, out, false)
}

/// FCALL_RO: as FCALL, for a function declared `no-writes`.
pub(crate) fn fcall_ro(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    fcall_generic(ks, shared, a, out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::server::script::function_payload::BAD_PAYLOAD;

    #[test]
    fn kept_libraries_that_are_damaged_fail_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FUNCTIONS_FILE);
        std::fs::write(&path, b"not a payload").unwrap();
        let functions = Functions::new(Some(path));
        let error = functions.load_kept().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains(BAD_PAYLOAD), "{error}");
    }
}
