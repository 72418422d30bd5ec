//! Values crossing between Lua and the protocol, by Redis 7.0's rules (`script_lua.c`).
//!
//! A command a script calls answers in RESP, as it would a client; the answer becomes a Lua
//! value: an integer a number, a bulk string a string, a null `false`, an array a table, a
//! status `{ok=...}` and an error `{err=...}` (RESP3 after `redis.setresp(3)`: null `nil`,
//! booleans, `{double=...}`, `{map=...}`, `{set=...}`, `{big_number=...}`). The value a
//! script returns becomes the reply: a string a bulk string, a number an integer (truncated),
//! a table with `err` or `ok` an error or status, another table an array up to its first
//! nil, `true` 1 and `false` or `nil` a null.

use mlua::{Lua, Table, Value};

use crate::server::reply::Reply;

/// Deepest nesting converted either way: a table that contains itself must end somewhere.
const MAX_DEPTH: usize = 1000;

/// The Lua value of one RESP reply, `bytes` holding exactly it (written by a handler).
pub(crate) fn reply_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    let mut at = 0;
    let value = parse(lua, bytes, &mut at, 0)?;
    Ok(value)
}

fn malformed() -> mlua::Error {
    mlua::Error::runtime("malformed reply from a command")
}

/// The line at `*at` (without its CRLF), moving `*at` past it.
fn line<'a>(bytes: &'a [u8], at: &mut usize) -> mlua::Result<&'a [u8]> {
    let rest = bytes.get(*at..).ok_or_else(malformed)?;
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(malformed)?;
    *at += end + 2;
    rest.get(..end).ok_or_else(malformed)
}

fn number(text: &[u8]) -> mlua::Result<i64> {
    crate::numeric::parse_i64(text).ok_or_else(malformed)
}

/// A table `{name = value}` (Redis's status, error, double, ... tables).
fn tagged(lua: &Lua, name: &str, value: impl mlua::IntoLua) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    table.raw_set(name, value)?;
    Ok(Value::Table(table))
}

/// An error table `{err = message}`, as `redis.pcall` returns a failed command.
pub(crate) fn error_table(lua: &Lua, message: &[u8]) -> mlua::Result<Value> {
    tagged(lua, "err", lua.create_string(message)?)
}

fn parse(lua: &Lua, bytes: &[u8], at: &mut usize, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(malformed());
    }
    let kind = *bytes.get(*at).ok_or_else(malformed)?;
    *at += 1;
    let head = line(bytes, at)?;
    Ok(match kind {
        b'+' => tagged(lua, "ok", lua.create_string(head)?)?,
        b'-' => error_table(lua, head)?,
        b':' => Value::Number(number(head)? as f64),
        b'$' | b'=' => {
            let Ok(len) = usize::try_from(number(head)?) else {
                return Ok(Value::Boolean(false));
            };
            let body = bytes.get(*at..*at + len).ok_or_else(malformed)?;
            *at += len + 2;
            if kind == b'=' {
                // Verbatim: `txt:` and the text.
                let (format, text) = body.split_at(body.len().min(3));
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(format)?)?;
                inner.raw_set("string", lua.create_string(text.get(1..).unwrap_or(b""))?)?;
                tagged(lua, "verbatim_string", inner)?
            } else {
                Value::String(lua.create_string(body)?)
            }
        }
        b'*' | b'~' | b'%' => {
            let Ok(n) = usize::try_from(number(head)?) else {
                return Ok(Value::Boolean(false));
            };
            let table = lua.create_table()?;
            match kind {
                b'*' => {
                    for i in 1..=n {
                        table.raw_set(i, parse(lua, bytes, at, depth + 1)?)?;
                    }
                    Value::Table(table)
                }
                b'~' => {
                    for _ in 0..n {
                        table.raw_set(parse(lua, bytes, at, depth + 1)?, true)?;
                    }
                    tagged(lua, "set", table)?
                }
                _ => {
                    for _ in 0..n {
                        let key = parse(lua, bytes, at, depth + 1)?;
                        let value = parse(lua, bytes, at, depth + 1)?;
                        table.raw_set(key, value)?;
                    }
                    tagged(lua, "map", table)?
                }
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let text = std::str::from_utf8(head).map_err(|_| malformed())?;
            let value: f64 = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => text.parse().map_err(|_| malformed())?,
            };
            tagged(lua, "double", value)?
        }
        b'(' => tagged(lua, "big_number", lua.create_string(head)?)?,
        _ => return Err(malformed()),
    })
}

