//! HyperLogLog: PFADD, PFCOUNT and PFMERGE, in Redis's string format so that the two read
//! each other's values.
//!
//! A HyperLogLog is a string: a 16-byte header (`HYLL`, the encoding — 0 dense, 1 sparse —
//! three unused bytes, then the last cardinality computed, 8 bytes little-endian, whose top
//! bit set means "stale"), then 16,384 registers of 6 bits: packed least significant bit
//! first (dense, 12,288 bytes), or as runs (sparse: `00xxxxxx` 1–64 zero registers,
//! `01xxxxxx yyyyyyyy` 1–16,384 zero registers, `1vvvvvxx` 1–4 registers of value 1–32).
//! An element sets register `h mod 16384` to the position of the lowest set bit of the
//! rest of its 64-bit MurmurHash64A (seed `0xadc83b19`), if that is higher; the count is
//! Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
//! sketches", 2017), as Redis computes it since 5.0.
//!
//! Registers and counts are Redis's exactly. The sparse runs are written afresh from the
//! registers, longest first, where Redis edits them in place: the same registers may be
//! laid out in other bytes (GET and STRLEN of a sparse value may differ; PFADD, PFCOUNT
//! and PFMERGE do not). A value becomes dense, for good, once its sparse form would pass
//! 3,000 bytes (`hll-sparse-max-bytes`) or a register passes 32.

use crate::server::error::{CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

const REGISTERS: usize = 1 << 14;
const HEADER: usize = 16;
const DENSE_LEN: usize = HEADER + REGISTERS * 6 / 8;
/// Bits of the hash left after the register index: counts go up to Q + 1.
const Q: u32 = 64 - 14;
const SPARSE_MAX_BYTES: usize = 3000;
const SPARSE_MAX_VALUE: u8 = 32;

const NOT_HLL: CmdError = CmdError::fixed("WRONGTYPE Key is not a valid HyperLogLog string value.");
const CORRUPT: CmdError = CmdError::fixed("INVALIDOBJ Corrupted HLL object detected");

/// MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit), little-endian, as Redis hashes
/// HyperLogLog elements.
fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or_default());
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the count it brings there.
fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> 14) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A HyperLogLog value, its registers decoded.
struct Hll {
    registers: Vec<u8>,
    dense: bool,
    /// The header's cached cardinality bytes, as stored.
    cache: [u8; 8],
}

impl Hll {
    fn new() -> Hll {
        Hll {
            registers: vec![0; REGISTERS],
            dense: false,
            cache: [0; 8],
        }
    }

    /// Reads a string as Redis's `isHLLObjectOrReply` and register walks do: not one
    /// (short, bad magic or encoding, dense of the wrong length) is WRONGTYPE's error;
    /// sparse runs that do not cover exactly 16,384 registers, INVALIDOBJ's.
    fn decode(value: &[u8]) -> Result<Hll, CmdError> {
        let (header, body) = value.split_at_checked(HEADER).ok_or(NOT_HLL)?;
        if header.get(..4) != Some(b"HYLL") {
            return Err(NOT_HLL);
        }
        let dense = match header.get(4) {
            Some(0) => true,
            Some(1) => false,
            _ => return Err(NOT_HLL),
        };
        if dense && value.len() != DENSE_LEN {
            return Err(NOT_HLL);
        }
        let mut cache = [0u8; 8];
        cache.copy_from_slice(header.get(8..16).ok_or(NOT_HLL)?);
        let registers = if dense {
            (0..REGISTERS).map(|i| dense_get(body, i)).collect()
        } else {
            sparse_registers(body).ok_or(CORRUPT)?
        };
        Ok(Hll {
            registers,
            dense,
            cache,
        })
    }

    /// Raises register `index` to `count`; whether it rose.
    fn raise(&mut self, index: usize, count: u8) -> bool {
        match self.registers.get_mut(index) {
            Some(r) if *r < count => {
                *r = count;
                true
            }
            _ => false,
        }
    }

    fn invalidate_cache(&mut self) {
        self.cache[7] |= 0x80;
    }

    fn cached(&self) -> Option<u64> {
        (self.cache[7] & 0x80 == 0).then(|| u64::from_le_bytes(self.cache))
    }

