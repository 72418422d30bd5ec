//! `record_decode`: the record decoder.

use keg::format::{
    DecodeError, decode_exact_record, decode_record, encode_record, record::checked_record_len,
};

/// `decode_record` never panics; what it accepts re-encodes to exactly the bytes it read.
/// `decode_exact_record` (the read path's decode of a record the index knows the length
/// of) never panics and agrees with it on a whole record.
pub fn check_record_decode(data: &[u8]) {
    check_exact_decode(data);
    match decode_record(data) {
        Ok((record, len)) => {
            assert!(
                len <= data.len(),
                "decoded length {len} > input {}",
                data.len()
            );
            assert_eq!(
                len,
                record.encoded_len(),
                "length disagrees with the record"
            );
            let mut out = Vec::new();
            let written = encode_record(&mut out, &record)
                .unwrap_or_else(|_| panic!("decoded record does not re-encode: {record:?}"));
            assert_eq!(written, len);
            assert_eq!(
                out.as_slice(),
                &data[..len],
                "re-encoding differs from the input"
            );
            // The record alone decodes the same; one byte less is a torn record.
            assert_eq!(decode_record(&data[..len]), Ok((record, len)));
            assert_eq!(
                decode_record(&data[..len - 1]),
                Err(DecodeError::Incomplete)
            );
            assert_eq!(checked_record_len(data), Some(len));
        }
        Err(e) => {
            let _ = e.to_string();
            if e == DecodeError::HeaderChecksum {
                assert_eq!(checked_record_len(data), None);
            }
            if data.len() < keg::format::RECORD_HEADER_LEN {
                assert_eq!(e, DecodeError::Incomplete);
            }
        }
    }
}

/// The exact decode accepts what the full decode accepts as one whole record, and nothing
/// else but a record whose header checksum alone is wrong (the whole-record checksum it
/// checks covers the header).
fn check_exact_decode(data: &[u8]) {
    let exact = decode_exact_record(data);
    match decode_record(data) {
        Ok((record, len)) if len == data.len() => assert_eq!(exact, Ok(record)),
        Err(DecodeError::HeaderChecksum) => {}
        _ => assert!(exact.is_err(), "exact decode accepted {data:?}"),
    }
}
