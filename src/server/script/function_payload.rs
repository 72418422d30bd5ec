//! FUNCTION DUMP's payload, in Redis 7.0's format so that a payload moves between keg and
//! Redis either way, and the file the server keeps its libraries in (the same bytes):
//!
//! ```text
//! for each library: 0xf5, the library's code as an RDB string
//! the RDB version: 10, 2 bytes little-endian
//! CRC-64 (Jones, as Redis's) of everything before, 8 bytes little-endian
//! ```
//!
//! An RDB string is its length (6 bits; 14 bits; 0x80 and 32 bits; 0x81 and 64 bits, big
//! endian) then its bytes; Redis may also write it LZF-compressed (0xc3, compressed and
//! plain lengths, the LZF data), which is read here but never written.

/// The opcode before each library (`RDB_OPCODE_FUNCTION2`).
const FUNCTION_OPCODE: u8 = 0xf5;
/// Redis 7.0's RDB version; payloads of later versions are refused, as Redis refuses them.
const RDB_VERSION: u16 = 10;
/// Redis's error for a payload that is not one.
pub(crate) const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";

/// The payload of `codes`, in order.
pub(crate) fn encode<'a>(codes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(FUNCTION_OPCODE);
        write_length(code.len() as u64, &mut out);
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a payload, or why it is not one (Redis's error text).
pub(crate) fn decode(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let Some((body, crc)) = payload.split_last_chunk::<8>() else {
        return Err(BAD_PAYLOAD);
    };
    let Some((records, version)) = body.split_last_chunk::<2>() else {
        return Err(BAD_PAYLOAD);
    };
    if u16::from_le_bytes(*version) > RDB_VERSION || crc64(0, body) != u64::from_le_bytes(*crc) {
        return Err(BAD_PAYLOAD);
    }
    let mut rest = records;
    let mut codes = Vec::new();
    while let Some((&opcode, after)) = rest.split_first() {
        if opcode != FUNCTION_OPCODE {
            return Err("ERR given type is not a function");
        }
        rest = after;
        codes.push(read_string(&mut rest).ok_or("ERR payload is not a function payload")?);
    }
    Ok(codes)
}

fn write_length(len: u64, out: &mut Vec<u8>) {
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

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_array<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    take(rest, N)?.try_into().ok()
}

/// A length; `Err(kind)` for a special encoding (the low 6 bits of its first byte).
fn read_length(rest: &mut &[u8]) -> Option<Result<u64, u8>> {
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

fn read_plain_length(rest: &mut &[u8]) -> Option<usize> {
    usize::try_from(read_length(rest)?.ok()?).ok()
}

fn read_string(rest: &mut &[u8]) -> Option<Vec<u8>> {
    match read_length(rest)? {
        Ok(len) => Some(take(rest, usize::try_from(len).ok()?)?.to_vec()),
        // LZF: the compressed length, the plain length, then the compressed bytes.
        Err(3) => {
            let compressed = read_plain_length(rest)?;
            let plain = read_plain_length(rest)?;
            lzf_decompress(take(rest, compressed)?, plain)
        }
        // Integers written as strings (0, 1, 2: 8, 16, 32 bits): a library's code never is.
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
fn crc64(mut crc: u64, bytes: &[u8]) -> u64 {
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

    use proptest::prelude::*;

    #[test]
    fn crc64_is_redis_s() {
        // Redis's `crc64` self-test value.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn a_payload_written_by_redis_decodes() {
        // FUNCTION DUMP of Redis 7.0.15 holding two libraries.
        let payload = b"\xf59#!lua name=q\nredis.register_function('b', function() end)\
            \xf59#!lua name=p\nredis.register_function('a', function() end)\n\x00\
            \xaf5<\x9b\x91Ab\xdd";
        let codes = decode(payload).expect("decodes");
        assert_eq!(codes.len(), 2);
        assert_eq!(
            codes.first().map(Vec::as_slice),
            Some(&b"#!lua name=q\nredis.register_function('b', function() end)"[..])
        );
        assert_eq!(encode(codes.iter().map(Vec::as_slice)), payload.to_vec());
    }

    #[test]
    fn damaged_payloads_are_refused() {
        let payload = encode([&b"#!lua name=x\n"[..]]);
        for cut in 0..payload.len() {
            assert!(
                decode(payload.get(..cut).unwrap_or_default()).is_err(),
                "{cut}"
            );
        }
        let mut flipped = payload.clone();
        if let Some(b) = flipped.get_mut(3) {
            *b ^= 1;
        }
        assert_eq!(decode(&flipped), Err(BAD_PAYLOAD));
    }

    #[test]
    fn lzf_reads_literals_and_back_references() {
        // "abcabcabc": a literal run of 3, then a back reference of 6 bytes at distance 3.
        let compressed = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(lzf_decompress(&compressed, 9), Some(b"abcabcabc".to_vec()));
        assert_eq!(lzf_decompress(&compressed, 8), None);
        assert_eq!(lzf_decompress(&[(1 << 5), 5], 3), None);
    }

    proptest! {
        #[test]
        fn payloads_round_trip(codes in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..4)) {
            let payload = encode(codes.iter().map(Vec::as_slice));
            prop_assert_eq!(decode(&payload), Ok(codes));
        }

        #[test]
        fn any_bytes_decode_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = decode(&bytes);
        }
    }
}
