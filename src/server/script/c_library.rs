//! What the libraries Redis compiles into its Lua in C (`cjson`, `bit`) share here: their
//! errors, worded as the C API words them.

use std::cell::Cell;
use std::rc::Rc;

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

/// `luaL_checklstring` on argument `n` (from 1): a string's bytes, or a number's as Lua
/// writes it; the C API's error otherwise.
pub(super) fn check_string(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<Vec<u8>> {
    let value = args.get(n - 1);
    let text = match value {
        Some(Value::String(s)) => Some(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec())
        }
        _ => None,
    };
    text.ok_or_else(|| {
        let got = value.map_or("no value", type_name);
        argument_error(lua, n, &format!("string expected, got {got}"))
    })
}

/// `luaL_checkinteger` on argument `n` (from 1): the number cut toward zero, as C's cast
/// to a 64-bit integer cuts it on x86-64 (NaN and numbers out of range give the smallest
/// integer, where Rust's cast would saturate).
pub(super) fn check_integer(lua: &Lua, args: &[Value], n: usize) -> mlua::Result<i64> {
    check_number(lua, args, n).map(c_integer)
}

/// `luaL_optinteger`: `default` for a missing or nil argument `n`, else `check_integer`.
pub(super) fn opt_integer(lua: &Lua, args: &[Value], n: usize, default: i64) -> mlua::Result<i64> {
    match args.get(n - 1) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, n),
    }
}

/// A double converted to a 64-bit integer as x86-64 converts it (`cvttsd2si`).
pub(super) fn c_integer(x: f64) -> i64 {
    // -2^63 ≤ x < 2^63: in range; the instruction's answer for anything else is i64::MIN.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// `luaL_checkstack`'s failure: the C function would need more than Lua 5.1's 8000 stack
/// slots (`LUAI_MAXCSTACK`).
pub(super) fn stack_overflow(lua: &Lua, what: &str) -> mlua::Error {
    at_caller(lua, runtime(&format!("stack overflow ({what})")))
}

/// Most stack slots one C function may use in Lua 5.1 (`LUAI_MAXCSTACK`): what bounds how
/// many values a library function returns and how deep it nests what it builds.
pub(super) const MAX_STACK_SLOTS: usize = 8000;

/// What the interpreter's instruction hook checks between Lua instructions (the time limit,
/// SCRIPT KILL): an error once the script is to stop.
pub(super) type Watchdog = Rc<dyn Fn() -> mlua::Result<()>>;

/// Lets a conversion that runs long in Rust, where no Lua instruction runs (packing a table
/// that holds the same tables many times over), be stopped as Lua code is.
pub(super) struct Pace {
    tables: Cell<u32>,
    watchdog: Watchdog,
}

impl Pace {
    /// Tables converted between two asks of the watchdog.
    const TABLES_PER_CHECK: u32 = 1024;

    pub(super) fn new(watchdog: &Watchdog) -> Pace {
        Pace {
            tables: Cell::new(0),
            watchdog: Rc::clone(watchdog),
        }
    }

    /// Counts a table converted; asks the watchdog every `TABLES_PER_CHECK`.
    pub(super) fn table(&self) -> mlua::Result<()> {
        let n = self.tables.get().wrapping_add(1);
        self.tables.set(n);
        if n.is_multiple_of(Self::TABLES_PER_CHECK) {
            (self.watchdog)()?;
        }
        Ok(())
    }
}
