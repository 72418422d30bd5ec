//! FUNCTION DUMP's payload, in Redis 7.0's format so that a payload moves between keg and
//! Redis either way, and the file the server keeps its libraries in (the same bytes):
//!
//! ```text
//! for each library: 0xf5, the library's code as an RDB string
//! the RDB version: 10, 2 bytes little-endian
//! CRC-64 (Jones, as Redis's) of everything before, 8 bytes little-endian
//! ```
//!
//! The strings and the trailer are RDB's (`server::rdb`).

use crate::server::rdb;

/// The opcode before each library (`RDB_OPCODE_FUNCTION2`).
const FUNCTION_OPCODE: u8 = 0xf5;
/// Redis's error for a payload that is not one.
pub(crate) const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";

/// The payload of `codes`, in order.
pub(crate) fn encode<'a>(codes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(FUNCTION_OPCODE);
        rdb::write_string(code, &mut out);
    }
    rdb::seal(&mut out);
    out
}

/// The library codes of a payload, or why it is not one (Redis's error text).
pub(crate) fn decode(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut rest = rdb::unseal(payload).ok_or(BAD_PAYLOAD)?;
    let mut codes = Vec::new();
    while let Some((&opcode, after)) = rest.split_first() {
        if opcode != FUNCTION_OPCODE {
            return Err("ERR given type is not a function");
        }
        rest = after;
        codes.push(rdb::read_string(&mut rest).ok_or("ERR payload is not a function payload")?);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

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
