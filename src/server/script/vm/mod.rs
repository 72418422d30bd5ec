//! The Lua 5.1 interpreter scripts run in: one per event-loop thread, set up once with
//! Redis's script environment (the `redis` library, `KEYS` and `ARGV`, read-only globals),
//! with each script compiled once per thread and kept under its SHA-1.
//!
//! The sandbox, as Redis 7.0's: the base, table, string and math libraries, without the
//! functions that reach the file system or the process (`dofile`, `loadfile`, `print`,
//! `getfenv`, `setfenv`, `require`, `os`, `io`, `debug`); reading a global that does not
//! exist and creating one are errors; the libraries cannot be changed. A script runs as one
//! Lua call under an error handler that turns any error into Redis's `{err=...}` table with
//! the line of the script it came from.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, Variadic, VmState};

use super::Scripts;
use super::c_library::Watchdog;
use super::convert::{ReplyMode, error_table, lua_to_reply, reply_to_lua};
use crate::server::error::CmdError;
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::Event;
use crate::server::reply::{Protocol, Reply};
use crate::server::shared::Shared;
use crate::server::table::{self, Handler, flag};

mod library_load;

pub(crate) use library_load::{load_library, run_function};

/// Lua instructions between two checks of the time limit and of SCRIPT KILL.
const CHECK_EVERY: u32 = 10_000;
/// Most memory the interpreter may use: a script that builds more gets an error
/// (`not enough memory`) instead of taking the server's memory.
pub(super) const MEMORY_LIMIT: usize = 1 << 30;

/// Turns the interpreter's memory cap on while the script's own code runs, off while Rust
/// builds values for it. Under a cap, mlua wraps every value it creates in a protected
/// call that allocates a closure: that was most of what a short script cost (creating
/// KEYS, ARGV, `redis.call`'s replies). What Rust builds is sized by the request or by a
/// reply the server has already built, and counts toward the cap the script's next
/// allocation is checked against.
fn script_memory_cap(lua: &Lua, on: bool) {
    // Only fails for a state mlua did not create, which the VM is not.
    let _ = lua.set_memory_limit(if on { MEMORY_LIMIT } else { 0 });
}

/// Turns the cap off for a `redis.call` made by a running script, on again after.
struct CapOff<'a>(&'a Lua);

impl<'a> CapOff<'a> {
    fn new(lua: &'a Lua) -> CapOff<'a> {
        script_memory_cap(lua, false);
        CapOff(lua)
    }
}

impl Drop for CapOff<'_> {
    fn drop(&mut self) {
        script_memory_cap(self.0, true);
    }
}

/// The prelude's chunk name: its frames are passed over when an error's line is looked for.
const PRELUDE_NAME: &str = "=prelude";

/// Field of an error table that says the error was counted in INFO errorstats already,
/// where the command failed: a script that returns or raises the table does not count it
/// again. Redis's name; scripts see it (`redis.pcall` tables carry it), as in Redis.
const COUNTED_FIELD: &str = "ignore_error_stats_update";

/// Why a `redis.call` / `redis.pcall` failed: the error reply's message, and whether it
/// was counted in INFO errorstats (every failure but a bad argument list is, when it
/// happens, as in Redis).
#[derive(Debug)]
struct CallError {
    message: Vec<u8>,
    counted: bool,
}

impl CallError {
    /// A failure counted where it happened.
    fn counted(message: Vec<u8>) -> CallError {
        CallError {
            message,
            counted: true,
        }
    }

    /// A failure not counted yet.
    fn uncounted(message: Vec<u8>) -> CallError {
        CallError {
            message,
            counted: false,
        }
    }

    /// The table `redis.pcall` returns for it.
    fn table(&self, lua: &Lua) -> mlua::Result<Value> {
        let table = error_table(lua, &self.message)?;
        if let Value::Table(t) = &table
            && self.counted
        {
            t.raw_set(COUNTED_FIELD, true)?;
        }
        Ok(table)
    }
}

