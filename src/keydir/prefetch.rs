//! A cache prefetch hint, so the writer can overlap the keydir's memory access with its
//! `write(2)` call, and a range read the memory misses of its elements (index lines and,
//! through `prefetch_address`, mapped records).
//!
//! The only `unsafe` outside the mmap module, for one instruction: `PREFETCHT0` is a hint. It
//! never faults, whatever the address (valid, freed or null), and changes no memory or
//! register the program can observe. The intrinsic is marked `unsafe` only because it is a
//! `#[target_feature]` function (SSE, which every x86-64 CPU has). Elsewhere this is a no-op.
#![allow(unsafe_code)]

/// Where a shard's table lines are, published without a lock so that the writer can
/// prefetch before taking the shard's lock. Updated (under the shard's write lock) whenever
/// the table is reallocated; a stale value only makes a prefetch useless, never unsound.
#[derive(Default)]
pub(crate) struct LineHint {
    base: std::sync::atomic::AtomicUsize,
    mask: std::sync::atomic::AtomicUsize,
}

const LINE: usize = 64;

impl LineHint {
    pub(crate) fn publish(&self, base: usize, mask: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.base.store(base, Relaxed);
        self.mask.store(mask, Relaxed);
    }

    /// Prefetches the line a probe for `hash` reads first.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let base = self.base.load(Relaxed);
        if base == 0 {
            return;
        }
        let mask = self.mask.load(Relaxed);
        prefetch_address(base.wrapping_add((hash as usize & mask).wrapping_mul(LINE)));
    }
}

/// Hints that the memory at `address` will be read soon.
#[inline]
pub(crate) fn prefetch_address(address: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: see the module documentation; x86-64 always has SSE.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance::<i8>(address));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
