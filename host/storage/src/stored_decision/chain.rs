//! The `chain` column: an entity chain ([`arbiter_engine::entity_chain`]) as seven 16-byte
//! decision ids, one slot per kind in [`ListKind::ALL`] order (user first, address last: the
//! stored layout, pinned by a test), zeros where a kind has no previous decision; absent when
//! none has one. An entity's history walks it in SQL ([`walk_previous_sql`]), which reads a
//! slot back as the `dec_…` text the key column holds.

use arbiter_engine::decision::DecisionId;
use arbiter_engine::entity_chain::EntityChain;
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::StoreError;

const ID_BYTES: usize = 16;

/// `chain` for a decision's chain: `None` when no kind has a previous decision. An id not of
/// the shape [`DecisionId::generate`] makes (none is) cannot be stored in 16 bytes and ends
/// that kind's chain here.
pub(super) fn bytes(chain: &EntityChain) -> Option<Vec<u8>> {
    if chain.is_empty() {
        return None;
    }
    let mut bytes = vec![0u8; ListKind::ALL.len() * ID_BYTES];
    for (slot, kind) in bytes.chunks_exact_mut(ID_BYTES).zip(ListKind::ALL) {
        match chain.previous(kind).map(|id| (id, DecisionId::bits(id))) {
            Some((_, Some(bits))) => slot.copy_from_slice(&bits.to_be_bytes()),
            Some((id, None)) => {
                tracing::warn!(kind = kind.as_str(), len = id.len(), "chain id not stored")
            }
            None => {}
        }
    }
    Some(bytes)
}

pub(super) fn of(bytes: Option<&[u8]>, decision_id: &str) -> Result<EntityChain, StoreError> {
    let mut chain = EntityChain::default();
    let Some(bytes) = bytes else {
        return Ok(chain);
    };
    if bytes.len() != ListKind::ALL.len() * ID_BYTES {
        return Err(StoreError::Corrupt(format!(
            "decision `{decision_id}`: chain of {} bytes",
            bytes.len()
        )));
    }
    for (slot, kind) in bytes.chunks_exact(ID_BYTES).zip(ListKind::ALL) {
        let mut bits = [0u8; ID_BYTES];
        bits.copy_from_slice(slot);
        let bits = u128::from_be_bytes(bits);
        if bits != 0 {
            chain.link(kind, DecisionId::from_bits(bits).0);
        }
    }
    Ok(chain)
}

/// The SQL expression of the previous decision of `kind` of the decision `d`, as `dec_…`
/// text: from `chain` for a packed decision, from the JSON body for one stored before.
pub(crate) fn walk_previous_sql(kind: ListKind, postgres: bool) -> String {
    let index = ListKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind has a slot");
    let from = index * ID_BYTES + 1;
    let name = kind.as_str();
    if postgres {
        format!(
            "CASE WHEN d.packed IS NULL THEN d.body->'chain'->>'{name}' \
             WHEN substring(d.chain from {from} for {ID_BYTES}) <> '\\x{zeros}'::bytea \
             THEN 'dec_' || encode(substring(d.chain from {from} for {ID_BYTES}), 'hex') END",
            zeros = "00".repeat(ID_BYTES)
        )
    } else {
        format!(
            "CASE WHEN d.packed IS NULL THEN json_extract(d.body, '$.chain.{name}') \
             WHEN substr(d.chain, {from}, {ID_BYTES}) <> zeroblob({ID_BYTES}) \
             THEN 'dec_' || lower(hex(substr(d.chain, {from}, {ID_BYTES}))) END"
        )
    }
}