/// A failed `redis.call`, raised as an error: the command's error reply.
#[derive(Debug)]
struct RaisedReply {
    message: String,
    counted: bool,
}

impl RaisedReply {
    /// An error a script raises through keg's own code, not counted yet.
    fn new(message: String) -> RaisedReply {
        RaisedReply {
            message,
            counted: false,
        }
    }

    fn from_call(e: CallError) -> RaisedReply {
        RaisedReply {
            message: String::from_utf8_lossy(&e.message).into_owned(),
            counted: e.counted,
        }
    }
}

impl std::fmt::Display for RaisedReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RaisedReply {}

/// The reply a failed `redis.call` raised, if `e` is one.
fn raised_reply(e: &mlua::Error) -> Option<&RaisedReply> {
    match e {
        mlua::Error::CallbackError { cause, .. } => raised_reply(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<RaisedReply>(),
        _ => None,
    }
}

/// The message of the reply a failed `redis.call` raised, if `e` is one.
fn raised_message(e: &mlua::Error) -> Option<String> {
    raised_reply(e).map(|r| r.message.clone())
}

/// The environment, in Lua: run once with the real globals and the Rust functions it
/// needs. Returns the table scripts see as their globals, and the `redis` table.
const PRELUDE: &str = r##"
local sha1hex, setresp, error_message, stopping, cjson, bit, cmsgpack, struct, acl_check_cmd,
    version = ...
local error, type, rawget, tostring, setmetatable, getmetatable, setfenv, pcall, select =
    error, type, rawget, tostring, setmetatable, getmetatable, setfenv, pcall, select
local G = _G

local function readonly(t)
    return setmetatable({}, {
        __index = t,
        __newindex = function() error("Attempt to modify a readonly table", 2) end,
        __metatable = false,
    })
end

-- redis.call and redis.pcall are set for each run (they reach that run's transaction).
-- They, sha1hex and setresp are Rust functions: an error they raise points at the
-- script's line even from a tail call (`return redis.call(...)`), as from Redis's C.
local redis = {
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
}
function redis.error_reply(message)
    if type(message) ~= "string" then
        return { err = "ERR wrong number or type of arguments" }
    end
    if message:sub(1, 1) == "-" then message = message:sub(2) end
    return { err = message }
end
function redis.status_reply(message)
    if type(message) ~= "string" then
        return { err = "ERR wrong number or type of arguments" }
    end
    return { ok = message }
end
redis.sha1hex = sha1hex
redis.setresp = setresp
redis.acl_check_cmd = acl_check_cmd
redis.REDIS_VERSION = version
redis.REDIS_VERSION_NUM = tonumber(version:match("^(%d+)")) * 65536
    + tonumber(version:match("^%d+%.(%d+)")) * 256 + tonumber(version:match("(%d+)$"))
function redis.log(level, ...)
    if select("#", ...) == 0 then
        error({ err = "ERR redis.log() requires two arguments or more." })
    end
    if type(level) ~= "number" or level < 0 or level > 3 then
        error({ err = "ERR Invalid debug level." })
    end
end
function redis.replicate_commands() return true end
function redis.set_repl() end
function redis.breakpoint() return false end
function redis.debug() end

-- As Redis 7.0's pcall: a failed redis.call (or an {err=...} error) is caught as its
-- message.
local function caught(ok, ...)
    if ok then return true, ... end
    -- A script being stopped (time limit, SCRIPT KILL) cannot catch that.
    if stopping() then error((...), 0) end
    local message = error_message((...))
    if message ~= nil then return false, message end
    return false, ...
end
G.pcall = function(f, ...) return caught(pcall(f, ...)) end

local env
local function sandboxed(loader)
    return function(...)
        local f, message = loader(...)
        if f then setfenv(f, env) end
        return f, message
    end
end
G.loadstring = sandboxed(G.loadstring)
G.load = sandboxed(G.load)
G.setmetatable = function(t, mt)
    if getmetatable(t) == false then
        error({ err = "ERR Attempt to modify a readonly table" })
    end
    return setmetatable(t, mt)
end
for _, name in ipairs({ "dofile", "loadfile", "print", "getfenv", "setfenv", "module",
                        "require", "newproxy", "gcinfo" }) do
    G[name] = nil
end
G.redis = readonly(redis)
G.cjson = readonly(cjson)
G.bit = readonly(bit)
G.cmsgpack = readonly(cmsgpack)
G.struct = readonly(struct)
for _, name in ipairs({ "string", "table", "math" }) do
    G[name] = readonly(G[name])
end
-- A read-only table whose fields are what `lookup` finds: a missing one is an error naming
-- it as a missing global (scripts' globals, and a function library's while it loads).
local function guarded(lookup)
    return setmetatable({}, {
        __index = function(_, name)
            local value = lookup(name)
            if value == nil then
                error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
            end
            return value
        end,
        __newindex = function() error("Attempt to modify a readonly table", 2) end,
        __metatable = false,
    })
end
env = guarded(function(name) return rawget(G, name) end)
G._G = env

-- Functions (FUNCTION LOAD): a library's code runs with only `redis.register_function`,
-- `redis.log` and the version in reach (anything else is a missing global, as in Redis);
-- once it has loaded, its functions see what scripts see, without KEYS and ARGV.
local function library_env(register_function)
    local api = {
        register_function = register_function, log = redis.log,
        LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
        REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    }
    local load_redis = guarded(function(name) return rawget(api, name) end)
    local live = false
    local library = guarded(function(name)
        if not live then
            if name == "redis" then return load_redis end
            return nil
        end
        if name == "KEYS" or name == "ARGV" then return nil end
        return rawget(G, name)
    end)
    return library, function() live = true end
end
-- FCALL: the function with its keys and arguments, its errors through `handler`.
local function call_function(f, keys, args, handler)
    return xpcall(function() return f(keys, args) end, handler)
end
return env, redis, library_env, call_function
"##;

/// One thread's interpreter.
struct Vm {
    lua: Lua,
    /// The real globals (KEYS and ARGV are set in it before each run).
    globals: Table,
    /// What scripts see as their globals: reads through to `globals`, refuses writes.
    env: Table,
    /// The `redis` library table behind its read-only view: `call` and `pcall` are set in
    /// it for each run.
    redis: Table,
    /// The running script's state, shared with the hook and the Rust functions.
    state: Rc<RunState>,
    xpcall: Function,
    handler: Function,
    /// Makes a library's globals (from its `register_function`): see the prelude.
    library_env: Function,
    /// Calls a function with its keys and arguments under an error handler.
    call_function: Function,
    /// The libraries' functions by name, as of the libraries' `functions_generation`.
    functions: HashMap<String, Function>,
    functions_generation: Option<u64>,
    /// Compiled scripts by SHA-1, as of the script cache's `generation`.
    compiled: HashMap<String, Function>,
    /// SHA-1s of the bodies EVAL sent, as of `generation`: a script sent again is found by
    /// its bytes instead of hashed again.
    shas: HashMap<Box<[u8]>, String>,
    generation: u64,
}

/// The running script's state, set for each run and read by the instruction hook and the
/// Rust functions (each made once per interpreter).
#[derive(Default)]
struct RunState {
    /// The script chose RESP3 replies from `redis.call` (`redis.setresp(3)`).
    resp3: Cell<bool>,
    /// Set by the hook once the running script is being stopped: `pcall` re-raises.
    stop: Cell<bool>,
    /// When the running script is past the time limit; `None` between runs.
    deadline: Cell<Option<Instant>>,
    /// The time limit, for the error message.
    limit_ms: Cell<u128>,
    /// A library's code is loading (FUNCTION LOAD): past the deadline it fails as Redis's
    /// load timeout does.
    loading: Cell<bool>,
    /// The running script's cache, whose `kill_requested` SCRIPT KILL sets.
    scripts: RefCell<Option<Arc<Scripts>>>,
}

impl RunState {
    /// Every `CHECK_EVERY` instructions: an error once the script is to stop. Once
    /// stopping, every check raises again, so a `pcall` in the script cannot go on.
    fn check(&self) -> mlua::Result<VmState> {
        let killed = (self.scripts.borrow().as_ref())
            .is_some_and(|s| s.kill_requested.load(Ordering::Relaxed));
        if self.loading.get() && self.deadline.get().is_some_and(|d| Instant::now() >= d) {
            return Err(mlua::Error::external(RaisedReply::new(
                "ERR FUNCTION LOAD timeout".to_string(),
            )));
        }
        let reason = if killed {
            "Script killed by user with SCRIPT KILL...".to_string()
        } else if self.stop.get() || self.deadline.get().is_some_and(|d| Instant::now() >= d) {
            format!(
                "Script stopped: it ran past the server's script time limit ({} ms)",
                self.limit_ms.get()
            )
        } else {
            return Ok(VmState::Continue);
        };
        self.stop.set(true);
        Err(mlua::Error::runtime(reason))
    }
}

thread_local! {
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

fn new_vm() -> mlua::Result<Vm> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )?;
    let globals = lua.globals();
    let state = Rc::new(RunState::default());
    let raise = |message: &str| mlua::Error::external(RaisedReply::new(message.to_string()));
    let sha1hex = lua.create_function(move |lua, args: Variadic<Value>| {
        let [value] = args.as_slice() else {
            return Err(raise("ERR wrong number of arguments"));
        };
        let text = lua
            .coerce_string(value.clone())?
            .map(|s| s.as_bytes().to_vec());
        Ok(super::sha1::sha1_hex(&text.unwrap_or_default()))
    })?;
    let chosen = Rc::clone(&state);
    let setresp = lua.create_function(move |_, args: Variadic<Value>| {
        let version = match args.as_slice() {
            [Value::Integer(n)] => *n,
            [Value::Number(n)] if n.fract() == 0.0 => *n as i64,
            _ => 0,
        };
        if version != 2 && version != 3 {
            return Err(raise("ERR RESP version must be 2 or 3."));
        }
        chosen.resp3.set(version == 3);
        Ok(())
    })?;
    let error_message = lua.create_function(|_, error: Value| {
        Ok(match error {
            Value::Error(e) => Some(raised_message(&e).unwrap_or_else(|| root_message(&e))),
            Value::Table(t) => match t.raw_get::<Value>("err")? {
                Value::String(s) => Some(s.to_string_lossy()),
                _ => None,
            },
            _ => None,
        })
    })?;
    let watched = Rc::clone(&state);
    let stopping = lua.create_function(move |_, ()| Ok(watched.stop.get()))?;
    let watched = Rc::clone(&state);
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(CHECK_EVERY),
        move |_, _| watched.check(),
    )?;
    let watched = Rc::clone(&state);
    let watchdog: Watchdog = Rc::new(move || watched.check().map(|_| ()));
    let (env, redis, library_env, call_function): (Table, Table, Function, Function) =
        lua.load(PRELUDE).set_name(PRELUDE_NAME).call((
            sha1hex,
            setresp,
            error_message,
            stopping,
            super::cjson::library(&lua, &watchdog)?,
            super::bit::library(&lua)?,
            super::cmsgpack::library(&lua, &watchdog)?,
            super::lua_struct::library(&lua)?,
            lua.create_function(|lua, args: Variadic<Value>| {
                acl_check_cmd(lua, &args)
                    .map_err(|e| mlua::Error::external(RaisedReply::from_call(e)))
            })?,
            crate::server::commands::connection::REDIS_VERSION,
        ))?;
    let xpcall: Function = globals.raw_get("xpcall")?;
    let handler = lua.create_function(error_handler)?;
    Ok(Vm {
        lua,
        globals,
        env,
        redis,
        state,
        xpcall,
        handler,
        library_env,
        call_function,
        functions: HashMap::new(),
        functions_generation: None,
        compiled: HashMap::new(),
        shas: HashMap::new(),
        generation: 0,
    })
}

