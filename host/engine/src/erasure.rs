//! Erasure of a person (GDPR Art. 17, CCPA deletion): what identifies them, the keyed hash
//! that takes each identifier's place, and the store's part.
//!
//! A person is named by a user id, an e-mail or a phone ([`Subject`]). Their identifiers are
//! every entity their stored decisions and orders name — user, e-mail, phone, device, IP,
//! card fingerprint, address hash, and the shipping address and raw spellings an order keeps
//! ([`Identifiers`]). Erasure replaces each identifier, wherever a stored record holds it,
//! by its pseudonym `erased:<32 hex>`: HMAC-SHA-256 under a key kept outside the database
//! ([`ErasureKey`]), so
//! - the same value becomes the same pseudonym everywhere: links between the person's
//!   entities (and to other people's decisions naming the same device or card) survive, and
//!   a backtest of their decisions replays the same features;
//! - without the key nobody can tell whose pseudonym it is, not even by hashing every phone
//!   number (a plain hash of a phone number is reversed by trying them all).
//!
//! Replacement is by occurrence ([`scrub`]), not by field: notes, audit details, order
//! requests and raw callbacks hold identifiers in free text. An occurrence counts only when
//! no ASCII letter or digit touches it on either side, so erasing user `u1` leaves `u12`
//! alone. No I/O here: the store finds the identifiers and rewrites rows
//! ([`ErasureStore`]); the server forgets them in memory (velocity, link graph, lists).

mod scrub;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::audit::{Actor, AuditRecord};
use crate::context::EnrichedContext;
use crate::lists::ListKind;
use crate::normalize;
use crate::store::StoreError;

pub use scrub::Scrubbed;

/// What every pseudonym starts with, so a reader of a stored record sees what happened.
pub const PSEUDONYM_PREFIX: &str = "erased:";

/// How a person is named when their erasure or export is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    UserId,
    Email,
    Phone,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::UserId => "user_id",
            SubjectKind::Email => "email",
            SubjectKind::Phone => "phone",
        }
    }

    /// The entity kind decisions store it as.
    pub fn list_kind(self) -> ListKind {
        match self {
            SubjectKind::UserId => ListKind::User,
            SubjectKind::Email => ListKind::Email,
            SubjectKind::Phone => ListKind::Phone,
        }
    }
}

/// A person, by one identifier normalised as decisions store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    pub value: String,
}

impl Subject {
    /// `raw` of `kind`, normalised; `None` when nothing is left of it (an empty value, a
    /// phone without digits).
    pub fn new(kind: SubjectKind, raw: &str) -> Option<Subject> {
        let value = match kind {
            SubjectKind::UserId => normalize::id(raw),
            SubjectKind::Email => normalize::email(raw).0,
            SubjectKind::Phone => normalize::phone(raw),
        };
        let meaningful = match kind {
            SubjectKind::Phone => value.bytes().any(|b| b.is_ascii_digit()),
            _ => !value.is_empty(),
        };
        meaningful.then_some(Subject { kind, value })
    }

    /// Whether a decision made on `ctx` is about this person.
    pub fn named_by(&self, ctx: &EnrichedContext) -> bool {
        let field = match self.kind {
            SubjectKind::UserId => Some(&ctx.user_id),
            SubjectKind::Email => ctx.email.as_ref(),
            SubjectKind::Phone => ctx.phone.as_ref(),
        };
        field == Some(&self.value)
    }
}

/// Every identifier of one person the store holds: entities by kind (as decisions and lists
/// store them) and other spellings an order keeps (its raw shipping address, an untrimmed
/// device id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    entities: BTreeSet<(ListKind, String)>,
    spellings: BTreeSet<String>,
    /// The stored decisions about the person (ids we minted: not identifiers of theirs).
    pub decisions: BTreeSet<String>,
    /// Their orders.
    pub orders: BTreeSet<String>,
}

impl Identifiers {
    /// Only the subject itself (before anything stored is read).
    pub fn of(subject: &Subject) -> Identifiers {
        let mut ids = Identifiers::default();
        ids.add(subject.kind.list_kind(), &subject.value);
        ids
    }

    fn add(&mut self, kind: ListKind, value: &str) {
        if !value.is_empty() {
            self.entities.insert((kind, value.to_owned()));
        }
    }

