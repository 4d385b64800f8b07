//! A bounded map of small per-entity values in two generations, split into independently
//! locked shards: the in-process tables the decision path touches for every entity of every
//! decision (the entity chains' heads, the velocity counters), which must stay bounded without
//! a general-purpose cache's bookkeeping on each access.
//!
//! Why not `moka`: its per-key upsert took ~1.5 µs and its deques and background upkeep ~8 %
//! of an unpaced decision's CPU (BENCHMARKS.md, "Reviewer console" and "Server CPU per
//! decision"). Here an entity is a 64-bit keyed hash of what names it (a fixed-size key,
//! whatever the id's length; the hasher's key is random per process, so nobody can aim two ids
//! at one slot), looked up once under a short lock, and nothing runs in the background.
//!
//! Entries are written into the current generation; when it holds `per_generation` entries it
//! becomes the previous one and the one before is dropped. An entry found in the previous
//! generation is moved into the current one when it is written, so an entity written at least
//! once a generation is never forgotten and one left alone for two generations is. Two
//! entities whose hashes collide (about one pair in 2³² among 100,000) share an entry.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many independently locked parts a table is split into, so decisions of different
/// entities rarely wait for each other.
const SHARDS: usize = 64;

/// The map's keys are hashes already: they index the table as they are.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// One shard: the entries written in this generation and in the one before.
pub(crate) struct Generations<V> {
    current: Map<V>,
    previous: Map<V>,
}

impl<V> Default for Generations<V> {
    fn default() -> Self {
        Generations {
            current: Map::default(),
            previous: Map::default(),
        }
    }
}

impl<V> Generations<V> {
    pub(crate) fn get(&self, key: u64) -> Option<&V> {
        self.current.get(&key).or_else(|| self.previous.get(&key))
    }

    /// Sets the entry, returning the one it replaces.
    pub(crate) fn put(&mut self, key: u64, value: V, per_generation: usize) -> Option<V> {
        let old = match self.current.insert(key, value) {
            Some(old) => Some(old),
            None => self.previous.remove(&key),
        };
        if self.current.len() >= per_generation {
            self.rotate();
        }
        old
    }

    /// The entry to change, moved into the current generation (made with `V::default()` when
    /// there is none).
    pub(crate) fn entry(&mut self, key: u64, per_generation: usize) -> &mut V
    where
        V: Default,
    {
        if !self.current.contains_key(&key) && self.current.len() >= per_generation {
            let kept = self.previous.remove(&key);
            self.rotate();
            if let Some(kept) = kept {
                self.previous.insert(key, kept);
            }
        }
        let Generations { current, previous } = self;
        current
            .entry(key)
            .or_insert_with(|| previous.remove(&key).unwrap_or_default())
    }

    pub(crate) fn remove(&mut self, key: u64) {
        self.current.remove(&key);
        self.previous.remove(&key);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// The current generation becomes the previous one; the maps keep their memory.
    fn rotate(&mut self) {
        std::mem::swap(&mut self.current, &mut self.previous);
        self.current.clear();
    }
}

/// [`Generations`] in [`SHARDS`] shards, for at most about `capacity` entries.
pub(crate) struct Sharded<V> {
    hasher: RandomState,
    shards: Vec<Mutex<Generations<V>>>,
    per_generation: usize,
}

impl<V> Sharded<V> {
    pub(crate) fn new(capacity: u64) -> Sharded<V> {
        let per_shard = usize::try_from(capacity).unwrap_or(usize::MAX) / SHARDS;
        Sharded {
            hasher: RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Generations::default()))
                .collect(),
            per_generation: (per_shard / 2).max(1),
        }
    }

    /// The shard that holds `entity`, locked, with the entity's key in it.
    pub(crate) fn lock(&self, entity: impl Hash) -> Locked<'_, V> {
        let key = self.hasher.hash_one(entity);
        // The middle bits choose the shard: the low ones index the shard's table and the top
        // ones are its tags, so neither is the same for every key of a shard.
        let shard = &self.shards[((key >> 32) % SHARDS as u64) as usize];
        // A panic while holding the lock cannot leave a shard half-written (each change is one
        // map operation), so a poisoned lock is used as it is.
        let guard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        Locked {
            key,
            per_generation: self.per_generation,
            shard: guard,
        }
    }

    /// Entries held now, in every shard.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// One entity's shard, locked for as long as this lives.
pub(crate) struct Locked<'a, V> {
    key: u64,
    per_generation: usize,
    shard: MutexGuard<'a, Generations<V>>,
}

impl<V> Locked<'_, V> {
    pub(crate) fn get(&self) -> Option<&V> {
        self.shard.get(self.key)
    }

    /// Sets the entity's entry, returning the one it replaces.
    pub(crate) fn put(&mut self, value: V) -> Option<V> {
        self.shard.put(self.key, value, self.per_generation)
    }

    /// The entity's entry to change (a default one when it had none).
    pub(crate) fn entry(&mut self) -> &mut V
    where
        V: Default,
    {
        self.shard.entry(self.key, self.per_generation)
    }

    pub(crate) fn remove(&mut self) {
        self.shard.remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_written_each_generation_stays_and_an_idle_one_goes() {
        let mut g = Generations::<u32>::default();
        *g.entry(1, 4) += 1;
        for k in 100..104 {
            *g.entry(k, 4) += 1; // fills the generation: 1 moves to the previous one
            *g.entry(1, 4) += 1; // written again: back in the current one
        }
        for k in 200..212 {
            *g.entry(k, 4) += 1;
            *g.entry(1, 4) += 1;
        }
        assert_eq!(g.get(1), Some(&17), "kept with every count");
        assert_eq!(g.get(100), None, "idle for two generations: dropped");
        assert!(g.len() <= 8, "{}", g.len());
    }

    #[test]
    fn put_answers_the_replaced_entry_from_either_generation() {
        let mut g = Generations::<u32>::default();
        assert_eq!(g.put(1, 10, 2), None);
        assert_eq!(g.put(2, 20, 2), None); // rotates: 1 and 2 are the previous generation
        assert_eq!(g.put(1, 11, 2), Some(10));
        assert_eq!(g.get(2), Some(&20));
        g.remove(2);
        assert_eq!(g.get(2), None);
    }

    #[test]
    fn a_table_holds_at_most_about_its_capacity_whatever_the_ids_length() {
        for id_len in [4, 10_000] {
            let table = Sharded::<u32>::new(1_000);
            for i in 0..20_000 {
                *table.lock(format!("{i:0id_len$}")).entry() += 1;
            }
            let held = table.len();
            assert!(
                (400..=1_000).contains(&held),
                "{held} entries of {id_len}-byte ids"
            );
        }
    }
}