    /// The string: dense if it was, or if the sparse form would be too long or cannot
    /// hold a register.
    fn encode(&mut self) -> Vec<u8> {
        let sparse = if self.dense {
            None
        } else {
            encode_sparse(&self.registers).filter(|s| HEADER + s.len() <= SPARSE_MAX_BYTES)
        };
        self.dense = sparse.is_none();
        let mut out = Vec::with_capacity(DENSE_LEN);
        out.extend_from_slice(b"HYLL");
        out.extend_from_slice(&[u8::from(!self.dense), 0, 0, 0]);
        out.extend_from_slice(&self.cache);
        match sparse {
            Some(runs) => out.extend_from_slice(&runs),
            None => {
                let mut body = vec![0u8; DENSE_LEN - HEADER];
                for (i, &r) in self.registers.iter().enumerate() {
                    dense_set(&mut body, i, r);
                }
                out.extend_from_slice(&body);
            }
        }
        out
    }
}

/// Register `i` of dense `body`: 6 bits from bit `6i`, least significant first.
fn dense_get(body: &[u8], i: usize) -> u8 {
    let (byte, shift) = (i * 6 / 8, i * 6 % 8);
    let b0 = u16::from(body.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(body.get(byte + 1).copied().unwrap_or(0));
    (((b0 | (b1 << 8)) >> shift) & 63) as u8
}

fn dense_set(body: &mut [u8], i: usize, value: u8) {
    let (byte, shift) = (i * 6 / 8, i * 6 % 8);
    let bits = u16::from(value & 63) << shift;
    if let Some(b) = body.get_mut(byte) {
        *b |= bits as u8;
    }
    if let Some(b) = body.get_mut(byte + 1) {
        *b |= (bits >> 8) as u8;
    }
}

/// The registers sparse runs describe, if they describe exactly 16,384.
fn sparse_registers(runs: &[u8]) -> Option<Vec<u8>> {
    let mut registers = Vec::with_capacity(REGISTERS);
    let mut bytes = runs.iter();
    while let Some(&b) = bytes.next() {
        let (value, len) = match b >> 6 {
            0 => (0, usize::from(b & 0x3f) + 1),
            1 => {
                let low = usize::from(*bytes.next()?);
                (0, ((usize::from(b & 0x3f) << 8) | low) + 1)
            }
            _ => (((b >> 2) & 0x1f) + 1, usize::from(b & 3) + 1),
        };
        if registers.len() + len > REGISTERS {
            return None;
        }
        registers.resize(registers.len() + len, value);
    }
    (registers.len() == REGISTERS).then_some(registers)
}

/// Sparse runs for `registers`, longest runs first; `None` if a register is above 32.
fn encode_sparse(registers: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for run in registers.chunk_by(|a, b| a == b) {
        let (value, run) = (run.first().copied().unwrap_or(0), run.len());
        if value == 0 {
            if run <= 64 {
                out.push((run - 1) as u8);
            } else {
                let n = run - 1;
                out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
            }
        } else if value > SPARSE_MAX_VALUE {
            return None;
        } else {
            let mut left = run;
            while left > 0 {
                let len = left.min(4);
                out.push(0x80 | ((value - 1) << 2) | (len - 1) as u8);
                left -= len;
            }
        }
    }
    Some(out)
}

/// Ertl's σ: `x + Σ x^(2^k) 2^(k-1)`.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// Ertl's τ.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The estimated number of distinct elements behind `registers`.
fn estimate(registers: &[u8]) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in registers {
        if let Some(h) = histogram.get_mut(usize::from(r)) {
            *h += 1;
        }
    }
    let m = REGISTERS as f64;
    let q = Q as usize;
    let top = histogram.get(q + 1).copied().unwrap_or(0);
    let mut z = m * tau((m - f64::from(top)) / m);
    for &count in histogram.get(1..=q).unwrap_or_default().iter().rev() {
        z += f64::from(count);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram.first().copied().unwrap_or(0)) / m);
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    (ALPHA_INF * m * m / z).round() as u64
}

/// The HyperLogLog at `key`: `None` if missing; the errors of [`Hll::decode`], and
/// WRONGTYPE's own for a key of another type.
fn load(ks: &dyn KeySpace, key: &[u8]) -> Result<Option<(Hll, Option<u64>)>, CmdError> {
    match ks.get_with_expiry(key)? {
        None => Ok(None),
        Some((value, expiry)) => Ok(Some((Hll::decode(&value)?, expiry))),
    }
}

