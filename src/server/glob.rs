//! Glob matching with the rules of Redis's `stringmatchlen` (KEYS, SCAN MATCH, PSUBSCRIBE,
//! CONFIG GET): `*`, `?`, `[abc]`, `[^a-z]`, `\x`. Malformed patterns match what Redis's
//! matcher makes of them (an unclosed `[` ends at the end of the pattern) rather than
//! failing. Iterative, backtracking only to the last `*`, so matching is O(text × pattern).

/// Whether the whole of `text` matches `pattern`.
pub(crate) fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Where to resume after a mismatch: the pattern after the last star, and the text
    // position that star now covers up to.
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if p >= pattern.len() && t >= text.len() {
            return true;
        }
        let step = match pattern.get(p) {
            Some(b'*') => {
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
                if p >= pattern.len() {
                    return true;
                }
                resume = Some((p, t));
                continue;
            }
            Some(_) if t >= text.len() => None,
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pattern, p + 1, text.get(t).copied().unwrap_or(0)),
            Some(b'\\') if p + 1 < pattern.len() => {
                (pattern.get(p + 1) == text.get(t)).then_some(p + 2)
            }
            Some(c) => (Some(c) == text.get(t)).then_some(p + 1),
            None => None,
        };
        match step {
            Some(next) => {
                p = next;
                t += 1;
            }
            None => match resume {
                Some((after_star, covered)) if covered < text.len() => {
                    resume = Some((after_star, covered + 1));
                    p = after_star;
                    t = covered + 1;
                }
                _ => return false,
            },
        }
    }
}

/// Matches byte `c` against the class starting at `p` (just after `[`); the position after
/// the class if it matches.
fn class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negated = pattern.get(p) == Some(&b'^');
    if negated {
        p += 1;
    }
    let mut matched = false;
    loop {
        match pattern.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                if pattern.get(p + 1) == Some(&c) {
                    matched = true;
                }
                p += 2;
            }
            Some(&lo) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                let hi = pattern.get(p + 2).copied().unwrap_or(lo);
                let (lo, hi) = if lo > hi { (hi, lo) } else { (lo, hi) };
                if (lo..=hi).contains(&c) {
                    matched = true;
                }
                p += 3;
            }
            Some(&b) => {
                if b == c {
                    matched = true;
                }
                p += 1;
            }
        }
    }
    (matched != negated).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hallo", true),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:age", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("[abc", "b", true),
            ("", "", true),
            ("", "a", false),
        ];
        for &(pattern, text, want) in cases {
            assert_eq!(
                matches(pattern.as_bytes(), text.as_bytes()),
                want,
                "{pattern} {text}"
            );
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(50) + "b";
        let text = "a".repeat(5000);
        assert!(!matches(pattern.as_bytes(), text.as_bytes()));
    }
}
