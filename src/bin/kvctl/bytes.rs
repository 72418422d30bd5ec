//! Keys and values are bytes; terminals want text. `escape` shows bytes as text that
//! `unescape` (the `--escaped` input syntax) turns back into the same bytes.
//!
//! The syntax: `\\` is a backslash, `\n` `\r` `\t` `\0` the usual control bytes, `\xNN`
//! any byte in hex. `escape` leaves printable UTF-8 as it is and escapes everything else
//! (invalid UTF-8, control characters, and the backslash itself).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Bytes as printable text; `unescape(escape(b)) == b` for all `b`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        push_hex(&mut out, b);
                    }
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            push_hex(&mut out, b);
        }
    }
    out
}

fn push_hex(out: &mut String, byte: u8) {
    out.push_str(&format!("\\x{byte:02x}"));
}

/// Decodes the escape syntax; the error says which escape is wrong and where.
pub fn unescape(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let (byte, len) = match text.get(i + 1) {
            Some(b'\\') => (b'\\', 2),
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b't') => (b'\t', 2),
            Some(b'0') => (0, 2),
            Some(b'x') => match text.get(i + 2..i + 4).and_then(hex_byte) {
                Some(byte) => (byte, 4),
                None => {
                    return Err(format!(
                        "\\x at byte {i} must be followed by two hex digits"
                    ));
                }
            },
            Some(&other) => {
                return Err(format!(
                    "unknown escape \\{} at byte {i} (use \\\\ for a backslash)",
                    escape(&[other])
                ));
            }
            None => return Err("a lone \\ at the end (use \\\\ for a backslash)".into()),
        };
        out.push(byte);
        i += len;
    }
    Ok(out)
}

fn hex_byte(digits: &[u8]) -> Option<u8> {
    // Checked digit by digit: from_str_radix would also accept a sign.
    let value = |d: u8| char::from(d).to_digit(16);
    match digits {
        &[high, low] => Some(u8::try_from(value(high)? * 16 + value(low)?).ok()?),
        _ => None,
    }
}

/// An argument's bytes, unescaped when `escaped` (the `--escaped` flag) is set.
pub fn from_arg(arg: &OsStr, escaped: bool) -> Result<Vec<u8>, String> {
    if escaped {
        unescape(arg.as_bytes())
    } else {
        Ok(arg.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn printable_text_is_left_alone_and_the_rest_escaped() {
        assert_eq!(escape(b"user:42 caf\xc3\xa9"), "user:42 café");
        assert_eq!(escape(b"a\\b"), "a\\\\b");
        assert_eq!(escape(b"\x00\xff\n\x7f"), "\\0\\xff\\n\\x7f");
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(unescape(b"a\\x00\\xFFb\\\\\\t").unwrap(), b"a\x00\xffb\\\t");
        assert!(unescape(b"\\q").is_err());
        assert!(unescape(b"end\\").is_err());
        assert!(unescape(b"\\x4").is_err());
        assert!(unescape(b"\\xzz").is_err());
        assert!(unescape(b"\\x+f").is_err());
    }

    proptest! {
        #[test]
        fn unescape_inverts_escape(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(unescape(escape(&bytes).as_bytes()).unwrap(), bytes);
        }
    }
}
