//! The `cjson` library Redis gives scripts (lua-cjson 2.1.0 with Redis's defaults):
//! `cjson.encode`, `cjson.decode` and `cjson.null`, writing and reading JSON the way it
//! does, byte for byte, errors included — so that scripts written for Redis (job queues
//! that keep their jobs as JSON, for one) run unchanged.
//!
//! Encoding: `nil` and `cjson.null` are `null`; numbers are written as Lua writes them
//! (`%.14g`) and NaN or infinity is an error; strings are escaped as lua-cjson escapes
//! them (`/` as `\/`, control characters and DEL as `\u00XX`); a table whose keys are all
//! positive integers is an array (missing elements `null`) unless it is excessively sparse
//! (its largest index over 10 and over twice its number of elements: an error), any other
//! non-empty table an object in the table's own iteration order, an empty one `{}`; tables
//! nest at most 1000 deep. Decoding: JSON's values, `null` as `cjson.null`, and what
//! lua-cjson accepts beyond JSON (numbers as C's `strtod` reads them: `+1`, `0x1f`, `inf`,
//! `nan`, leading zeros); input ends at a NUL byte; nesting at most 1000 deep.

use std::rc::Rc;

use mlua::{LightUserData, Lua, Table, Value, Variadic};

use super::c_library::{
    Pace, Watchdog, argument_error, at_caller, check_string, runtime, type_name,
};

/// Deepest nesting encoded or decoded (lua-cjson's `encode_max_depth` and
/// `decode_max_depth`).
const MAX_DEPTH: usize = 1000;
/// lua-cjson's `encode_sparse_ratio` and `encode_sparse_safe`.
const SPARSE_RATIO: f64 = 2.0;
const SPARSE_SAFE: f64 = 10.0;

/// The `cjson` table: `encode`, `decode`, `null`.
pub(super) fn library(lua: &Lua, watchdog: &Watchdog) -> mlua::Result<Table> {
    let cjson = lua.create_table()?;
    let watchdog = Rc::clone(watchdog);
    cjson.raw_set(
        "encode",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let [value] = args.as_slice() else {
                return Err(argument_error(lua, 1, "expected 1 argument"));
            };
            let mut out = Vec::new();
            let pace = Pace::new(&watchdog);
            encode(lua, value, 0, &mut out, &pace).map_err(|e| at_caller(lua, e))?;
            lua.create_string(&out)
        })?,
    )?;
    cjson.raw_set(
        "decode",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return Err(argument_error(lua, 1, "expected 1 argument"));
            }
            let text = check_string(lua, &args, 1)?;
            decode(lua, &text).map_err(|e| at_caller(lua, e))
        })?,
    )?;
    cjson.raw_set("null", null())?;
    cjson.raw_set("_NAME", "cjson")?;
    cjson.raw_set("_VERSION", "2.1.0")?;
    Ok(cjson)
}

/// `cjson.null`: a light userdata holding NULL, as lua-cjson's.
fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn encode(
    lua: &Lua,
    value: &Value,
    depth: usize,
    out: &mut Vec<u8>,
    pace: &Pace,
) -> mlua::Result<()> {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(_) | Value::Number(_) => encode_number(lua, value, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(table) => encode_table(lua, table, depth + 1, out, pace)?,
        other => {
            return Err(runtime(&format!(
                "Cannot serialise {}: type not supported",
                type_name(other)
            )));
        }
    }
    Ok(())
}

fn encode_number(lua: &Lua, value: &Value, out: &mut Vec<u8>) -> mlua::Result<()> {
    if let Value::Number(n) = value
        && !n.is_finite()
    {
        return Err(runtime("Cannot serialise number: must not be NaN or Inf"));
    }
    // Lua's own number format (`%.14g`) is lua-cjson's default precision.
    if let Some(text) = lua.coerce_string(value.clone())? {
        out.extend_from_slice(&text.as_bytes());
    }
    Ok(())
}