/// The message of an error Lua raised as something other than a table.
fn error_text(lua: &Lua, value: Value) -> String {
    match value {
        Value::Error(e) => root_message(&e),
        Value::Nil => "nil".to_string(),
        other => match lua.coerce_string(other.clone()) {
            Ok(Some(s)) => s.to_string_lossy(),
            _ => other.type_name().to_string(),
        },
    }
}

/// The innermost message of an error from Rust (a hook or a callback).
fn root_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => root_message(cause),
        mlua::Error::RuntimeError(message) => message.clone(),
        other => other.to_string(),
    }
}

/// Redis's `__redis__err__handler`: any error becomes `{err=..., source=..., line=...}`,
/// the line being where the script was when it failed: the function that raised it, or
/// its caller when that is a C function (`error`, `redis.call`). The prelude's own
/// functions (read-only tables, the global guard) stand for Redis's C code and are passed
/// over too.
fn error_handler(lua: &Lua, error: Value) -> mlua::Result<Table> {
    let table = match error {
        Value::Table(t) => t,
        Value::Error(ref e) if let Some(raised) = raised_reply(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", raised.message.as_str())?;
            if raised.counted {
                t.raw_set(COUNTED_FIELD, true)?;
            }
            t
        }
        other => {
            let t = lua.create_table()?;
            t.raw_set("err", format!("ERR {}", error_text(lua, other)))?;
            t
        }
    };
    for level in 1..64 {
        let Some((what, source, line)) = lua.inspect_stack(level, |d| {
            let source = d.source();
            (
                source.what,
                source.source.map(|s| s.into_owned()),
                d.current_line(),
            )
        }) else {
            break;
        };
        if what == "C" || source.as_deref() == Some(PRELUDE_NAME) {
            continue;
        }
        if let (Some(source), Some(line)) = (source, line) {
            table.raw_set("source", source)?;
            table.raw_set("line", line)?;
        }
        break;
    }
    Ok(table)
}

