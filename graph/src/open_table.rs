//! A linear-probing hash table of `u32` indices into the graph's own vectors (node or edge
//! indices), 8 bytes a slot: the index and 32 bits of its hash. It holds no keys: the caller
//! confirms a candidate against the node or edge it names, which a decision reads anyway. Owns
//! probing, growth and deletion; knows nothing of what the indices mean.
//!
//! Why not `hashbrown`: a hashbrown lookup is three dependent cache misses at a million
//! entries (control bytes, then the bucket, then the node to compare keys). Here it is two
//! (the slot, then the node), the tag in the slot filters out all but about one in 4·10⁹ wrong
//! candidates without touching their node, and [`OpenTable::prefetch`] lets a decision start
//! all of its probes before it waits for the first one.

use std::hint::black_box;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    item: u32,
    /// The low 32 bits of the item's hash (the slot position comes from the high bits).
    tag: u32,
}

const EMPTY: u32 = u32::MAX;
const VACANT: Slot = Slot {
    item: EMPTY,
    tag: 0,
};

/// At most 3/4 full: linear probing then reads about 2.5 slots for a hit and 8.5 for a miss,
/// both mostly inside one cache line.
fn fits(len: usize, cap: usize) -> bool {
    len * 4 <= cap * 3
}

#[derive(Debug, Clone, Default)]
pub(crate) struct OpenTable {
    slots: Vec<Slot>,
    len: usize,
}

impl OpenTable {
    /// A table that holds `n` items before it grows (at two-thirds load).
    pub fn with_capacity(n: usize) -> OpenTable {
        let cap = (n + n / 2).max(16);
        OpenTable {
            slots: vec![VACANT; cap],
            len: 0,
        }
    }

    fn home(&self, h: u64) -> usize {
        // Multiply-shift range reduction: any capacity, not only powers of two.
        ((u128::from(h) * self.slots.len() as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() { 0 } else { i + 1 }
    }

    /// Starts loading the slot `h` probes first, so several lookups overlap their misses.
    pub fn prefetch(&self, h: u64) {
        if !self.slots.is_empty() {
            black_box(self.slots[self.home(h)].item);
        }
    }

    /// The item with hash `h` that `eq` confirms.
    pub fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = h as u32;
        let mut i = self.home(h);
        loop {
            let s = self.slots[i];
            if s.item == EMPTY {
                return None;
            }
            if s.tag == tag && eq(s.item) {
                return Some(s.item);
            }
            i = self.next(i);
        }
    }

    /// Adds `item` with hash `h` (not present yet). `hash_of` gives the hash of any stored
    /// item, for growing.
    pub fn insert(&mut self, h: u64, item: u32, hash_of: impl Fn(u32) -> u64) {
        if !fits(self.len + 1, self.slots.len()) {
            self.grow(hash_of);
        }
        self.place(h, item);
        self.len += 1;
    }

    fn place(&mut self, h: u64, item: u32) {
        let mut i = self.home(h);
        while self.slots[i].item != EMPTY {
            i = self.next(i);
        }
        self.slots[i] = Slot {
            item,
            tag: h as u32,
        };
    }

    fn grow(&mut self, hash_of: impl Fn(u32) -> u64) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![VACANT; cap]);
        for s in old.into_iter().filter(|s| s.item != EMPTY) {
            self.place(hash_of(s.item), s.item);
        }
    }

    fn position(&self, h: u64, item: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.home(h);
        loop {
            match self.slots[i].item {
                EMPTY => return None,
                x if x == item => return Some(i),
                _ => i = self.next(i),
            }
        }
    }

    /// Removes `item` (hash `h`); whether it was there. Backward-shift deletion: later
    /// members of the cluster move up, so no tombstones slow later probes.
    pub fn remove(&mut self, h: u64, item: u32, hash_of: impl Fn(u32) -> u64) -> bool {
        let Some(mut hole) = self.position(h, item) else {
            return false;
        };
        let mut j = hole;
        loop {
            j = self.next(j);
            let s = self.slots[j];
            if s.item == EMPTY {
                break;
            }
            let home = self.home(hash_of(s.item));
            // `s` may fill the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = VACANT;
        self.len -= 1;
        true
    }

    /// Points the entry of `from` (hash `h`) at `to`; whether it was there.
    pub fn replace(&mut self, h: u64, from: u32, to: u32) -> bool {
        match self.position(h, from) {
            Some(i) => {
                self.slots[i].item = to;
                true
            }
            None => false,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deliberately poor hash (many equal homes, equal tags) to exercise clusters.
    fn h(x: u32) -> u64 {
        (u64::from(x % 7) << 61) | u64::from(x % 3)
    }

    #[test]
    fn finds_removes_and_grows_through_clusters() {
        let mut t = OpenTable::with_capacity(4);
        for x in 0..200u32 {
            t.insert(h(x), x, h);
        }
        assert_eq!(t.len(), 200);
        for x in 0..200u32 {
            assert_eq!(t.find(h(x), |i| i == x), Some(x));
        }
        assert_eq!(t.find(h(500), |i| i == 500), None);
        for x in (0..200u32).filter(|x| x % 3 == 0) {
            assert!(t.remove(h(x), x, h));
            assert!(!t.remove(h(x), x, h));
        }
        for x in 0..200u32 {
            let want = (x % 3 != 0).then_some(x);
            assert_eq!(t.find(h(x), |i| i == x), want, "item {x}");
        }
        assert!(t.replace(h(1), 1, 1001));
        assert_eq!(t.find(h(1), |i| i == 1001), Some(1001));
        assert_eq!(t.find(h(1), |i| i == 1), None);
    }

    #[test]
    fn clusters_wrap_around_the_end() {
        // Every home is the last slot.
        let end = |x: u32| u64::MAX - u64::from(x % 2);
        let mut t = OpenTable::with_capacity(40);
        for x in 0..30u32 {
            t.insert(end(x), x, end);
        }
        for x in (0..30u32).step_by(4) {
            assert!(t.remove(end(x), x, end));
        }
        for x in 0..30u32 {
            let want = (x % 4 != 0).then_some(x);
            assert_eq!(t.find(end(x), |i| i == x), want, "item {x}");
        }
    }

    proptest::proptest! {
        /// Any sequence of inserts and removes agrees with a set, through growth and
        /// backward shifts, under a hash with few distinct homes and tags.
        #[test]
        fn agrees_with_a_set(ops in proptest::collection::vec((0u32..64, proptest::bool::ANY), 0..300)) {
            let mut t = OpenTable::with_capacity(2);
            let mut model = std::collections::HashSet::new();
            for (x, add) in ops {
                if add && model.insert(x) {
                    t.insert(h(x), x, h);
                } else if !add {
                    proptest::prop_assert_eq!(t.remove(h(x), x, h), model.remove(&x));
                }
                proptest::prop_assert_eq!(t.len(), model.len());
            }
            for x in 0..64u32 {
                proptest::prop_assert_eq!(t.find(h(x), |i| i == x).is_some(), model.contains(&x));
            }
        }
    }

    #[test]
    fn slots_are_eight_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 8);
    }
}
