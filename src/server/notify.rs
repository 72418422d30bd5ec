//! Keyspace notifications (Redis's `notify-keyspace-events`): a command that changes a key
//! notes an event, and once its write is committed (and durable, where the reply waits
//! for that) the event is published on `__keyspace@0__:<key>` (message: the event's name)
//! and `__keyevent@0__:<event>` (message: the key), as Redis does.
//!
//! Events are noted in the command's [`Reply`] rather than published on the spot: a
//! pipelined turn or an EXEC commits its writes after its commands ran, and a subscriber
//! must not hear of a write that another connection cannot read yet, or that never
//! committed. Noting costs one relaxed load while notifications are off (the default).

use std::sync::atomic::{AtomicU32, Ordering};

use super::pubsub::Broker;

/// Event classes: the bits of the setting, one per character of Redis's syntax.
pub(crate) mod class {
    /// `K`: publish on `__keyspace@0__:<key>`.
    pub(crate) const KEYSPACE: u32 = 1;
    /// `E`: publish on `__keyevent@0__:<event>`.
    pub(crate) const KEYEVENT: u32 = 1 << 1;
    /// `g`: commands of no one type (DEL, EXPIRE, RENAME, ...).
    pub(crate) const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub(crate) const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub(crate) const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub(crate) const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub(crate) const HASH: u32 = 1 << 6;
    /// `z`: sorted-set commands.
    pub(crate) const ZSET: u32 = 1 << 7;
    /// `x`: a key deleted because its expiry passed.
    pub(crate) const EXPIRED: u32 = 1 << 8;
    /// `e`: a key evicted for memory (keg never evicts).
    pub(crate) const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands (keg has no streams).
    pub(crate) const STREAM: u32 = 1 << 10;
    /// `m`: a read of a missing key.
    pub(crate) const KEY_MISS: u32 = 1 << 11;
    /// `d`: module events (keg has no modules).
    pub(crate) const MODULE: u32 = 1 << 13;
    /// `n`: a key created.
    pub(crate) const NEW: u32 = 1 << 14;
    /// `A`: `g$lshzxetd`.
    pub(crate) const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// The classes `A` stands for, in the order CONFIG GET spells them out.
const CLASS_CHARS: [(char, u32); 10] = [
    ('g', class::GENERIC),
    ('$', class::STRING),
    ('l', class::LIST),
    ('s', class::SET),
    ('h', class::HASH),
    ('z', class::ZSET),
    ('x', class::EXPIRED),
    ('e', class::EVICTED),
    ('t', class::STREAM),
    ('d', class::MODULE),
];

/// One event a command noted: its name (`set`, `lpush`, `del`, ...) and key, and whether
/// it is published as a keyspace event (else it is noted only for client tracking, which
/// hears of every changed key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) name: &'static str,
    pub(crate) key: Vec<u8>,
    pub(crate) publish: bool,
}

/// The name of the event a flush (FLUSHDB, FLUSHALL) notes for client tracking: every key
/// changed. Never published (Redis 7.0 sends no keyspace event for a flush).
const FLUSH: &str = "flush";

impl Event {
    /// The event of a flush (see [`FLUSH`]).
    pub(crate) fn flush() -> Event {
        Event {
            name: FLUSH,
            key: Vec::new(),
            publish: false,
        }
    }

    pub(crate) fn is_flush(&self) -> bool {
        self.name == FLUSH && !self.publish
    }
}

/// The `notify-keyspace-events` setting and the publishing of events.
#[derive(Debug, Default)]
pub(crate) struct KeyspaceEvents {
    flags: AtomicU32,
}

impl KeyspaceEvents {
    /// Parses the setting as Redis does: any of `KEg$lshzxetdmnA`, in any order and
    /// repeated; `None` for any other character.
    pub(crate) fn parse(text: &[u8]) -> Option<u32> {
        text.iter().try_fold(0, |flags, &c| {
            let bit = match c {
                b'A' => class::ALL,
                b'K' => class::KEYSPACE,
                b'E' => class::KEYEVENT,
                b'm' => class::KEY_MISS,
                b'n' => class::NEW,
                _ => CLASS_CHARS
                    .iter()
                    .find(|&&(ch, _)| u32::from(ch) == u32::from(c))
                    .map(|&(_, bit)| bit)?,
            };
            Some(flags | bit)
        })
    }

    /// The setting as CONFIG GET shows it: `A` for every class it stands for, else each
    /// class and `n`; then `K`, `E`, `m`. (Redis 7.0 leaves `n` out after `A`, though it
    /// still sends those events; so does keg.)
    pub(crate) fn describe(flags: u32) -> String {
        let mut text = String::new();
        if flags & class::ALL == class::ALL {
            text.push('A');
        } else {
            text.extend(
                CLASS_CHARS
                    .iter()
                    .chain(&[('n', class::NEW)])
                    .filter(|&&(_, bit)| flags & bit != 0)
                    .map(|&(c, _)| c),
            );
        }
        for (c, bit) in [
            ('K', class::KEYSPACE),
            ('E', class::KEYEVENT),
            ('m', class::KEY_MISS),
        ] {
            if flags & bit != 0 {
                text.push(c);
            }
        }
        text
    }

    pub(crate) fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub(crate) fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// Whether events of `class` are published (the class is on, and so is `K` or `E`).
    #[inline]
    pub(crate) fn wants(&self, class: u32) -> bool {
        let flags = self.flags();
        flags & class != 0 && flags & (class::KEYSPACE | class::KEYEVENT) != 0
    }

    /// Publishes `events` on the channels the setting asks for: the key's channel first,
    /// then the event's, as Redis does.
    pub(crate) fn publish(&self, broker: &Broker, events: &[Event]) {
        let flags = self.flags();
        let mut channel = Vec::new();
        for event in events.iter().filter(|e| e.publish) {
            if flags & class::KEYSPACE != 0 {
                channel.clear();
                channel.extend_from_slice(b"__keyspace@0__:");
                channel.extend_from_slice(&event.key);
                broker.publish(&channel, event.name.as_bytes());
            }
            if flags & class::KEYEVENT != 0 {
                channel.clear();
                channel.extend_from_slice(b"__keyevent@0__:");
                channel.extend_from_slice(event.name.as_bytes());
                broker.publish(&channel, &event.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyspaceEvents, class};

    #[test]
    fn the_setting_parses_and_reads_back_as_redis_spells_it() {
        let describe =
            |text: &str| KeyspaceEvents::parse(text.as_bytes()).map(KeyspaceEvents::describe);
        assert_eq!(describe("KEA").as_deref(), Some("AKE"));
        assert_eq!(describe("Egx").as_deref(), Some("gxE"));
        assert_eq!(describe("AKE").as_deref(), Some("AKE"));
        assert_eq!(describe("nmKg$lshzxetd").as_deref(), Some("AKm"));
        assert_eq!(describe("KEn").as_deref(), Some("nKE"));
        assert_eq!(describe("").as_deref(), Some(""));
        assert_eq!(describe("g").as_deref(), Some("g"));
        assert_eq!(describe("KEw"), None);
        assert_eq!(describe("a"), None);
    }

    #[test]
    fn a_class_is_wanted_only_with_a_channel_to_publish_on() {
        let events = KeyspaceEvents::default();
        assert!(!events.wants(class::STRING));
        events.set_flags(KeyspaceEvents::parse(b"$").unwrap_or(0));
        assert!(!events.wants(class::STRING), "neither K nor E");
        events.set_flags(KeyspaceEvents::parse(b"$E").unwrap_or(0));
        assert!(events.wants(class::STRING));
        assert!(!events.wants(class::LIST));
    }
}
