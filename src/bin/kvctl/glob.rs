//! Glob patterns over byte strings, as Redis's `KEYS` takes them: `*` any run of bytes,
//! `?` one byte, `[abc]` / `[a-z]` / `[^abc]` (or `[!abc]`) a byte class, `\c` the byte `c`
//! itself. Unlike Redis, a malformed pattern (an unclosed `[`, an empty class, a reversed
//! range, a trailing `\`) is an error instead of matching something surprising.

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Byte(u8),
    AnyByte,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(u8, u8)>,
    },
}

impl Token {
    /// Whether this single-byte token matches `b` (`AnyRun` is handled by the matcher).
    fn matches(&self, b: u8) -> bool {
        match self {
            Token::Byte(t) => *t == b,
            Token::AnyByte | Token::AnyRun => true,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&b)) != *negated
            }
        }
    }
}

impl Pattern {
    /// Compiles `pattern`; the error says what is malformed and where.
    pub fn new(pattern: &[u8]) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(&b) = pattern.get(i) {
            i += 1;
            let token = match b {
                b'*' => Token::AnyRun,
                b'?' => Token::AnyByte,
                b'\\' => Token::Byte(escaped_byte(pattern, &mut i)?),
                b'[' => parse_class(pattern, &mut i)?,
                other => Token::Byte(other),
            };
            // `**` matches what `*` does; keeping one keeps matching linear per star.
            if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                tokens.push(token);
            }
        }
        Ok(Pattern { tokens })
    }

    /// Whether the whole of `text` matches.
    ///
    /// The classic two-pointer glob match: on a mismatch, retry from the last `*`, one byte
    /// further. Each star only ever moves forward, so this is O(text × pattern) at worst.
    pub fn matches(&self, text: &[u8]) -> bool {
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None; // (pattern index after *, text index)
        while t < text.len() {
            match (self.tokens.get(p), text.get(t)) {
                (Some(Token::AnyRun), _) => {
                    star = Some((p + 1, t));
                    p += 1;
                }
                (Some(token), Some(&b)) if token.matches(b) => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((after_star, start)) => {
                        p = after_star;
                        t = start + 1;
                        star = Some((after_star, start + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens
            .get(p..)
            .is_some_and(|rest| rest.iter().all(|tok| *tok == Token::AnyRun))
    }
}

/// The byte after a `\` at `*i` (which points just past the backslash).
fn escaped_byte(pattern: &[u8], i: &mut usize) -> Result<u8, String> {
    let b = *pattern
        .get(*i)
        .ok_or("the pattern ends with a lone \\ (use \\\\ to match a backslash)")?;
    *i += 1;
    Ok(b)
}

/// A `[...]` class; `*i` points just past the `[`.
fn parse_class(pattern: &[u8], i: &mut usize) -> Result<Token, String> {
    let start = *i - 1;
    let negated = matches!(pattern.get(*i), Some(b'^' | b'!'));
    if negated {
        *i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let lo = match pattern.get(*i) {
            None => return Err(format!("the [ at byte {start} is never closed with ]")),
            Some(b']') => {
                *i += 1;
                break;
            }
            Some(b'\\') => {
                *i += 1;
                escaped_byte(pattern, i)?
            }
            Some(&b) => {
                *i += 1;
                b
            }
        };
        let hi = if pattern.get(*i) == Some(&b'-') && pattern.get(*i + 1) != Some(&b']') {
            *i += 1;
            let hi = match pattern.get(*i) {
                Some(b'\\') => {
                    *i += 1;
                    escaped_byte(pattern, i)?
                }
                Some(&b) => {
                    *i += 1;
                    b
                }
                None => return Err(format!("the [ at byte {start} is never closed with ]")),
            };
            if hi < lo {
                return Err(format!(
                    "the range {}-{} in the class at byte {start} is reversed",
                    char::from(lo),
                    char::from(hi)
                ));
            }
            hi
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
    if ranges.is_empty() {
        return Err(format!("the class at byte {start} is empty"));
    }
    Ok(Token::Class { negated, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern.as_bytes())
            .unwrap()
            .matches(text.as_bytes())
    }

    #[test]
    fn wildcards_match_as_in_redis() {
        assert!(m("*", ""));
        assert!(m("user:*", "user:42"));
        assert!(!m("user:*", "users"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hello"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[!e]llo", "hello"));
        assert!(m("k[0-9]", "k7"));
        assert!(!m("k[0-9]", "kx"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("*a", "aaa"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
        assert!(m("[a-]", "-"));
        assert!(m("[\\]]", "]"));
        assert!(m("**x", "abx"));
    }

    #[test]
    fn patterns_match_bytes() {
        let p = Pattern::new(b"\xff*").unwrap();
        assert!(p.matches(b"\xff\x00"));
        assert!(!p.matches(b"\xfe"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in ["[abc", "a\\", "[]", "[z-a]", "[a-", "[^]"] {
            assert!(Pattern::new(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
