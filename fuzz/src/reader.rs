//! A cursor over fuzz input bytes: missing bytes read as zeros, so every input means
//! something.

pub(crate) struct Reader<'a> {
    pub(crate) data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    pub(crate) fn byte_or_zero(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    pub(crate) fn u16_or_zero(&mut self) -> u16 {
        u16::from_le_bytes([self.byte_or_zero(), self.byte_or_zero()])
    }
}
