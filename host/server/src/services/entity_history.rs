//! Decisions by entity: the pages of decisions that named a user, device, card, e-mail,
//! phone, address or IP (the console's entity page, `GET /v1/graph/entities/{kind}/{value}/
//! decisions`), and a decision set beside its customer's usual behaviour (a review case).
//! Both walk the entity's chain of decisions ([`arbiter_engine::entity_chain`]): a page from
//! the entity's head on this replica (or from the last decision of the previous page), the
//! usual behaviour from the decision's own link to the customer's previous one.

use std::sync::Arc;

use thiserror::Error;

use arbiter_engine::card_scan::contains_card_number;
use arbiter_engine::entity_chain::ChainHeads;
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::{Store, StoreError};
use arbiter_engine::usual::{HISTORY_LIMIT, PastDecision, UsualBehaviour};
use arbiter_engine::{Decision, DecisionId};

/// The longest value an entity is named by (an e-mail address's limit, the longest kind's).
const MAX_VALUE_BYTES: usize = 320;

#[derive(Debug, Error)]
pub enum HistoryError {
    #[error("`{0}` is not one of user, device, ip, card, email, phone, address")]
    Kind(String),
    /// The value is not echoed: it may be personal data or a card number.
    #[error("the value is not a valid {0} value")]
    Value(&'static str),
    #[error("the value looks like a raw card number; cards are named by their fingerprint")]
    RawCardNumber,
    #[error("`before` must be a decision id (`dec_` and 32 hex digits)")]
    Cursor,
    /// `before` is well formed but names no stored decision of this entity.
    #[error("decision `{0}` of this entity")]
    UnknownCursor(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of an entity's decisions.
#[derive(Debug)]
pub struct EntityDecisions {
    pub kind: ListKind,
    /// The value the entity is keyed by (normalised; an address's hash).
    pub value: String,
    /// Newest first.
    pub items: Vec<PastDecision>,
    /// Pass as `before` for the next (older) page; `None` on the last.
    pub next_before: Option<String>,
}

pub struct EntityHistory {
    store: Arc<dyn Store>,
    heads: Arc<ChainHeads>,
}

impl EntityHistory {
    pub fn new(store: Arc<dyn Store>, heads: Arc<ChainHeads>) -> Self {
        EntityHistory { store, heads }
    }

    /// The decisions that named the entity, newest first, older than `before` when given.
    pub async fn decisions(
        &self,
        kind: &str,
        raw: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<EntityDecisions, HistoryError> {
        let (kind, value) = entity(kind, raw)?;
        let mut items = match before {
            // The previous page's last decision, then the page after it (one more than shown
            // says whether an older page exists).
            Some(b) => {
                if DecisionId::bits(b).is_none() {
                    return Err(HistoryError::Cursor);
                }
                let mut walk = self.store.entity_decisions(kind, b, limit + 2).await?;
                match walk.first() {
                    Some(first) if kind.value_in(&first.context) == Some(value.as_str()) => {}
                    _ => return Err(HistoryError::UnknownCursor(b.to_owned())),
                }
                walk.remove(0);
                walk
            }
            None => match self.heads.head(kind, &value) {
                Some(head) => self.store.entity_decisions(kind, &head, limit + 1).await?,
                None => Vec::new(),
            },
        };
        // Two entities whose heads' hashes collide share a chain: keep this one's decisions.
        items.retain(|p| kind.value_in(&p.context) == Some(value.as_str()));
        let next_before = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|p| p.decision_id.clone())
        } else {
            None
        };
        Ok(EntityDecisions {
            kind,
            value,
            items,
            next_before,
        })
    }

    /// The decision beside its customer's (the user's) latest decisions before it: the walk
    /// from the previous decision its chain names.
    pub async fn usual(&self, d: &Decision) -> Result<UsualBehaviour, StoreError> {
        let mut past = match d.chain.previous(ListKind::User) {
            Some(previous) => {
                self.store
                    .entity_decisions(ListKind::User, previous, HISTORY_LIMIT)
                    .await?
            }
            None => Vec::new(),
        };
        past.retain(|p| p.context.user_id == d.context.user_id);
        Ok(UsualBehaviour::of(&d.context, &past))
    }
}

/// The entity's kind and the value decisions key it by.
fn entity(kind: &str, raw: &str) -> Result<(ListKind, String), HistoryError> {
    let kind = ListKind::parse(kind).ok_or_else(|| HistoryError::Kind(kind.to_owned()))?;
    if contains_card_number(raw.as_bytes()) {
        return Err(HistoryError::RawCardNumber);
    }
    if raw.len() > MAX_VALUE_BYTES {
        return Err(HistoryError::Value(kind.as_str()));
    }
    let value = kind.key_of(raw).ok_or(HistoryError::Value(kind.as_str()))?;
    Ok((kind, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_keyed_as_decisions_store_them() {
        assert_eq!(
            entity("email", " Ann@Example.COM ").expect("email"),
            (ListKind::Email, "ann@example.com".into())
        );
        let hash = "A".repeat(64);
        assert_eq!(
            entity("address", &hash).expect("hash").1,
            hash.to_ascii_lowercase(),
            "an address named by its hash"
        );
        assert!(matches!(entity("shoe", "x"), Err(HistoryError::Kind(_))));
        assert!(matches!(
            entity("card", "4242424242424242"),
            Err(HistoryError::RawCardNumber)
        ));
        assert!(matches!(
            entity("ip", "not-an-ip"),
            Err(HistoryError::Value("ip"))
        ));
        assert!(matches!(
            entity("user", &"u".repeat(321)),
            Err(HistoryError::Value("user"))
        ));
    }
}
