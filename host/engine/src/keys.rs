//! API keys and scopes. A key is 32 random bytes shown once; only its SHA-256 is stored
//! (a high-entropy secret needs no slow hash: there is nothing to brute-force).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do, following the callers that hold it (README, "Scopes"): a checkout server
/// holds `decide` (and `orders:write`, `refunds:write` where Arbiter runs its orders), a
/// reviewer `review`, a chargeback feed `label:write`, a risk engineer `policy:write`. `admin`
/// implies every scope.
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
    /// A reviewer, and exactly what the console shows one: the queue with claims, resolutions
    /// and corrections, a case (the decision's detail with its personal data, the graph
    /// around its entities), rule snoozes, the outcome report, and the console's sign-in.
    #[serde(rename = "review")]
    Review,
    /// Approve a policy set for live traffic: the second key of a maker-checker deployment
    /// (`--require-approval`).
    #[serde(rename = "policy:approve")]
    PolicyApprove,
    /// Everything, including keys, models, the catalogue, the ledger and the audit log.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::Decide,
        Scope::DecisionsRead,
        Scope::OrdersWrite,
        Scope::RefundsWrite,
        Scope::PolicyWrite,
        Scope::PolicyApprove,
        Scope::LabelWrite,
        Scope::Review,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Decide => "decide",
            Scope::DecisionsRead => "decisions:read",
            Scope::OrdersWrite => "orders:write",
            Scope::RefundsWrite => "refunds:write",
            Scope::PolicyWrite => "policy:write",
            Scope::PolicyApprove => "policy:approve",
            Scope::LabelWrite => "label:write",
            Scope::Review => "review",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Who created a key, when no key did: the first admin key a fresh database gets at start.
pub const CREATED_BY_BOOTSTRAP: &str = "bootstrap";
/// Who created a key, when no key did: `arbiter keys create`, straight into the database.
pub const CREATED_BY_CLI: &str = "cli";

/// A stored key, a named record: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    /// What the key is for, chosen by whoever minted it (1–100 characters).
    pub name: String,
    pub hash: String,
    pub scopes: BTreeSet<Scope>,
    /// The id of the key that minted it, [`CREATED_BY_BOOTSTRAP`] or [`CREATED_BY_CLI`].
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// From this instant on the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// The last use that reached the database; uses are written in batches, so this lags.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set once, by the first revocation; the key is refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// `admin` implies every scope.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&needed)
    }

    /// Whether the key may authenticate at `now`: not revoked and not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

/// What a key is minted with, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A freshly minted key: the secret (shown once) and the record to store.
pub struct NewKey {
    pub secret: String,
    pub record: ApiKey,
}

/// Mints a key `arb_<secret>` with the id `key_<hex>`, which lets logs name a key without the
/// secret. `created_by` is the minting key's id, [`CREATED_BY_BOOTSTRAP`] or
/// [`CREATED_BY_CLI`].
pub fn mint(spec: KeySpec, created_by: &str, now: DateTime<Utc>) -> NewKey {
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
            name: spec.name,
            hash: hash_secret(&secret),
            scopes: spec.scopes,
            created_by: created_by.to_owned(),
            created_at: now,
            expires_at: spec.expires_at,
            last_used_at: None,
            revoked_at: None,
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

    fn spec(scopes: &[Scope]) -> KeySpec {
        KeySpec {
            name: "checkout".into(),
            scopes: scopes.iter().copied().collect(),
            expires_at: None,
        }
    }

    #[test]
    fn admin_implies_every_scope() {
        let k = mint(spec(&[Scope::Admin]), CREATED_BY_CLI, Utc::now()).record;
        assert!(Scope::ALL.iter().all(|s| k.allows(*s)));
        let k = mint(spec(&[Scope::Decide]), CREATED_BY_CLI, Utc::now()).record;
        assert!(k.allows(Scope::Decide));
        assert!(!k.allows(Scope::PolicyWrite));
    }

    #[test]
    fn a_revoked_or_expired_key_is_not_live() {
        let now = Utc::now();
        let mut k = mint(spec(&[Scope::Decide]), "key_1", now).record;
        assert_eq!(
            (k.name.as_str(), k.created_by.as_str()),
            ("checkout", "key_1")
        );
        assert!(k.is_live(now));
        k.expires_at = Some(now + chrono::Duration::seconds(1));
        assert!(k.is_live(now));
        assert!(
            !k.is_live(now + chrono::Duration::seconds(1)),
            "expiry is exclusive"
        );
        k.expires_at = None;
        k.revoked_at = Some(now);
        assert!(!k.is_live(now));
    }

    #[test]
    fn the_secret_is_not_stored() {
        let k = mint(spec(&[Scope::Decide]), CREATED_BY_CLI, Utc::now());
        assert_ne!(k.record.hash, k.secret);
        assert_eq!(k.record.hash, hash_secret(&k.secret));
        assert!(!k.record.hash.contains(&k.secret));
    }
}
