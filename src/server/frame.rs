//! The request codec: [`check`] answers "is a whole request here, and how long is it?"
//! without building anything; [`parse`] then splits a checked request into arguments.
//! "Not enough bytes yet" is `Ok(None)`, not an error: the caller reads more and checks again.
//!
//! Two request forms exist, as in Redis: a RESP array of bulk strings (`*2\r\n$3\r\nGET\r\n
//! $1\r\nk\r\n`, what client libraries send) and an inline command (`GET k\r\n`, what telnet
//! and redis-cli's interactive mode send). Limits and error replies are Redis's
//! (`networking.c`): an error is answered and the connection closed, since the rest of the
//! stream can no longer be framed.

use crate::numeric::parse_i64;

use super::inline::split_inline;

/// Size limits on requests, with Redis's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest bulk string (Redis `proto-max-bulk-len`). Default: 512 MiB.
    pub max_bulk_len: usize,
    /// Most arguments in one request (Redis's fixed 1024 * 1024). Default: 1,048,576.
    pub max_args: usize,
    /// Longest inline command or header line (Redis `PROTO_INLINE_MAX_SIZE`). Default: 64 KiB.
    pub max_inline_len: usize,
}

/// Most arguments a client may send before it has authenticated (Redis's limit).
const UNAUTHENTICATED_MAX_ARGS: i64 = 10;
/// Longest bulk string a client may send before it has authenticated (Redis's limit).
const UNAUTHENTICATED_MAX_BULK: i64 = 16384;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 << 20,
            max_args: 1024 * 1024,
            max_inline_len: 64 << 10,
        }
    }
}

/// A request that cannot be framed. The message is Redis's reply, without the `-` and CRLF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(what: &str) -> ProtocolError {
        ProtocolError(format!("ERR Protocol error: {what}"))
    }
}

/// The shape of a complete request found by [`check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A RESP array of bulk strings.
    Multibulk,
    /// An inline command line (possibly empty).
    Inline,
}

/// A complete request at the start of the buffer: its kind and length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// How the request is written.
    pub kind: FrameKind,
    /// Bytes it takes, terminators included.
    pub len: usize,
}

/// Whether `buf` starts with a whole request. `authenticated: false` applies Redis's tighter
/// limits for clients that still have to send AUTH.
pub fn check(
    buf: &[u8],
    limits: &Limits,
    authenticated: bool,
) -> Result<Option<Frame>, ProtocolError> {
    check_resumable(buf, limits, authenticated, &mut Resume::default())
}

/// How far the check of a partly received request got, so that the next check (with more
/// bytes after the same start) resumes there instead of rescanning every argument header:
/// a request of a million arguments arriving in a thousand reads costs a million header
/// reads, not a billion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// Offset of the next argument header, once the count line has been read.
    pos: usize,
    /// Arguments still to check after `pos`.
    args_left: i64,
}

/// [`check`], resuming from (and updating) `resume`. The buffer must start where it did
/// at the previous call; `resume` is reset when a request is complete or fails.
pub fn check_resumable(
    buf: &[u8],
    limits: &Limits,
    authenticated: bool,
    resume: &mut Resume,
) -> Result<Option<Frame>, ProtocolError> {
    let result = match buf.first() {
        None => Ok(None),
        Some(b'*') => check_multibulk(buf, limits, authenticated, resume),
        Some(_) => check_inline(buf, limits),
    };
    if !matches!(result, Ok(None)) {
        *resume = Resume::default();
    }
    result
}

/// The position of the `\r\n` ending the line that starts at `from`, `Ok(None)` if it has
/// not arrived yet, or `too_long` if the line is already over the limit.
fn line_end(
    buf: &[u8],
    from: usize,
    max: usize,
    too_long: &str,
) -> Result<Option<usize>, ProtocolError> {
    let rest = buf.get(from..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\r') {
        // The '\n' must be there too (Redis does not check that it is a '\n').
        Some(cr) if from + cr + 1 < buf.len() => Ok(Some(from + cr)),
        Some(_) => Ok(None),
        None if rest.len() > max => Err(ProtocolError::new(too_long)),
        None => Ok(None),
    }
}

