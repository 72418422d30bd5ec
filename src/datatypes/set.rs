//! Sets: a key holding unique members (Redis's SADD, SREM, SMEMBERS, ...).

use super::ValueType;
use crate::error::Result;
use crate::store::Store;

impl Store {
    /// Adds `members` to the set at `key` (creating it; one atomic write); returns how many
    /// were new. `Error::WrongType` if the key holds another type.
    pub fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.engine().edit_collection(key, ValueType::Set, |edit| {
            let mut added = 0;
            for member in members {
                if edit.put(member, Vec::new())? {
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    /// Removes `members` (deleting the key when the set becomes empty); returns how many
    /// were there.
    pub fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.engine().edit_collection(key, ValueType::Set, |edit| {
            Ok(members.iter().filter(|m| edit.remove(m)).count())
        })
    }

    /// Whether `member` is in the set.
    pub fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        self.engine().read_collection(key, ValueType::Set, |c| {
            Ok(c.is_some_and(|c| c.members.contains(member)))
        })
    }

    /// For each of `members`, whether it is in the set (Redis SMISMEMBER).
    pub fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        self.engine().read_collection(key, ValueType::Set, |c| {
            Ok(members
                .iter()
                .map(|m| c.is_some_and(|c| c.members.contains(*m)))
                .collect())
        })
    }

    /// Number of members (0 for a missing key).
    pub fn scard(&self, key: &[u8]) -> Result<usize> {
        self.engine().read_collection(
            key,
            ValueType::Set,
            |c| Ok(c.map_or(0, |c| c.members.len())),
        )
    }

    /// The set's members, in no particular order.
    pub fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.engine().read_collection(key, ValueType::Set, |c| {
            Ok(c.map_or_else(Vec::new, |c| c.members.iter().map(|m| m.to_vec()).collect()))
        })
    }
}
