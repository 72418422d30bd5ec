//! What the libraries Redis compiles into its Lua in C (`cjson`, `bit`) share here: their
//! errors, worded as the C API words them.

use mlua::{Lua, Value};

/// An error of a library function, to pass through [`at_caller`].
pub(super) fn runtime(message: &str) -> mlua::Error {
    mlua::Error::RuntimeError(message.to_string())
}

/// A C library raises its errors with `luaL_error`, which starts the message with where the
/// calling Lua code is (`user_script:1: `), or with nothing when a C function (`pcall`)
/// called it. Other errors (out of memory) pass unchanged.
pub(super) fn at_caller(lua: &Lua, e: mlua::Error) -> mlua::Error {
    let mlua::Error::RuntimeError(message) = e else {
        return e;
    };
    let place = lua
        .inspect_stack(1, |d| {
            let line = d.current_line()?;
            let source = d.source().short_src?.into_owned();
            Some(format!("{source}:{line}: "))
        })
        .flatten()
        .unwrap_or_default();
    mlua::Error::RuntimeError(format!("{place}{message}"))
}

/// Lua's name for a value's type (`lua_typename`).
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// `luaL_argerror`: argument `n` (from 1) of the running library function is bad. The
/// function is named as its caller named it (`'?'` when a C function such as `pcall`
/// called it), and for a method call (`obj:f(...)`) the count leaves out `obj`.
pub(super) fn argument_error(lua: &Lua, n: usize, problem: &str) -> mlua::Error {
    let (name, method) = lua
        .inspect_stack(0, |d| {
            let names = d.names();
            (
                names.name.map(|n| n.into_owned()),
                names.name_what == Some("method"),
            )
        })
        .unwrap_or((None, false));
    let name = name.unwrap_or_else(|| "?".to_string());
    let message = match (method, n) {
        (true, 1) => format!("calling '{name}' on bad self ({problem})"),
        (true, _) => format!("bad argument #{} to '{name}' ({problem})", n - 1),
        (false, _) => format!("bad argument #{n} to '{name}' ({problem})"),
    };
    at_caller(lua, runtime(&message))
}

/// `luaL_checknumber` on argument `n` (from 1): a number, or a string Lua reads as one;
/// the C API's error otherwise.
pub(super) fn check_number(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<f64> {
    let value = args.get(n - 1);
    let number = match value {
        Some(Value::Integer(i)) => Some(*i as f64),
        Some(Value::Number(x)) => Some(*x),
        Some(v @ Value::String(_)) => lua.coerce_number(v.clone())?,
        _ => None,
    };
    number.ok_or_else(|| {
        let got = value.map_or("no value", type_name);
        argument_error(lua, n, &format!("number expected, got {got}"))
    })
}
