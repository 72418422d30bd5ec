//! The command table: every command's name, arity, flags, key positions and handler, in
//! the shape Redis's command table has them (COMMAND INFO reports from here).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::commands::{
    bits, blocking, client, collection_scan, command_docs, config_cmd, connection, dump, expire,
    geo, hashes, hll, keys, lcs, lists, memory, mpop, multi, pubsub_cmds, scan, server_cmds, sets,
    sort, strings, zset_algebra, zsets,
};
use super::error::{self, CmdError, CmdResult};
use super::frame::Args;
use super::keyspace::KeySpace;
use super::reply::Reply;
use super::script;
use super::session::Session;
use super::shared::Shared;

/// A command that reads or writes keys: runs against the store or a transaction.
pub(crate) type DataFn = fn(&dyn KeySpace, &Shared, &Args, &mut Reply) -> CmdResult;
/// A command about the connection or the server.
pub(crate) type SessionFn = fn(&mut Session, &Args, &mut Reply) -> CmdResult;

/// Runs a data command against `ks`. A failure is its one reply: whatever the handler
/// wrote before failing is taken back, so that the client never reads two replies for one
/// command.
pub(crate) fn run_data(
    handler: DataFn,
    ks: &dyn KeySpace,
    shared: &Shared,
    args: &Args,
    out: &mut Reply,
) {
    let mark = out.len();
    if let Err(e) = handler(ks, shared, args, out) {
        out.truncate(mark);
        out.command_error(&e);
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Handler {
    Data(DataFn),
    Session(SessionFn),
}

/// Command flags (a bit set).
pub(crate) mod flag {
    /// Changes keys (WATCH marks its keys; Redis's `write`).
    pub(crate) const WRITE: u16 = 1;
    /// Only reads keys.
    pub(crate) const READONLY: u16 = 1 << 1;
    /// Reads and writes several times: run as one store transaction.
    pub(crate) const ATOMIC: u16 = 1 << 2;
    /// Allowed before AUTH.
    pub(crate) const NO_AUTH: u16 = 1 << 3;
    /// Allowed in RESP2 subscribed mode.
    pub(crate) const SUBSCRIBED: u16 = 1 << 4;
    /// Refused inside MULTI.
    pub(crate) const NO_MULTI: u16 = 1 << 5;
    /// Inside EXEC, runs once the transaction has committed (it takes the writer lock, or
    /// locks the transaction holds), its reply in its place among the others.
    pub(crate) const AFTER_COMMIT: u16 = 1 << 12;
    /// Server administration.
    pub(crate) const ADMIN: u16 = 1 << 6;
    /// Pub/sub.
    pub(crate) const PUBSUB: u16 = 1 << 7;
    /// O(1) or O(log n).
    pub(crate) const FAST: u16 = 1 << 8;
    /// Touches every key (FLUSHDB): WATCH marks everything.
    pub(crate) const ALL_KEYS: u16 = 1 << 9;
    /// Runs as its own transaction, never coalesced with other commands: sorted-set
    /// commands that read their set in score order (a transaction that already changed it
    /// would have to rebuild that order), and list edits inside a list (LREM, LTRIM,
    /// LINSERT: after them a transaction's view of the list walks its staged changes; see
    /// `datatypes::list_shape`). Its writes are acknowledged after the event loop's one
    /// durability wait per turn.
    pub(crate) const SOLO: u16 = 1 << 10;
    /// A blocking pop: outside MULTI the session waits for data (`Session::block_or_pop`).
    pub(crate) const BLOCKING: u16 = 1 << 11;
    /// Runs a Lua script (EVAL and its kin): like a write, it joins a pipelined turn's
    /// transaction, and unless read-only it may write.
    pub(crate) const SCRIPT: u16 = 1 << 13;
}

/// One command.
pub(crate) struct Spec {
    /// Lowercase name.
    pub(crate) name: &'static str,
    /// Redis's arity: n exactly n arguments (name included), -n at least n.
    pub(crate) arity: i32,
    pub(crate) flags: u16,
    /// Key positions: first, last (negative counts from the end), step; 0,0,0 for none.
    /// For a command that also names keys by a count (see `numkeys_at`), the keys it
    /// writes, as Redis's COMMAND INFO gives them.
    pub(crate) keys: (i32, i32, i32),
    /// Where a `numkeys` argument is, followed by that many keys (ZUNION, SINTERCARD, ...):
    /// Redis's `movablekeys`. 0 for none.
    pub(crate) numkeys_at: usize,
    pub(crate) handler: Handler,
    pub(crate) group: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) since: &'static str,
}

impl Spec {
    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// This command, with keys also named by a `numkeys` argument at position `at`.
    const fn numkeys_at(self, at: usize) -> Spec {
        Spec {
            numkeys_at: at,
            ..self
        }
    }

    /// Whether a call may write: a write command, or a script that is not read-only.
    pub(crate) fn may_write(&self) -> bool {
        self.has(flag::WRITE) || (self.has(flag::SCRIPT) && !self.has(flag::READONLY))
    }

    /// Whether a call reads one string record only (GET, STRLEN, GETBIT): one record is
    /// published whole, so such a read need not hold commits off (`Engine::read_together`).
    pub(crate) fn reads_one_string(&self) -> bool {
        matches!(self.group, "string" | "bitmap") && self.keys == KEY1 && !self.movable_keys()
    }

    /// Whether some of its keys are found by reading the arguments (Redis's
    /// `movablekeys`), not at fixed positions.
    pub(crate) fn movable_keys(&self) -> bool {
        self.numkeys_at != 0
    }

    /// Every key argument of a call, by position: the fixed ones, then those a `numkeys`
    /// argument counts (COMMAND GETKEYS). `None` if that count is not a number that fits.
    pub(crate) fn all_key_positions(&self, args: &Args) -> Option<Vec<usize>> {
        let mut positions: Vec<usize> = self.key_positions(args.len()).collect();
        if self.movable_keys() {
            let numkeys = crate::numeric::parse_i64(args.get(self.numkeys_at))?;
            let numkeys = usize::try_from(numkeys).ok()?;
            let first = self.numkeys_at + 1;
            if first.checked_add(numkeys)? > args.len() {
                return None;
            }
            positions.extend(first..first + numkeys);
        }
        Some(positions)
    }

    /// Whether `argc` arguments (name included) fit the arity.
    pub(crate) fn arity_ok(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// The key arguments of a call, by position.
    pub(crate) fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, last, step) = self.keys;
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let last = if last < 0 {
            argc + i64::from(last)
        } else {
            i64::from(last)
        };
        let first = i64::from(first);
        let step = usize::try_from(step.max(1)).unwrap_or(1);
        let range = if first == 0 {
            1..1
        } else {
            first..(last + 1).min(argc)
        };
        range.step_by(step).filter_map(|i| usize::try_from(i).ok())
    }
}

use Handler::{Data, Session as Sess};
use flag::*;

macro_rules! spec {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $handler:expr, $group:literal, $since:literal, $summary:literal) => {
        Spec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: $keys,
            numkeys_at: 0,
            handler: $handler,
            group: $group,
            summary: $summary,
            since: $since,
        }
    };
}

const NOKEYS: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

