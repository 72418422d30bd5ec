//! Encoding replies in RESP2 or RESP3. Commands write through [`Reply`], which picks each
//! type's encoding for the connection's protocol (a map is a flat array in RESP2, a null is
//! `$-1` or `_`), so command code never spells protocol bytes.

use std::sync::Arc;

use super::error::CmdError;
use super::errorstats::ErrorStats;
use super::notify::Event;

/// The protocol a connection speaks, chosen with `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2, the default.
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl Protocol {
    /// The version number `HELLO` reports.
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// An output buffer that replies are appended to.
#[derive(Debug)]
pub struct Reply {
    buf: Vec<u8>,
    protocol: Protocol,
    /// Where the errors written here are counted (INFO errorstats): set for what a client
    /// is sent and for the commands a script runs.
    errors: Option<Arc<ErrorStats>>,
    /// Errors a script's reply holds inside an array, where they start and whether they
    /// were counted in INFO errorstats before: each makes the script's call count as
    /// failed in INFO commandstats, as in Redis (see `take_nested_failures`).
    nested_errors: Vec<(usize, bool)>,
    /// Keyspace events the commands written here noted, published once their writes
    /// are committed (see `notify`).
    events: Vec<Event>,
}

impl Reply {
    /// An empty buffer for a connection speaking `protocol`.
    pub fn new(protocol: Protocol) -> Reply {
        Reply {
            buf: Vec::with_capacity(16 << 10),
            protocol,
            errors: None,
            nested_errors: Vec::new(),
            events: Vec::new(),
        }
    }

    /// An empty buffer whose errors are counted in `errors`.
    pub(crate) fn counting(protocol: Protocol, errors: Arc<ErrorStats>) -> Reply {
        Reply {
            errors: Some(errors),
            ..Reply::new(protocol)
        }
    }

    /// An empty buffer for `protocol` whose errors are counted where this one's are (for
    /// replies written apart, then moved into this one).
    pub(crate) fn sibling(&self, protocol: Protocol) -> Reply {
        Reply {
            errors: self.errors.clone(),
            ..Reply::new(protocol)
        }
    }

    /// Switches the encoding of the replies that follow.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes waiting to be sent.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is waiting to be sent.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets what was written (after it was sent), keeping a reasonable allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.nested_errors.clear();
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::with_capacity(16 << 10);
        }
    }

    /// The protocol replies are encoded in now.
    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Puts `bytes` (whole replies) at byte `at`, before the replies written from there
    /// on (EXEC's replies of commands run after its transaction).
    pub(crate) fn insert(&mut self, at: usize, bytes: &[u8]) {
        let at = at.min(self.buf.len());
        self.buf.splice(at..at, bytes.iter().copied());
    }

    /// Cuts the buffer back to `len` bytes (to drop a reply begun before a failure).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        self.nested_errors.retain(|&(at, _)| at < len);
    }

    /// Hands the bytes written so far to `empty` without copying them (whatever `empty`
    /// held is dropped), and goes on writing into `empty`'s old allocation.
    pub fn move_into(&mut self, empty: &mut Vec<u8>) {
        empty.clear();
        std::mem::swap(&mut self.buf, empty);
        self.nested_errors.clear();
    }

    /// Takes the bytes written so far, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        self.nested_errors.clear();
        std::mem::take(&mut self.buf)
    }

    /// Notes a keyspace event of the command being written (see `Shared::notify`).
    pub(crate) fn note_event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// How many keyspace events are noted: a mark to cut back to with
    /// [`truncate_events`](Reply::truncate_events).
    pub(crate) fn events_len(&self) -> usize {
        self.events.len()
    }

    /// Forgets the events noted after `len` (of writes that did not commit).
    pub(crate) fn truncate_events(&mut self, len: usize) {
        self.events.truncate(len);
    }

    /// Takes the keyspace events noted so far, to publish them.
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Moves the events `other` noted to the end of this reply's.
    pub(crate) fn adopt_events(&mut self, other: &mut Reply) {
        self.events.append(&mut other.events);
    }

    /// Notes that the error about to be written sits inside a script's reply (not at its
    /// top level); `counted_before` as for [`error_counted_before`](Reply::error_counted_before).
    pub(crate) fn note_nested_error(&mut self, counted_before: bool) {
        self.nested_errors.push((self.buf.len(), counted_before));
    }

    /// How many failed calls the nested errors written from `mark` on add to the command
    /// whose reply starts there, as Redis counts them: one if any of them is counted now
    /// (its error counter moved during the call), plus one for each counted before. They
    /// are forgotten, so that a command around this one (EXEC) does not count them again.
    pub(crate) fn take_nested_failures(&mut self, mark: usize) -> u64 {
        let (mut fresh, mut counted_before) = (0, 0);
        self.nested_errors.retain(|&(at, before)| {
            if at < mark {
                return true;
            }
            if before {
                counted_before += 1;
            } else {
                fresh = 1;
            }
            false
        });
        fresh + counted_before
    }

    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        push_int(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string (no CR or LF inside).
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend(s.bytes().map(no_newline));
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An array of simple strings, one per line (the HELP replies).
    pub fn simple_lines(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line);
        }
    }

    /// An error; `message` starts with its code (`ERR ...`, `WRONGTYPE ...`).
    pub fn error(&mut self, message: &str) {
        let start = self.write_error(message);
        if let Some(errors) = &self.errors {
            let written = self.buf.get(start..self.buf.len() - 2).unwrap_or_default();
            errors.count(written);
        }
    }

    /// An error that was counted already, where it first failed (a script's error that a
    /// command it called raised).
    pub(crate) fn error_counted_before(&mut self, message: &str) {
        self.write_error(message);
    }

    /// A command's error: counted unless `e` says it was already.
    pub(crate) fn command_error(&mut self, e: &CmdError) {
        if e.counted_before {
            self.error_counted_before(&e.text);
        } else {
            self.error(&e.text);
        }
    }

    /// Writes an error frame; returns where its message starts.
    fn write_error(&mut self, message: &str) -> usize {
        self.buf.push(b'-');
        let start = self.buf.len();
        self.buf.extend(message.bytes().map(no_newline));
        self.buf.extend_from_slice(b"\r\n");
        start
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.extend_from_slice(b":0\r\n"),
            1 => self.buf.extend_from_slice(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// A count as an integer.
    pub fn count(&mut self, n: usize) {
        self.int(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A bulk string.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.header(b'$', i64::try_from(bytes.len()).unwrap_or(i64::MAX));
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string, or a null for `None`.
    pub fn bulk_or_null(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(b) => self.bulk(b),
            None => self.null(),
        }
    }

    /// A null: `$-1` (RESP2's null bulk string) or `_`.
    pub fn null(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// A null array: `*-1` (RESP2) or `_`.
    pub fn null_array(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `n` elements.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The header of a map of `n` pairs (`%n` in RESP3, an array of 2n in RESP2).
    pub fn map(&mut self, n: usize) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', n.saturating_mul(2)),
            Protocol::Resp3 => self.header(b'%', n),
        }
    }

    /// The header of a set of `n` elements (`~n` in RESP3, an array in RESP2).
    pub fn set(&mut self, n: usize) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', n),
            Protocol::Resp3 => self.header(b'~', n),
        }
    }

    /// The header of an out-of-band push of `n` elements (`>n` in RESP3, an array in RESP2).
    pub fn push(&mut self, n: usize) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match self.protocol {
            Protocol::Resp2 => self.header(b'*', n),
            Protocol::Resp3 => self.header(b'>', n),
        }
    }

    /// A boolean: `#t` / `#f` in RESP3, the integer 1 or 0 in RESP2.
    pub fn boolean(&mut self, value: bool) {
        match (self.protocol, value) {
            (Protocol::Resp3, true) => self.buf.extend_from_slice(b"#t\r\n"),
            (Protocol::Resp3, false) => self.buf.extend_from_slice(b"#f\r\n"),
            (Protocol::Resp2, _) => self.int(i64::from(value)),
        }
    }

    /// Whether replies are RESP3 (some commands shape their replies by protocol).
    pub fn is_resp3(&self) -> bool {
        matches!(self.protocol, Protocol::Resp3)
    }

    /// A double (`,` in RESP3, a bulk string in RESP2), written as Redis 7.0 writes scores
    /// (`%.17g`; `inf`, `-inf`).
    pub fn double(&mut self, value: f64) {
        let text = crate::collections::score::format_score_printf(value);
        self.double_text(text.as_str());
    }

    /// A double already written as text (`,` in RESP3, a bulk string in RESP2).
    pub fn double_text(&mut self, text: &str) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(text.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Plain text (`=` verbatim with format `txt` in RESP3, a bulk string in RESP2), as
    /// Redis replies to INFO and CLIENT LIST.
    pub fn verbatim(&mut self, text: &str) {
        self.verbatim_as(b"txt", text.as_bytes());
    }

    /// A verbatim string of the given format: its first three bytes (up to a NUL, as C
    /// reads it), padded with spaces, as Redis writes a script's `{verbatim_string = ...}`;
    /// a bulk string in RESP2.
    pub fn verbatim_as(&mut self, format: &[u8], text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', i64::try_from(text.len() + 4).unwrap_or(i64::MAX));
                let mut tag = [b' '; 3];
                for (slot, &b) in tag.iter_mut().zip(format.iter().take_while(|&&b| b != 0)) {
                    *slot = b;
                }
                self.buf.extend_from_slice(&tag);
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number given as text (`(` in RESP3, a bulk string in RESP2); line breaks in
    /// it become spaces, as Redis writes a script's `{big_number = ...}`.
    pub fn big_number(&mut self, text: &[u8]) {
        let text: Vec<u8> = text.iter().copied().map(no_newline).collect();
        match self.protocol {
            Protocol::Resp2 => self.bulk(&text),
            Protocol::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(&text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Error and status lines cannot carry line breaks: Redis replaces them with spaces.
fn no_newline(b: u8) -> u8 {
    if b == b'\r' || b == b'\n' { b' ' } else { b }
}

/// Appends the decimal digits of `n` (replies write many integers; no allocation).
pub(crate) fn push_int(buf: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            // v % 10 < 10: the cast cannot truncate.
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    if n < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(digits.get(i..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command's nested errors count once if any is new, plus once per error counted
    /// before; they are taken once, and a truncation forgets those it cut.
    #[test]
    fn nested_errors_count_as_redis_counts_them() {
        let mut r = Reply::new(Protocol::Resp2);
        r.array(3);
        for counted_before in [false, false, true] {
            r.note_nested_error(counted_before);
            r.error("ERR x");
        }
        assert_eq!(r.take_nested_failures(0), 2);
        assert_eq!(r.take_nested_failures(0), 0);
        let mark = r.len();
        r.note_nested_error(true);
        r.error("ERR y");
        r.truncate(mark);
        assert_eq!(r.take_nested_failures(0), 0);
    }

    #[test]
    fn encodings_per_protocol() {
        let mut r2 = Reply::new(Protocol::Resp2);
        let mut r3 = Reply::new(Protocol::Resp3);
        for r in [&mut r2, &mut r3] {
            r.map(1);
            r.bulk(b"k");
            r.int(-42);
            r.null();
            r.error("ERR bad\r\nthing");
        }
        assert_eq!(
            r2.bytes(),
            b"*2\r\n$1\r\nk\r\n:-42\r\n$-1\r\n-ERR bad  thing\r\n"
        );
        let mut digits = Vec::new();
        push_int(&mut digits, i64::MIN);
        assert_eq!(digits, i64::MIN.to_string().as_bytes());
        assert_eq!(
            r3.bytes(),
            b"%1\r\n$1\r\nk\r\n:-42\r\n_\r\n-ERR bad  thing\r\n"
        );
    }
}
