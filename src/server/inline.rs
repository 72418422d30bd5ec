//! Splitting an inline command line into arguments, with the quoting rules of Redis's
//! `sdssplitargs`: words separated by spaces; `"..."` with `\n \r \t \b \a \\ \" \xHH`
//! escapes; `'...'` with only `\'`; a closing quote must be followed by a space or the end.
//! As in Redis (which works on a C string), a NUL byte ends the line.

use super::frame::Args;

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Quoting state while reading one word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Splits `line` into `args`; `Err(())` for unbalanced quotes.
pub(crate) fn split_inline(line: &[u8], args: &mut Args) -> Result<(), ()> {
    // Bytes from a NUL on are invisible, as to C string functions.
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => line.get(..nul).unwrap_or_default(),
        None => line,
    };
    let mut i = 0;
    let mut word = Vec::new();
    loop {
        while line.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(());
        }
        word.clear();
        let mut quote = Quote::None;
        loop {
            let Some(&b) = line.get(i) else {
                if quote != Quote::None {
                    return Err(());
                }
                break;
            };
            match quote {
                Quote::Double => {
                    let next = line.get(i + 1).copied();
                    if b == b'\\' && next == Some(b'x') {
                        let hi = line.get(i + 2).copied().and_then(hex_value);
                        let lo = line.get(i + 3).copied().and_then(hex_value);
                        if let (Some(hi), Some(lo)) = (hi, lo) {
                            word.push(hi * 16 + lo);
                            i += 4;
                            continue;
                        }
                    }
                    if b == b'\\'
                        && let Some(c) = next
                    {
                        word.push(match c {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                        i += 2;
                        continue;
                    }
                    if b == b'"' {
                        if next.is_some_and(|n| !is_space(n)) {
                            return Err(());
                        }
                        i += 1;
                        break;
                    }
                    word.push(b);
                }
                Quote::Single => {
                    let next = line.get(i + 1).copied();
                    if b == b'\\' && next == Some(b'\'') {
                        word.push(b'\'');
                        i += 2;
                        continue;
                    }
                    if b == b'\'' {
                        if next.is_some_and(|n| !is_space(n)) {
                            return Err(());
                        }
                        i += 1;
                        break;
                    }
                    word.push(b);
                }
                Quote::None => match b {
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        i += 1;
                        break;
                    }
                    b'"' => quote = Quote::Double,
                    b'\'' => quote = Quote::Single,
                    other => word.push(other),
                },
            }
            i += 1;
        }
        args.push(&word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<String>, ()> {
        let mut args = Args::new();
        split_inline(line.as_bytes(), &mut args)?;
        Ok(args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect())
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(split("  set  a b ").unwrap(), ["set", "a", "b"]);
        assert_eq!(split(r#"set "a b" 'c d'"#).unwrap(), ["set", "a b", "c d"]);
        assert_eq!(split(r#""\x41\n\"""#).unwrap(), ["A\n\""]);
        assert_eq!(split(r"'it\'s'").unwrap(), ["it's"]);
        assert_eq!(split(r#"a"b c""#).unwrap(), ["ab c"]);
        assert_eq!(split(r#""""#).unwrap(), [""]);
        assert!(split(r#""abc"#).is_err());
        assert!(split(r#""a"b"#).is_err());
        assert!(split("'a").is_err());
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        assert_eq!(split("get a\0 b").unwrap(), ["get", "a"]);
    }
}