/// One script call: what its `redis.call`s run against.
pub(crate) struct Call<'a> {
    pub(crate) ks: &'a dyn KeySpace,
    pub(crate) shared: &'a Shared,
    pub(crate) scripts: &'a Arc<Scripts>,
    /// EVAL_RO / EVALSHA_RO: commands that write are refused.
    pub(crate) read_only: bool,
    /// The keyspace events of the commands the script ran, for the script's reply.
    pub(crate) events: RefCell<Vec<Event>>,
}

impl Call<'_> {
    /// Moves the keyspace events of the script's commands to `out`, the reply of the
    /// command that ran it (published when it commits, whether or not the script failed
    /// after them: its writes stay, as in Redis).
    pub(crate) fn hand_events_to(&self, out: &mut Reply) {
        for event in self.events.take() {
            out.note_event(event);
        }
    }
}

/// Runs the script `body` (named `sha`) with `keys` and `argv`, writing its reply to
/// `out`; an error of the script is the command's error.
/// Compiles `body` (SCRIPT LOAD), keeping it for the runs to come; a script that does not
/// compile is refused with Redis's error.
pub(crate) fn compile_only(scripts: &Scripts, sha: &str, body: &[u8]) -> Result<(), CmdError> {
    with_vm(|vm| compile(vm, sha, body, scripts.generation()).map(drop))
}

