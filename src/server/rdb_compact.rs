//! The compact containers Redis writes small collections in, read for RESTORE: listpack
//! (Redis 7), ziplist (before 7) and intset. Integers come back as their decimal text, as
//! Redis hands them to commands. Every reader checks every length against the bytes it
//! has: damaged input gives `None`, never a panic.

use super::rdb::{take, take_array};

/// The entries of a listpack or ziplist: a header of `header_len` bytes that starts with
/// the container's total length, entries read by `entry` from their first byte, then 0xff
/// ending the bytes.
fn entries(
    blob: &[u8],
    header_len: usize,
    mut entry: impl FnMut(u8, &mut &[u8]) -> Option<Vec<u8>>,
) -> Option<Vec<Vec<u8>>> {
    let mut rest = blob;
    let total = u32::from_le_bytes(take_array(&mut rest)?);
    if usize::try_from(total).ok()? != blob.len() {
        return None;
    }
    take(&mut rest, header_len - 4)?;
    let mut out = Vec::new();
    loop {
        let [first] = take_array::<1>(&mut rest)?;
        if first == 0xff {
            return rest.is_empty().then_some(out);
        }
        out.push(entry(first, &mut rest)?);
    }
}

/// The entries of a listpack: a 6-byte header (total bytes, count), entries each followed
/// by its back-length, then 0xff.
pub(crate) fn listpack(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    entries(blob, 6, |first, rest| {
        let (entry, encoded_len) = listpack_entry(first, rest)?;
        // The back-length: the entry's length in 7-bit groups.
        let back_len = match encoded_len {
            0..128 => 1,
            128..16_384 => 2,
            16_384..2_097_152 => 3,
            2_097_152..268_435_456 => 4,
            _ => 5,
        };
        take(rest, back_len)?;
        Some(entry)
    })
}

/// One listpack entry after its first byte: its value and its length with that byte.
fn listpack_entry(first: u8, rest: &mut &[u8]) -> Option<(Vec<u8>, usize)> {
    let int = |n: i64, len: usize| Some((n.to_string().into_bytes(), len));
    let string = |rest: &mut &[u8], len: usize, header: usize| {
        Some((take(rest, len)?.to_vec(), header + len))
    };
    match first {
        0x00..=0x7f => int(i64::from(first), 1),
        0x80..=0xbf => string(rest, usize::from(first & 0x3f), 1),
        0xc0..=0xdf => {
            let [low] = take_array::<1>(rest)?;
            let n = (u16::from(first & 0x1f) << 8) | u16::from(low);
            // 13 bits, two's complement.
            int(i64::from(((n << 3) as i16) >> 3), 2)
        }
        0xe0..=0xef => {
            let [low] = take_array::<1>(rest)?;
            let len = (usize::from(first & 0x0f) << 8) | usize::from(low);
            string(rest, len, 2)
        }
        0xf0 => {
            let len = u32::from_le_bytes(take_array(rest)?);
            string(rest, usize::try_from(len).ok()?, 5)
        }
        0xf1 => int(i64::from(i16::from_le_bytes(take_array(rest)?)), 3),
        0xf2 => {
            let [a, b, c] = take_array::<3>(rest)?;
            int(i64::from(i32::from_le_bytes([0, a, b, c]) >> 8), 4)
        }
        0xf3 => int(i64::from(i32::from_le_bytes(take_array(rest)?)), 5),
        0xf4 => int(i64::from_le_bytes(take_array(rest)?), 9),
        _ => None,
    }
}

/// The entries of a ziplist: a 10-byte header (bytes, tail offset, count), entries each
/// led by the previous entry's length (1 byte, or 0xfe and 4), then 0xff.
pub(crate) fn ziplist(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    entries(blob, 10, |first, rest| {
        if first == 0xfe {
            take(rest, 4)?;
        }
        let [encoding] = take_array::<1>(rest)?;
        let entry = match encoding >> 6 {
            0 => take(rest, usize::from(encoding & 0x3f))?.to_vec(),
            1 => {
                let [low] = take_array::<1>(rest)?;
                let len = (usize::from(encoding & 0x3f) << 8) | usize::from(low);
                take(rest, len)?.to_vec()
            }
            2 => {
                let len = u32::from_be_bytes(take_array(rest)?);
                take(rest, usize::try_from(len).ok()?)?.to_vec()
            }
            _ => {
                let n: i64 = match encoding {
                    0xc0 => i64::from(i16::from_le_bytes(take_array(rest)?)),
                    0xd0 => i64::from(i32::from_le_bytes(take_array(rest)?)),
                    0xe0 => i64::from_le_bytes(take_array(rest)?),
                    0xf0 => {
                        let [a, b, c] = take_array::<3>(rest)?;
                        i64::from(i32::from_le_bytes([0, a, b, c]) >> 8)
                    }
                    0xfe => i64::from(i8::from_le_bytes(take_array(rest)?)),
                    0xf1..=0xfd => i64::from(encoding & 0x0f) - 1,
                    _ => return None,
                };
                n.to_string().into_bytes()
            }
        };
        Some(entry)
    })
}

/// The members of an intset: encoding (2, 4 or 8 bytes per member), count, members.
pub(crate) fn intset(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut rest = blob;
    let width = u32::from_le_bytes(take_array(&mut rest)?);
    let count = u32::from_le_bytes(take_array(&mut rest)?);
    if !matches!(width, 2 | 4 | 8) || rest.len() != usize::try_from(count).ok()? * width as usize {
        return None;
    }
    rest.chunks_exact(width as usize)
        .map(|chunk| {
            let n = match *chunk {
                [a, b] => i64::from(i16::from_le_bytes([a, b])),
                [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
                _ => i64::from_le_bytes(chunk.try_into().ok()?),
            };
            Some(n.to_string().into_bytes())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn strings(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_listpack_written_by_redis_reads() {
        // RPUSH l a 1 -5 300 -4096 70000 bbb (Redis 7.0's listpack of that list).
        let blob = b"\x1f\x00\x00\x00\x07\x00\x81a\x02\x01\x01\xdf\xfb\x02\xc1\x2c\x02\xd0\x00\x02\xf2\x70\x11\x01\x04\x83bbb\x04\xff";
        assert_eq!(
            listpack(blob),
            Some(strings(&["a", "1", "-5", "300", "-4096", "70000", "bbb"]))
        );
    }

    #[test]
    fn an_intset_reads() {
        let blob = b"\x02\x00\x00\x00\x03\x00\x00\x00\xff\xff\x01\x00\x10\x27";
        assert_eq!(intset(blob), Some(strings(&["-1", "1", "10000"])));
        assert_eq!(intset(&blob[..blob.len() - 1]), None);
    }

    #[test]
    fn a_ziplist_reads() {
        // "ab", 5, -1000 (8-bit length entries, a 4-bit immediate, a 16-bit integer).
        let blob =
            b"\x15\x00\x00\x00\x11\x00\x00\x00\x03\x00\x00\x02ab\x04\xf6\x02\xc0\x18\xfc\xff";
        assert_eq!(ziplist(blob), Some(strings(&["ab", "5", "-1000"])));
    }

    proptest! {
        #[test]
        fn any_bytes_read_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = listpack(&bytes);
            let _ = ziplist(&bytes);
            let _ = intset(&bytes);
        }
    }
}
