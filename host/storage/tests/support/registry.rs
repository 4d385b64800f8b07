//! Builders for the registry stories: module bytes with their real digest, and policy sets for
//! rollouts to name.

use arbiter_engine::policy_set::{Thresholds, Weights};
use arbiter_engine::registry::Guard;
use arbiter_engine::store::{ModuleInsert, Store};
use sha2::{Digest, Sha256};

use super::fixtures::actor;

/// Module bytes that differ per `seed`, `len` long, every byte value present once `len >= 256`
/// (so a BLOB/BYTEA round trip that mangled NULs or high bytes would show).
pub fn wasm(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

/// A stand-in for the runtime's precompiled form of `wasm`.
pub fn precompiled(wasm: &[u8]) -> Vec<u8> {
    let mut bytes = b"ELF-precompiled:".to_vec();
    bytes.extend(wasm.iter().rev());
    bytes
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores `bytes` as module `name`, uploaded by the stories' actor.
pub async fn upload(store: &dyn Store, name: &str, bytes: &[u8]) -> ModuleInsert {
    store
        .insert_module(
            name,
            &sha256(bytes),
            bytes.len() as i64,
            bytes,
            &precompiled(bytes),
            None,
            &actor(),
        )
        .await
        .expect("insert module")
}

/// `n` policy sets (versions 1..=n), the first active.
pub async fn policy_sets(store: &dyn Store, n: usize) {
    for _ in 0..n {
        store
            .insert_policy_set(Thresholds::default(), Weights::default(), &[], &actor())
            .await
            .expect("insert policy set");
    }
    store
        .set_active_policy_set(1, &actor())
        .await
        .expect("activate 1");
}

/// A guard with one value that is not exact in binary, to check it round-trips.
pub fn guard() -> Guard {
    Guard {
        max_reject_rate_increase_pts: Some(0.1 + 0.2),
        max_challenge_rate_increase_pts: None,
        max_fault_rate: Some(1.5),
        min_decisions: u64::MAX,
    }
}
