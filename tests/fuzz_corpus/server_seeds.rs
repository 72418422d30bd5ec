//! Seed inputs of the `server_session` fuzz target: a read-size byte, then Redis commands
//! of every family (mostly RESP arrays, some inline), so that the fuzzer starts from
//! requests the server answers rather than from protocol errors.

use super::fuzz_checks::resp;
use super::seeds::Seeds;

/// `lines` as RESP arrays, one command per line, words split on spaces.
fn commands(step: u8, lines: &[&str]) -> Vec<u8> {
    let mut out = vec![step];
    for line in lines {
        let words: Vec<&str> = line.split(' ').collect();
        out.extend_from_slice(format!("*{}\r\n", words.len()).as_bytes());
        for word in words {
            out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
        }
    }
    out
}

pub fn server_session_seeds() -> Seeds {
    vec![
        (
            "scripts",
            commands(255, &[
                "EVAL return(redis.call('set',KEYS[1],ARGV[1])) 1 k v",
                "EVAL return(redis.pcall('incr',KEYS[1])) 1 k",
                "EVAL return{1,2,{3,'x'},false,true,{ok='s'},{err='e'}} 0",
                "SCRIPT LOAD return(redis.call('get',KEYS[1]))",
                "EVALSHA c77382aa965ed715a9230ae8a1d2409e254c2b00 1 k",
                "EVAL_RO return(redis.call('del','k')) 0",
                "EVAL error('boom') 0",
                "EVAL redis.setresp(3);return(redis.call('hgetall','h')) 0",
                "SCRIPT EXISTS c77382aa965ed715a9230ae8a1d2409e254c2b00",
                "SCRIPT FLUSH",
                "EVAL return(cjson.encode(cjson.decode(ARGV[1]))) 0 {\"a\":[1,2,null],\"b\":\"\\u00e9\"}",
                "EVAL return(cjson.decode('[1,{')) 0",
                "EVAL return(cmsgpack.unpack(cmsgpack.pack({1,'a',{b=true}},2.5))) 0",
                "EVAL return{cmsgpack.unpack_limit('\\147\\1\\161a\\192',2,1)} 0",
                "EVAL return{struct.unpack('>!4bi3c0',struct.pack('>!4bi3',5,-7)..'abcde')} 0",
            ]),
        ),
        (
            "functions",
            commands(255, &[
                "FUNCTION LOAD #!lua\tname=lib\nredis.register_function('f',function(k,a)return(redis.call('incr',k[1]))end)",
                "FCALL f 1 k",
                "FCALL_RO f 0",
                "FUNCTION LIST WITHCODE",
                "FUNCTION STATS",
                "FUNCTION DUMP",
                "FUNCTION DELETE lib",
                "FUNCTION FLUSH",
            ]),
        ),
        (
            "strings",
            commands(255, &[
                "SET a 1", "INCR a", "INCRBY a -5", "INCRBYFLOAT a 1.5", "APPEND a xyz",
                "GETRANGE a 0 -1", "SETRANGE a 3 hello", "MSET b 2 c 3", "MGET a b c d",
                "GETSET b 9", "GETDEL c", "SET d v EX 100 GET", "GETEX d PERSIST", "STRLEN d",
                "SETNX d w", "MSETNX e 1 f 2", "DECR e",
            ]),
        ),
        (
            "keys_ttl",
            commands(7, &[
                "SET k v", "EXPIRE k 100 NX", "PEXPIRE k 5000 GT", "TTL k", "PTTL k",
                "EXPIRETIME k", "PERSIST k", "TYPE k", "RENAME k k2", "RENAMENX k2 k3",
                "EXISTS k k2 k3", "KEYS *", "SCAN 0 MATCH k* COUNT 10 TYPE string",
                "RANDOMKEY", "DBSIZE", "DEL k2 k3", "UNLINK nothing", "FLUSHDB",
            ]),
        ),
        (
            "dump_restore",
            {
                let mut seed = commands(255, &[
                    "RPUSH l a b 1", "HSET h f v", "SADD s 1 2", "ZADD z 1.5 a", "SET k v",
                    "DUMP l", "DUMP h", "DUMP s", "DUMP z", "DUMP k",
                ]);
                // A payload Redis 7.0 wrote (a list as a quicklist of one listpack).
                let payload: &[u8] = b"\x12\x01\x02\x1f\x1f\x00\x00\x00\x07\x00\x81a\x02\x01\x01\xdf\xfb\x02\xc1,\x02\xd0\x00\x02\xf2p\x11\x01\x04\x83bbb\x04\xff\n\x00pU\xcc\x9f\xcfBdP";
                seed.extend(resp(&[b"RESTORE", b"copy", b"0", payload, b"REPLACE"]));
                seed.extend(resp(&[b"LRANGE", b"copy", b"0", b"-1"]));
                seed
            },
        ),
        (
            "lists",
            commands(3, &[
                "RPUSH l a b c d", "LPUSH l z", "LRANGE l 0 -1", "LINDEX l -1", "LSET l 0 y",
                "LINSERT l BEFORE b x", "LREM l 0 x", "LPOS l c RANK 1 COUNT 0", "LTRIM l 0 2",
                "LMOVE l l2 LEFT RIGHT", "RPOPLPUSH l2 l", "LPOP l 2", "RPOP l", "LLEN l",
                "BLPOP l 0.01", "LPUSHX nolist a",
            ]),
        ),
        (
            "hashes",
            commands(16, &[
                "HSET h f 1 g 2", "HSETNX h f 3", "HGET h f", "HMGET h f g x", "HINCRBY h f 5",
                "HINCRBYFLOAT h g 0.5", "HSTRLEN h g", "HEXISTS h x", "HKEYS h", "HVALS h",
                "HGETALL h", "HRANDFIELD h -3 WITHVALUES", "HSCAN h 0 MATCH * COUNT 5",
                "HDEL h f", "HLEN h",
            ]),
        ),
        (
            "sets",
            commands(1, &[
                "SADD s a b c", "SADD t b c d", "SISMEMBER s a", "SMISMEMBER s a z",
                "SINTER s t", "SUNIONSTORE u s t", "SDIFF s t", "SINTERCARD 2 s t LIMIT 1",
                "SMOVE s t a", "SPOP s 1", "SRANDMEMBER t -5", "SSCAN t 0", "SREM t b",
                "SCARD t", "SMEMBERS u",
            ]),
        ),
        (
            "zsets",
            commands(64, &[
                "ZADD z 1 a 2 b 3 c", "ZADD z XX GT CH 5 a", "ZINCRBY z 1.5 b", "ZSCORE z a",
                "ZMSCORE z a x", "ZRANK z b", "ZREVRANK z b", "ZCOUNT z (1 +inf",
                "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z (1 5 BYSCORE REV LIMIT 0 2",
                "ZRANGEBYLEX z - +", "ZRANGESTORE z2 z 0 1", "ZUNIONSTORE z3 2 z z2 WEIGHTS 1 2",
                "ZPOPMIN z", "ZPOPMAX z 2", "ZREMRANGEBYSCORE z -inf 1", "ZRANDMEMBER z2 2",
                "ZSCAN z2 0", "ZCARD z2",
            ]),
        ),
        (
            "transactions",
            commands(5, &[
                "WATCH w", "SET w 1", "MULTI", "INCR w", "LPUSH w x", "INFO keyspace", "EXEC",
                "WATCH w", "MULTI", "GET w", "CLIENT GETNAME", "EXEC", "MULTI", "SET",
                "EXEC", "MULTI", "DISCARD", "UNWATCH",
            ]),
        ),
        (
            "connection",
            commands(32, &[
                "HELLO 3", "PING", "ECHO hi", "CLIENT SETNAME fuzz", "CLIENT LIST",
                "CLIENT INFO", "CONFIG GET *", "CONFIG SET timeout 0", "COMMAND COUNT",
                "COMMAND INFO get", "COMMAND GETKEYS set a b", "TIME", "SELECT 1",
                "INFO", "HGETALL nothing", "HELLO 2", "SUBSCRIBE ch", "PING", "UNSUBSCRIBE",
                "PUBLISH ch m", "PUBSUB NUMSUB ch", "RESET", "QUIT",
            ]),
        ),
        (
            "server_probes",
            commands(17, &[
                "SET k 1 EX 100", "EVAL return(redis.call('info','keyspace')) 0",
                "EVAL redis.setresp(3);return{verbatim_string={format='md',string='x'}} 0",
                "EVAL return{big_number='1',double=2} 0", "ROLE", "CLUSTER INFO",
                "CLUSTER NOSUCH", "READONLY", "SWAPDB 0 0", "SWAPDB 0 1",
                "CLIENT NO-EVICT on", "MULTI", "INFO keyspace", "DEL k", "INFO", "EXEC",
            ]),
        ),
        (
            "bits_sort_copy",
            commands(9, &[
                "SETBIT b 7 1", "GETBIT b 7", "BITCOUNT b 0 -1 BIT", "BITPOS b 0 1 -1",
                "BITOP XOR c b b", "BITFIELD b SET i8 #1 -3 INCRBY u4 0 9 OVERFLOW SAT GET i8 0",
                "BITFIELD_RO b GET u8 0", "RPUSH l 3 1 2", "SET w_1 9", "SORT l BY w_* GET # DESC",
                "SORT l ALPHA LIMIT 0 2 STORE d", "COPY l l2 REPLACE", "TOUCH l l2", "MOVE l 0",
                "WAIT 0 0", "PFADD h a b c", "PFCOUNT h", "PFMERGE h2 h", "PFCOUNT h h2",
                "LMPOP 2 x l LEFT COUNT 2", "ZADD z 1 a", "ZMPOP 1 z MAX", "BLMPOP 0 1 l RIGHT",
                "GEOADD g 13.361389 38.115556 a 15.087269 37.502669 b", "GEODIST g a b km",
                "GEOPOS g a x", "GEOHASH g b",
                "GEOSEARCH g FROMMEMBER a BYRADIUS 200 km ASC WITHDIST WITHCOORD",
                "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST",
                "GEORADIUS g 15 37 200 km COUNT 1 ANY", "GEORADIUSBYMEMBER_RO g b 1 mi",
                "MSET x ohmytext y mynewtext", "LCS x y IDX MINMATCHLEN 2 WITHMATCHLEN",
            ]),
        ),
        (
            "reply_modes_and_shards",
            commands(11, &[
                "SET a 1", "CLIENT REPLY SKIP", "GET a", "CLIENT REPLY OFF", "INCR a",
                "NOSUCH", "MULTI", "SET a 2", "EXEC", "CLIENT REPLY ON", "SSUBSCRIBE s1 s2",
                "SPUBLISH s1 m", "PUBSUB SHARDCHANNELS", "PUBSUB SHARDNUMSUB s1", "SUNSUBSCRIBE",
                "EVAL return(redis.pcall('incr','nope','x')) 0",
                "EVAL return{1,redis.pcall('lpush','a','x'),{err='X y'}} 0",
                "EVAL return{err='E f',ignore_error_stats_update=true} 0",
                "INFO errorstats", "CONFIG RESETSTAT", "COMMAND LIST FILTERBY PATTERN client|*",
            ]),
        ),
        (
            "keyspace_events",
            commands(12, &[
                "CONFIG SET notify-keyspace-events KEA", "HELLO 3", "PSUBSCRIBE __key*__:*",
                "SET a 1 EX 100", "LPUSH l x y", "RPOP l 2", "HSET h f v", "HDEL h f",
                "ZADD z 1 m", "ZINCRBY z 0 m", "SADD s m", "SMOVE s t m", "RENAME t u",
                "MULTI", "INCR n", "EXPIRE n 0", "EXEC", "EVAL redis.call('del','a') 0",
                "CONFIG SET notify-keyspace-events KEm", "CONFIG GET notify-keyspace-events",
            ]),
        ),
        (
            "client_tracking",
            commands(13, &[
                "HELLO 3", "CLIENT TRACKING ON OPTIN NOLOOP", "CLIENT CACHING YES", "GET a",
                "SET a 1", "MULTI", "GET b", "EXEC", "CLIENT TRACKINGINFO", "CLIENT TRACKING OFF",
                "CLIENT TRACKING ON BCAST PREFIX a PREFIX b", "SET ab 2", "FLUSHALL",
                "CONFIG SET tracking-table-max-keys 1", "CLIENT GETREDIR", "RESET",
            ]),
        ),
        (
            "monitor",
            commands(16, &[
                "SET a 1", "MULTI", "MONITOR", "EXEC", "MONITOR", "PING", "GET a",
                "AUTH secret", "HELLO 3 AUTH default pw", "MONITOR", "SUBSCRIBE ch",
                "PUBLISH ch m", "RESET", "SET a 2",
            ]),
        ),
        (
            "inline_and_errors",
            b"\x02PING\r\nSET a \"x y\"\r\nGET a\r\nNOSUCH 1\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$-5\r\n"
                .to_vec(),
        ),
    ]
}
