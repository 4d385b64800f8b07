//! The backend-independent half of a batch insert. Duplicates *inside* one batch are resolved
//! here, before the database sees them: only the first occurrence of a `request_id` is sent,
//! later ones are answered with it. The database's unique index then arbitrates only between
//! batches (including batches of other processes), which both backends do with
//! `ON CONFLICT (request_id) DO NOTHING` and a read-back of the row that won.

use std::collections::{HashMap, HashSet};

use arbiter_engine::Decision;
use arbiter_engine::store::{AppendOutcome, StoreError};

/// The first occurrence of each `request_id`, sorted by `request_id`. The sort gives every
/// transaction the same lock order on the unique index, so two batches that overlap in opposite
/// orders wait on each other instead of deadlocking (PostgreSQL).
pub(crate) fn first_occurrences(batch: &[Decision]) -> Vec<&Decision> {
    let mut seen = HashSet::new();
    let mut firsts: Vec<&Decision> = batch
        .iter()
        .filter(|d| seen.insert(d.request_id.as_str()))
        .collect();
    firsts.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    firsts
}

/// One outcome per input, in input order. `inserted` holds the `request_id`s this transaction
/// wrote; `existing` the stored decisions of those that conflicted with an earlier batch.
pub(crate) fn outcomes(
    batch: &[Decision],
    inserted: &HashSet<String>,
    existing: &HashMap<String, Decision>,
) -> Result<Vec<AppendOutcome>, StoreError> {
    let mut first_seen: HashMap<&str, &Decision> = HashMap::new();
    batch
        .iter()
        .map(|d| {
            let rid = d.request_id.as_str();
            if let Some(stored) = existing.get(rid) {
                return Ok(AppendOutcome::Existing(Box::new(stored.clone())));
            }
            if !inserted.contains(rid) {
                return Err(StoreError::Backend(format!(
                    "request `{rid}` was neither inserted nor found"
                )));
            }
            match first_seen.get(rid) {
                Some(first) => Ok(AppendOutcome::Existing(Box::new((*first).clone()))),
                None => {
                    first_seen.insert(rid, d);
                    Ok(AppendOutcome::Inserted)
                }
            }
        })
        .collect()
}