fn encode_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The length of `table` as an array, or `None` if it is to be an object (some key is
/// not a positive integer, or it is empty).
fn array_length(table: &Table) -> mlua::Result<Option<usize>> {
    let (mut max, mut items) = (0.0f64, 0.0f64);
    for pair in table.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let k = match key {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if k.floor() != k || k < 1.0 {
            return Ok(None);
        }
        max = max.max(k);
        items += 1.0;
    }
    if max > items * SPARSE_RATIO && max > SPARSE_SAFE {
        return Err(runtime("Cannot serialise table: excessively sparse array"));
    }
    // Past the sparse check, `max` is at most twice the number of items.
    Ok((max > 0.0).then_some(max as usize))
}

fn encode_table(
    lua: &Lua,
    table: &Table,
    depth: usize,
    out: &mut Vec<u8>,
    pace: &Pace,
) -> mlua::Result<()> {
    pace.table()?;
    if depth > MAX_DEPTH {
        return Err(runtime(&format!(
            "Cannot serialise, excessive nesting ({depth})"
        )));
    }
    if let Some(len) = array_length(table)? {
        out.push(b'[');
        for i in 1..=len {
            if i > 1 {
                out.push(b',');
            }
            encode(lua, &table.raw_get::<Value>(i)?, depth, out, pace)?;
        }
        out.push(b']');
        return Ok(());
    }
    out.push(b'{');
    let mut first = true;
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        if !first {
            out.push(b',');
        }
        first = false;
        match &key {
            Value::String(s) => encode_string(&s.as_bytes(), out),
            Value::Integer(_) | Value::Number(_) => {
                out.push(b'"');
                encode_number(lua, &key, out)?;
                out.push(b'"');
            }
            other => {
                return Err(runtime(&format!(
                    "Cannot serialise {}: table key must be a number or string",
                    type_name(other)
                )));
            }
        }
        out.push(b':');
        encode(lua, &value, depth, out, pace)?;
    }
    out.push(b'}');
    Ok(())
}