    fn add_spelling(&mut self, raw: &str) {
        if !raw.trim().is_empty() {
            self.spellings.insert(raw.to_owned());
        }
    }

    /// A stored decision about the person, and the entities it names.
    pub fn add_decision(&mut self, decision_id: &str, ctx: &EnrichedContext) {
        self.decisions.insert(decision_id.to_owned());
        self.add_context(ctx);
    }

    /// The entities a stored decision names.
    pub fn add_context(&mut self, ctx: &EnrichedContext) {
        self.add(ListKind::User, &ctx.user_id);
        let optional = [
            (ListKind::Email, &ctx.email),
            (ListKind::Phone, &ctx.phone),
            (ListKind::Device, &ctx.device_id),
            (ListKind::Ip, &ctx.ip),
            (ListKind::Card, &ctx.card_fingerprint),
            (ListKind::Address, &ctx.shipping_address_hash),
        ];
        for (kind, value) in optional {
            if let Some(v) = value {
                self.add(kind, v);
            }
        }
    }

    /// The identifiers an order request holds (as the client sent them): its user, device,
    /// IP and shipping address, each also as decisions store it.
    pub fn add_order(
        &mut self,
        order_id: &str,
        user: Option<&str>,
        device: Option<&str>,
        ip: Option<&str>,
        address: Option<&str>,
    ) {
        self.orders.insert(order_id.to_owned());
        let fields = [
            (ListKind::User, user),
            (ListKind::Device, device),
            (ListKind::Ip, ip),
            (ListKind::Address, address),
        ];
        for (kind, raw) in fields {
            let Some(raw) = raw else { continue };
            self.add_spelling(raw);
            if let Some(v) = kind.normalise(raw) {
                self.add(kind, &v);
            }
        }
    }

    /// The user ids among them (whose orders are the person's).
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.of_kind(ListKind::User)
    }

    pub fn of_kind(&self, kind: ListKind) -> impl Iterator<Item = &str> {
        self.entities
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }

    pub fn entities(&self) -> impl Iterator<Item = (ListKind, &str)> {
        self.entities.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// How many of each kind, for the audit (never the values).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for (kind, _) in &self.entities {
            *counts.entry(kind.as_str()).or_insert(0) += 1;
        }
        counts
    }

    /// Every distinct value, entities and spellings alike.
    pub fn values(&self) -> BTreeSet<&str> {
        self.entities
            .iter()
            .map(|(_, v)| v.as_str())
            .chain(self.spellings.iter().map(String::as_str))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty() && self.spellings.is_empty()
    }
}

/// The secret under which identifiers become pseudonyms. Kept outside the database (an
/// environment variable or a file in the data directory), so a copy of the database alone
/// cannot be matched against guessed identifiers. Replicas sharing a database share it.
#[derive(Clone)]
pub struct ErasureKey(Vec<u8>);

impl std::fmt::Debug for ErasureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErasureKey(…)")
    }
}

impl ErasureKey {
    /// Shortest key accepted, in bytes.
    pub const MIN_BYTES: usize = 16;

    /// `None` when the key is shorter than [`Self::MIN_BYTES`].
    pub fn new(secret: Vec<u8>) -> Option<ErasureKey> {
        (secret.len() >= Self::MIN_BYTES).then_some(ErasureKey(secret))
    }

    /// `erased:` and the first 16 bytes of HMAC-SHA-256(key, value), in hex.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{PSEUDONYM_PREFIX}{}", hex::encode(&tag[..16]))
    }
}

/// Each identifier of a person with its pseudonym: what a store replaces, and by what.
#[derive(Debug, Clone)]
pub struct Pseudonyms {
    /// Identifier → pseudonym: what replaces a value that is exactly an identifier.
    exact: BTreeMap<String, String>,
    /// What is replaced by occurrence: the distinctive identifiers (`scrub::distinctive`) and
    /// their form-encoded spellings (a channel's callback is often
    /// `application/x-www-form-urlencoded`), longest first, so a value that contains another
    /// is replaced whole.
    occurrences: Vec<(Vec<u8>, String)>,
    /// What a store searches its columns for: every identifier and its encoding.
    search: Vec<String>,
}

