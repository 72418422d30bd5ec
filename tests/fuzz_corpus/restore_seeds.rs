//! Seed inputs of the `restore_payload` fuzz target: DUMP payload bodies (the footer is
//! added by the target) of every type and encoding RESTORE reads — keg's own DUMPs and the
//! compact encodings redis-server 7.0.15 writes.

use keg::Store;

use super::seeds::Seeds;

/// Bodies of payloads redis-server 7.0.15 wrote (`DUMP`, footer cut off).
const FROM_REDIS: &[(&str, &[u8])] = &[
    // RPUSH l a 1 -5 300 -4096 70000 bbb: a quicklist of one listpack node.
    (
        "redis-quicklist",
        b"\x12\x01\x02\x1f\x1f\x00\x00\x00\x07\x00\x81a\x02\x01\x01\xdf\xfb\x02\xc1,\x02\xd0\x00\x02\xf2p\x11\x01\x04\x83bbb\x04\xff",
    ),
    // SADD is 1 -1 10000: an intset.
    (
        "redis-intset",
        b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\xff\xff\x01\x00\x10'",
    ),
    // HSET h f v n 12: a listpack hash.
    (
        "redis-hash-listpack",
        b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x0c\x01\xff",
    ),
    // ZADD z 1.5 a 2 b -inf c: a listpack sorted set.
    (
        "redis-zset-listpack",
        b"\x11\x1d\x1d\x00\x00\x00\x06\x00\x81c\x02\x84-inf\x05\x81a\x02\x831.5\x04\x81b\x02\x02\x01\xff",
    ),
    // SET lz ("ab" x 100): an LZF-compressed string.
    ("redis-lzf-string", b"\x00\xc3\x0a@\xc8\x02aba\xe0\xba\x01\x01ab"),
    // SET i 12345: an integer-encoded string.
    ("redis-int-string", b"\x00\xc190"),
    // SADD s a b c: a plain set.
    ("redis-set", b"\x02\x03\x01b\x01c\x01a"),
    // A ziplist ("ab", 5, -1000) as the list, hash and sorted-set encodings of Redis < 7.
    (
        "ziplist-list",
        b"\x0a\x15\x15\x00\x00\x00\x11\x00\x00\x00\x03\x00\x00\x02ab\x04\xf6\x02\xc0\x18\xfc\xff",
    ),
    (
        "ziplist-hash",
        b"\x0d\x15\x15\x00\x00\x00\x11\x00\x00\x00\x03\x00\x00\x02ab\x04\xf6\x02\xc0\x18\xfc\xff",
    ),
    (
        "ziplist-zset",
        b"\x0c\x15\x15\x00\x00\x00\x11\x00\x00\x00\x03\x00\x00\x02ab\x04\xf6\x02\xc0\x18\xfc\xff",
    ),
];

/// Commands that leave one key `k` of each kind keg DUMPs, and the seed names.
const FROM_KEG: &[(&str, &str)] = &[
    ("keg-string", "SET k hello"),
    ("keg-int-string", "SET k -42"),
    (
        "keg-long-string",
        "SET k aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ),
    ("keg-list", "RPUSH k a 1 -5 300 bbb"),
    ("keg-set", "SADD k x y 3"),
    ("keg-hash", "HSET k f v n 12"),
    ("keg-zset", "ZADD k 1.5 a 2 b -inf c inf d"),
];

/// `line` as a RESP array, words split on spaces.
fn command(line: &str) -> Vec<u8> {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    out
}

/// What keg's DUMP of the value `setup` leaves at `k` returns: a whole payload.
pub fn keg_dump(setup: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).expect("open");
    let input = [command(setup), command("DUMP k")].concat();
    let sent = keg::server::replay_connection(&store, &input, input.len());
    // The setup's reply is one line; DUMP's is `$n\r\n<payload>\r\n`.
    let after_setup = sent
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a reply to the setup")
        + 2;
    let dump = sent.get(after_setup..).expect("a reply to DUMP");
    let line_end = dump
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a bulk header");
    let len: usize = std::str::from_utf8(dump.get(1..line_end).expect("length"))
        .expect("ASCII length")
        .parse()
        .expect("DUMP replies with a bulk string");
    dump.get(line_end + 2..line_end + 2 + len)
        .expect("the whole payload")
        .to_vec()
}

pub fn restore_payload_seeds() -> Seeds {
    let mut seeds: Seeds = FROM_REDIS
        .iter()
        .map(|&(name, body)| (name, body.to_vec()))
        .collect();
    for &(name, setup) in FROM_KEG {
        let payload = keg_dump(setup);
        let body = payload
            .get(..payload.len() - 10)
            .expect("a payload ends with a 10-byte footer");
        assert_eq!(
            keg::server::seal_dump_payload(body),
            payload,
            "the seal of {name}"
        );
        seeds.push((name, body.to_vec()));
    }
    seeds
}