fn with_vm<R>(f: impl FnOnce(&mut Vm) -> Result<R, CmdError>) -> Result<R, CmdError> {
    VM.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(new_vm().map_err(|e| CmdError::new(format!("ERR {e}")))?);
        }
        let Some(vm) = slot.as_mut() else {
            return Err(CmdError::fixed("ERR scripting is unavailable"));
        };
        f(vm)
    })
}

pub(crate) fn run(
    call: &Call<'_>,
    sha: &str,
    body: &[u8],
    keys: &[&[u8]],
    argv: &[&[u8]],
    out: &mut Reply,
) -> Result<(), CmdError> {
    with_vm(|vm| run_in(vm, call, sha, body, keys, argv, out))
}

/// The SHA-1 of a body EVAL sent, kept in the script cache (for EVALSHA) the first time
/// this thread sees it since the last SCRIPT FLUSH.
pub(crate) fn register(scripts: &Scripts, body: &[u8]) -> Result<String, CmdError> {
    with_vm(|vm| {
        vm.follow_flush(scripts.generation());
        if let Some(sha) = vm.shas.get(body) {
            return Ok(sha.clone());
        }
        let sha = scripts.add(body);
        vm.shas.insert(body.into(), sha.clone());
        Ok(sha)
    })
}

impl Vm {
    /// Forgets what was compiled and hashed before a SCRIPT FLUSH.
    fn follow_flush(&mut self, generation: u64) {
        if self.generation != generation {
            self.compiled.clear();
            self.shas.clear();
            self.generation = generation;
        }
    }
}