fn check_multibulk(
    buf: &[u8],
    limits: &Limits,
    authenticated: bool,
    resume: &mut Resume,
) -> Result<Option<Frame>, ProtocolError> {
    if resume.pos == 0 {
        let Some(cr) = line_end(buf, 0, limits.max_inline_len, "too big mbulk count string")?
        else {
            return Ok(None);
        };
        let count = buf.get(1..cr).and_then(parse_i64);
        let count = match count {
            Some(n) if n <= i64::try_from(limits.max_args).unwrap_or(i64::MAX) => n,
            _ => return Err(ProtocolError::new("invalid multibulk length")),
        };
        if !authenticated && count > UNAUTHENTICATED_MAX_ARGS {
            return Err(ProtocolError::new("unauthenticated multibulk length"));
        }
        // A count of zero or less is an empty request: skipped, as in Redis.
        *resume = Resume {
            pos: cr + 2,
            args_left: count.max(0),
        };
    }
    let mut pos = resume.pos;
    while resume.args_left > 0 {
        let Some(cr) = line_end(buf, pos, limits.max_inline_len, "too big bulk count string")?
        else {
            return Ok(None);
        };
        match buf.get(pos) {
            Some(b'$') => {}
            Some(&other) => {
                return Err(ProtocolError(format!(
                    "ERR Protocol error: expected '$', got '{}'",
                    char::from(other)
                )));
            }
            None => return Ok(None),
        }
        let len = buf.get(pos + 1..cr).and_then(parse_i64);
        let len = match len {
            Some(n) if n >= 0 && n <= i64::try_from(limits.max_bulk_len).unwrap_or(i64::MAX) => n,
            _ => return Err(ProtocolError::new("invalid bulk length")),
        };
        if !authenticated && len > UNAUTHENTICATED_MAX_BULK {
            return Err(ProtocolError::new("unauthenticated bulk length"));
        }
        // The payload and its CRLF (not checked, as Redis does not check it).
        let end = (cr + 4).saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        if end > buf.len() {
            return Ok(None);
        }
        pos = end;
        *resume = Resume {
            pos,
            args_left: resume.args_left - 1,
        };
    }
    Ok(Some(Frame {
        kind: FrameKind::Multibulk,
        len: pos,
    }))
}

fn check_inline(buf: &[u8], limits: &Limits) -> Result<Option<Frame>, ProtocolError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(nl) if nl > limits.max_inline_len => Err(ProtocolError::new("too big inline request")),
        Some(nl) => Ok(Some(Frame {
            kind: FrameKind::Inline,
            len: nl + 1,
        })),
        None if buf.len() > limits.max_inline_len => {
            Err(ProtocolError::new("too big inline request"))
        }
        None => Ok(None),
    }
}

/// The arguments of one request, kept in one buffer.
#[derive(Clone, Debug, Default)]
pub struct Args {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Args {
    /// No arguments.
    pub fn new() -> Args {
        Args::default()
    }

    /// Arguments from a list (for tests and internal callers).
    pub fn from_slices<A: AsRef<[u8]>>(args: &[A]) -> Args {
        let mut out = Args::new();
        for a in args {
            out.push(a.as_ref());
        }
        out
    }

    /// Forgets every argument, keeping the memory.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// Adds an argument at the end.
    pub fn push(&mut self, arg: &[u8]) {
        self.data.extend_from_slice(arg);
        self.ends.push(self.data.len());
    }

    /// How many arguments there are (the command name included).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none (an empty request).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Argument `i`, or the empty slice past the end.
    pub fn get(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }

