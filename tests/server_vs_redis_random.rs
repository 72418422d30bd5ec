//! Generated command sequences sent to keg's server and to a real redis-server must get the
//! same replies (run where redis-server is installed; skipped with a note elsewhere).
//!
//! Each sequence draws commands over strings, lists, hashes, sets and sorted sets from a
//! few keys (so that types collide and WRONGTYPE comes up), a few members and values
//! (numbers, floats, words, the empty string) and indexes, scores and ranges around the
//! edges. Replies are compared byte for byte, except where Redis leaves the order open
//! (SMEMBERS, HGETALL, KEYS, ...: compared as sorted lists) and for TTL (one second either
//! way: see `Order::RoundedSeconds`). Commands whose replies are
//! random (SPOP, SRANDMEMBER, HRANDFIELD with a count below the size, RANDOMKEY) or
//! time-dependent below a second (PTTL, EXPIRETIME of a relative expiry, GT/LT against
//! one) are left out; SCANs ask for everything in one page. The first difference ends a sequence:
//! after it the two servers' contents may differ.
//!
//! `KEG_DIFF_SEEDS` (default 4) and `KEG_DIFF_STEPS` (default 3000) run more; `KEG_DIFF_FIRST_SEED`
//! (default 1) starts elsewhere, to run one failing seed again.

mod redis_server;
mod server_support;

use redis_server::RedisServer;
use server_support::{
    Raw, TestServer, commandstats_without_times, encode, error_counts, reply_len,
};

/// xorshift64*: the same sequence for the same seed everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const STRING_KEYS: &[&str] = &["s1", "s2", "n1"];
const LIST_KEYS: &[&str] = &["l1", "l2"];
const HASH_KEYS: &[&str] = &["h1", "h2"];
const SET_KEYS: &[&str] = &["t1", "t2", "t3"];
const ZSET_KEYS: &[&str] = &["z1", "z2"];
/// A sorted set whose members all score 0, for the lex-range commands.
const LEX_KEY: &str = "x1";
const MEMBERS: &[&str] = &["a", "b", "c", "d", "", "10", "-2", "1.5"];
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "10",
    "1.5",
    "-0.25",
    "1e3",
    "abc",
    "",
    "9223372036854775807",
    "-9223372036854775808",
    " 1",
    "1 ",
    "+5",
    "007",
    "-0",
    "0x10",
    "1e308",
    "1e309",
    "5e-324",
    ".5",
    "1.",
    "inf",
    "-inf",
    "nan",
    "3.0000000000000001",
    "x-long-value-of-forty-bytes-0123456789ab",
];
const INDEXES: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "-2",
    "-5",
    "5",
    "100",
    "-100",
    "abc",
    "9223372036854775807",
    "-9223372036854775808",
];
const COUNTS: &[&str] = &["0", "1", "2", "3", "10", "-1", "abc"];
const SCORES: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "1.5",
    "2.5",
    "-3",
    "+inf",
    "-inf",
    "inf",
    "1e2",
    "abc",
    "nan",
    "-0",
    ".5",
    "1.",
    "0x1",
    "1e309",
    "5e-324",
    " 1",
    "+1",
    "1e-5",
    "123456789012",
];
const SCORE_BOUNDS: &[&str] = &[
    "0", "1", "(1", "2", "(2.5", "-inf", "+inf", "(-inf", "-1", "abc", "(",
];
const LEX_BOUNDS: &[&str] = &["-", "+", "[a", "(a", "[c", "(d", "[", "b", "[10"];