/// C's `(long long)` of a double as x86 computes it: out of range (and NaN) is the
/// smallest integer, as Redis replies for `return math.huge`.
fn truncate(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// A status or error text on one line: CR and LF become spaces, as Redis writes them.
fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

/// How the script's values are to be written.
#[derive(Clone, Copy)]
pub(crate) struct ReplyMode {
    /// The script chose RESP3 (`redis.setresp(3)`): booleans are written as booleans.
    pub(crate) resp3_script: bool,
}

/// Writes the value a script returned as its reply.
pub(crate) fn lua_to_reply(value: &Value, mode: ReplyMode, out: &mut Reply) {
    write(value, mode, out, 0);
}

/// The string field `name` of `table`, if it is a string.
fn string_field(table: &Table, name: &str) -> Option<Vec<u8>> {
    match table.raw_get::<Value>(name) {
        Ok(Value::String(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn write(value: &Value, mode: ReplyMode, out: &mut Reply, depth: usize) {
    if depth > MAX_DEPTH {
        out.error("ERR reached lua stack limit");
        return;
    }
    match value {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) if mode.resp3_script => out.boolean(*b),
        Value::Boolean(true) => out.int(1),
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(truncate(*n)),
        Value::Table(table) => write_table(table, mode, out, depth),
        _ => out.null(),
    }
}

/// An error table's reply: not counted in INFO errorstats again if the table says it was
/// counted where the command failed. Out of line: `write_table` recurses a thousand levels
/// deep, and its frame stays small without this.
#[inline(never)]
fn write_error(table: &Table, message: &[u8], out: &mut Reply, depth: usize) {
    let counted_before = super::vm::counted_before(table);
    if depth > 0 {
        out.note_nested_error(counted_before);
    }
    if counted_before {
        out.error_counted_before(&one_line(message));
    } else {
        out.error(&one_line(message));
    }
}

fn write_table(table: &Table, mode: ReplyMode, out: &mut Reply, depth: usize) {
    if let Some(message) = string_field(table, "err") {
        write_error(table, &message, out, depth);
        return;
    }
    if let Some(status) = string_field(table, "ok") {
        out.simple(&one_line(&status));
        return;
    }
    // Any Lua number: the interpreter hands integral ones over as integers.
    match table.raw_get::<Value>("double") {
        Ok(Value::Number(n)) => return out.double(n),
        Ok(Value::Integer(n)) => return out.double(n as f64),
        _ => {}
    }
    if let Some(number) = string_field(table, "big_number") {
        out.big_number(&number);
        return;
    }
    if let Ok(Value::Table(verbatim)) = table.raw_get::<Value>("verbatim_string")
        && let Some(format) = string_field(&verbatim, "format")
        && let Some(text) = string_field(&verbatim, "string")
    {
        out.verbatim_as(&format, &text);
        return;
    }
    for (name, is_map) in [("map", true), ("set", false)] {
        if let Ok(Value::Table(inner)) = table.raw_get::<Value>(name) {
            let pairs: Vec<(Value, Value)> = inner.pairs::<Value, Value>().flatten().collect();
            if is_map {
                out.map(pairs.len());
            } else {
                out.set(pairs.len());
            }
            for (key, value) in &pairs {
                write(key, mode, out, depth + 1);
                if is_map {
                    write(value, mode, out, depth + 1);
                }
            }
            return;
        }
    }
    let mut elements = Vec::new();
    for i in 1.. {
        match table.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => elements.push(v),
        }
    }
    out.array(elements.len());
    for element in &elements {
        write(element, mode, out, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::reply::Protocol;

    fn round_trip(lua: &Lua, resp: &[u8]) -> Vec<u8> {
        let value = reply_to_lua(lua, resp).unwrap();
        let mut out = Reply::new(Protocol::Resp2);
        lua_to_reply(
            &value,
            ReplyMode {
                resp3_script: false,
            },
            &mut out,
        );
        out.bytes().to_vec()
    }

    #[test]
    fn replies_come_back_as_redis_converts_them() {
        let lua = Lua::new();
        for same in [
            &b"+OK\r\n"[..],
            b"-ERR bad\r\n",
            b":42\r\n",
            b":-7\r\n",
            b"$3\r\na\r\n\r\n",
            b"$0\r\n\r\n",
            b"$-1\r\n",
            b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
            b"*0\r\n",
        ] {
            assert_eq!(
                round_trip(&lua, same),
                same,
                "{}",
                String::from_utf8_lossy(same)
            );
        }
        // A null array becomes false, written as a null bulk string.
        assert_eq!(round_trip(&lua, b"*-1\r\n"), b"$-1\r\n");
    }

    #[test]
    fn numbers_truncate_as_c_casts_do() {
        assert_eq!(truncate(3.99), 3);
        assert_eq!(truncate(-2.5), -2);
        assert_eq!(truncate(f64::INFINITY), i64::MIN);
        assert_eq!(truncate(f64::NAN), i64::MIN);
        assert_eq!(truncate(9_223_372_036_854_775_808.0), i64::MIN);
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        let lua = Lua::new();
        for bad in [
            &b""[..],
            b"$5\r\nab\r\n",
            b"*2\r\n:1\r\n",
            b"?x\r\n",
            b":x\r\n",
            b"+OK",
        ] {
            assert!(reply_to_lua(&lua, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_table_that_contains_itself_ends_in_an_error() {
        let lua = Lua::new();
        let t: Table = lua.load("local t = {} t[1] = t return t").eval().unwrap();
        let mut out = Reply::new(Protocol::Resp2);
        lua_to_reply(
            &Value::Table(t),
            ReplyMode {
                resp3_script: false,
            },
            &mut out,
        );
        assert!(out.bytes().ends_with(b"-ERR reached lua stack limit\r\n"));
    }
}
