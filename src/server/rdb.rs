//! Redis's RDB encoding, the parts DUMP / RESTORE and FUNCTION DUMP / RESTORE use: lengths,
//! strings (plain, integer-encoded and LZF-compressed), the payload's trailer (RDB version
//! and CRC-64), and the compact containers Redis 7.0 writes collections in (listpack,
//! intset, ziplist).
//!
//! A length is 6 bits; 14 bits; 0x80 and 32 bits; 0x81 and 64 bits (big endian). A string
//! is its length then its bytes, or an integer (0xc0, 0xc1, 0xc2: 8, 16, 32 bits little
//! endian), or LZF-compressed (0xc3, compressed and plain lengths, the LZF data); keg
//! writes plain strings only.

/// Largest string a payload may decompress to: Redis's default `proto-max-bulk-len`.
const MAX_STRING_LEN: usize = 512 << 20;

/// Redis 7.0's RDB version; payloads of later versions are refused, as Redis refuses them.
pub(crate) const RDB_VERSION: u16 = 10;

/// Appends the payload trailer: the RDB version, then the CRC-64 of everything before.
pub(crate) fn seal(out: &mut Vec<u8>) {
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// `body` sealed as a DUMP payload: the RDB version and CRC-64 appended. For tests and
/// fuzzing, which build payloads by hand: not a stable API.
pub fn seal_dump_payload(body: &[u8]) -> Vec<u8> {
    let mut payload = body.to_vec();
    seal(&mut payload);
    payload
}

/// The body of a payload (without its trailer), if its version and CRC-64 check out.
pub(crate) fn unseal(payload: &[u8]) -> Option<&[u8]> {
    let (body, crc) = payload.split_last_chunk::<8>()?;
    let (records, version) = body.split_last_chunk::<2>()?;
    (u16::from_le_bytes(*version) <= RDB_VERSION && crc64(0, body) == u64::from_le_bytes(*crc))
        .then_some(records)
}

/// Appends `bytes` as a plain RDB string.
pub(crate) fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    write_length(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

pub(crate) fn write_length(len: u64, out: &mut Vec<u8>) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

pub(crate) fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

pub(crate) fn take_array<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    take(rest, N)?.try_into().ok()
}

/// A length; `Err(kind)` for a special encoding (the low 6 bits of its first byte).
pub(crate) fn read_length(rest: &mut &[u8]) -> Option<Result<u64, u8>> {
    let [first] = take_array::<1>(rest)?;
    Some(match first >> 6 {
        0 => Ok(u64::from(first & 0x3f)),
        1 => {
            let [second] = take_array::<1>(rest)?;
            Ok(u64::from(first & 0x3f) << 8 | u64::from(second))
        }
        2 if first == 0x80 => Ok(u64::from(u32::from_be_bytes(take_array(rest)?))),
        2 if first == 0x81 => Ok(u64::from_be_bytes(take_array(rest)?)),
        2 => return None,
        _ => Err(first & 0x3f),
    })
}

pub(crate) fn read_plain_length(rest: &mut &[u8]) -> Option<usize> {
    usize::try_from(read_length(rest)?.ok()?).ok()
}

pub(crate) fn read_string(rest: &mut &[u8]) -> Option<Vec<u8>> {
    match read_length(rest)? {
        Ok(len) => Some(take(rest, usize::try_from(len).ok()?)?.to_vec()),
        // LZF: the compressed length, the plain length, then the compressed bytes.
        Err(3) => {
            let compressed = read_plain_length(rest)?;
            let plain = read_plain_length(rest)?;
            // LZF expands up to ~100 times: a payload may not make a string larger than
            // one the protocol would accept.
            if plain > MAX_STRING_LEN {
                return None;
            }
            lzf_decompress(take(rest, compressed)?, plain)
        }
        Err(0) => Some(
            i64::from(i8::from_le_bytes(take_array(rest)?))
                .to_string()
                .into_bytes(),
        ),
        Err(1) => Some(
            i64::from(i16::from_le_bytes(take_array(rest)?))
                .to_string()
                .into_bytes(),
        ),
        Err(2) => Some(
            i64::from(i32::from_le_bytes(take_array(rest)?))
                .to_string()
                .into_bytes(),
        ),
        Err(_) => None,
    }
}

/// LZF decompression (liblzf's format), to exactly `plain_len` bytes.
fn lzf_decompress(mut input: &[u8], plain_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(plain_len.min(1 << 20));
    while let Some(&control) = input.first() {
        input = input.get(1..)?;
        if control < 32 {
            let literal = take(&mut input, usize::from(control) + 1)?;
            out.extend_from_slice(literal);
        } else {
            let mut len = usize::from(control >> 5);
            if len == 7 {
                len += usize::from(*take(&mut input, 1)?.first()?);
            }
            let low = usize::from(*take(&mut input, 1)?.first()?);
            let back = (usize::from(control & 0x1f) << 8) + low + 1;
            let start = out.len().checked_sub(back)?;
            for i in 0..len + 2 {
                let byte = *out.get(start + i)?;
                out.push(byte);
            }
        }
        if out.len() > plain_len {
            return None;
        }
    }
    (out.len() == plain_len).then_some(out)
}

/// Redis's CRC-64 (Jones polynomial, reflected, no final xor), a bit at a time: payloads
/// are small and rare.
pub(crate) fn crc64(mut crc: u64, bytes: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    for &byte in bytes {
        crc ^= u64::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_s() {
        // Redis's `crc64` self-test value.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn lzf_reads_literals_and_back_references() {
        // "abcabcabc": a literal run of 3, then a back reference of 6 bytes at distance 3.
        let compressed = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(lzf_decompress(&compressed, 9), Some(b"abcabcabc".to_vec()));
        assert_eq!(lzf_decompress(&compressed, 8), None);
        assert_eq!(lzf_decompress(&[(1 << 5), 5], 3), None);
    }

    #[test]
    fn strings_read_in_every_encoding() {
        let read = |bytes: &[u8]| read_string(&mut &bytes[..]);
        assert_eq!(read(b"\x03abc"), Some(b"abc".to_vec()));
        assert_eq!(read(b"\xc0\xff"), Some(b"-1".to_vec()));
        assert_eq!(read(b"\xc1\x00\x80"), Some(b"-32768".to_vec()));
        assert_eq!(read(b"\xc2\x40\xe2\x01\x00"), Some(b"123456".to_vec()));
        assert_eq!(read(b"\x40\x02ab"), Some(b"ab".to_vec()));
        assert_eq!(read(b"\x40\x05ab"), None);
        let mut long = Vec::new();
        write_string(&[7u8; 20_000], &mut long);
        assert_eq!(read(&long), Some(vec![7u8; 20_000]));
        // LZF claiming one byte more than 512 MiB once decompressed: refused before any
        // decompression, whatever the data.
        let mut huge = vec![0xc3, 0x01, 0x80];
        huge.extend_from_slice(&((512u32 << 20) + 1).to_be_bytes());
        huge.push(0x00);
        assert_eq!(read(&huge), None);
        let mut small = vec![0xc3, 0x02, 0x01, 0x00, b'a'];
        assert_eq!(read(&small), Some(b"a".to_vec()));
        small.truncate(4);
        assert_eq!(read(&small), None);
    }
}