fn compile(vm: &mut Vm, sha: &str, body: &[u8], generation: u64) -> Result<Function, CmdError> {
    vm.follow_flush(generation);
    if let Some(f) = vm.compiled.get(sha) {
        return Ok(f.clone());
    }
    let function = vm
        .lua
        .load(body)
        .set_name("@user_script")
        .set_environment(vm.env.clone())
        .into_function()
        .map_err(|e| compile_error("script (new function)", e))?;
    vm.compiled.insert(sha.to_string(), function.clone());
    Ok(function)
}

/// Redis's error for code that does not compile: `ERR Error compiling {what}: ...`.
fn compile_error(what: &str, e: mlua::Error) -> CmdError {
    let message = match e {
        mlua::Error::SyntaxError { message, .. } => message,
        other => root_message(&other),
    };
    CmdError::new(format!("ERR Error compiling {what}: {message}"))
}

fn strings(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        table.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(table)
}

fn lua_error(e: mlua::Error) -> CmdError {
    CmdError::new(format!("ERR {}", root_message(&e)))
}

fn run_in(
    vm: &mut Vm,
    call: &Call<'_>,
    sha: &str,
    body: &[u8],
    keys: &[&[u8]],
    argv: &[&[u8]],
    out: &mut Reply,
) -> Result<(), CmdError> {
    let function = compile(vm, sha, body, call.scripts.generation())?;
    let lua = &vm.lua;
    vm.globals
        .raw_set("KEYS", strings(lua, keys).map_err(lua_error)?)
        .map_err(lua_error)?;
    vm.globals
        .raw_set("ARGV", strings(lua, argv).map_err(lua_error)?)
        .map_err(lua_error)?;
    execute(vm, call, sha, Invocation::Script(function), out)
}

/// What a run calls: a script's compiled body, or a library's function with its keys and
/// arguments.
enum Invocation<'a> {
    Script(Function),
    Function(Function, &'a [&'a [u8]], &'a [&'a [u8]]),
}