    /// Every argument, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Bytes the arguments take.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }
}

/// Splits a request that [`check`] found complete into `args` (cleared first). An empty
/// request leaves `args` empty; the caller skips it.
pub fn parse(frame: &[u8], kind: FrameKind, args: &mut Args) -> Result<(), ProtocolError> {
    args.clear();
    match kind {
        FrameKind::Multibulk => parse_multibulk(frame, args),
        FrameKind::Inline => {
            let line = frame.strip_suffix(b"\n").unwrap_or(frame);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            split_inline(line, args)
                .map_err(|()| ProtocolError::new("unbalanced quotes in request"))
        }
    }
}

fn parse_multibulk(frame: &[u8], args: &mut Args) -> Result<(), ProtocolError> {
    let bad = || ProtocolError::new("invalid multibulk length");
    let next_line = |from: usize| -> Result<(usize, i64), ProtocolError> {
        let cr = frame
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\r'))
            .map(|cr| from + cr)
            .ok_or_else(bad)?;
        let n = frame
            .get(from + 1..cr)
            .and_then(parse_i64)
            .ok_or_else(bad)?;
        Ok((cr + 2, n))
    };
    let (mut pos, count) = next_line(0)?;
    for _ in 0..count.max(0) {
        let (start, len) = next_line(pos)?;
        let end = start + usize::try_from(len).map_err(|_| bad())?;
        args.push(frame.get(start..end).ok_or_else(bad)?);
        pos = end + 2;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(buf: &[u8]) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        let limits = Limits::default();
        let Some(frame) = check(buf, &limits, true)? else {
            return Ok(None);
        };
        let mut args = Args::new();
        parse(&buf[..frame.len], frame.kind, &mut args)?;
        Ok(Some(args.iter().map(<[u8]>::to_vec).collect()))
    }

    #[test]
    fn multibulk_and_inline() {
        assert_eq!(
            one(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap(),
            Some(vec![b"GET".to_vec(), b"k".to_vec()])
        );
        assert_eq!(
            one(b"set a \"b c\"\r\n").unwrap(),
            Some(vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()])
        );
        assert_eq!(one(b"*0\r\n").unwrap(), Some(vec![]));
        assert_eq!(one(b"*-5\r\n").unwrap(), Some(vec![]));
        assert_eq!(one(b"\r\n").unwrap(), Some(vec![]));
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let full = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for cut in 0..full.len() {
            assert_eq!(one(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(one(full).unwrap().is_some());
    }

    #[test]
    fn resumed_checks_agree_with_fresh_ones() {
        let mut full = b"*300\r\n".to_vec();
        for i in 0..300 {
            let arg = format!("arg{i}");
            full.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        let limits = Limits::default();
        let mut resume = Resume::default();
        for cut in 0..full.len() {
            let fresh = check(&full[..cut], &limits, true).unwrap();
            let resumed = check_resumable(&full[..cut], &limits, true, &mut resume).unwrap();
            assert_eq!(fresh, resumed, "cut at {cut}");
            assert_eq!(resumed, None);
        }
        let done = check_resumable(&full, &limits, true, &mut resume).unwrap();
        assert_eq!(done.map(|f| f.len), Some(full.len()));
        assert_eq!(resume, Resume::default());
    }

    #[test]
    fn limits_give_redis_errors() {
        let msg = |buf: &[u8]| one(buf).unwrap_err().0;
        assert_eq!(
            msg(b"*20000000\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            msg(b"*x\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            msg(b"*1\r\nfoo\r\n"),
            "ERR Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            msg(b"*1\r\n$-1\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            msg(b"*1\r\n$999999999999\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            msg(b"set \"a\r\n"),
            "ERR Protocol error: unbalanced quotes in request"
        );
        let long = vec![b'a'; 70_000];
        assert_eq!(msg(&long), "ERR Protocol error: too big inline request");
        let mut star = b"*".to_vec();
        star.extend_from_slice(&long);
        assert_eq!(msg(&star), "ERR Protocol error: too big mbulk count string");
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits::default();
        let e = check(b"*11\r\n", &limits, false).unwrap_err();
        assert_eq!(e.0, "ERR Protocol error: unauthenticated multibulk length");
        let e = check(b"*1\r\n$20000\r\n", &limits, false).unwrap_err();
        assert_eq!(e.0, "ERR Protocol error: unauthenticated bulk length");
    }
}
