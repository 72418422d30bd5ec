//! Properties of the request codec on arbitrary input: it never panics, never reads past
//! what it was given, frames encoded requests back exactly, and a check resumed across
//! partial reads agrees with a fresh one.

use keg::server::Limits;
use keg::server::frame::{Args, Resume, check, check_resumable, parse};
use proptest::prelude::*;

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn small_limits() -> Limits {
    Limits {
        max_bulk_len: 64,
        max_args: 16,
        max_inline_len: 128,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for limits in [Limits::default(), small_limits()] {
            for authenticated in [true, false] {
                if let Ok(Some(frame)) = check(&bytes, &limits, authenticated) {
                    prop_assert!(frame.len <= bytes.len());
                    let mut args = Args::new();
                    let _ = parse(&bytes[..frame.len], frame.kind, &mut args);
                }
            }
        }
    }

    #[test]
    fn encoded_requests_frame_back_exactly(
        requests in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6),
            1..5,
        )
    ) {
        let mut stream = Vec::new();
        for r in &requests {
            stream.extend(encode(r));
        }
        let limits = Limits::default();
        let mut pos = 0;
        for r in &requests {
            let frame = check(&stream[pos..], &limits, true).unwrap().unwrap();
            let mut args = Args::new();
            parse(&stream[pos..pos + frame.len], frame.kind, &mut args).unwrap();
            let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&got, r);
            pos += frame.len;
        }
        prop_assert_eq!(pos, stream.len());
    }

    #[test]
    fn resumed_checks_agree_with_fresh_ones(
        request in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 1..20),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
    ) {
        let stream = encode(&request);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len())).collect();
        cuts.sort_unstable();
        let limits = Limits::default();
        let mut resume = Resume::default();
        for cut in cuts {
            let fresh = check(&stream[..cut], &limits, true);
            let resumed = check_resumable(&stream[..cut], &limits, true, &mut resume);
            prop_assert_eq!(fresh, resumed);
        }
        let done = check_resumable(&stream, &limits, true, &mut resume).unwrap().unwrap();
        prop_assert_eq!(done.len, stream.len());
    }
}