/// Runs `invocation` as the script or function `label` (named in its errors), writing its
/// reply to `out`.
fn execute(
    vm: &mut Vm,
    call: &Call<'_>,
    label: &str,
    invocation: Invocation<'_>,
    out: &mut Reply,
) -> Result<(), CmdError> {
    let lua = &vm.lua;
    let invocation = match invocation {
        Invocation::Script(f) => (f, None),
        Invocation::Function(f, keys, args) => {
            let keys = strings(lua, keys).map_err(lua_error)?;
            let args = strings(lua, args).map_err(lua_error)?;
            (f, Some((keys, args)))
        }
    };
    let _running = call.scripts.start();
    call.shared.monitors.script_starts();
    let state = &vm.state;
    state.resp3.set(false);
    state.stop.set(false);
    state
        .deadline
        .set(Some(Instant::now() + call.shared.script_time_limit));
    state
        .limit_ms
        .set(call.shared.script_time_limit.as_millis());
    *state.scripts.borrow_mut() = Some(Arc::clone(call.scripts));
    let outcome = lua.scope(|scope| {
        let resp3 = move || state.resp3.get();
        let redis_call = scope.create_function(move |lua, args: Variadic<Value>| {
            run_command(lua, call, resp3(), &args)
                .map_err(|e| mlua::Error::external(RaisedReply::from_call(e)))
        })?;
        let redis_pcall =
            scope.create_function(move |lua, args: Variadic<Value>| {
                match run_command(lua, call, resp3(), &args) {
                    Ok(value) => Ok(value),
                    Err(e) => e.table(lua),
                }
            })?;
        vm.redis.raw_set("call", redis_call)?;
        vm.redis.raw_set("pcall", redis_pcall)?;
        script_memory_cap(lua, true);
        let result = match invocation {
            (f, None) => vm.xpcall.call::<(bool, Value)>((f, vm.handler.clone())),
            (f, Some((keys, args))) => {
                vm.call_function
                    .call::<(bool, Value)>((f, keys, args, vm.handler.clone()))
            }
        };
        script_memory_cap(lua, false);
        vm.redis.raw_set("call", Value::Nil)?;
        vm.redis.raw_set("pcall", Value::Nil)?;
        result
    });
    state.deadline.set(None);
    state.scripts.borrow_mut().take();
    let (ok, value) = outcome.map_err(lua_error)?;
    if !ok {
        return Err(script_error(&value, label));
    }
    let resp3_script = state.resp3.get();
    lua_to_reply(&value, ReplyMode { resp3_script }, out);
    Ok(())
}

/// The reply for an error the script raised: its message, then where it came from.
fn script_error(value: &Value, sha: &str) -> CmdError {
    let Value::Table(table) = value else {
        // The handler itself failed (out of memory): Lua hands back its own error.
        let text = match value {
            Value::String(s) => s.to_string_lossy(),
            Value::Error(e) => root_message(e),
            _ => "execution failure".to_string(),
        };
        return CmdError::new(format!("ERR Error running script: {text}"));
    };
    let message = match table.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.to_string_lossy(),
        _ => "ERR unknown error".to_string(),
    };
    let source = table.raw_get::<Option<String>>("source").ok().flatten();
    let line = table.raw_get::<Option<i64>>("line").ok().flatten();
    let message = message.strip_prefix('-').unwrap_or(&message).to_string();
    let text = match (source, line) {
        (Some(source), Some(line)) => format!("{message} script: {sha}, on {source}:{line}."),
        _ => message,
    };
    if counted_before(table) {
        CmdError::counted_before(text)
    } else {
        CmdError::new(text)
    }
}

/// Whether an error table says its error was counted already (`COUNTED_FIELD` is `true`;
/// any other value does not count, as in Redis).
pub(crate) fn counted_before(table: &Table) -> bool {
    matches!(
        table.raw_get::<Value>(COUNTED_FIELD),
        Ok(Value::Boolean(true))
    )
}

/// The commands a script may not call: those that wait, manage the connection or the
/// server, or run scripts.
fn allowed(spec: &table::Spec) -> bool {
    match spec.handler {
        Handler::Data(_) => {
            !spec.has(flag::BLOCKING)
                && !matches!(
                    spec.name,
                    "eval"
                        | "evalsha"
                        | "eval_ro"
                        | "evalsha_ro"
                        | "script"
                        | "fcall"
                        | "fcall_ro"
                        | "function"
                )
        }
        Handler::Session(_) => {
            matches!(spec.name, "ping" | "echo" | "time" | "publish" | "spublish")
        }
    }
}