/// A key of the family the command is for, or (now and then) any key, to meet WRONGTYPE.
fn key(rng: &mut Rng, family: &[&'static str]) -> &'static str {
    if rng.chance(12) {
        any_key(rng)
    } else {
        rng.pick(family)
    }
}

/// A key of any family, or one nothing writes.
fn any_key(rng: &mut Rng) -> &'static str {
    let all = [
        STRING_KEYS,
        LIST_KEYS,
        HASH_KEYS,
        SET_KEYS,
        ZSET_KEYS,
        &["nokey"],
    ];
    let family = all[rng.below(all.len())];
    rng.pick(family)
}

fn some(rng: &mut Rng, from: &[&'static str], most: usize) -> Vec<&'static str> {
    let n = 1 + rng.below(most);
    (0..n).map(|_| rng.pick(from)).collect()
}

/// `head` followed by one to `most` members.
fn with_members(head: &[&'static str], rng: &mut Rng, most: usize) -> Vec<&'static str> {
    let mut c = head.to_vec();
    c.extend(some(rng, MEMBERS, most));
    c
}

/// How a command's reply is compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Order {
    /// Byte for byte.
    Exact,
    /// An array whose order Redis leaves open: compared sorted.
    Unordered,
    /// An array of field/value pairs in an open order: compared as sorted pairs.
    UnorderedPairs,
    /// A SCAN-family page that holds everything: the cursor exactly, the keys sorted.
    WholeScan,
    /// The same with field/value (member/score) pairs.
    WholeScanPairs,
    /// A count of seconds rounded from milliseconds at a slightly different moment on each
    /// server: equal, or one apart.
    RoundedSeconds,
}

fn strings(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = key(rng, STRING_KEYS);
    let v = rng.pick(VALUES);
    let cmd: Vec<&'static str> = match rng.below(24) {
        0 | 1 => {
            let mut c = vec!["SET", k, v];
            match rng.below(9) {
                0 => c.push("NX"),
                1 => c.push("XX"),
                2 => c.extend(["EX", "1000"]),
                3 => c.extend(["PX", rng.pick(&["1000000", "0", "-5", "abc"])]),
                // Not a time in the past: Redis 7.0 keeps such a key (counted by DBSIZE)
                // until it reaps it, keg never shows it.
                4 => c.extend(["EXAT", rng.pick(&["99999999999", "0", "abc"])]),
                5 => c.push("KEEPTTL"),
                6 => c.extend(["EX", "1000", rng.pick(&["KEEPTTL", "PX", "NX"])]),
                _ => {}
            }
            if rng.chance(20) {
                c.push("GET");
            }
            c
        }
        2 | 3 => vec!["GET", k],
        4 => vec!["GETSET", k, v],
        5 => vec!["GETDEL", k],
        6 => vec!["APPEND", k, v],
        7 => vec!["STRLEN", k],
        8 => vec!["GETRANGE", k, rng.pick(INDEXES), rng.pick(INDEXES)],
        9 => vec!["SETRANGE", k, rng.pick(&["0", "1", "3", "-1"]), v],
        10 => vec!["INCR", k],
        11 => vec!["DECR", k],
        12 => vec!["INCRBY", k, rng.pick(VALUES)],
        13 => vec!["DECRBY", k, rng.pick(VALUES)],
        14 => vec!["INCRBYFLOAT", k, rng.pick(VALUES)],
        15 => vec!["MSET", k, v, key(rng, STRING_KEYS), rng.pick(VALUES)],
        16 => {
            let mut c = vec!["MGET"];
            c.extend(some(rng, &["s1", "s2", "n1", "l1", "nokey"], 3));
            c
        }
        17 => vec!["MSETNX", k, v, key(rng, STRING_KEYS), rng.pick(VALUES)],
        18 => vec!["SETNX", k, v],
        19 => vec!["SETEX", k, rng.pick(&["1000", "0", "-1", "abc"]), v],
        20 => vec!["GETEX", k, rng.pick(&["PERSIST", "EX"])],
        21 => {
            let mut c = vec!["EXPIRE", k, rng.pick(&["1000", "2000", "0", "-1"])];
            if rng.chance(60) {
                // Not GT or LT: against an expiry set a moment ago from the same
                // relative time, their answer depends on whether a millisecond passed.
                c.push(rng.pick(&["NX", "XX"]));
            }
            c
        }
        22 => vec!["TTL", k],
        _ => vec!["PERSIST", k],
    };
    (cmd, Order::Exact)
}

/// Geo commands, on sorted sets of their own: every score a geohash GEOADD wrote (a score
/// ZADD wrote is found by the searches in ways of Redis's cells, see docs/server.md; any
/// other key may hold one, by RENAME or COPY). The type errors are in server_vs_redis.rs.
fn geo(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    // Away from the ±180° meridian and the poles, where Redis's cells miss members inside
    // a search area (docs/server.md); the edges themselves are in server_vs_redis.rs.
    const LONGITUDES: &[&str] = &["13.361389", "15.087269", "0", "-0.5", "181", "abc"];
    const LATITUDES: &[&str] = &["38.115556", "37.502669", "0", "-1", "86", "x"];
    let k = rng.pick(&["g1", "g2"]);
    if rng.chance(40) {
        return geo_search(rng, k);
    }
    let cmd = match rng.below(5) {
        0 | 1 => {
            let mut c = vec!["GEOADD", k];
            if rng.chance(30) {
                c.push(rng.pick(&["NX", "XX", "CH"]));
            }
            for _ in 0..1 + rng.below(2) {
                c.extend([rng.pick(LONGITUDES), rng.pick(LATITUDES), rng.pick(MEMBERS)]);
            }
            c
        }
        2 => with_members(&["GEOPOS", k], rng, 3),
        3 => {
            let mut c = vec!["GEODIST", k, rng.pick(MEMBERS), rng.pick(MEMBERS)];
            if rng.chance(50) {
                c.push(rng.pick(&["km", "MI", "ft", "m", "yd"]));
            }
            c
        }
        _ => with_members(&["GEOHASH", k], rng, 3),
    };
    (cmd, Order::Exact)
}

/// GEOSEARCH / GEORADIUS*: sorted by distance (Redis's unsorted order is that of its
/// geohash cells: compared unordered), with the reply options now and then. Areas of a few
/// hundred kilometres: for a large part of the globe Redis's cells miss members inside it
/// (see docs/server.md).
fn geo_search(rng: &mut Rng, k: &'static str) -> (Vec<&'static str>, Order) {
    let mut c = match rng.below(3) {
        0 => {
            let mut c = vec!["GEOSEARCH", k];
            if rng.chance(50) {
                c.extend(["FROMMEMBER", rng.pick(MEMBERS)]);
            } else {
                c.extend([
                    "FROMLONLAT",
                    rng.pick(&["13.4", "0", "15"]),
                    rng.pick(&["38", "0", "37"]),
                ]);
            }
            if rng.chance(60) {
                c.extend([
                    "BYRADIUS",
                    rng.pick(&["100", "300", "0", "-1"]),
                    rng.pick(&["km", "mi"]),
                ]);
            } else {
                c.extend([
                    "BYBOX",
                    rng.pick(&["200", "400"]),
                    rng.pick(&["200", "50"]),
                    "km",
                ]);
            }
            c
        }
        1 => vec![
            "GEORADIUS",
            k,
            rng.pick(&["13.4", "0"]),
            rng.pick(&["38", "0"]),
            rng.pick(&["300", "30"]),
            "km",
        ],
        _ => vec![
            "GEORADIUSBYMEMBER",
            k,
            rng.pick(MEMBERS),
            rng.pick(&["300", "30"]),
            "km",
        ],
    };
    let sorted = rng.chance(75);
    if sorted {
        c.push(rng.pick(&["ASC", "DESC"]));
        if rng.chance(50) {
            c.extend(["COUNT", rng.pick(&["1", "2", "10"])]);
        }
        if rng.chance(50) {
            c.push(rng.pick(&["WITHDIST", "WITHHASH", "WITHCOORD"]));
        }
    }
    (
        c,
        if sorted {
            Order::Exact
        } else {
            Order::Unordered
        },
    )
}

/// LMPOP and ZMPOP over two keys of any type (a key of another type before a non-empty
/// one is WRONGTYPE), and their blocking forms with a timeout too short to wait long.
fn multi_pops(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let lists = rng.chance(50);
    let family = if lists { LIST_KEYS } else { ZSET_KEYS };
    let mut c = if rng.chance(80) {
        vec![if lists { "LMPOP" } else { "ZMPOP" }]
    } else {
        vec![if lists { "BLMPOP" } else { "BZMPOP" }, "0.001"]
    };
    c.extend([
        rng.pick(&["2", "2", "1", "0", "3"]),
        key(rng, family),
        key(rng, family),
    ]);
    c.push(if lists {
        rng.pick(&["LEFT", "RIGHT", "MIN"])
    } else {
        rng.pick(&["MIN", "MAX", "LEFT"])
    });
    if rng.chance(50) {
        c.extend(["COUNT", rng.pick(COUNTS)]);
    }
    (c, Order::Exact)
}

/// HyperLogLog commands, on keys of their own (their sparse bytes may differ from
/// Redis's: see `server/commands/hll.rs`).
fn hyperloglogs(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    // Keys of their own (any other may get one, by PFADD, then be edited by string
    // commands, which Redis and keg treat differently: docs/server.md). The type errors
    // are in server_vs_redis.rs.
    let hll = |rng: &mut Rng| rng.pick(&["p1", "p2", "p3"]);
    let k = hll(rng);
    let cmd = match rng.below(4) {
        0 | 1 => with_members(&["PFADD", k], rng, 6),
        2 => {
            let mut c = vec!["PFCOUNT", k];
            if rng.chance(40) {
                c.push(hll(rng));
            }
            c
        }
        _ => vec!["PFMERGE", k, hll(rng), hll(rng)],
    };
    (cmd, Order::Exact)
}

/// Bitmap commands and LCS, mostly on string keys (whose values include numbers, spaces
/// and long text, and which SETBIT and BITFIELD grow).
fn bits(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    const OFFSETS: &[&str] = &["0", "1", "7", "8", "13", "63", "100", "-1", "abc", "#2"];
    const RANGES: &[&str] = &["0", "1", "-1", "-2", "3", "10", "-100", "abc"];
    const TYPES: &[&str] = &["u1", "u8", "i8", "i5", "u16", "i64", "u63", "u64", "x8"];
    const NUMBERS: &[&str] = &["0", "1", "-1", "100", "300", "-200", "9223372036854775807"];
    let k = key(rng, STRING_KEYS);
    let cmd = match rng.below(8) {
        7 => {
            let mut c = vec!["LCS", k, key(rng, STRING_KEYS)];
            match rng.below(4) {
                0 => c.push("LEN"),
                1 => c.extend(["IDX", "WITHMATCHLEN"]),
                2 => c.extend(["IDX", "MINMATCHLEN", rng.pick(&["0", "2", "-1"])]),
                _ => {}
            }
            c
        }
        0 => vec![
            "SETBIT",
            k,
            rng.pick(OFFSETS),
            rng.pick(&["0", "1", "1", "2"]),
        ],
        1 => vec!["GETBIT", k, rng.pick(OFFSETS)],
        2 => {
            let mut c = vec!["BITCOUNT", k];
            if rng.chance(70) {
                c.extend([rng.pick(RANGES), rng.pick(RANGES)]);
                if rng.chance(50) {
                    c.push(rng.pick(&["BIT", "BYTE"]));
                }
            }
            c
        }
        3 => {
            let mut c = vec!["BITPOS", k, rng.pick(&["0", "1", "1", "0", "2"])];
            let extra = rng.below(4);
            c.extend((0..extra.min(2)).map(|_| rng.pick(RANGES)));
            if extra == 3 {
                c.extend([rng.pick(RANGES), rng.pick(&["BIT", "BYTE"])]);
            }
            c
        }
        4 => vec![
            "BITOP",
            rng.pick(&["AND", "OR", "XOR", "NOT"]),
            key(rng, STRING_KEYS),
            k,
            key(rng, STRING_KEYS),
        ],
        5 => vec!["BITOP", "NOT", key(rng, STRING_KEYS), k],
        _ => {
            let mut c = vec![rng.pick(&["BITFIELD", "BITFIELD", "BITFIELD_RO"]), k];
            for _ in 0..1 + rng.below(3) {
                match rng.below(4) {
                    0 => c.extend(["GET", rng.pick(TYPES), rng.pick(OFFSETS)]),
                    1 => c.extend(["SET", rng.pick(TYPES), rng.pick(OFFSETS), rng.pick(NUMBERS)]),
                    2 => c.extend([
                        "INCRBY",
                        rng.pick(TYPES),
                        rng.pick(OFFSETS),
                        rng.pick(NUMBERS),
                    ]),
                    _ => c.extend(["OVERFLOW", rng.pick(&["WRAP", "SAT", "FAIL"])]),
                }
            }
            // A BITFIELD whose every write fails still creates or grows its string, which
            // Redis does not signal to WATCH (keg does: docs/server.md): with FAIL, a key
            // nobody watches.
            if c.contains(&"FAIL")
                && let Some(key) = c.get_mut(1)
            {
                *key = "bf";
            }
            c
        }
    };
    (cmd, Order::Exact)
}

fn keys(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = any_key(rng);
    let other = any_key(rng);
    match rng.below(17) {
        0 => (vec!["DEL", k, other], Order::Exact),
        1 => (vec!["EXISTS", k, other, k], Order::Exact),
        13 => {
            let mut c = vec!["COPY", k, other];
            if rng.chance(50) {
                c.extend(["DB", "0"]);
            }
            if rng.chance(50) {
                c.push("REPLACE");
            }
            (c, Order::Exact)
        }
        14 => (vec!["TOUCH", k, other], Order::Exact),
        // Sorted as text, a set's order is its members' (unsorted, it would be its layout).
        // Not sorted sets: SORT converts Redis's small ones to its large encoding, which
        // writes a score of -0 as "-0" where the small one (and keg) writes "0".
        15 => (
            vec![
                rng.pick(&["SORT", "SORT_RO"]),
                rng.pick(&["l1", "l2", "t1", "t2", "s1", "h1", "nokey"]),
                "ALPHA",
                rng.pick(&["ASC", "DESC"]),
                "LIMIT",
                rng.pick(&["0", "1", "-1"]),
                rng.pick(&["3", "-1", "0"]),
            ],
            Order::Exact,
        ),
        16 => (
            vec![
                "SORT",
                rng.pick(&["l1", "l2", "t1", "t2", "s1", "h1", "nokey"]),
                "ALPHA",
                "STORE",
                other,
            ],
            Order::Exact,
        ),
        2 => (vec!["TYPE", k], Order::Exact),
        3 => (vec!["RENAME", k, other], Order::Exact),
        4 => (vec!["RENAMENX", k, other], Order::Exact),
        5 => (
            vec!["KEYS", rng.pick(&["*", "?1", "[lh]*", "t*"])],
            Order::Unordered,
        ),
        6 => (vec!["DBSIZE"], Order::Exact),
        7 => (vec!["UNLINK", k], Order::Exact),
        8 => (vec!["EXPIRE", k, "1000"], Order::Exact),
        9 => (
            vec![
                "PEXPIRE",
                k,
                rng.pick(&["1000000", "0", "-1", "abc"]),
                rng.pick(&["NX", "XX"]),
            ],
            Order::Exact,
        ),
        // Absolute times: GT and LT compare them exactly.
        10 => (
            vec![
                rng.pick(&["EXPIREAT", "PEXPIREAT"]),
                k,
                rng.pick(&["99999999999", "99999999998", "0", "-1", "abc"]),
                rng.pick(&["NX", "XX", "GT", "LT", "NX"]),
            ],
            Order::Exact,
        ),
        // Not EXPIRETIME: the two servers set a relative expiry some microseconds apart,
        // which now and then rounds to different seconds (server_vs_redis.rs checks its
        // rounding on fixed times).
        11 => (vec![rng.pick(&["TTL", "PERSIST"]), k], Order::Exact),
        _ => (
            vec![
                "SCAN",
                "0",
                "COUNT",
                "1000",
                rng.pick(&["TYPE", "MATCH"]),
                rng.pick(&[
                    "string", "list", "hash", "set", "zset", "none", "*1", "[st]?",
                ]),
            ],
            Order::WholeScan,
        ),
    }
}

fn lists(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = key(rng, LIST_KEYS);
    let v = rng.pick(MEMBERS);
    let end = || ["LEFT", "RIGHT"];
    let cmd = match rng.below(23) {
        0..=3 => {
            let push = rng.pick(&["LPUSH", "RPUSH"]);
            with_members(&[push, k], rng, 4)
        }
        4 => vec![rng.pick(&["LPUSHX", "RPUSHX"]), k, v],
        5 | 6 => {
            let mut c = vec![rng.pick(&["LPOP", "RPOP"]), k];
            if rng.chance(40) {
                c.push(rng.pick(COUNTS));
            }
            c
        }
        7 => vec!["LLEN", k],
        8 | 9 => vec!["LRANGE", k, rng.pick(INDEXES), rng.pick(INDEXES)],
        10 => vec!["LINDEX", k, rng.pick(INDEXES)],
        11 => vec!["LSET", k, rng.pick(INDEXES), v],
        12 => vec![
            "LINSERT",
            k,
            rng.pick(&["BEFORE", "AFTER", "MIDDLE"]),
            rng.pick(MEMBERS),
            v,
        ],
        13 => vec!["LREM", k, rng.pick(&["0", "1", "-1", "2", "-2"]), v],
        14 => vec!["LTRIM", k, rng.pick(INDEXES), rng.pick(INDEXES)],
        15 | 16 => {
            let mut c = vec!["LPOS", k, v];
            if rng.chance(50) {
                c.extend(["RANK", rng.pick(&["1", "2", "-1", "-2", "0", "abc"])]);
            }
            if rng.chance(5) {
                // Not -2^63: Redis 7.0 takes it (negating it is undefined behaviour there);
                // keg refuses it as Redis 7.2 does.
                c.extend(["RANK", rng.pick(&INDEXES[..INDEXES.len() - 1])]);
            }
            if rng.chance(50) {
                c.extend(["COUNT", rng.pick(&["0", "1", "2", "-1"])]);
            }
            if rng.chance(30) {
                c.extend(["MAXLEN", rng.pick(&["0", "1", "3", "-1"])]);
            }
            c
        }
        17 | 18 => {
            let ends = end();
            vec![
                "LMOVE",
                k,
                key(rng, LIST_KEYS),
                rng.pick(&ends),
                rng.pick(&ends),
            ]
        }
        19 => vec!["RPOPLPUSH", k, key(rng, LIST_KEYS)],
        // Blocking pops with a short timeout: nil after it when nothing is there.
        20 => {
            let mut c = vec![rng.pick(&["BLPOP", "BRPOP"]), k];
            if rng.chance(50) {
                c.push(key(rng, LIST_KEYS));
            }
            c.push(rng.pick(&["0.01", "0.01", "-1", "abc"]));
            c
        }
        21 => {
            let ends = end();
            vec![
                "BLMOVE",
                k,
                key(rng, LIST_KEYS),
                rng.pick(&ends),
                rng.pick(&ends),
                rng.pick(&["0.01", "-1"]),
            ]
        }
        _ => vec!["LRANGE", k, "0", "-1"],
    };
    (cmd, Order::Exact)
}

fn hashes(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = key(rng, HASH_KEYS);
    let f = rng.pick(MEMBERS);
    let v = rng.pick(VALUES);
    match rng.below(19) {
        0..=2 => {
            let mut c = vec!["HSET", k, f, v];
            if rng.chance(40) {
                c.extend([rng.pick(MEMBERS), rng.pick(VALUES)]);
            }
            (c, Order::Exact)
        }
        3 => (vec!["HSETNX", k, f, v], Order::Exact),
        4 => (vec!["HGET", k, f], Order::Exact),
        5 => (with_members(&["HMGET", k], rng, 3), Order::Exact),
        6 => (with_members(&["HDEL", k], rng, 2), Order::Exact),
        7 => (vec!["HEXISTS", k, f], Order::Exact),
        8 => (vec!["HLEN", k], Order::Exact),
        9 => (vec!["HSTRLEN", k, f], Order::Exact),
        10 => (vec!["HKEYS", k], Order::Unordered),
        11 => (vec!["HVALS", k], Order::Unordered),
        12 => (vec!["HGETALL", k], Order::UnorderedPairs),
        13 => (vec!["HINCRBY", k, f, rng.pick(VALUES)], Order::Exact),
        14 => (vec!["HINCRBYFLOAT", k, f, rng.pick(VALUES)], Order::Exact),
        // Counts above any size here: the whole hash, in an open order.
        15 => (vec!["HRANDFIELD", k, "100"], Order::Unordered),
        16 => (
            vec!["HRANDFIELD", k, "100", "WITHVALUES"],
            Order::UnorderedPairs,
        ),
        17 => (
            vec![
                "HSCAN",
                k,
                "0",
                "COUNT",
                "1000",
                "MATCH",
                rng.pick(&["*", "?", "[a-c]", "1*"]),
            ],
            Order::WholeScanPairs,
        ),
        _ => (vec!["HMSET", k, f, v], Order::Exact),
    }
}

fn sets(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = key(rng, SET_KEYS);
    let m = rng.pick(MEMBERS);
    let several = |rng: &mut Rng| {
        let n = 1 + rng.below(3);
        (0..n).map(|_| key(rng, SET_KEYS)).collect::<Vec<_>>()
    };
    match rng.below(19) {
        0..=2 => (with_members(&["SADD", k], rng, 4), Order::Exact),
        3 => (with_members(&["SREM", k], rng, 2), Order::Exact),
        4 => (vec!["SISMEMBER", k, m], Order::Exact),
        5 => (with_members(&["SMISMEMBER", k], rng, 3), Order::Exact),
        6 => (vec!["SCARD", k], Order::Exact),
        7 => (vec!["SMEMBERS", k], Order::Unordered),
        8 => (vec!["SMOVE", k, key(rng, SET_KEYS), m], Order::Exact),
        9..=11 => {
            let mut c = vec![rng.pick(&["SINTER", "SUNION", "SDIFF"])];
            c.extend(several(rng));
            (c, Order::Unordered)
        }
        12 | 13 => {
            let mut c = vec![
                rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
                key(rng, SET_KEYS),
            ];
            c.extend(several(rng));
            (c, Order::Exact)
        }
        14 => {
            let keys = several(rng);
            let n = ["0", "1", "2", "3"][keys.len()];
            let mut c = vec!["SINTERCARD", rng.pick(&[n, n, "0", "5", "abc"])];
            c.extend(keys);
            if rng.chance(40) {
                c.extend(["LIMIT", rng.pick(&["0", "1", "-1", "abc"])]);
            }
            (c, Order::Exact)
        }
        15 => (vec!["SRANDMEMBER", k, "100"], Order::Unordered),
        16 => (vec!["SPOP", k, "100"], Order::Unordered),
        17 => (
            vec![
                "SSCAN",
                k,
                "0",
                "COUNT",
                "1000",
                "MATCH",
                rng.pick(&["*", "?", "[a-c]", "1*"]),
            ],
            Order::WholeScan,
        ),
        _ => (vec!["SMEMBERS", k], Order::Unordered),
    }
}

fn zsets(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let k = key(rng, ZSET_KEYS);
    let m = rng.pick(MEMBERS);
    let cmd = match rng.below(31) {
        0..=3 => {
            let mut c = vec!["ZADD", k];
            for flag in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if rng.chance(10) {
                    c.push(flag);
                }
            }
            let pairs = 1 + rng.below(3);
            for _ in 0..pairs {
                c.extend([rng.pick(SCORES), rng.pick(MEMBERS)]);
            }
            c
        }
        4 => vec!["ZINCRBY", k, rng.pick(SCORES), m],
        5 => with_members(&["ZREM", k], rng, 2),
        6 => vec!["ZSCORE", k, m],
        7 => with_members(&["ZMSCORE", k], rng, 3),
        8 => vec!["ZCARD", k],
        9 => vec!["ZCOUNT", k, rng.pick(SCORE_BOUNDS), rng.pick(SCORE_BOUNDS)],
        10..=13 => {
            let mut c = vec!["ZRANGE", k];
            match rng.below(3) {
                0 => c.extend([rng.pick(INDEXES), rng.pick(INDEXES)]),
                _ => c.extend([rng.pick(SCORE_BOUNDS), rng.pick(SCORE_BOUNDS), "BYSCORE"]),
            }
            if rng.chance(30) {
                c.push("REV");
            }
            if rng.chance(30) {
                c.extend(["LIMIT", rng.pick(&["0", "1", "-1"]), rng.pick(COUNTS)]);
            }
            if rng.chance(40) {
                c.push("WITHSCORES");
            }
            c
        }
        14 => {
            let mut c = vec![
                rng.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
                k,
                rng.pick(SCORE_BOUNDS),
                rng.pick(SCORE_BOUNDS),
            ];
            if rng.chance(40) {
                c.push("WITHSCORES");
            }
            c
        }
        15 => {
            let mut c = vec!["ZREVRANGE", k, rng.pick(INDEXES), rng.pick(INDEXES)];
            if rng.chance(40) {
                c.push("WITHSCORES");
            }
            c
        }
        16 | 17 => vec![rng.pick(&["ZRANK", "ZREVRANK"]), k, m],
        18 | 19 => {
            let mut c = vec![rng.pick(&["ZPOPMIN", "ZPOPMAX"]), k];
            if rng.chance(40) {
                c.push(rng.pick(COUNTS));
            }
            c
        }
        20 => vec![
            "ZREMRANGEBYSCORE",
            k,
            rng.pick(SCORE_BOUNDS),
            rng.pick(SCORE_BOUNDS),
        ],
        21 => vec!["ZREMRANGEBYRANK", k, rng.pick(INDEXES), rng.pick(INDEXES)],
        22 => {
            let mut c = vec!["ZRANGESTORE", key(rng, ZSET_KEYS), k];
            if rng.chance(50) {
                c.extend([rng.pick(INDEXES), rng.pick(INDEXES)]);
            } else {
                c.extend([rng.pick(SCORE_BOUNDS), rng.pick(SCORE_BOUNDS), "BYSCORE"]);
            }
            if rng.chance(30) {
                c.push("REV");
            }
            if rng.chance(30) {
                c.extend(["LIMIT", rng.pick(&["0", "1", "-1"]), rng.pick(COUNTS)]);
            }
            c
        }
        23 | 24 => return lex(rng),
        25 | 26 => return zset_algebra(rng),
        27 => {
            return (
                vec![
                    "ZSCAN",
                    k,
                    "0",
                    "COUNT",
                    "1000",
                    "MATCH",
                    rng.pick(&["*", "?", "[a-c]", "1*"]),
                ],
                Order::WholeScanPairs,
            );
        }
        28 => return (vec!["ZRANDMEMBER", k, "100"], Order::Unordered),
        29 => {
            return (
                vec!["ZRANDMEMBER", k, "100", "WITHSCORES"],
                Order::UnorderedPairs,
            );
        }
        _ => vec!["ZRANGE", k, "0", "-1", "WITHSCORES"],
    };
    (cmd, Order::Exact)
}

/// The lex-range commands, on a sorted set whose members all have score 0: Redis leaves
/// their result open when scores differ (it depends on its encoding and skip-list levels).
fn lex(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    // Now and then a key nothing writes (any other key may hold a sorted set with
    // different scores: RENAME moves keys between the families).
    let k = if rng.chance(10) { "x2" } else { LEX_KEY };
    let (lo, hi) = (rng.pick(LEX_BOUNDS), rng.pick(LEX_BOUNDS));
    let cmd = match rng.below(8) {
        0 | 1 => {
            let mut c = vec!["ZADD", LEX_KEY];
            c.extend(some(rng, MEMBERS, 3).into_iter().flat_map(|m| ["0", m]));
            c
        }
        2 => vec!["ZRANGEBYLEX", k, lo, hi],
        3 => vec!["ZREVRANGEBYLEX", k, lo, hi],
        4 => vec!["ZLEXCOUNT", k, lo, hi],
        5 => vec!["ZREMRANGEBYLEX", k, lo, hi],
        _ => {
            let mut c = vec!["ZRANGE", k, lo, hi, "BYLEX"];
            if rng.chance(30) {
                c.push("REV");
            }
            if rng.chance(30) {
                c.extend(["LIMIT", rng.pick(&["0", "1", "-1"]), rng.pick(COUNTS)]);
            }
            if rng.chance(10) {
                c.push("WITHSCORES");
            }
            c
        }
    };
    (cmd, Order::Exact)
}

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD over one to three keys.
fn zset_algebra(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let n = 1 + rng.below(3);
    let keys: Vec<&'static str> = (0..n).map(|_| key(rng, ZSET_KEYS)).collect();
    let numkeys = rng.pick(&[
        ["0", "1", "2", "3"][n],
        ["0", "1", "2", "3"][n],
        "0",
        "4",
        "abc",
    ]);
    let name = rng.pick(&[
        "ZUNION",
        "ZINTER",
        "ZDIFF",
        "ZUNIONSTORE",
        "ZINTERSTORE",
        "ZDIFFSTORE",
        "ZINTERCARD",
    ]);
    let mut c = vec![name];
    if name.ends_with("STORE") {
        c.push(key(rng, ZSET_KEYS));
    }
    c.push(numkeys);
    c.extend(keys);
    if name == "ZINTERCARD" {
        if rng.chance(40) {
            c.extend(["LIMIT", rng.pick(&["0", "1", "-1", "abc"])]);
        }
    } else {
        if rng.chance(30) && name != "ZDIFF" && name != "ZDIFFSTORE" {
            c.push("WEIGHTS");
            for _ in 0..n {
                c.push(rng.pick(&["1", "2", "-1", "0.5", "abc"]));
            }
        }
        if rng.chance(30) {
            c.extend(["AGGREGATE", rng.pick(&["SUM", "MIN", "MAX", "AVG"])]);
        }
        if rng.chance(40) && !name.ends_with("STORE") {
            c.push("WITHSCORES");
        }
    }
    (c, Order::Exact)
}

/// Connection, pub/sub and the remaining string and blocking commands.
fn misc(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let cmd = match rng.below(12) {
        0 => vec!["PING", rng.pick(&["hello", ""])],
        1 => vec!["ECHO", rng.pick(VALUES)],
        2 => vec!["SELECT", rng.pick(&["0", "1", "abc", "-1"])],
        3 => vec![
            "PSETEX",
            key(rng, STRING_KEYS),
            rng.pick(&["1000000", "0", "-1", "abc"]),
            rng.pick(VALUES),
        ],
        4 => vec![
            "SUBSTR",
            key(rng, STRING_KEYS),
            rng.pick(INDEXES),
            rng.pick(INDEXES),
        ],
        5 => vec!["PUBLISH", rng.pick(&["news", ""]), rng.pick(VALUES)],
        6 => vec!["PUBSUB", rng.pick(&["CHANNELS", "NUMPAT", "NUMSUB"])],
        7 => vec!["UNWATCH"],
        8 => vec![
            "BRPOPLPUSH",
            key(rng, LIST_KEYS),
            key(rng, LIST_KEYS),
            rng.pick(&["0.01", "-1", "abc"]),
        ],
        9 => {
            let mut c = vec![rng.pick(&["BZPOPMIN", "BZPOPMAX"]), key(rng, ZSET_KEYS)];
            if rng.chance(50) {
                c.push(key(rng, ZSET_KEYS));
            }
            c.push(rng.pick(&["0.01", "-1", "abc"]));
            c
        }
        10 => vec![
            "TYPE",
            key(rng, &["x1", "x2", "s1", "l1", "h1", "t1", "z1"]),
        ],
        _ => vec!["FLUSHDB"],
    };
    (cmd, Order::Exact)
}

fn command(rng: &mut Rng) -> (Vec<&'static str>, Order) {
    let (mut cmd, order) = match rng.below(50) {
        0..=7 => strings(rng),
        41..=43 => bits(rng),
        44 | 45 => hyperloglogs(rng),
        46 | 47 => multi_pops(rng),
        48 | 49 => geo(rng),
        8..=10 => keys(rng),
        11..=18 => lists(rng),
        19..=24 => hashes(rng),
        25..=30 => sets(rng),
        31..=39 => zsets(rng),
        _ => misc(rng),
    };
    // Now and then one argument too few or too many: which error comes first. (Not for
    // the commands compared loosely: without their count some turn random. Nor for the
    // geo searches: without their last argument, ASC or DESC, their order is open.)
    let geo_search = matches!(cmd[0], "GEOSEARCH" | "GEORADIUS" | "GEORADIUSBYMEMBER");
    match if order == Order::Exact && !geo_search {
        rng.below(40)
    } else {
        2
    } {
        0 if cmd.len() > 1 => {
            cmd.pop();
        }
        1 => cmd.push(rng.pick(&["extra", "1", "WITHSCORES", "LIMIT"])),
        _ => {}
    }
    // TTL rounds the milliseconds left to seconds: of an absolute expiry (EXAT), the two
    // servers, a moment apart, may round to neighbouring seconds (seed 30169).
    let order = if cmd[0] == "TTL" {
        Order::RoundedSeconds
    } else {
        order
    };
    (cmd, order)
}

/// Whether Redis's reply `want` and keg's `got`, each normalized for `order`, agree.
fn agree(want: &[u8], got: &[u8], order: Order) -> bool {
    if want == got {
        return true;
    }
    let integer = |reply: &[u8]| -> Option<i64> {
        std::str::from_utf8(reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?)
            .ok()?
            .parse()
            .ok()
    };
    order == Order::RoundedSeconds
        && matches!((integer(want), integer(got)), (Some(a), Some(b)) if a.abs_diff(b) == 1)
}

/// Where a generated sequence is: outside a transaction, or inside one with this many
/// commands still to queue before EXEC or DISCARD.
struct Sequence {
    rng: Rng,
    queued_left: usize,
}

impl Sequence {
    fn next(&mut self) -> (Vec<&'static str>, Order) {
        let rng = &mut self.rng;
        if self.queued_left == 0 && rng.chance(2) {
            // Watched keys that this or the other connection may write before the next
            // EXEC, which then aborts (and unwatches every key) or runs.
            let mut watch = vec!["WATCH"];
            for _ in 0..1 + rng.below(3) {
                watch.push(any_key(rng));
            }
            return (watch, Order::Exact);
        }
        if self.queued_left == 0 && rng.chance(3) {
            self.queued_left = 1 + rng.below(4);
            return (vec!["MULTI"], Order::Exact);
        }

        if self.queued_left == 1 {
            self.queued_left = 0;
            return (
                vec![if rng.chance(85) { "EXEC" } else { "DISCARD" }],
                Order::Exact,
            );
        }
        if self.queued_left > 1 {
            self.queued_left -= 1;
            // EXEC's reply holds the queued commands' replies in order: only commands
            // compared byte for byte go into a transaction.
            loop {
                let (cmd, order) = command(rng);
                if order == Order::Exact {
                    return (cmd, order);
                }
            }
        }
        command(rng)
    }
}

/// An aggregate reply's header byte and the whole replies inside it (a map's keys and
/// values in turn), or `None` if it is not an aggregate.
fn elements(reply: &[u8]) -> Option<(u8, Vec<Vec<u8>>)> {
    let kind = *reply.first()?;
    if !matches!(kind, b'*' | b'~' | b'%') {
        return None;
    }
    let line_end = reply.windows(2).position(|w| w == b"\r\n")?;
    let n: i64 = std::str::from_utf8(&reply[1..line_end])
        .ok()?
        .parse()
        .ok()?;
    let n = if kind == b'%' { n * 2 } else { n };
    let mut pos = line_end + 2;
    let mut out = Vec::new();
    for _ in 0..n.max(0) {
        let len = reply_len(&reply[pos..])?;
        out.push(reply[pos..pos + len].to_vec());
        pos += len;
    }
    Some((kind, out))
}

/// `items` in a canonical order: sorted one by one, or by pairs.
fn sorted(mut items: Vec<Vec<u8>>, pairs: bool) -> Vec<Vec<u8>> {
    if pairs {
        items = items.chunks(2).map(<[Vec<u8>]>::concat).collect();
    }
    items.sort();
    items
}

fn aggregate(kind: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(format!("{}\r\n", items.len()).as_bytes());
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// The reply in the form it is compared in.
fn normalized(reply: Vec<u8>, order: Order) -> Vec<u8> {
    let Some((kind, items)) = elements(&reply) else {
        return reply;
    };
    match order {
        Order::Exact | Order::RoundedSeconds => reply,
        // A RESP3 map is keys and values in turn: sorted as pairs whatever was asked.
        // Pairs come flat in RESP2 and as two-element arrays in RESP3.
        Order::Unordered | Order::UnorderedPairs => {
            let flat_pairs = order == Order::UnorderedPairs
                && items.first().is_none_or(|i| !i.starts_with(b"*"));
            aggregate(kind, &sorted(items, kind == b'%' || flat_pairs))
        }
        Order::WholeScan | Order::WholeScanPairs => {
            let [cursor, page] = <[Vec<u8>; 2]>::try_from(items).unwrap_or_default();
            let page = match elements(&page) {
                Some((kind, inner)) => {
                    aggregate(kind, &sorted(inner, order == Order::WholeScanPairs))
                }
                None => page,
            };
            aggregate(kind, &[cursor, page])
        }
    }
}

/// A connection to each server.
struct Pair {
    theirs: Raw,
    ours: Raw,
}

/// The keyspace events a server publishes (every class but `x`, whose timing differs:
/// Redis deletes expired keys as they are read, keg in its expiry cycle), read from a
/// pattern subscription after each batch of commands; and the keys a client tracking in
/// BCAST mode is told changed (client-side caching).
struct Events {
    listener: Raw,
    /// Publishes the marker that ends a batch's events (a connection never in MULTI).
    marker: Raw,
    /// RESP3, CLIENT TRACKING ON BCAST: told of every key changed.
    tracker: Raw,
}

impl Events {
    const CLASSES: &str = "KEg$lshz";

    fn new(addr: std::net::SocketAddr) -> Events {
        let mut listener = Raw::connect(addr);
        listener.call(&["PSUBSCRIBE", "__key*__:*"]);
        let mut marker = Raw::connect(addr);
        marker.call(&["CONFIG", "SET", "notify-keyspace-events", Self::CLASSES]);
        let mut tracker = Raw::connect(addr);
        tracker.call(&["HELLO", "3"]);
        tracker.call(&["CLIENT", "TRACKING", "ON", "BCAST"]);
        Events {
            listener,
            marker,
            tracker,
        }
    }

    /// The keys the tracking client was told changed since the last call, sorted (how
    /// they are grouped into messages depends on how the server read the batch), as
    /// `invalidate <key>`; a flush as `invalidate *`.
    fn invalidated(&mut self) -> Vec<String> {
        self.tracker.command(&["PING"]);
        let mut keys = std::collections::BTreeSet::new();
        loop {
            let frame = String::from_utf8_lossy(&self.tracker.reply()).into_owned();
            if frame == "+PONG\r\n" {
                return keys
                    .into_iter()
                    .map(|k| format!("invalidate {k}"))
                    .collect();
            }
            // >2 $10 invalidate, then *n and n keys ($len key), or _ for a flush.
            let parts: Vec<&str> = frame.split("\r\n").collect();
            if parts.get(3) == Some(&"_") {
                keys.insert("*".to_string());
            }
            keys.extend(parts.iter().skip(5).step_by(2).map(|k| k.to_string()));
            keys.remove("");
        }
    }

    /// The events published since the last call, as `channel message`.
    fn since_last(&mut self) -> Vec<String> {
        self.marker.call(&["PUBLISH", "__keyevent@0__:end", "mark"]);
        let mut events = Vec::new();
        loop {
            let reply = String::from_utf8_lossy(&self.listener.reply()).into_owned();
            // *4 $8 pmessage $n pattern $n channel $n message
            let parts: Vec<&str> = reply.split("\r\n").collect();
            let (channel, message) = (parts[6], parts[8]);
            if channel == "__keyevent@0__:end" && message == "mark" {
                events.extend(self.invalidated());
                return events;
            }
            events.push(format!("{channel} {message}"));
        }
    }
}

/// Runs `steps` generated commands from `seed` on both servers, and now and then one on a
/// second connection, `other`; returns the first difference with the commands that led to
/// it.
fn first_difference(
    main: &mut Pair,
    other: &mut Pair,
    events: &mut [Events; 2],
    seed: u64,
    steps: usize,
) -> Option<String> {
    let Pair { theirs, ours } = main;
    // Odd seeds speak RESP3 (its maps, sets, doubles and nulls), even ones RESP2.
    let protocol = if seed % 2 == 1 { "3" } else { "2" };
    for conn in [&mut *theirs, &mut *ours] {
        // The previous sequence may have ended inside MULTI.
        conn.call(&["DISCARD"]);
        conn.call(&["HELLO", protocol]);
        conn.call(&["FLUSHALL"]);
        conn.call(&["CONFIG", "RESETSTAT"]);
    }
    for server in events.iter_mut() {
        server.since_last();
    }
    let mut sequence = Sequence {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        queued_left: 0,
    };
    let mut history: Vec<String> = Vec::new();
    let mut step = 0;
    while step < steps {
        if sequence.rng.chance(3) {
            // The other connection writes, in between this one's commands.
            let (args, order) = command(&mut sequence.rng);
            other.theirs.command(&args);
            other.ours.command(&args);
            let want = normalized(other.theirs.reply(), order);
            let got = normalized(other.ours.reply(), order);
            history.push(format!("(other connection) {}", args.join(" ")));
            if !agree(&want, &got, order) {
                return Some(format!(
                    "seed {seed}, step {step}: {} on the other connection\n  redis: {:?}\n  keg:   {:?}",
                    args.join(" "),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got),
                ));
            }
        }
        // Half the time one command, else a pipelined batch: the server runs a batch's
        // leading data commands as one shared transaction, a path of its own.
        let batch = if sequence.rng.chance(50) {
            1
        } else {
            2 + sequence.rng.below(15)
        };
        let commands: Vec<(Vec<&str>, Order)> = (0..batch.min(steps - step))
            .map(|_| sequence.next())
            .collect();
        let bytes: Vec<u8> = commands.iter().flat_map(|(args, _)| encode(args)).collect();
        theirs.send(&bytes);
        ours.send(&bytes);
        // Every reply is read before any is compared, so that both connections are in step
        // for the next sequence whatever happens.
        let replies: Vec<(Vec<u8>, Vec<u8>)> = commands
            .iter()
            .map(|(_, order)| {
                (
                    normalized(theirs.reply(), *order),
                    normalized(ours.reply(), *order),
                )
            })
            .collect();
        for ((args, order), (want, got)) in commands.iter().zip(replies) {
            history.push(args.join(" "));
            if !agree(&want, &got, *order) {
                let recent = history.len().saturating_sub(30);
                return Some(format!(
                    "seed {seed}, step {step}: {} (in a pipelined batch of {batch})\n  redis: {:?}\n  keg:   {:?}\n  the commands before it:\n    {}",
                    args.join(" "),
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got),
                    history[recent..history.len() - 1].join("\n    ")
                ));
            }
            step += 1;
        }
        // The batch (and the other connection's command before it) published the same
        // keyspace events, in the same order.
        let [want, got] = events.each_mut().map(Events::since_last);
        if want != got {
            let recent = history.len().saturating_sub(30);
            return Some(format!(
                "seed {seed}, step {step}: keyspace events of the last batch of {batch}\n  redis: {want:?}\n  keg:   {got:?}\n  the commands:\n    {}",
                history[recent..].join("\n    ")
            ));
        }
    }
    // Every command of the sequence counted alike in INFO commandstats (times aside), and
    // every error reply in INFO errorstats.
    let mut stats = [&mut *theirs, &mut *ours].map(|conn| {
        conn.call(&["DISCARD"]);
        let commands = commandstats_without_times(&conn.call(&["INFO", "commandstats"]));
        let errors = error_counts(&conn.call(&["INFO", "errorstats", "stats"]));
        [commands, errors]
    });
    let [want, got] = &mut stats;
    for (section, (want, got)) in ["commandstats", "errorstats"]
        .iter()
        .zip(want.iter().zip(got.iter()))
    {
        if want != got {
            return Some(format!(
                "seed {seed}: INFO {section} after the sequence\n  redis: {want:?}\n  keg:   {got:?}"
            ));
        }
    }
    None
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn generated_commands_get_the_replies_a_real_redis_server_gives() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let keg = TestServer::start();
    let redis_addr = format!("127.0.0.1:{}", redis.port).parse().unwrap();
    let connect = || Pair {
        theirs: Raw::connect(redis_addr),
        ours: keg.raw(),
    };
    let (mut main, mut other) = (connect(), connect());
    let mut events = [Events::new(redis_addr), Events::new(keg.addr)];
    let first = env_or("KEG_DIFF_FIRST_SEED", 1);
    let seeds = env_or("KEG_DIFF_SEEDS", 4);
    let steps = env_or("KEG_DIFF_STEPS", 3000) as usize;
    let differences: Vec<String> = (first..first + seeds)
        .filter_map(|seed| first_difference(&mut main, &mut other, &mut events, seed, steps))
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {seeds} sequences differ:\n{}",
        differences.len(),
        differences.join("\n\n")
    );
}