/// Every command served.
pub(crate) static COMMANDS: &[Spec] = &[
    // Strings.
    spec!(
        "get",
        2,
        READONLY | FAST,
        KEY1,
        Data(strings::get),
        "string",
        "1.0.0",
        "Returns the string value of a key."
    ),
    spec!(
        "set",
        -3,
        WRITE,
        KEY1,
        Data(strings::set),
        "string",
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."
    ),
    spec!(
        "setnx",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::setnx),
        "string",
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist."
    ),
    spec!(
        "setex",
        4,
        WRITE,
        KEY1,
        Data(strings::setex),
        "string",
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."
    ),
    spec!(
        "psetex",
        4,
        WRITE,
        KEY1,
        Data(strings::psetex),
        "string",
        "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."
    ),
    spec!(
        "getset",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::getset),
        "string",
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value."
    ),
    spec!(
        "getdel",
        2,
        WRITE | FAST,
        KEY1,
        Data(strings::getdel),
        "string",
        "6.2.0",
        "Returns the string value of a key after deleting the key."
    ),
    spec!(
        "getex",
        -2,
        WRITE | FAST | ATOMIC,
        KEY1,
        Data(strings::getex),
        "string",
        "6.2.0",
        "Returns the string value of a key after setting its expiration time."
    ),
    spec!(
        "mget",
        -2,
        READONLY | FAST,
        ALLKEYS,
        Data(strings::mget),
        "string",
        "1.0.0",
        "Atomically returns the string values of one or more keys."
    ),
    spec!(
        "mset",
        -3,
        WRITE | ATOMIC,
        (1, -1, 2),
        Data(strings::mset),
        "string",
        "1.0.1",
        "Atomically creates or modifies the string values of one or more keys."
    ),
    spec!(
        "msetnx",
        -3,
        WRITE | ATOMIC,
        (1, -1, 2),
        Data(strings::msetnx),
        "string",
        "1.0.1",
        "Atomically modifies the string values of one or more keys only when all keys don't exist."
    ),
    spec!(
        "append",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::append),
        "string",
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist."
    ),
    spec!(
        "strlen",
        2,
        READONLY | FAST,
        KEY1,
        Data(strings::strlen),
        "string",
        "2.2.0",
        "Returns the length of a string value."
    ),
    spec!(
        "getrange",
        4,
        READONLY,
        KEY1,
        Data(strings::getrange),
        "string",
        "2.4.0",
        "Returns a substring of the string stored at a key."
    ),
    spec!(
        "substr",
        4,
        READONLY,
        KEY1,
        Data(strings::getrange),
        "string",
        "1.0.0",
        "Returns a substring from a string value."
    ),
    spec!(
        "geoadd",
        -5,
        WRITE,
        KEY1,
        Data(geo::geoadd),
        "geo",
        "3.2.0",
        "Adds one or more members to a geospatial index. The key is created if it doesn't exist."
    ),
    spec!(
        "geopos",
        -2,
        READONLY,
        KEY1,
        Data(geo::geopos),
        "geo",
        "3.2.0",
        "Returns the longitude and latitude of members from a geospatial index."
    ),
    spec!(
        "geodist",
        -4,
        READONLY,
        KEY1,
        Data(geo::geodist),
        "geo",
        "3.2.0",
        "Returns the distance between two members of a geospatial index."
    ),
    spec!(
        "geohash",
        -2,
        READONLY,
        KEY1,
        Data(geo::geohash),
        "geo",
        "3.2.0",
        "Returns members from a geospatial index as geohash strings."
    ),
    spec!(
        "geosearch",
        -7,
        READONLY | ATOMIC,
        KEY1,
        Data(geo::geosearch),
        "geo",
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle."
    ),
    spec!(
        "geosearchstore",
        -8,
        WRITE | ATOMIC,
        (1, 2, 1),
        Data(geo::geosearchstore),
        "geo",
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result."
    ),
    spec!(
        "georadius",
        -6,
        WRITE | ATOMIC,
        KEY1,
        Data(geo::georadius),
        "geo",
        "3.2.0",
        "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result."
    ),
    spec!(
        "georadius_ro",
        -6,
        READONLY | ATOMIC,
        KEY1,
        Data(geo::georadius_ro),
        "geo",
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a coordinate."
    ),
    spec!(
        "georadiusbymember",
        -5,
        WRITE | ATOMIC,
        KEY1,
        Data(geo::georadiusbymember),
        "geo",
        "3.2.0",
        "Queries a geospatial index for members within a distance from a member, optionally stores the result."
    ),
    spec!(
        "georadiusbymember_ro",
        -5,
        READONLY | ATOMIC,
        KEY1,
        Data(geo::georadiusbymember_ro),
        "geo",
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a member."
    ),
    spec!(
        "pfadd",
        -2,
        WRITE | ATOMIC | FAST,
        KEY1,
        Data(hll::pfadd),
        "hyperloglog",
        "2.8.9",
        "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."
    ),
    spec!(
        "pfcount",
        -2,
        WRITE | ATOMIC,
        ALLKEYS,
        Data(hll::pfcount),
        "hyperloglog",
        "2.8.9",
        "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s)."
    ),
    spec!(
        "pfmerge",
        -2,
        WRITE | ATOMIC,
        ALLKEYS,
        Data(hll::pfmerge),
        "hyperloglog",
        "2.8.9",
        "Merges one or more HyperLogLog values into a single key."
    ),
    spec!(
        "setbit",
        4,
        WRITE | ATOMIC,
        KEY1,
        Data(bits::setbit),
        "bitmap",
        "2.2.0",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."
    ),
    spec!(
        "getbit",
        3,
        READONLY | FAST,
        KEY1,
        Data(bits::getbit),
        "bitmap",
        "2.2.0",
        "Returns a bit value by offset."
    ),
    spec!(
        "bitcount",
        -2,
        READONLY,
        KEY1,
        Data(bits::bitcount),
        "bitmap",
        "2.6.0",
        "Counts the number of set bits (population counting) in a string."
    ),
    spec!(
        "bitpos",
        -3,
        READONLY,
        KEY1,
        Data(bits::bitpos),
        "bitmap",
        "2.8.7",
        "Finds the first set (1) or clear (0) bit in a string."
    ),
    spec!(
        "bitop",
        -4,
        WRITE | ATOMIC,
        (2, -1, 1),
        Data(bits::bitop),
        "bitmap",
        "2.6.0",
        "Performs bitwise operations on multiple strings, and stores the result."
    ),
    spec!(
        "bitfield",
        -2,
        WRITE | ATOMIC,
        KEY1,
        Data(bits::bitfield),
        "bitmap",
        "3.2.0",
        "Performs arbitrary bitfield integer operations on strings."
    ),
    spec!(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        KEY1,
        Data(bits::bitfield_ro),
        "bitmap",
        "6.0.0",
        "Performs arbitrary read-only bitfield integer operations on strings."
    ),
    spec!(
        "lcs",
        -3,
        READONLY,
        (1, 2, 1),
        Data(lcs::lcs),
        "string",
        "7.0.0",
        "Finds the longest common substring."
    ),
    spec!(
        "setrange",
        4,
        WRITE | ATOMIC,
        KEY1,
        Data(strings::setrange),
        "string",
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."
    ),
    spec!(
        "incr",
        2,
        WRITE | FAST,
        KEY1,
        Data(strings::incr),
        "string",
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."
    ),
    spec!(
        "decr",
        2,
        WRITE | FAST,
        KEY1,
        Data(strings::decr),
        "string",
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."
    ),
    spec!(
        "incrby",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::incrby),
        "string",
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."
    ),
    spec!(
        "decrby",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::decrby),
        "string",
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."
    ),
    spec!(
        "incrbyfloat",
        3,
        WRITE | FAST,
        KEY1,
        Data(strings::incrbyfloat),
        "string",
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."
    ),
    // Keys and expiry.
    spec!(
        "del",
        -2,
        WRITE,
        ALLKEYS,
        Data(keys::del),
        "generic",
        "1.0.0",
        "Deletes one or more keys."
    ),
    spec!(
        "unlink",
        -2,
        WRITE | FAST,
        ALLKEYS,
        Data(keys::del),
        "generic",
        "4.0.0",
        "Asynchronously deletes one or more keys."
    ),
    spec!(
        "exists",
        -2,
        READONLY | FAST,
        ALLKEYS,
        Data(keys::exists),
        "generic",
        "1.0.0",
        "Determines whether one or more keys exist."
    ),
    spec!(
        "memory",
        -2,
        0,
        NOKEYS,
        Data(memory::memory),
        "server",
        "4.0.0",
        "A container for memory diagnostics commands."
    ),
    spec!(
        "type",
        2,
        READONLY | FAST,
        KEY1,
        Data(keys::type_),
        "generic",
        "1.0.0",
        "Determines the type of value stored at a key."
    ),
    spec!(
        "sort",
        -2,
        WRITE | SOLO,
        KEY1,
        Data(sort::sort),
        "generic",
        "1.0.0",
        "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."
    ),
    spec!(
        "sort_ro",
        -2,
        READONLY | SOLO | ATOMIC,
        KEY1,
        Data(sort::sort_ro),
        "generic",
        "7.0.0",
        "Returns the sorted elements of a list, a set, or a sorted set."
    ),
    // Scripting.
    spec!(
        "eval",
        -3,
        ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::eval),
        "scripting",
        "2.6.0",
        "Executes a server-side Lua script."
    )
    .numkeys_at(2),
    spec!(
        "evalsha",
        -3,
        ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::evalsha),
        "scripting",
        "2.6.0",
        "Executes a server-side Lua script by SHA1 digest."
    )
    .numkeys_at(2),
    spec!(
        "eval_ro",
        -3,
        READONLY | ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::eval_ro),
        "scripting",
        "7.0.0",
        "Executes a read-only server-side Lua script."
    )
    .numkeys_at(2),
    spec!(
        "evalsha_ro",
        -3,
        READONLY | ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::evalsha_ro),
        "scripting",
        "7.0.0",
        "Executes a read-only server-side Lua script by SHA1 digest."
    )
    .numkeys_at(2),
    spec!(
        "script",
        -2,
        0,
        NOKEYS,
        Data(script::script),
        "scripting",
        "2.6.0",
        "A container for Lua scripts management commands."
    ),
    spec!(
        "fcall",
        -3,
        ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::functions::fcall),
        "scripting",
        "7.0.0",
        "Invokes a function."
    )
    .numkeys_at(2),
    spec!(
        "fcall_ro",
        -3,
        READONLY | ATOMIC | SCRIPT,
        NOKEYS,
        Data(script::functions::fcall_ro),
        "scripting",
        "7.0.0",
        "Invokes a read-only function."
    )
    .numkeys_at(2),
    spec!(
        "function",
        -2,
        0,
        NOKEYS,
        Data(script::functions::function),
        "scripting",
        "7.0.0",
        "A container for function commands."
    ),
    spec!(
        "touch",
        -2,
        READONLY | FAST,
        ALLKEYS,
        Data(keys::touch),
        "generic",
        "3.2.1",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed."
    ),
    spec!(
        "copy",
        -3,
        WRITE | ATOMIC,
        (1, 2, 1),
        Data(keys::copy),
        "generic",
        "6.2.0",
        "Copies the value of a key to a new key."
    ),
    spec!(
        "dump",
        2,
        READONLY,
        KEY1,
        Data(dump::dump),
        "generic",
        "2.6.0",
        "Returns a serialized representation of the value stored at a key."
    ),
    spec!(
        "restore",
        -4,
        WRITE | ATOMIC,
        KEY1,
        Data(dump::restore),
        "generic",
        "2.6.0",
        "Creates a key from the serialized representation of a value."
    ),
    spec!(
        "move",
        3,
        WRITE | FAST,
        KEY1,
        Data(keys::move_),
        "generic",
        "1.0.0",
        "Moves a key to another database."
    ),
    spec!(
        "rename",
        3,
        WRITE | ATOMIC,
        (1, 2, 1),
        Data(keys::rename),
        "generic",
        "1.0.0",
        "Renames a key and overwrites the destination."
    ),
    spec!(
        "renamenx",
        3,
        WRITE | FAST | ATOMIC,
        (1, 2, 1),
        Data(keys::renamenx),
        "generic",
        "1.0.0",
        "Renames a key only when the target key name doesn't exist."
    ),
    spec!(
        "dbsize",
        1,
        READONLY | FAST,
        NOKEYS,
        Data(keys::dbsize),
        "server",
        "1.0.0",
        "Returns the number of keys in the database."
    ),
    spec!(
        "flushdb",
        -1,
        WRITE | ALL_KEYS | ATOMIC,
        NOKEYS,
        Data(keys::flushdb),
        "server",
        "1.0.0",
        "Removes all keys from the current database."
    ),
    spec!(
        "flushall",
        -1,
        WRITE | ALL_KEYS | ATOMIC,
        NOKEYS,
        Data(keys::flushdb),
        "server",
        "1.0.0",
        "Removes all keys from all databases."
    ),
    spec!(
        "randomkey",
        1,
        READONLY,
        NOKEYS,
        Data(scan::randomkey),
        "generic",
        "1.0.0",
        "Returns a random key name from the database."
    ),
    spec!(
        "keys",
        2,
        READONLY,
        NOKEYS,
        Data(scan::keys),
        "generic",
        "1.0.0",
        "Returns all key names that match a pattern."
    ),
    spec!(
        "scan",
        -2,
        READONLY,
        NOKEYS,
        Data(scan::scan),
        "generic",
        "2.8.0",
        "Iterates over the key names in the database."
    ),
    spec!(
        "expire",
        -3,
        WRITE | FAST | ATOMIC,
        KEY1,
        Data(expire::expire),
        "generic",
        "1.0.0",
        "Sets the expiration time of a key in seconds."
    ),
    spec!(
        "pexpire",
        -3,
        WRITE | FAST | ATOMIC,
        KEY1,
        Data(expire::pexpire),
        "generic",
        "2.6.0",
        "Sets the expiration time of a key in milliseconds."
    ),
    spec!(
        "expireat",
        -3,
        WRITE | FAST | ATOMIC,
        KEY1,
        Data(expire::expireat),
        "generic",
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp."
    ),
    spec!(
        "pexpireat",
        -3,
        WRITE | FAST | ATOMIC,
        KEY1,
        Data(expire::pexpireat),
        "generic",
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp."
    ),
    spec!(
        "expiretime",
        2,
        READONLY | FAST,
        KEY1,
        Data(expire::expiretime),
        "generic",
        "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp."
    ),
    spec!(
        "pexpiretime",
        2,
        READONLY | FAST,
        KEY1,
        Data(expire::pexpiretime),
        "generic",
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp."
    ),
    spec!(
        "ttl",
        2,
        READONLY | FAST,
        KEY1,
        Data(expire::ttl),
        "generic",
        "1.0.0",
        "Returns the expiration time in seconds of a key."
    ),
    spec!(
        "pttl",
        2,
        READONLY | FAST,
        KEY1,
        Data(expire::pttl),
        "generic",
        "2.6.0",
        "Returns the expiration time in milliseconds of a key."
    ),
    spec!(
        "persist",
        2,
        WRITE | FAST,
        KEY1,
        Data(expire::persist),
        "generic",
        "2.2.0",
        "Removes the expiration time of a key."
    ),
    // Transactions.
    spec!(
        "multi",
        1,
        FAST,
        NOKEYS,
        Sess(multi::multi),
        "transactions",
        "1.2.0",
        "Starts a transaction."
    ),
    spec!(
        "exec",
        1,
        0,
        NOKEYS,
        Sess(multi::exec),
        "transactions",
        "1.2.0",
        "Executes all commands in a transaction."
    ),
    spec!(
        "discard",
        1,
        FAST,
        NOKEYS,
        Sess(multi::discard),
        "transactions",
        "2.0.0",
        "Discards a transaction."
    ),
    spec!(
        "watch",
        -2,
        FAST | NO_MULTI,
        ALLKEYS,
        Sess(multi::watch),
        "transactions",
        "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction."
    ),
    spec!(
        "unwatch",
        1,
        FAST,
        NOKEYS,
        Sess(multi::unwatch),
        "transactions",
        "2.2.0",
        "Forgets about watched keys of a transaction."
    ),
    // Pub/sub.
    spec!(
        "subscribe",
        -2,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::subscribe),
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels."
    ),
    spec!(
        "unsubscribe",
        -1,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::unsubscribe),
        "pubsub",
        "2.0.0",
        "Stops listening to messages posted to channels."
    ),
    spec!(
        "psubscribe",
        -2,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::psubscribe),
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns."
    ),
    spec!(
        "punsubscribe",
        -1,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::punsubscribe),
        "pubsub",
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns."
    ),
    spec!(
        "publish",
        3,
        PUBSUB | FAST,
        NOKEYS,
        Sess(pubsub_cmds::publish),
        "pubsub",
        "2.0.0",
        "Posts a message to a channel."
    ),
    spec!(
        "ssubscribe",
        -2,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::ssubscribe),
        "pubsub",
        "7.0.0",
        "Listen for messages published to the given shard channels"
    ),
    spec!(
        "sunsubscribe",
        -1,
        PUBSUB | SUBSCRIBED,
        NOKEYS,
        Sess(pubsub_cmds::sunsubscribe),
        "pubsub",
        "7.0.0",
        "Stop listening for messages posted to the given shard channels"
    ),
    spec!(
        "spublish",
        3,
        PUBSUB | FAST,
        NOKEYS,
        Sess(pubsub_cmds::spublish),
        "pubsub",
        "7.0.0",
        "Post a message to a shard channel"
    ),
    spec!(
        "pubsub",
        -2,
        PUBSUB,
        NOKEYS,
        Sess(pubsub_cmds::pubsub),
        "pubsub",
        "2.8.0",
        "A container for Pub/Sub commands."
    ),
    // Connection.
    spec!(
        "ping",
        -1,
        FAST | SUBSCRIBED,
        NOKEYS,
        Sess(connection::ping),
        "connection",
        "1.0.0",
        "Returns the server's liveliness response."
    ),
    spec!(
        "echo",
        2,
        FAST,
        NOKEYS,
        Sess(connection::echo),
        "connection",
        "1.0.0",
        "Returns the given string."
    ),
    spec!(
        "quit",
        -1,
        FAST | NO_AUTH | SUBSCRIBED,
        NOKEYS,
        Sess(connection::quit),
        "connection",
        "1.0.0",
        "Closes the connection."
    ),
    spec!(
        "reset",
        1,
        FAST | NO_AUTH | SUBSCRIBED,
        NOKEYS,
        Sess(connection::reset),
        "connection",
        "6.2.0",
        "Resets the connection."
    ),
    spec!(
        "select",
        2,
        FAST,
        NOKEYS,
        Sess(connection::select),
        "connection",
        "1.0.0",
        "Changes the selected database."
    ),
    spec!(
        "hello",
        -1,
        FAST | NO_AUTH,
        NOKEYS,
        Sess(connection::hello),
        "connection",
        "6.0.0",
        "Handshakes with the Redis server."
    ),
    spec!(
        "auth",
        -2,
        FAST | NO_AUTH,
        NOKEYS,
        Sess(connection::auth),
        "connection",
        "1.0.0",
        "Authenticates the connection."
    ),
    spec!(
        "client",
        -2,
        AFTER_COMMIT,
        NOKEYS,
        Sess(client::client),
        "connection",
        "2.4.0",
        "A container for client connection commands."
    ),
    // Server.
    spec!(
        "info",
        -1,
        0,
        NOKEYS,
        Data(server_cmds::info),
        "server",
        "1.0.0",
        "Returns information and statistics about the server."
    ),
    spec!(
        "slowlog",
        -2,
        ADMIN | AFTER_COMMIT,
        NOKEYS,
        Sess(super::slowlog::slowlog),
        "server",
        "2.2.12",
        "A container for slow log commands."
    ),
    spec!(
        "config",
        -2,
        ADMIN | AFTER_COMMIT,
        NOKEYS,
        Sess(config_cmd::config),
        "server",
        "2.0.0",
        "A container for server configuration commands."
    ),
    spec!(
        "command",
        -1,
        0,
        NOKEYS,
        Sess(command_docs::command),
        "server",
        "2.8.13",
        "Returns detailed information about all commands."
    ),
    spec!(
        "time",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::time),
        "server",
        "2.6.0",
        "Returns the server time."
    ),
    spec!(
        "replicaof",
        3,
        ADMIN,
        NOKEYS,
        Sess(server_cmds::replicaof),
        "server",
        "5.0.0",
        "Make the server a replica of another instance, or promote it as master."
    ),
    spec!(
        "slaveof",
        3,
        ADMIN,
        NOKEYS,
        Sess(server_cmds::replicaof),
        "server",
        "1.0.0",
        "Make the server a replica of another instance, or promote it as master."
    ),
    spec!(
        "role",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::role),
        "server",
        "2.8.12",
        "Returns the replication role."
    ),
    spec!(
        "swapdb",
        3,
        FAST,
        NOKEYS,
        Sess(connection::swapdb),
        "server",
        "4.0.0",
        "Swaps two Redis databases."
    ),
    // Cluster: keg serves one node without cluster support, and says so as Redis does.
    spec!(
        "cluster",
        -2,
        0,
        NOKEYS,
        Sess(server_cmds::cluster),
        "cluster",
        "3.0.0",
        "A container for Redis Cluster commands."
    ),
    spec!(
        "readonly",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::cluster),
        "cluster",
        "3.0.0",
        "Enables read-only queries for a connection to a Redis Cluster replica node."
    ),
    spec!(
        "readwrite",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::cluster),
        "cluster",
        "3.0.0",
        "Enables read-write queries for a connection to a Redis Cluster replica node."
    ),
    spec!(
        "asking",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::cluster),
        "cluster",
        "3.0.0",
        "Signals that a cluster client is following an -ASK redirect."
    ),
    spec!(
        "lastsave",
        1,
        FAST,
        NOKEYS,
        Sess(server_cmds::lastsave),
        "server",
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk."
    ),
    spec!(
        "wait",
        3,
        BLOCKING,
        NOKEYS,
        Data(blocking::wait),
        "generic",
        "3.0.0",
        "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."
    ),
    spec!(
        "monitor",
        1,
        ADMIN,
        NOKEYS,
        Sess(server_cmds::monitor),
        "server",
        "1.0.0",
        "Listens for all requests received by the server in real-time."
    ),
    spec!(
        "save",
        1,
        ADMIN | NO_MULTI,
        NOKEYS,
        Sess(server_cmds::save),
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk."
    ),
    spec!(
        "bgsave",
        -1,
        ADMIN | AFTER_COMMIT,
        NOKEYS,
        Sess(server_cmds::bgsave),
        "server",
        "1.0.0",
        "Asynchronously saves the database(s) to disk."
    ),
    spec!(
        "bgrewriteaof",
        1,
        ADMIN | AFTER_COMMIT,
        NOKEYS,
        Sess(server_cmds::bgrewriteaof),
        "server",
        "1.0.0",
        "Asynchronously rewrites the append-only file to disk."
    ),
    spec!(
        "shutdown",
        -1,
        ADMIN | NO_MULTI,
        NOKEYS,
        Sess(server_cmds::shutdown),
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server."
    ),
    // Hashes and sets.
    spec!(
        "hset",
        -4,
        WRITE | FAST,
        KEY1,
        Data(hashes::hset),
        "hash",
        "2.0.0",
        "Creates or modifies the value of a field in a hash."
    ),
    spec!(
        "hmset",
        -4,
        WRITE | FAST,
        KEY1,
        Data(hashes::hmset),
        "hash",
        "2.0.0",
        "Sets the values of multiple fields."
    ),
    spec!(
        "hsetnx",
        4,
        WRITE | FAST,
        KEY1,
        Data(hashes::hsetnx),
        "hash",
        "2.0.0",
        "Sets the value of a field in a hash only when the field doesn't exist."
    ),
    spec!(
        "hget",
        3,
        READONLY | FAST,
        KEY1,
        Data(hashes::hget),
        "hash",
        "2.0.0",
        "Returns the value of a field in a hash."
    ),
    spec!(
        "hmget",
        -3,
        READONLY | FAST,
        KEY1,
        Data(hashes::hmget),
        "hash",
        "2.0.0",
        "Returns the values of all fields in a hash."
    ),
    spec!(
        "hdel",
        -3,
        WRITE | FAST,
        KEY1,
        Data(hashes::hdel),
        "hash",
        "2.0.0",
        "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."
    ),
    spec!(
        "hexists",
        3,
        READONLY | FAST,
        KEY1,
        Data(hashes::hexists),
        "hash",
        "2.0.0",
        "Determines whether a field exists in a hash."
    ),
    spec!(
        "hlen",
        2,
        READONLY | FAST,
        KEY1,
        Data(hashes::hlen),
        "hash",
        "2.0.0",
        "Returns the number of fields in a hash."
    ),
    spec!(
        "hstrlen",
        3,
        READONLY | FAST,
        KEY1,
        Data(hashes::hstrlen),
        "hash",
        "3.2.0",
        "Returns the length of the value of a field."
    ),
    spec!(
        "hkeys",
        2,
        READONLY,
        KEY1,
        Data(hashes::hkeys),
        "hash",
        "2.0.0",
        "Returns all fields in a hash."
    ),
    spec!(
        "hvals",
        2,
        READONLY,
        KEY1,
        Data(hashes::hvals),
        "hash",
        "2.0.0",
        "Returns all values in a hash."
    ),
    spec!(
        "hgetall",
        2,
        READONLY,
        KEY1,
        Data(hashes::hgetall),
        "hash",
        "2.0.0",
        "Returns all fields and values in a hash."
    ),
    spec!(
        "hincrby",
        4,
        WRITE | FAST,
        KEY1,
        Data(hashes::hincrby),
        "hash",
        "2.0.0",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."
    ),
    spec!(
        "hincrbyfloat",
        4,
        WRITE | FAST,
        KEY1,
        Data(hashes::hincrbyfloat),
        "hash",
        "2.6.0",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."
    ),
    spec!(
        "sadd",
        -3,
        WRITE | FAST,
        KEY1,
        Data(sets::sadd),
        "set",
        "1.0.0",
        "Adds one or more members to a set. Creates the key if it doesn't exist."
    ),
    spec!(
        "srem",
        -3,
        WRITE | FAST,
        KEY1,
        Data(sets::srem),
        "set",
        "1.0.0",
        "Removes one or more members from a set. Deletes the set if the last member was removed."
    ),
    spec!(
        "sismember",
        3,
        READONLY | FAST,
        KEY1,
        Data(sets::sismember),
        "set",
        "1.0.0",
        "Determines whether a member belongs to a set."
    ),
    spec!(
        "smismember",
        -3,
        READONLY | FAST,
        KEY1,
        Data(sets::smismember),
        "set",
        "6.2.0",
        "Determines whether multiple members belong to a set."
    ),
    spec!(
        "scard",
        2,
        READONLY | FAST,
        KEY1,
        Data(sets::scard),
        "set",
        "1.0.0",
        "Returns the number of members in a set."
    ),
    spec!(
        "smembers",
        2,
        READONLY,
        KEY1,
        Data(sets::smembers),
        "set",
        "1.0.0",
        "Returns all members of a set."
    ),
    // Lists.
    spec!(
        "lpush",
        -3,
        WRITE | FAST,
        KEY1,
        Data(lists::lpush),
        "list",
        "1.0.0",
        "Prepends one or more elements to a list. Creates the key if it doesn't exist."
    ),
    spec!(
        "rpush",
        -3,
        WRITE | FAST,
        KEY1,
        Data(lists::rpush),
        "list",
        "1.0.0",
        "Appends one or more elements to a list. Creates the key if it doesn't exist."
    ),
    spec!(
        "lpushx",
        -3,
        WRITE | FAST,
        KEY1,
        Data(lists::lpushx),
        "list",
        "2.2.0",
        "Prepends one or more elements to a list only when the list exists."
    ),
    spec!(
        "rpushx",
        -3,
        WRITE | FAST,
        KEY1,
        Data(lists::rpushx),
        "list",
        "2.2.0",
        "Appends an element to a list only when the list exists."
    ),
    spec!(
        "lpop",
        -2,
        WRITE | FAST,
        KEY1,
        Data(lists::lpop),
        "list",
        "1.0.0",
        "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."
    ),
    spec!(
        "rpop",
        -2,
        WRITE | FAST,
        KEY1,
        Data(lists::rpop),
        "list",
        "1.0.0",
        "Returns and removes the last elements of a list. Deletes the list if the last element was popped."
    ),
    spec!(
        "llen",
        2,
        READONLY | FAST,
        KEY1,
        Data(lists::llen),
        "list",
        "1.0.0",
        "Returns the length of a list."
    ),
    spec!(
        "lindex",
        3,
        READONLY,
        KEY1,
        Data(lists::lindex),
        "list",
        "1.0.0",
        "Returns an element from a list by its index."
    ),
    spec!(
        "lrange",
        4,
        READONLY,
        KEY1,
        Data(lists::lrange),
        "list",
        "1.0.0",
        "Returns a range of elements from a list."
    ),
    spec!(
        "lset",
        4,
        WRITE,
        KEY1,
        Data(lists::lset),
        "list",
        "1.0.0",
        "Sets the value of an element in a list by its index."
    ),
    spec!(
        "lrem",
        4,
        WRITE | SOLO,
        KEY1,
        Data(lists::lrem),
        "list",
        "1.0.0",
        "Removes elements from a list. Deletes the list if the last element was removed."
    ),
    spec!(
        "ltrim",
        4,
        WRITE | SOLO,
        KEY1,
        Data(lists::ltrim),
        "list",
        "1.0.0",
        "Removes elements from both ends a list. Deletes the list if all elements were trimmed."
    ),
    spec!(
        "linsert",
        5,
        WRITE | SOLO,
        KEY1,
        Data(lists::linsert),
        "list",
        "2.2.0",
        "Inserts an element before or after another element in a list."
    ),
    spec!(
        "lpos",
        -3,
        READONLY,
        KEY1,
        Data(lists::lpos),
        "list",
        "6.0.6",
        "Returns the index of matching elements in a list."
    ),
    spec!(
        "lmove",
        5,
        WRITE | ATOMIC,
        (1, 2, 1),
        Data(lists::lmove),
        "list",
        "6.2.0",
        "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."
    ),
    spec!(
        "rpoplpush",
        3,
        WRITE | ATOMIC,
        (1, 2, 1),
        Data(lists::rpoplpush),
        "list",
        "1.2.0",
        "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."
    ),
    // Sorted sets.
    spec!(
        "zadd",
        -4,
        WRITE | FAST,
        KEY1,
        Data(zsets::zadd),
        "sorted_set",
        "1.2.0",
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."
    ),
    spec!(
        "zincrby",
        4,
        WRITE | FAST,
        KEY1,
        Data(zsets::zincrby),
        "sorted_set",
        "1.2.0",
        "Increments the score of a member in a sorted set."
    ),
    spec!(
        "zrem",
        -3,
        WRITE | FAST,
        KEY1,
        Data(zsets::zrem),
        "sorted_set",
        "1.2.0",
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."
    ),
    spec!(
        "zscore",
        3,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zscore),
        "sorted_set",
        "1.2.0",
        "Returns the score of a member in a sorted set."
    ),
    spec!(
        "zrandmember",
        -2,
        READONLY,
        KEY1,
        Data(zsets::zrandmember),
        "sorted_set",
        "6.2.0",
        "Returns one or more random members from a sorted set."
    ),
    spec!(
        "zmscore",
        -3,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zmscore),
        "sorted_set",
        "6.2.0",
        "Returns the score of one or more members in a sorted set."
    ),
    spec!(
        "zcard",
        2,
        READONLY | FAST,
        KEY1,
        Data(zsets::zcard),
        "sorted_set",
        "1.2.0",
        "Returns the number of members in a sorted set."
    ),
    spec!(
        "zcount",
        4,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zcount),
        "sorted_set",
        "2.0.0",
        "Returns the count of members in a sorted set that have scores within a range."
    ),
    spec!(
        "zlexcount",
        4,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zlexcount),
        "sorted_set",
        "2.8.9",
        "Returns the number of members in a sorted set within a lexicographical range."
    ),
    spec!(
        "zrank",
        3,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zrank),
        "sorted_set",
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by ascending scores."
    ),
    spec!(
        "zrevrank",
        3,
        READONLY | FAST | SOLO,
        KEY1,
        Data(zsets::zrevrank),
        "sorted_set",
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by descending scores."
    ),
    spec!(
        "zrange",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrange),
        "sorted_set",
        "1.2.0",
        "Returns members in a sorted set within a range of indexes."
    ),
    spec!(
        "zrevrange",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrevrange),
        "sorted_set",
        "1.2.0",
        "Returns members in a sorted set within a range of indexes in reverse order."
    ),
    spec!(
        "zrangebyscore",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrangebyscore),
        "sorted_set",
        "1.0.5",
        "Returns members in a sorted set within a range of scores."
    ),
    spec!(
        "zrevrangebyscore",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrevrangebyscore),
        "sorted_set",
        "2.2.0",
        "Returns members in a sorted set within a range of scores in reverse order."
    ),
    spec!(
        "zrangebylex",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrangebylex),
        "sorted_set",
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range."
    ),
    spec!(
        "zrevrangebylex",
        -4,
        READONLY | SOLO,
        KEY1,
        Data(zsets::zrevrangebylex),
        "sorted_set",
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range in reverse order."
    ),
    spec!(
        "zrangestore",
        -5,
        WRITE | SOLO,
        (1, 2, 1),
        Data(zsets::zrangestore),
        "sorted_set",
        "6.2.0",
        "Stores a range of members from sorted set in a key."
    ),
    spec!(
        "zunion",
        -3,
        READONLY | SOLO,
        NOKEYS,
        Data(zset_algebra::zunion),
        "sorted_set",
        "6.2.0",
        "Returns the union of multiple sorted sets."
    )
    .numkeys_at(1),
    spec!(
        "zinter",
        -3,
        READONLY | SOLO,
        NOKEYS,
        Data(zset_algebra::zinter),
        "sorted_set",
        "6.2.0",
        "Returns the intersect of multiple sorted sets."
    )
    .numkeys_at(1),
    spec!(
        "zdiff",
        -3,
        READONLY | SOLO,
        NOKEYS,
        Data(zset_algebra::zdiff),
        "sorted_set",
        "6.2.0",
        "Returns the difference between multiple sorted sets."
    )
    .numkeys_at(1),
    spec!(
        "zintercard",
        -3,
        READONLY | SOLO,
        NOKEYS,
        Data(zset_algebra::zintercard),
        "sorted_set",
        "7.0.0",
        "Returns the number of members of the intersect of multiple sorted sets."
    )
    .numkeys_at(1),
    spec!(
        "zunionstore",
        -4,
        WRITE | SOLO,
        KEY1,
        Data(zset_algebra::zunionstore),
        "sorted_set",
        "2.0.0",
        "Stores the union of multiple sorted sets in a key."
    )
    .numkeys_at(2),
    spec!(
        "zinterstore",
        -4,
        WRITE | SOLO,
        KEY1,
        Data(zset_algebra::zinterstore),
        "sorted_set",
        "2.0.0",
        "Stores the intersect of multiple sorted sets in a key."
    )
    .numkeys_at(2),
    spec!(
        "zdiffstore",
        -4,
        WRITE | SOLO,
        KEY1,
        Data(zset_algebra::zdiffstore),
        "sorted_set",
        "6.2.0",
        "Stores the difference of multiple sorted sets in a key."
    )
    .numkeys_at(2),
    spec!(
        "zpopmin",
        -2,
        WRITE | FAST | SOLO,
        KEY1,
        Data(zsets::zpopmin),
        "sorted_set",
        "5.0.0",
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."
    ),
    spec!(
        "zpopmax",
        -2,
        WRITE | FAST | SOLO,
        KEY1,
        Data(zsets::zpopmax),
        "sorted_set",
        "5.0.0",
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."
    ),
    spec!(
        "zremrangebyrank",
        4,
        WRITE | SOLO,
        KEY1,
        Data(zsets::zremrangebyrank),
        "sorted_set",
        "2.0.0",
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."
    ),
    spec!(
        "zremrangebyscore",
        4,
        WRITE | SOLO,
        KEY1,
        Data(zsets::zremrangebyscore),
        "sorted_set",
        "1.2.0",
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."
    ),
    spec!(
        "zremrangebylex",
        4,
        WRITE | SOLO,
        KEY1,
        Data(zsets::zremrangebylex),
        "sorted_set",
        "2.8.9",
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."
    ),
    spec!(
        "spop",
        -2,
        WRITE | FAST,
        KEY1,
        Data(sets::spop),
        "set",
        "1.0.0",
        "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."
    ),
    spec!(
        "srandmember",
        -2,
        READONLY,
        KEY1,
        Data(sets::srandmember),
        "set",
        "1.0.0",
        "Get one or multiple random members from a set"
    ),
    spec!(
        "hrandfield",
        -2,
        READONLY,
        KEY1,
        Data(hashes::hrandfield),
        "hash",
        "6.2.0",
        "Returns one or more random fields from a hash."
    ),
    spec!(
        "sinter",
        -2,
        READONLY,
        ALLKEYS,
        Data(sets::sinter),
        "set",
        "1.0.0",
        "Returns the intersect of multiple sets."
    ),
    spec!(
        "sunion",
        -2,
        READONLY,
        ALLKEYS,
        Data(sets::sunion),
        "set",
        "1.0.0",
        "Returns the union of multiple sets."
    ),
    spec!(
        "sdiff",
        -2,
        READONLY,
        ALLKEYS,
        Data(sets::sdiff),
        "set",
        "1.0.0",
        "Returns the difference of multiple sets."
    ),
    spec!(
        "sinterstore",
        -3,
        WRITE | ATOMIC,
        ALLKEYS,
        Data(sets::sinterstore),
        "set",
        "1.0.0",
        "Stores the intersect of multiple sets in a key."
    ),
    spec!(
        "sunionstore",
        -3,
        WRITE | ATOMIC,
        ALLKEYS,
        Data(sets::sunionstore),
        "set",
        "1.0.0",
        "Stores the union of multiple sets in a key."
    ),
    spec!(
        "sdiffstore",
        -3,
        WRITE | ATOMIC,
        ALLKEYS,
        Data(sets::sdiffstore),
        "set",
        "1.0.0",
        "Stores the difference of multiple sets in a key."
    ),
    spec!(
        "sintercard",
        -3,
        READONLY,
        NOKEYS,
        Data(sets::sintercard),
        "set",
        "7.0.0",
        "Returns the number of members of the intersect of multiple sets."
    )
    .numkeys_at(1),
    spec!(
        "smove",
        4,
        WRITE | FAST | ATOMIC,
        (1, 2, 1),
        Data(sets::smove),
        "set",
        "1.0.0",
        "Moves a member from one set to another."
    ),
    spec!(
        "hscan",
        -3,
        READONLY,
        KEY1,
        Data(collection_scan::hscan),
        "hash",
        "2.8.0",
        "Iterates over fields and values of a hash."
    ),
    spec!(
        "sscan",
        -3,
        READONLY,
        KEY1,
        Data(collection_scan::sscan),
        "set",
        "2.8.0",
        "Iterates over members of a set."
    ),
    spec!(
        "zscan",
        -3,
        READONLY,
        KEY1,
        Data(collection_scan::zscan),
        "sorted_set",
        "2.8.0",
        "Iterates over members and scores of a sorted set."
    ),
    spec!(
        "lmpop",
        -4,
        WRITE,
        NOKEYS,
        Data(mpop::lmpop),
        "list",
        "7.0.0",
        "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."
    )
    .numkeys_at(1),
    spec!(
        "zmpop",
        -4,
        WRITE | SOLO,
        NOKEYS,
        Data(mpop::zmpop),
        "sorted_set",
        "7.0.0",
        "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."
    )
    .numkeys_at(1),
    spec!(
        "blmpop",
        -5,
        WRITE | SOLO | BLOCKING,
        NOKEYS,
        Data(blocking::blmpop),
        "list",
        "7.0.0",
        "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."
    )
    .numkeys_at(2),
    spec!(
        "bzmpop",
        -5,
        WRITE | SOLO | BLOCKING,
        NOKEYS,
        Data(blocking::bzmpop),
        "sorted_set",
        "7.0.0",
        "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."
    )
    .numkeys_at(2),
    spec!(
        "blpop",
        -3,
        WRITE | SOLO | BLOCKING,
        (1, -2, 1),
        Data(lists::blpop),
        "list",
        "2.0.0",
        "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."
    ),
    spec!(
        "brpop",
        -3,
        WRITE | SOLO | BLOCKING,
        (1, -2, 1),
        Data(lists::brpop),
        "list",
        "2.0.0",
        "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."
    ),
    spec!(
        "blmove",
        6,
        WRITE | SOLO | BLOCKING,
        (1, 2, 1),
        Data(lists::blmove),
        "list",
        "6.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."
    ),
    spec!(
        "brpoplpush",
        4,
        WRITE | SOLO | BLOCKING,
        (1, 2, 1),
        Data(lists::brpoplpush),
        "list",
        "2.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."
    ),
    spec!(
        "bzpopmin",
        -3,
        WRITE | SOLO | BLOCKING,
        (1, -2, 1),
        Data(zsets::bzpopmin),
        "sorted_set",
        "5.0.0",
        "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."
    ),
    spec!(
        "bzpopmax",
        -3,
        WRITE | SOLO | BLOCKING,
        (1, -2, 1),
        Data(zsets::bzpopmax),
        "sorted_set",
        "5.0.0",
        "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."
    ),
];

