//! A Fenwick (binary indexed) tree over the lengths of a list's chunks: the number of
//! elements before a chunk, and the chunk holding the element at a given position, each in
//! O(log chunks).

/// Prefix sums of a sequence of lengths.
#[derive(Clone, Debug, Default)]
pub(super) struct Fenwick {
    /// 1-based: `tree[i]` is the sum of lengths `i - lowbit(i) .. i` (0-based, half-open);
    /// `tree[0]` is unused.
    tree: Vec<usize>,
}

/// The lowest set bit of `i`.
fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Fenwick {
    /// Replaces the contents with `lengths`, in O(n), keeping the allocation.
    pub(super) fn rebuild(&mut self, lengths: impl Iterator<Item = usize>) {
        self.tree.clear();
        self.tree.push(0);
        self.tree.extend(lengths);
        let n = self.tree.len() - 1;
        for i in 1..=n {
            let parent = i + lowbit(i);
            if parent <= n {
                let value = self.tree.get(i).copied().unwrap_or(0);
                if let Some(slot) = self.tree.get_mut(parent) {
                    *slot += value;
                }
            }
        }
    }

    /// How many lengths there are.
    fn count(&self) -> usize {
        self.tree.len().saturating_sub(1)
    }

    /// Adds one to the length at `index`.
    pub(super) fn increment(&mut self, index: usize) {
        let mut i = index + 1;
        while let Some(slot) = self.tree.get_mut(i) {
            *slot += 1;
            i += lowbit(i);
        }
    }

    /// Takes one from the length at `index` (which is not zero).
    pub(super) fn decrement(&mut self, index: usize) {
        self.subtract(index, 1);
    }

    /// Takes `amount` from the length at `index` (which is at least that).
    pub(super) fn subtract(&mut self, index: usize, amount: usize) {
        let mut i = index + 1;
        while let Some(slot) = self.tree.get_mut(i) {
            *slot = slot.saturating_sub(amount);
            i += lowbit(i);
        }
    }

    /// The sum of the first `count` lengths.
    pub(super) fn prefix(&self, count: usize) -> usize {
        let mut i = count.min(self.count());
        let mut sum = 0;
        while i > 0 {
            sum += self.tree.get(i).copied().unwrap_or(0);
            i -= lowbit(i);
        }
        sum
    }

    /// For a position in the concatenation of all lengths: the index of the length it falls
    /// in and the offset inside it. A position past the end gives the count of lengths.
    pub(super) fn find(&self, position: usize) -> (usize, usize) {
        let n = self.count();
        let mut index = 0;
        let mut rest = position;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = index + step;
            if let Some(&sum) = self.tree.get(next).filter(|&&sum| next <= n && sum <= rest) {
                index = next;
                rest -= sum;
            }
            step >>= 1;
        }
        (index, rest)
    }

    /// Heap bytes held.
    pub(super) fn capacity_bytes(&self) -> usize {
        self.tree.capacity() * std::mem::size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_positions_agree_with_a_plain_scan() {
        let mut lengths = vec![3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
        let mut tree = Fenwick::default();
        tree.rebuild(lengths.iter().copied());
        for step in 0..4 {
            for count in 0..=lengths.len() + 1 {
                let want: usize = lengths.iter().take(count).sum();
                assert_eq!(tree.prefix(count), want, "step {step} prefix {count}");
            }
            let total: usize = lengths.iter().sum();
            for position in 0..=total {
                let mut index = 0;
                let mut rest = position;
                while index < lengths.len() && rest >= lengths[index] {
                    rest -= lengths[index];
                    index += 1;
                }
                assert_eq!(
                    tree.find(position),
                    (index, rest),
                    "step {step} at {position}"
                );
            }
            // Change some lengths in place and check again.
            lengths[step] += 1;
            tree.increment(step);
            lengths[10 - step] -= 1;
            tree.decrement(10 - step);
            lengths[5] -= 1 + step % 2;
            tree.subtract(5, 1 + step % 2);
        }
        let mut empty = Fenwick::default();
        assert_eq!(empty.find(0), (0, 0));
        empty.rebuild(std::iter::empty());
        assert_eq!(empty.find(5), (0, 5));
        assert_eq!(empty.prefix(3), 0);
    }
}
