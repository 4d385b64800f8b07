//! API keys and scopes. A key is 32 random bytes shown once; only its SHA-256 is stored
//! (a high-entropy secret needs no slow hash: there is nothing to brute-force).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do, following the callers that hold it (README, "Scopes"): a checkout server
/// holds `decide` (and `orders:write`, `refunds:write` where Arbiter runs its orders), a
/// reviewer `label:write` and `decisions:read`, a risk engineer `policy:write`. `admin` implies
/// every scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Ask for decisions; read back nothing the answer did not already contain.
    #[serde(rename = "decide")]
    Decide,
    /// Read a decision's detail with its personal data (e-mail, phone, IP, device), the graph
    /// around an entity and the review queue.
    #[serde(rename = "decisions:read")]
    DecisionsRead,
    /// The storefront: orders, payments, cancellation.
    #[serde(rename = "orders:write")]
    OrdersWrite,
    /// Request and read refunds.
    #[serde(rename = "refunds:write")]
    RefundsWrite,
    /// Policy modules, policy sets, rollouts, lists and outcome reports.
    #[serde(rename = "policy:write")]
    PolicyWrite,
    /// Resolve reviews, record and import labels.
    #[serde(rename = "label:write")]
    LabelWrite,
    /// Everything, including keys, models, the catalogue, the ledger and the audit log.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Decide,
        Scope::DecisionsRead,
        Scope::OrdersWrite,
        Scope::RefundsWrite,
        Scope::PolicyWrite,
        Scope::LabelWrite,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Decide => "decide",
            Scope::DecisionsRead => "decisions:read",
            Scope::OrdersWrite => "orders:write",
            Scope::RefundsWrite => "refunds:write",
            Scope::PolicyWrite => "policy:write",
            Scope::LabelWrite => "label:write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A stored key: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub hash: String,
    pub scopes: BTreeSet<Scope>,
    pub created_at: DateTime<Utc>,
}

impl ApiKey {
    /// `admin` implies every scope.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&needed)
    }
}

/// A freshly minted key: the secret (shown once) and the record to store.
pub struct NewKey {
    pub secret: String,
    pub record: ApiKey,
}

/// Mints a key `arb_<id>_<secret>`; the id part lets logs name a key without the secret.
pub fn mint(scopes: BTreeSet<Scope>, now: DateTime<Utc>) -> NewKey {
    let mut id_bytes = [0u8; 6];
    let mut secret_bytes = [0u8; 32];
    let mut rng = rand::rng();
    rng.fill_bytes(&mut id_bytes);
    rng.fill_bytes(&mut secret_bytes);
    let id = format!("key_{}", hex::encode(id_bytes));
    let secret = format!("arb_{}", hex::encode(secret_bytes));
    NewKey {
        record: ApiKey {
            id,
            hash: hash_secret(&secret),
            scopes,
            created_at: now,
        },
        secret,
    }
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_every_scope() {
        let k = mint(BTreeSet::from([Scope::Admin]), Utc::now()).record;
        assert!(Scope::ALL.iter().all(|s| k.allows(*s)));
        let k = mint(BTreeSet::from([Scope::Decide]), Utc::now()).record;
        assert!(k.allows(Scope::Decide));
        assert!(!k.allows(Scope::PolicyWrite));
    }

    #[test]
    fn the_secret_is_not_stored() {
        let k = mint(BTreeSet::from([Scope::Decide]), Utc::now());
        assert_ne!(k.record.hash, k.secret);
        assert_eq!(k.record.hash, hash_secret(&k.secret));
        assert!(!k.record.hash.contains(&k.secret));
    }
}
