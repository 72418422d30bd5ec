//! `restore_payload`: arbitrary bytes as the body of a DUMP payload (a type byte and its
//! encoding), sealed with the footer RESTORE checks first (RDB version 10 and the CRC-64,
//! by `keg::server::seal_dump_payload`),
//! so that the fuzzer reaches the decoders behind the checksum — strings (integer and LZF
//! encodings), lists, sets, hashes, sorted sets, quicklists, listpacks, ziplists, intsets —
//! which `server_session` cannot: a random payload fails the checksum.
//!
//! The payload goes to `RESTORE k 0 <payload>` on a fresh store, through one connection's
//! session. Whatever it holds: no panic, whole RESP replies, and
//! - a refused payload (an error reply) leaves no key behind;
//! - an accepted one DUMPs to a payload that RESTORE accepts again, restoring the same
//!   value (read back with GET, LRANGE, SMEMBERS, HGETALL or ZRANGE), and the value is the
//!   same after the store closes and reopens.

use super::server_session::{open, reply_end};

/// One command as a RESP array of binary-safe words.
pub fn resp(words: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
        out.extend_from_slice(word);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The whole RESP replies in `sent`, one slice each; panics on anything else.
fn replies(sent: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < sent.len() {
        let end = reply_end(sent, at).unwrap_or_else(|| {
            panic!(
                "not a whole RESP reply at byte {at} of the output: {:?}",
                String::from_utf8_lossy(&sent[at..sent.len().min(at + 200)])
            )
        });
        out.push(&sent[at..end]);
        at = end;
    }
    out
}

/// Sends `commands` through one session on `store` and returns the replies, which must be
/// one per command.
fn run(store: &keg::Store, commands: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let input = commands.concat();
    let sent = keg::server::replay_connection(store, &input, input.len().max(1));
    let got: Vec<Vec<u8>> = replies(&sent).into_iter().map(<[u8]>::to_vec).collect();
    assert_eq!(got.len(), commands.len(), "one reply per command: {got:?}");
    got
}

/// The bytes of a bulk string reply (`$n\r\n...\r\n`), or `None` for anything else.
fn bulk(reply: &[u8]) -> Option<&[u8]> {
    let rest = reply.strip_prefix(b"$")?;
    let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
    let len: usize = std::str::from_utf8(&rest[..line_end]).ok()?.parse().ok()?;
    rest.get(line_end + 2..line_end + 2 + len)
}

/// The bulk strings of an array reply (`*n\r\n` then `n` bulk strings).
fn bulks(reply: &[u8]) -> Vec<Vec<u8>> {
    let rest = reply.strip_prefix(b"*").expect("an array reply");
    let line_end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a header");
    let mut at = line_end + 3;
    let mut out = Vec::new();
    while at < reply.len() {
        let end = reply_end(reply, at).expect("whole replies");
        out.push(bulk(&reply[at..end]).expect("bulk strings").to_vec());
        at = end;
    }
    out
}

/// `key`'s type and contents as comparable items: a list's elements in order, a set's
/// members and a hash's field-value pairs sorted (their order is not part of the value),
/// a sorted set's members and scores by rank.
fn view(store: &keg::Store, key: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let ty = run(store, &[resp(&[b"TYPE", key])]).remove(0);
    let read: &[&[u8]] = match ty.as_slice() {
        b"+string\r\n" => {
            let reply = run(store, &[resp(&[b"GET", key])]).remove(0);
            let value = bulk(&reply).expect("GET of a string is a bulk string");
            return (ty, vec![value.to_vec()]);
        }
        b"+list\r\n" => &[b"LRANGE", key, b"0", b"-1"],
        b"+set\r\n" => &[b"SMEMBERS", key],
        b"+hash\r\n" => &[b"HGETALL", key],
        b"+zset\r\n" => &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
        other => panic!(
            "a restored key of type {:?}",
            String::from_utf8_lossy(other)
        ),
    };
    let mut items = bulks(&run(store, &[resp(read)]).remove(0));
    match ty.as_slice() {
        b"+set\r\n" => items.sort(),
        b"+hash\r\n" => {
            let mut pairs: Vec<Vec<u8>> = items.chunks(2).map(<[Vec<u8>]>::concat).collect();
            pairs.sort();
            items = pairs;
        }
        _ => {}
    }
    (ty, items)
}

pub fn check_restore_payload(data: &[u8]) {
    let payload = keg::server::seal_dump_payload(data);
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
    let restored = run(
        &store,
        &[
            resp(&[b"RESTORE", b"k", b"0", &payload]),
            resp(&[b"DUMP", b"k"]),
        ],
    );
    if restored[0].starts_with(b"-") {
        assert_eq!(
            restored[1],
            b"$-1\r\n",
            "a refused RESTORE ({:?}) left a key",
            String::from_utf8_lossy(&restored[0])
        );
        assert!(store.is_empty(), "a refused RESTORE wrote something");
        return;
    }
    assert_eq!(restored[0], b"+OK\r\n");
    let value = view(&store, b"k");
    let dump = bulk(&restored[1]).expect("DUMP of a restored key is a bulk string");
    let again = run(&store, &[resp(&[b"RESTORE", b"copy", b"0", dump])]);
    assert_eq!(again[0], b"+OK\r\n", "RESTORE refused keg's own DUMP");
    assert_eq!(
        view(&store, b"copy"),
        value,
        "a value restored from keg's DUMP differs"
    );
    store.close().expect("close");
    let store = open(dir.path());
    assert_eq!(
        view(&store, b"k"),
        value,
        "the restored value changed across a reopen"
    );
}