impl Pseudonyms {
    pub fn new(key: &ErasureKey, ids: &Identifiers) -> Pseudonyms {
        let exact: BTreeMap<String, String> = ids
            .values()
            .into_iter()
            .map(|v| (v.to_owned(), key.pseudonym(v)))
            .collect();
        let mut spellings: Vec<(String, &String)> = Vec::with_capacity(exact.len() * 2);
        for (value, pseudonym) in &exact {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            if encoded != *value {
                spellings.push((encoded, pseudonym));
            }
            spellings.push((value.clone(), pseudonym));
        }
        let search = spellings.iter().map(|(s, _)| s.clone()).collect();
        let mut occurrences: Vec<(Vec<u8>, String)> = spellings
            .into_iter()
            .filter(|(s, _)| scrub::distinctive(s.as_bytes()))
            .map(|(s, p)| (s.into_bytes(), p.clone()))
            .collect();
        occurrences.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Pseudonyms {
            exact,
            occurrences,
            search,
        }
    }

    /// The pseudonym of `value`, when it is one of the identifiers.
    pub fn of(&self, value: &str) -> Option<&str> {
        self.exact.get(value).map(String::as_str)
    }

    /// The strings a store searches its columns for (identifiers and their encodings).
    pub fn needles(&self) -> Vec<String> {
        self.search.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
}

/// What an erasure changed, per stored column (`table.column`: rows rewritten) and what it
/// deleted. Values are never in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureCounts {
    pub rewritten: BTreeMap<String, u64>,
    pub list_entries_removed: u64,
    pub snoozes_removed: u64,
}

#[async_trait]
pub trait ErasureStore: Send + Sync + 'static {
    /// The subject's identifiers: the subject itself, what every stored decision about them
    /// names, and what the orders of their user ids hold. Reads only, page by page.
    async fn subject_identifiers(&self, subject: &Subject) -> Result<Identifiers, StoreError>;

    /// Replaces every occurrence of each identifier in `pseudonyms` in the stored records
    /// (decisions, their projections and links, orders, refunds, reviews, labels, outbox,
    /// callbacks, statements, tickets, audit), deletes the list entries and rule snoozes that
    /// name them, then writes the erasure's audit entry (target: the subject's pseudonym;
    /// detail: how many identifiers of each kind, `counts`). In small transactions, never
    /// holding the write lock for long; running it again finishes an interrupted run and
    /// changes nothing after a complete one (a pseudonym contains no identifier).
    async fn erase_identifiers(
        &self,
        subject: &Subject,
        subject_pseudonym: &str,
        ids: &Identifiers,
        pseudonyms: &Pseudonyms,
        actor: &Actor,
    ) -> Result<ErasureCounts, StoreError>;

    /// The reviews of these decisions (the person's cases), in the order given.
    async fn reviews_of(
        &self,
        decision_ids: &[String],
    ) -> Result<Vec<crate::feedback::Review>, StoreError>;

    /// Writes the audit entry of an export (who read whose records; `record` holds the
    /// person's pseudonym and counts, never a value).
    async fn audit_export(&self, record: AuditRecord, actor: &Actor) -> Result<(), StoreError>;

    /// The erasures recorded after audit entry `after`, oldest first, at most `limit`: each
    /// person's entities by pseudonym, as their audit entries name them.
    async fn erasures_after(&self, after: i64, limit: u32) -> Result<Vec<Erased>, StoreError>;

    /// The audit id of the newest erasure; 0 when there is none.
    async fn latest_erasure(&self) -> Result<i64, StoreError>;
}

/// An erasure as another replica learns of it: its audit entry's id and the person's
/// entities by pseudonym (never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub id: i64,
    pub entities: Vec<(ListKind, String)>,
}

impl Erased {
    /// Reads the `entities` of a `subject.erase` audit entry's detail; kinds not known here
    /// are skipped.
    pub fn from_detail(id: i64, detail: &serde_json::Value) -> Erased {
        let entities = detail["entities"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|e| {
                        let kind = ListKind::parse(e["kind"].as_str()?)?;
                        Some((kind, e["pseudonym"].as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Erased { id, entities }
    }
}