/// The subcommands of the containers MULTI may queue (COMMAND, PUBSUB) with Redis's
/// arities (name and subcommand included): an unknown one or a wrong count is refused when
/// queued, as Redis refuses it, and the handlers answer the same errors when run.
static SUBCOMMANDS: &[(&str, &str, i32)] = &[
    ("client", "caching", 3),
    ("client", "getname", 2),
    ("client", "getredir", 2),
    ("client", "help", 2),
    ("client", "id", 2),
    ("client", "info", 2),
    ("client", "kill", -3),
    ("client", "list", -2),
    ("client", "no-evict", 3),
    ("client", "reply", 3),
    ("client", "setinfo", 4),
    ("client", "setname", 3),
    ("client", "tracking", -3),
    ("client", "trackinginfo", 2),
    ("client", "unblock", -3),
    ("cluster", "addslots", -3),
    ("cluster", "addslotsrange", -4),
    ("cluster", "bumpepoch", 2),
    ("cluster", "count-failure-reports", 3),
    ("cluster", "countkeysinslot", 3),
    ("cluster", "delslots", -3),
    ("cluster", "delslotsrange", -4),
    ("cluster", "failover", -2),
    ("cluster", "flushslots", 2),
    ("cluster", "forget", 3),
    ("cluster", "getkeysinslot", 4),
    ("cluster", "help", 2),
    ("cluster", "info", 2),
    ("cluster", "keyslot", 3),
    ("cluster", "links", 2),
    ("cluster", "meet", -4),
    ("cluster", "myid", 2),
    ("cluster", "nodes", 2),
    ("cluster", "replicas", 3),
    ("cluster", "replicate", 3),
    ("cluster", "reset", -2),
    ("cluster", "saveconfig", 2),
    ("cluster", "set-config-epoch", 3),
    ("cluster", "setslot", -4),
    ("cluster", "shards", 2),
    ("cluster", "slaves", 3),
    ("cluster", "slots", 2),
    ("command", "count", 2),
    ("command", "docs", -2),
    ("command", "getkeys", -4),
    ("command", "help", 2),
    ("command", "info", -2),
    ("command", "list", -2),
    ("config", "get", -3),
    ("config", "help", 2),
    ("config", "resetstat", 2),
    ("config", "rewrite", 2),
    ("config", "set", -4),
    ("pubsub", "channels", -2),
    ("pubsub", "help", 2),
    ("pubsub", "numpat", 2),
    ("pubsub", "numsub", -2),
    ("pubsub", "shardchannels", -2),
    ("pubsub", "shardnumsub", -2),
    ("function", "delete", 3),
    ("function", "dump", 2),
    ("function", "flush", -2),
    ("function", "help", 2),
    ("function", "kill", 2),
    ("function", "list", -2),
    ("function", "load", -3),
    ("function", "restore", -3),
    ("function", "stats", 2),
    ("memory", "help", 2),
    ("memory", "usage", -3),
    ("script", "exists", -3),
    ("slowlog", "get", -2),
    ("slowlog", "help", 2),
    ("slowlog", "len", 2),
    ("slowlog", "reset", 2),
    ("script", "flush", -2),
    ("script", "help", 2),
    ("script", "kill", 2),
    ("script", "load", 3),
];

