//! A function library's parts as Redis 7.0 reads them: the `#!lua name=...` first line of
//! its code, and what each `redis.register_function` call gives (name, callback, flags,
//! description), with Redis's errors.

use mlua::{Function, Lua, Value};

/// The flags a function may declare, in the order FUNCTION LIST shows them.
pub(crate) const FLAGS: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];
/// Bit of `no-writes` in [`FunctionMeta::flags`]: FCALL_RO may run the function, and it
/// may not call commands that write.
pub(crate) const NO_WRITES: u8 = 1;

/// What the library registered for one function.
#[derive(Clone, Debug)]
pub(crate) struct FunctionMeta {
    pub(crate) name: String,
    pub(crate) description: Option<Vec<u8>>,
    /// Bit i set: `FLAGS[i]` declared.
    pub(crate) flags: u8,
}

/// Redis's error for a bad library name, which it gives for a bad function name too.
const BAD_NAME: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Whether `name` may name a library or a function.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The library name in the first line of `code`, checked; and the code to compile: the
/// first line blanked, so that line numbers in errors count it as Redis's do.
pub(crate) fn metadata(code: &[u8]) -> Result<(String, Vec<u8>), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let first_line = code.get(..end).unwrap_or_default();
    let mut words = first_line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let engine = words.next().and_then(|w| w.get(2..)).unwrap_or_default();
    let mut name: Option<&[u8]> = None;
    for word in words {
        match word.strip_prefix(b"name=") {
            Some(_) if name.is_some() => {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            Some(value) => name = Some(value),
            None => return Err(invalid_value(word)),
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(unknown_engine(engine));
    }
    if !valid_name(name) {
        return Err(BAD_NAME.into());
    }
    let mut body = code.to_vec();
    body.drain(..end);
    Ok((String::from_utf8_lossy(name).into_owned(), body))
}

fn invalid_value(word: &[u8]) -> String {
    format!(
        "ERR Invalid metadata value given: {}",
        String::from_utf8_lossy(word)
    )
}

fn unknown_engine(engine: &[u8]) -> String {
    format!("ERR Engine '{}' not found", String::from_utf8_lossy(engine))
}

/// What one `redis.register_function` call registers: `(name, callback)`, or a table of
/// named arguments (`function_name`, `callback`, `flags`, `description`).
pub(crate) fn registration(lua: &Lua, args: &[Value]) -> Result<(FunctionMeta, Function), String> {
    let (name, callback, flags, description) = match args {
        [Value::Table(named)] => {
            let mut parts = (None, None, None, None);
            for pair in named.pairs::<Value, Value>() {
                let (key, value) = pair.map_err(|_| {
                    String::from("ERR unknown argument given to redis.register_function")
                })?;
                let key = match &key {
                    Value::String(s) => s.as_bytes().to_vec(),
                    _ => return Err(
                        "ERR named argument key given to redis.register_function is not a string"
                            .into(),
                    ),
                };
                match key.as_slice() {
                    b"function_name" => parts.0 = Some(value),
                    b"callback" => parts.1 = Some(value),
                    b"flags" => parts.2 = Some(value),
                    b"description" => parts.3 = Some(value),
                    _ => return Err("ERR unknown argument given to redis.register_function".into()),
                }
            }
            let name = parts.0.ok_or_else(|| {
                String::from("ERR redis.register_function must get a function name argument")
            })?;
            let callback = parts.1.ok_or_else(|| {
                String::from("ERR redis.register_function must get a callback argument")
            })?;
            (name, callback, parts.2, parts.3)
        }
        [_] => {
            return Err("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
        }
        [name, callback] => (name.clone(), callback.clone(), None, None),
        _ => return Err("ERR wrong number of arguments to redis.register_function".into()),
    };
    let name = as_string(lua, &name).ok_or_else(|| {
        String::from("ERR function name argument given to redis.register_function must be a string")
    })?;
    let Value::Function(callback) = callback else {
        return Err(if args.len() == 2 {
            "ERR second argument to redis.register_function must be a function".into()
        } else {
            "ERR callback argument given to redis.register_function must be a function".into()
        });
    };
    let description = match description {
        None | Some(Value::Nil) => None,
        Some(value) => Some(as_string(lua, &value).ok_or_else(|| {
            String::from(
                "ERR description argument given to redis.register_function must be a string",
            )
        })?),
    };
    let flags = match flags {
        None | Some(Value::Nil) => 0,
        Some(Value::Table(list)) => {
            let mut bits = 0u8;
            for flag in list.sequence_values::<Value>() {
                let flag = flag.map_err(|_| String::from("ERR unknown flag given"))?;
                let Value::String(flag) = flag else {
                    return Err("ERR unknown flag given".into());
                };
                let position = FLAGS
                    .iter()
                    .position(|f| f.as_bytes() == flag.as_bytes().as_ref())
                    .ok_or_else(|| String::from("ERR unknown flag given"))?;
                bits |= 1 << position;
            }
            bits
        }
        Some(_) => {
            return Err("ERR flags argument to redis.register_function must be a table representing function flags".into());
        }
    };
    if !valid_name(&name) {
        return Err(BAD_NAME.into());
    }
    let meta = FunctionMeta {
        name: String::from_utf8_lossy(&name).into_owned(),
        description,
        flags,
    };
    Ok((meta, callback))
}

/// A string argument, or a number as Lua writes it (`lua_isstring`).
fn as_string(lua: &Lua, value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(value.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}