/// The registers of the union of the HyperLogLogs named from argument 1 on (missing keys
/// count as empty), and whether any of them is dense.
fn union_of(ks: &dyn KeySpace, a: &Args) -> Result<(Vec<u8>, bool), CmdError> {
    let mut union = vec![0u8; REGISTERS];
    let mut any_dense = false;
    for key in a.iter().skip(1) {
        if let Some((hll, _)) = load(ks, key)? {
            any_dense |= hll.dense;
            for (u, r) in union.iter_mut().zip(&hll.registers) {
                *u = (*u).max(*r);
            }
        }
    }
    Ok((union, any_dense))
}

/// PFADD key [element ...]: 1 if a register rose (or the key was created), else 0.
pub(crate) fn pfadd(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let key = a.get(1);
    let (mut hll, expiry, mut updated) = match load(ks, key)? {
        Some((hll, expiry)) => (hll, expiry, false),
        None => (Hll::new(), None, true),
    };
    let mut raised = false;
    for element in a.iter().skip(2) {
        let (index, count) = register_of(element);
        raised |= hll.raise(index, count);
    }
    updated |= raised;
    if updated {
        // A new key's cache is marked stale too, as Redis marks it.
        hll.invalidate_cache();
        ks.set_with_expiry(key, &hll.encode(), expiry)?;
        shared.notify(out, class::STRING, "pfadd", key);
    }
    out.int(i64::from(updated));
    Ok(())
}

/// PFCOUNT key [key ...]: the estimated cardinality of one HyperLogLog (cached in it), or
/// of the union of several.
pub(crate) fn pfcount(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() > 2 {
        let (union, _) = union_of(ks, a)?;
        out.int(i64::try_from(estimate(&union)).unwrap_or(i64::MAX));
        return Ok(());
    }
    let key = a.get(1);
    let Some((mut hll, expiry)) = load(ks, key)? else {
        out.int(0);
        return Ok(());
    };
    let count = match hll.cached() {
        Some(count) => count,
        None => {
            let count = estimate(&hll.registers);
            hll.cache = count.to_le_bytes();
            ks.set_with_expiry(key, &hll.encode(), expiry)?;
            // A change of the key's bytes: no keyspace event, but tracking clients drop it.
            shared.notify_modified(out, key);
            count
        }
    };
    out.int(count as i64);
    Ok(())
}

/// PFMERGE destination [source ...]: the destination (a source too) becomes the union.
pub(crate) fn pfmerge(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let (union, any_dense) = union_of(ks, a)?;
    let key = a.get(1);
    let (mut hll, expiry) = load(ks, key)?.unwrap_or_else(|| (Hll::new(), None));
    hll.dense |= any_dense;
    for (i, &r) in union.iter().enumerate() {
        hll.raise(i, r);
    }
    hll.invalidate_cache();
    ks.set_with_expiry(key, &hll.encode(), expiry)?;
    // Redis names a merge's event as an addition's.
    shared.notify(out, class::STRING, "pfadd", key);
    out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_survive_both_encodings() {
        let mut hll = Hll::new();
        for i in 0..500u32 {
            let (index, count) = register_of(&i.to_le_bytes());
            hll.raise(index, count);
        }
        let sparse = hll.encode();
        assert_eq!(sparse[4], 1, "500 elements stay sparse");
        let back = Hll::decode(&sparse).unwrap();
        assert_eq!(back.registers, hll.registers);
        hll.dense = true;
        let dense = hll.encode();
        assert_eq!(dense.len(), DENSE_LEN);
        assert_eq!(Hll::decode(&dense).unwrap().registers, hll.registers);
    }

    #[test]
    fn the_estimate_is_within_two_percent_and_exact_when_empty() {
        assert_eq!(estimate(&[0; REGISTERS]), 0);
        let mut hll = Hll::new();
        for i in 0..100_000u32 {
            let (index, count) = register_of(format!("element:{i}").as_bytes());
            hll.raise(index, count);
        }
        let e = estimate(&hll.registers) as f64;
        assert!((e - 100_000.0).abs() < 2_000.0, "{e}");
    }

    #[test]
    fn malformed_values_are_refused() {
        assert!(Hll::decode(b"HYLL").is_err());
        let mut v = Hll::new().encode();
        v[4] = 2;
        assert_eq!(Hll::decode(&v).err().map(|e| e.text), Some(NOT_HLL.text));
        let mut v = Hll::new().encode();
        v.push(0x00); // one register too many
        assert_eq!(Hll::decode(&v).err().map(|e| e.text), Some(CORRUPT.text));
    }
}