/// How many commands and container subcommands INFO commandstats counts: one slot per
/// entry of [`COMMANDS`], then one per entry of [`SUBCOMMANDS`].
pub(crate) fn stat_slots() -> usize {
    COMMANDS.len() + SUBCOMMANDS.len()
}

/// The commandstats slot of a call of `spec` with `args`: a container's is its
/// subcommand's (none for an unknown subcommand, which Redis does not count either; the
/// container's own when called without one).
pub(crate) fn stat_slot(spec: &Spec, args: &Args) -> Option<usize> {
    let command = (std::ptr::from_ref(spec).addr())
        .checked_sub(COMMANDS.as_ptr().addr())
        .map(|offset| offset / std::mem::size_of::<Spec>())
        .filter(|&i| COMMANDS.get(i).is_some_and(|s| std::ptr::eq(s, spec)))?;
    // Per command, the positions of its subcommands in SUBCOMMANDS (none for most).
    static SUBS: OnceLock<Vec<Vec<usize>>> = OnceLock::new();
    let subs = SUBS.get_or_init(|| {
        COMMANDS
            .iter()
            .map(|spec| {
                (SUBCOMMANDS.iter().enumerate())
                    .filter(|(_, (c, _, _))| *c == spec.name)
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect()
    });
    let subs = subs.get(command).map_or(&[][..], Vec::as_slice);
    if subs.is_empty() || args.len() < 2 {
        return Some(command);
    }
    let sub = args.get(1);
    subs.iter()
        .copied()
        .find(|&j| {
            SUBCOMMANDS
                .get(j)
                .is_some_and(|(_, s, _)| sub.eq_ignore_ascii_case(s.as_bytes()))
        })
        .map(|j| COMMANDS.len() + j)
}

/// The name INFO commandstats shows for `slot`: `get`, `client|id`.
pub(crate) fn stat_slot_name(slot: usize) -> String {
    match COMMANDS.get(slot) {
        Some(spec) => spec.name.to_string(),
        None => SUBCOMMANDS
            .get(slot - COMMANDS.len())
            .map(|(c, s, _)| format!("{c}|{s}"))
            .unwrap_or_default(),
    }
}

/// For a call of a container listed in [`SUBCOMMANDS`] (CLIENT, COMMAND, CONFIG, PUBSUB):
/// the error for an unknown subcommand or a wrong argument count, as Redis words it.
pub(crate) fn subcommand_error(command: &str, args: &Args) -> Option<CmdError> {
    if args.len() < 2 || !SUBCOMMANDS.iter().any(|(c, _, _)| *c == command) {
        return None;
    }
    let sub = args.get(1);
    let Some(&(_, name, arity)) = SUBCOMMANDS
        .iter()
        .find(|(c, s, _)| *c == command && sub.eq_ignore_ascii_case(s.as_bytes()))
    else {
        return Some(error::unknown_subcommand(sub, command));
    };
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let fits = if arity >= 0 {
        argc == i64::from(arity)
    } else {
        argc >= -i64::from(arity)
    };
    (!fits).then(|| error::wrong_arity(&format!("{command}|{name}")))
}

/// The subcommands of `command` keg serves (none for a command that is no container).
pub(crate) fn subcommands(command: &str) -> impl Iterator<Item = &'static str> + '_ {
    SUBCOMMANDS
        .iter()
        .filter(move |(c, _, _)| *c == command)
        .map(|(_, s, _)| *s)
}

/// Whether `sub` is not a subcommand of `command`, a container listed in [`SUBCOMMANDS`]
/// (false for any other command: it has no subcommands to get wrong).
pub(crate) fn unknown_subcommand(command: &str, sub: &[u8]) -> bool {
    SUBCOMMANDS.iter().any(|(c, _, _)| *c == command)
        && !SUBCOMMANDS
            .iter()
            .any(|(c, s, _)| *c == command && sub.eq_ignore_ascii_case(s.as_bytes()))
}

/// Redis's stream commands: keg has no stream type. Answered with a clear error.
static STREAM_COMMANDS: &[&str] = &[
    "xadd",
    "xrange",
    "xrevrange",
    "xlen",
    "xread",
    "xreadgroup",
    "xdel",
    "xtrim",
    "xgroup",
    "xack",
    "xpending",
    "xclaim",
    "xautoclaim",
    "xinfo",
    "xsetid",
];

/// Redis commands keg knows of but does not serve, with why: the error a client gets in
/// place of "unknown command".
pub(crate) fn unsupported(name: &[u8]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let is = |list: &[&str]| list.iter().any(|u| u.as_bytes() == lower.as_slice());
    if is(STREAM_COMMANDS) {
        Some(
            "keg stores strings, hashes, sets, lists and sorted sets (with bitmaps, \
             HyperLogLogs and geo on them); streams are not supported",
        )
    } else if is(&["pfdebug", "pfselftest"]) {
        Some("keg does not serve Redis's HyperLogLog debugging commands")
    } else {
        None
    }
}

/// Looks a command up by name, case-insensitively.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    // Looked up for every request: foldhash rather than SipHash (2% of a pipelined SET
    // load went to hashing the name).
    static BY_NAME: OnceLock<HashMap<&'static str, &'static Spec, foldhash::fast::FixedState>> =
        OnceLock::new();
    let map = BY_NAME.get_or_init(|| COMMANDS.iter().map(|s| (s.name, s)).collect());
    if name.len() > 32 {
        return None;
    }
    let mut lower = [0u8; 32];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    map.get(std::str::from_utf8(lower).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Named after the bug: BITFIELD answered its values, then an error, when the store
    /// refused the grown string — two replies for one command.
    #[test]
    fn a_handler_that_fails_after_writing_answers_one_error() {
        fn writes_then_fails(_: &dyn KeySpace, _: &Shared, _: &Args, out: &mut Reply) -> CmdResult {
            out.array(1);
            out.int(7);
            Err(CmdError::fixed("ERR refused"))
        }
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).unwrap();
        let local = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let shared = Shared::new(
            store.clone(),
            &crate::server::ServerConfig::default(),
            local,
        );
        let mut out = Reply::new(crate::server::reply::Protocol::Resp2);
        out.simple("EARLIER");
        run_data(
            writes_then_fails,
            &store,
            &shared,
            &Args::from_slices(&[b"x"]),
            &mut out,
        );
        assert_eq!(out.bytes(), b"+EARLIER\r\n-ERR refused\r\n");
    }

    #[test]
    fn lookup_ignores_case_and_key_positions_follow_redis() {
        assert_eq!(lookup(b"GeT").map(|s| s.name), Some("get"));
        assert!(lookup(b"nosuch").is_none());
        let mset = lookup(b"mset").unwrap();
        assert_eq!(mset.key_positions(5).collect::<Vec<_>>(), vec![1, 3]);
        let del = lookup(b"del").unwrap();
        assert_eq!(del.key_positions(4).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(lookup(b"ping").unwrap().key_positions(1).count(), 0);
        assert!(unsupported(b"XADD").is_some());
        assert!(unsupported(b"xautoclaim").is_some());
        assert!(unsupported(b"LPUSH").is_none());
        assert!(unsupported(b"ZADD").is_none());
    }

    #[test]
    /// Lowercase, with Redis's underscores (SORT_RO, BITFIELD_RO).
    fn names_are_unique_and_lowercase() {
        let mut names: Vec<_> = COMMANDS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
    }
}
