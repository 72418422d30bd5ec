//! A connection's input buffer: bytes received and not yet framed into requests.

/// Bytes read at a time (the buffer grows beyond this only for a request that needs it).
pub(crate) const READ_CHUNK: usize = 16 << 10;

pub(crate) struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Input {
    pub(crate) fn new() -> Input {
        Input {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }

    /// The bytes received and not consumed.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Room to read into: moves pending bytes to the front, grows when nearly full.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK / 2 {
            let grown = (self.buf.len() * 2).max(READ_CHUNK);
            self.buf.resize(grown, 0);
        }
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// `n` bytes were read into [`space`](Input::space).
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// The first `n` pending bytes were used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > 4 * READ_CHUNK {
                self.buf = vec![0; READ_CHUNK];
            }
        }
    }
}