/// Runs one `redis.call` / `redis.pcall`: the command's reply as a Lua value, or the
/// error it (or the checks before it) answered.
fn run_command(
    lua: &Lua,
    call: &Call<'_>,
    resp3: bool,
    values: &[Value],
) -> Result<Value, CallError> {
    let _cap_off = CapOff::new(lua);
    let args = command_args(lua, values).map_err(CallError::uncounted)?;
    let refused = |message: &str| {
        // Counted now, as Redis counts a script's refused call, even if pcall catches it.
        call.shared.error_stats.count(message.as_bytes());
        CallError::counted(message.as_bytes().to_vec())
    };
    let Some(spec) = table::lookup(args.get(0)) else {
        return Err(refused("ERR Unknown Redis command called from script"));
    };
    if !spec.arity_ok(args.len()) {
        return Err(refused(
            "ERR Wrong number of args calling Redis command from script",
        ));
    }
    if !allowed(spec) {
        return Err(refused("ERR This Redis command is not allowed from script"));
    }
    if spec.has(flag::WRITE) {
        if call.read_only {
            return Err(refused(
                "ERR Write commands are not allowed from read-only scripts.",
            ));
        }
        call.scripts.wrote.store(true, Ordering::Relaxed);
    }
    let protocol = if resp3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    // The command's errors are counted as it writes them.
    let mut reply = Reply::counting(protocol, Arc::clone(&call.shared.error_stats));
    let started = std::time::Instant::now();
    match spec.handler {
        Handler::Data(handler) => table::run_data(handler, call.ks, call.shared, &args, &mut reply),
        Handler::Session(_) => session_command(spec.name, call.shared, &args, &mut reply),
    }
    // Counted in INFO commandstats like a client's call, as Redis counts a script's.
    (call.shared.command_stats).record_reply(spec, &args, started.elapsed(), &mut reply, 0);
    call.events.borrow_mut().append(&mut reply.take_events());
    call.shared.monitors.feed_from_script(spec, &args);
    let bytes = reply.bytes();
    if let Some(error) = bytes.strip_prefix(b"-") {
        return Err(CallError::counted(
            error.strip_suffix(b"\r\n").unwrap_or(error).to_vec(),
        ));
    }
    reply_to_lua(lua, bytes)
        .map_err(|e| CallError::uncounted(format!("ERR {}", root_message(&e)).into_bytes()))
}

/// The arguments of a `redis.call` (or `redis.acl_check_cmd`): strings, and numbers as Lua
/// writes them; Redis's error for anything else or for none.
fn command_args(lua: &Lua, values: &[Value]) -> Result<Args, Vec<u8>> {
    let text = |s: &str| s.as_bytes().to_vec();
    if values.is_empty() {
        return Err(text(
            "ERR Please specify at least one argument for this redis lib call",
        ));
    }
    let mut args = Args::new();
    for value in values {
        let bytes = match value {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(_) | Value::Number(_) => match lua.coerce_string(value.clone()) {
                Ok(Some(s)) => s.as_bytes().to_vec(),
                _ => Vec::new(),
            },
            _ => {
                return Err(text(
                    "ERR Lua redis lib command arguments must be strings or integers",
                ));
            }
        };
        args.push(&bytes);
    }
    Ok(args)
}

/// `redis.acl_check_cmd(command, ...)`: whether the user may run the command. Keg has no
/// ACLs, so true for any command (or container subcommand) it knows; Redis's error for
/// one it does not.
fn acl_check_cmd(lua: &Lua, values: &[Value]) -> Result<bool, CallError> {
    let args = command_args(lua, values).map_err(CallError::uncounted)?;
    let known = table::lookup(args.get(0))
        .is_some_and(|spec| args.len() < 2 || !table::unknown_subcommand(spec.name, args.get(1)));
    if !known {
        return Err(CallError::uncounted(
            b"ERR Invalid command passed to redis.acl_check_cmd()".to_vec(),
        ));
    }
    Ok(true)
}

/// The connection-level commands a script may call, which need no connection.
fn session_command(name: &str, shared: &Shared, args: &Args, out: &mut Reply) {
    match name {
        "ping" if args.len() > 2 => out.error("ERR wrong number of arguments for 'ping' command"),
        "ping" if args.len() == 2 => out.bulk(args.get(1)),
        "ping" => out.simple("PONG"),
        "echo" => out.bulk(args.get(1)),
        "time" => crate::server::commands::server_cmds::write_time(out),
        "publish" => out.count(shared.pubsub.publish(args.get(1), args.get(2))),
        "spublish" => out.count(shared.pubsub.publish_shard(args.get(1), args.get(2))),
        _ => out.error("ERR This Redis command is not allowed from script"),
    }
}
