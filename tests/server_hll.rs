//! HyperLogLog against a real redis-server (where installed): the same elements give the
//! same PFADD answers and PFCOUNT estimates as the sketch grows from sparse to dense, the
//! same dense bytes, and the same unions; and the estimates Redis gives, written out, for
//! machines without it.

mod redis_server;
mod server_support;

use std::net::SocketAddr;

use redis_server::RedisServer;
use server_support::{Raw, TestServer, encode};

/// Adds `element:0..n` to `hll` in batches of 250 (and `n/2..3n/2` to `other`), and
/// records every reply: PFADD, PFCOUNT after each batch, then the union, the merge and
/// the dense value's bytes.
fn transcript(addr: SocketAddr, n: usize) -> Vec<Vec<u8>> {
    let mut raw = Raw::connect(addr);
    let mut replies = Vec::new();
    let mut call = |raw: &mut Raw, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        raw.send(&encode(&args));
        replies.push(raw.reply());
    };
    call(&mut raw, vec!["FLUSHALL".into()]);
    for (key, range) in [("hll", 0..n), ("other", n / 2..n + n / 2)] {
        let elements: Vec<String> = range.map(|i| format!("element:{i}")).collect();
        for batch in elements.chunks(250) {
            let mut args = vec!["PFADD".to_string(), key.to_string()];
            args.extend(batch.iter().cloned());
            call(&mut raw, args);
            call(&mut raw, vec!["PFCOUNT".into(), key.into()]);
        }
    }
    call(
        &mut raw,
        vec!["PFCOUNT".into(), "hll".into(), "other".into()],
    );
    call(
        &mut raw,
        vec![
            "PFMERGE".into(),
            "merged".into(),
            "hll".into(),
            "other".into(),
        ],
    );
    call(&mut raw, vec!["PFCOUNT".into(), "merged".into()]);
    call(&mut raw, vec!["GET".into(), "hll".into()]);
    call(&mut raw, vec!["GET".into(), "merged".into()]);
    replies
}

fn count_after_each_batch(replies: &[Vec<u8>]) -> Vec<String> {
    replies
        .iter()
        .skip(2)
        .step_by(2)
        .take(40)
        .map(|r| String::from_utf8_lossy(r).trim().to_string())
        .collect()
}

#[test]
fn hyperloglogs_answer_as_redis_from_sparse_to_dense() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let keg = TestServer::start();
    let theirs = transcript(format!("127.0.0.1:{}", redis.port).parse().unwrap(), 10_000);
    let ours = transcript(keg.addr, 10_000);
    assert_eq!(theirs.len(), ours.len());
    for (i, (want, got)) in theirs.iter().zip(&ours).enumerate() {
        assert!(
            want == got,
            "reply {i}: redis {:?}, keg {:?}",
            String::from_utf8_lossy(&want[..want.len().min(80)]),
            String::from_utf8_lossy(&got[..got.len().min(80)])
        );
    }
}

/// The estimates redis-server 7.0 gives for the same elements.
#[test]
fn estimates_are_the_ones_redis_gives() {
    let keg = TestServer::start();
    let replies = transcript(keg.addr, 10_000);
    let counts = count_after_each_batch(&replies);
    assert_eq!(counts, EXPECTED_COUNTS);
}

const EXPECTED_COUNTS: &[&str] = &[
    ":250", ":502", ":750", ":997", ":1244", ":1500", ":1756", ":2004", ":2263", ":2519", ":2762",
    ":3002", ":3250", ":3499", ":3750", ":4002", ":4256", ":4500", ":4760", ":5005", ":5242",
    ":5498", ":5750", ":6009", ":6253", ":6494", ":6743", ":7019", ":7273", ":7528", ":7772",
    ":8010", ":8257", ":8508", ":8759", ":8993", ":9243", ":9521", ":9770", ":10017",
];
