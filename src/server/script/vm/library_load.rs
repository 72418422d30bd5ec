//! Function libraries in a thread's interpreter: loading a library's code as FUNCTION
//! LOAD does (only `redis.register_function` and `redis.log` in reach, 500 ms at most),
//! loading every library again when they changed, and running one of their functions.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use mlua::{Function, Table, Value, Variadic};

use super::{
    Call, Invocation, RaisedReply, Vm, compile_error, error_text, execute, lua_error,
    script_memory_cap, with_vm,
};
use crate::server::error::CmdError;
use crate::server::reply::Reply;
use crate::server::script::functions::Functions;
use crate::server::script::library::{self, FunctionMeta};

/// Most time a library's code may take to load (Redis's limit).
const LOAD_TIME_LIMIT: Duration = Duration::from_millis(500);

/// Runs a library's code (its first line blanked) in this thread's interpreter, as
/// FUNCTION LOAD does: the functions it registers, or Redis's error.
pub(crate) fn load_library(body: &[u8]) -> Result<Vec<FunctionMeta>, CmdError> {
    with_vm(|vm| {
        let registered = load_in(vm, body)?;
        Ok(registered.into_iter().map(|(meta, _)| meta).collect())
    })
}

fn load_in(vm: &mut Vm, body: &[u8]) -> Result<Vec<(FunctionMeta, Function)>, CmdError> {
    let registered: RefCell<Vec<(FunctionMeta, Function)>> = RefCell::new(Vec::new());
    let raise = |message: String| mlua::Error::external(RaisedReply::new(message));
    let state = &vm.state;
    state.stop.set(false);
    state.loading.set(true);
    state.deadline.set(Some(Instant::now() + LOAD_TIME_LIMIT));
    let lua = &vm.lua;
    let outcome = lua.scope(|scope| {
        let register = scope.create_function(|lua, args: Variadic<Value>| {
            let (meta, callback) = library::registration(lua, &args).map_err(raise)?;
            let mut list = registered.borrow_mut();
            if list.iter().any(|(m, _)| m.name == meta.name) {
                return Err(raise("ERR Function already exists in the library".into()));
            }
            list.push((meta, callback));
            Ok(())
        })?;
        let (globals, go_live): (Table, Function) = vm.library_env.call(register)?;
        let chunk = lua
            .load(body)
            .set_name("@user_function")
            .set_environment(globals)
            .into_function();
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return Ok(Err(compile_error("function", e))),
        };
        script_memory_cap(lua, true);
        let result = vm.xpcall.call::<(bool, Value)>((chunk, vm.handler.clone()));
        script_memory_cap(lua, false);
        let (ok, value) = result?;
        if !ok {
            let message = match &value {
                Value::Table(t) => t.raw_get::<Option<String>>("err")?.unwrap_or_default(),
                other => error_text(lua, other.clone()),
            };
            return Ok(Err(CmdError::new(format!(
                "ERR Error registering functions: {message}"
            ))));
        }
        go_live.call::<()>(())?;
        Ok(Ok(()))
    });
    state.deadline.set(None);
    state.loading.set(false);
    outcome.map_err(lua_error)??;
    let registered = registered.into_inner();
    if registered.is_empty() {
        return Err(CmdError::fixed("ERR No functions registered"));
    }
    Ok(registered)
}

/// Loads the libraries again in this thread's interpreter if they changed since it last
/// did. A library that no longer loads (it loaded when it was added) is left out.
fn follow_libraries(vm: &mut Vm, functions: &Functions) {
    let generation = functions.generation();
    if vm.functions_generation == Some(generation) {
        return;
    }
    vm.functions.clear();
    for code in functions.codes() {
        let Ok((_, body)) = library::metadata(&code) else {
            continue;
        };
        if let Ok(registered) = load_in(vm, &body) {
            for (meta, function) in registered {
                vm.functions.insert(meta.name, function);
            }
        }
    }
    vm.functions_generation = Some(generation);
}

/// Runs the library function `name` (FCALL) with `keys` and `args`, writing its reply to
/// `out`; an error of the function is the command's error.
pub(crate) fn run_function(
    call: &Call<'_>,
    functions: &Functions,
    name: &str,
    keys: &[&[u8]],
    args: &[&[u8]],
    out: &mut Reply,
) -> Result<(), CmdError> {
    with_vm(|vm| {
        follow_libraries(vm, functions);
        let Some(function) = vm.functions.get(name).cloned() else {
            return Err(CmdError::fixed("ERR Function not found"));
        };
        execute(
            vm,
            call,
            name,
            Invocation::Function(function, keys, args),
            out,
        )
    })
}