/// A token of the input, as lua-cjson names them in its errors.
#[derive(Debug)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String(Vec<u8>),
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    /// What lua-cjson reports instead of a token (`invalid token`, `invalid number`, ...).
    Error(&'static str),
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::String(_) => "T_STRING",
            Token::Number(_) => "T_NUMBER",
            Token::Boolean(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(message) => message,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
}

fn decode(lua: &Lua, text: &[u8]) -> mlua::Result<Value> {
    if text.len() >= 2 && (text.first() == Some(&0) || text.get(1) == Some(&0)) {
        return Err(runtime("JSON parser does not support UTF-16 or UTF-32"));
    }
    // lua-cjson reads a C string: a NUL byte ends the input.
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    let mut parser = Parser {
        data: text.get(..end).unwrap_or_default(),
        pos: 0,
        depth: 0,
    };
    let (at, token) = parser.next_token();
    let value = parser.value(lua, at, token)?;
    let (at, token) = parser.next_token();
    if !matches!(token, Token::End) {
        return Err(expected("the end", at, &token));
    }
    Ok(value)
}

fn expected(what: &str, at: usize, found: &Token) -> mlua::Error {
    runtime(&format!(
        "Expected {what} but found {} at character {}",
        found.name(),
        at + 1
    ))
}

impl Parser<'_> {
    fn peek(&self, offset: usize) -> u8 {
        self.data.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// The next token and where it starts (for an error token: where the error is).
    fn next_token(&mut self) -> (usize, Token) {
        while matches!(self.peek(0), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let at = self.pos;
        let single = match self.peek(0) {
            0 => Some(Token::End),
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b':' => Some(Token::Colon),
            b',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            if !matches!(token, Token::End) {
                self.pos += 1;
            }
            return (at, token);
        }
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let ch = self.peek(0);
        if ch == b'"' {
            return self.string_token();
        }
        if ch == b'-' || ch.is_ascii_digit() {
            return (at, self.number_token());
        }
        for (word, token) in [
            (&b"true"[..], Token::Boolean(true)),
            (b"false", Token::Boolean(false)),
            (b"null", Token::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return (at, token);
            }
        }
        if invalid_number_start(rest) {
            return (at, self.number_token());
        }
        (at, Token::Error("invalid token"))
    }

    fn number_token(&mut self) -> Token {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        match strtod(rest) {
            Some((value, used)) => {
                self.pos += used;
                Token::Number(value)
            }
            None => Token::Error("invalid number"),
        }
    }

    fn string_token(&mut self) -> (usize, Token) {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let ch = self.peek(0);
            match ch {
                b'"' => break,
                0 => return (self.pos, Token::Error("unexpected end of string")),
                b'\\' => {
                    let translated = match self.peek(1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            match self.unicode_escape() {
                                Some((code, len)) => {
                                    let mut buf = [0u8; 4];
                                    let c = char::from_u32(code).unwrap_or('\u{fffd}');
                                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                                    self.pos += len;
                                }
                                None => {
                                    return (self.pos, Token::Error("invalid unicode escape code"));
                                }
                            }
                            continue;
                        }
                        _ => return (self.pos, Token::Error("invalid escape code")),
                    };
                    out.push(translated);
                    self.pos += 2;
                }
                _ => {
                    out.push(ch);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        (start, Token::String(out))
    }

    /// The code point of the `\uXXXX` escape (or surrogate pair) at the position, and its
    /// length in bytes.
    fn unicode_escape(&self) -> Option<(u32, usize)> {
        let hex4 = |offset: usize| -> Option<u32> {
            let digits = self.data.get(self.pos + offset..self.pos + offset + 4)?;
            let text = std::str::from_utf8(digits).ok()?;
            if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(text, 16).ok()
        };
        let first = hex4(2)?;
        match first {
            0xdc00..=0xdfff => None,
            0xd800..=0xdbff => {
                if self.peek(6) != b'\\' || self.peek(7) != b'u' {
                    return None;
                }
                let low = hex4(8)?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return None;
                }
                Some(((((first & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000, 12))
            }
            code => Some((code, 6)),
        }
    }

    fn value(&mut self, lua: &Lua, at: usize, token: Token) -> mlua::Result<Value> {
        Ok(match token {
            Token::String(s) => Value::String(lua.create_string(&s)?),
            Token::Number(n) => Value::Number(n),
            Token::Boolean(b) => Value::Boolean(b),
            Token::Null => null(),
            Token::ObjBegin => Value::Table(self.object(lua)?),
            Token::ArrBegin => Value::Table(self.array(lua)?),
            other => return Err(expected("value", at, &other)),
        })
    }

    fn descend(&mut self) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(runtime(&format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )));
        }
        Ok(())
    }

    fn object(&mut self, lua: &Lua) -> mlua::Result<Table> {
        self.descend()?;
        let table = lua.create_table()?;
        let (mut at, mut token) = self.next_token();
        if matches!(token, Token::ObjEnd) {
            self.depth -= 1;
            return Ok(table);
        }
        loop {
            let Token::String(key) = token else {
                return Err(expected("object key string", at, &token));
            };
            let (colon_at, colon) = self.next_token();
            if !matches!(colon, Token::Colon) {
                return Err(expected("colon", colon_at, &colon));
            }
            let (value_at, value_token) = self.next_token();
            let value = self.value(lua, value_at, value_token)?;
            table.raw_set(lua.create_string(&key)?, value)?;
            let (next_at, next) = self.next_token();
            match next {
                Token::ObjEnd => {
                    self.depth -= 1;
                    return Ok(table);
                }
                Token::Comma => {}
                other => return Err(expected("comma or object end", next_at, &other)),
            }
            (at, token) = self.next_token();
        }
    }

    fn array(&mut self, lua: &Lua) -> mlua::Result<Table> {
        self.descend()?;
        let table = lua.create_table()?;
        let (mut at, mut token) = self.next_token();
        if matches!(token, Token::ArrEnd) {
            self.depth -= 1;
            return Ok(table);
        }
        for i in 1usize.. {
            let value = self.value(lua, at, token)?;
            table.raw_set(i, value)?;
            let (next_at, next) = self.next_token();
            match next {
                Token::ArrEnd => break,
                Token::Comma => {}
                other => return Err(expected("comma or array end", next_at, &other)),
            }
            (at, token) = self.next_token();
        }
        self.depth -= 1;
        Ok(table)
    }
}

/// Whether lua-cjson takes `rest` for a number JSON does not allow (a leading `+`, hex,
/// a leading zero, `inf`, `nan`): it reads those too, as `strtod` does.
fn invalid_number_start(rest: &[u8]) -> bool {
    let mut p = rest;
    if p.first() == Some(&b'+') {
        return true;
    }
    if p.first() == Some(&b'-') {
        p = p.get(1..).unwrap_or_default();
    }
    match p.first() {
        Some(b'0') => {
            let next = p.get(1).copied().unwrap_or(0);
            (next | 0x20) == b'x' || next.is_ascii_digit()
        }
        Some(&c) if c <= b'9' => false,
        _ => {
            let word = p.get(..3).unwrap_or_default();
            word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
        }
    }
}

/// C's `strtod` on the front of `text`: the number and how many bytes it took, or `None`
/// if no number starts there. Decimal (with exponent), hexadecimal integers and
/// fractions, `inf`/`infinity` and `nan` (any case), each with an optional sign.
fn strtod(text: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let negative = match text.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = text.get(i..).unwrap_or_default();
    let starts = |word: &[u8]| {
        rest.get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    if starts(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if starts(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if starts(b"nan") {
        let mut used = i + 3;
        // `nan(chars)`
        if text.get(used) == Some(&b'(')
            && let Some(close) = text.get(used + 1..).and_then(|r| {
                r.iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            })
            && text.get(used + 1 + close) == Some(&b')')
        {
            used += close + 2;
        }
        return Some((f64::NAN, used));
    }
    if rest.first() == Some(&b'0') && matches!(rest.get(1), Some(b'x' | b'X')) {
        if let Some((value, used)) = hex(rest.get(2..).unwrap_or_default()) {
            return Some((sign * value, i + 2 + used));
        }
        // "0x" without hex digits: the "0" alone.
        return Some((sign * 0.0, i + 1));
    }
    let digits = |from: usize| {
        text.get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int = digits(i);
    let mut end = i + int;
    let mut frac = 0;
    if text.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(text.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(text.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = digits(e);
        if exp_digits > 0 {
            end = e + exp_digits;
        }
    }
    let literal = std::str::from_utf8(text.get(..end)?).ok()?;
    // Rust reads a decimal literal correctly rounded, as glibc's strtod does.
    let value: f64 = literal.trim_start_matches('+').parse().ok()?;
    Some((value, end))
}

/// A hexadecimal mantissa (`1f`, `1f.8`) and optional binary exponent (`p3`), after the
/// `0x`: its value and length, or `None` if no hex digit starts it.
fn hex(text: &[u8]) -> Option<(f64, usize)> {
    let mut value = 0.0f64;
    let mut i = 0;
    let mut any = false;
    while let Some(d) = text.get(i).and_then(|&b| (b as char).to_digit(16)) {
        value = value * 16.0 + f64::from(d);
        i += 1;
        any = true;
    }
    if text.get(i) == Some(&b'.') {
        let mut scale = 1.0 / 16.0;
        let mut j = i + 1;
        while let Some(d) = text.get(j).and_then(|&b| (b as char).to_digit(16)) {
            value += f64::from(d) * scale;
            scale /= 16.0;
            j += 1;
            any = true;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if matches!(text.get(i), Some(b'p' | b'P')) {
        let mut e = i + 1;
        let negative = text.get(e) == Some(&b'-');
        if matches!(text.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let count = text
            .get(e..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count > 0 {
            let exp: i32 = std::str::from_utf8(text.get(e..e + count)?)
                .ok()?
                .parse()
                .unwrap_or(i32::MAX);
            value *= 2f64.powi(if negative { -exp } else { exp });
            i = e + count;
        }
    }
    Some((value, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// JSON-ish bytes: the characters the grammar turns on, and anything else.
    fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(b"{}[]:,\"\\ -+.0123456789eExXtrufalsn/bu".to_vec()),
                any::<u8>(),
            ],
            0..64,
        )
    }

    proptest! {
        /// Any input decodes to a value or fails with an error: never a panic.
        #[test]
        fn decoding_any_bytes_returns(bytes in json_bytes()) {
            let lua = Lua::new();
            let _ = decode(&lua, &bytes);
        }

        /// What decodes, encodes, and that encoding decodes and encodes to the same bytes
        /// (compared sorted: a rebuilt table may list an object's keys in another order).
        #[test]
        fn an_encoding_of_a_decoded_value_is_stable(bytes in json_bytes()) {
            let lua = Lua::new();
            let Ok(value) = decode(&lua, &bytes) else { return Ok(()) };
            let mut first = Vec::new();
            let pace = Pace::new(&(Rc::new(|| Ok(())) as Watchdog));
            if encode(&lua, &value, 0, &mut first, &pace).is_err() {
                // NaN, infinity and excessively sparse arrays decode but do not encode.
                return Ok(());
            }
            let again = decode(&lua, &first).expect("an encoding decodes");
            let mut second = Vec::new();
            encode(&lua, &again, 0, &mut second, &pace).expect("and encodes again");
            let (mut first, mut second) = (first, second);
            first.sort_unstable();
            second.sort_unstable();
            prop_assert_eq!(first, second);
        }
    }

    #[test]
    fn strtod_reads_what_c_reads() {
        assert_eq!(strtod(b"12.5e1,"), Some((125.0, 6)));
        assert_eq!(strtod(b"-0"), Some((-0.0, 2)));
        assert_eq!(strtod(b"1.5e"), Some((1.5, 3)));
        assert_eq!(strtod(b"1."), Some((1.0, 2)));
        assert_eq!(strtod(b"+7"), Some((7.0, 2)));
        assert_eq!(strtod(b"0x1F]"), Some((31.0, 4)));
        assert_eq!(strtod(b"0x"), Some((0.0, 1)));
        assert_eq!(strtod(b"-Infinity"), Some((f64::NEG_INFINITY, 9)));
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"-x"), None);
        assert!(strtod(b"nan").is_some_and(|(v, n)| v.is_nan() && n == 3));
    }
}
