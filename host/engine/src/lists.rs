//! The list layer: allow, block and watch entries keyed by an entity, held as an immutable
//! snapshot so a lookup never touches the database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::context::EnrichedContext;
use crate::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListName {
    Block,
    Allow,
    Watch,
}

impl ListName {
    pub const ALL: [ListName; 3] = [ListName::Block, ListName::Allow, ListName::Watch];

    pub fn as_str(self) -> &'static str {
        match self {
            ListName::Block => "block",
            ListName::Allow => "allow",
            ListName::Watch => "watch",
        }
    }

    pub fn parse(s: &str) -> Option<ListName> {
        ListName::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    User,
    Device,
    Ip,
    Card,
    Email,
    Phone,
    Address,
}

impl ListKind {
    pub const ALL: [ListKind; 7] = [
        ListKind::User,
        ListKind::Device,
        ListKind::Ip,
        ListKind::Card,
        ListKind::Email,
        ListKind::Phone,
        ListKind::Address,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::User => "user",
            ListKind::Device => "device",
            ListKind::Ip => "ip",
            ListKind::Card => "card",
            ListKind::Email => "email",
            ListKind::Phone => "phone",
            ListKind::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Normalises a list value exactly as the matching decision field is normalised.
    /// `None` when the value can never match (an IP that does not parse).
    pub fn normalise(self, raw: &str) -> Option<String> {
        let v = match self {
            ListKind::User | ListKind::Device | ListKind::Card => normalize::id(raw),
            ListKind::Ip => normalize::ip(raw)?,
            ListKind::Email => normalize::email(raw).0,
            ListKind::Phone => normalize::phone(raw),
            ListKind::Address => normalize::address_hash(raw),
        };
        (!v.is_empty()).then_some(v)
    }

    /// The value decisions and the link graph key an entity of this kind by, from a value a
    /// caller names it with: normalised as [`ListKind::normalise`] does, except that an address
    /// may also be named by the hash decisions record (64 hex digits), which a page showing a
    /// stored decision only knows it by.
    pub fn key_of(self, raw: &str) -> Option<String> {
        let is_hash = raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit());
        match self {
            ListKind::Address if is_hash => Some(raw.to_ascii_lowercase()),
            k => k.normalise(raw),
        }
    }

    /// The context's normalised value for this kind.
    pub fn value_in(self, ctx: &EnrichedContext) -> Option<&str> {
        match self {
            ListKind::User => Some(ctx.user_id.as_str()),
            ListKind::Device => ctx.device_id.as_deref(),
            ListKind::Ip => ctx.ip.as_deref(),
            ListKind::Card => ctx.card_fingerprint.as_deref(),
            ListKind::Email => ctx.email.as_deref(),
            ListKind::Phone => ctx.phone.as_deref(),
            ListKind::Address => ctx.shipping_address_hash.as_deref(),
        }
    }
}

/// One stored list entry. `value` is normalised (the address kind holds its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub id: String,
    pub list: ListName,
    pub kind: ListKind,
    pub value: String,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Id of the API key that created it.
    pub created_by: String,
}

impl ListEntry {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// One entry that matched a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListHit {
    pub entry_id: String,
    pub list: ListName,
    pub kind: ListKind,
    /// `list.<list>.<kind>`.
    pub code: String,
    pub reason: String,
}

/// What the list layer concluded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListOutcome {
    pub hits: Vec<ListHit>,
    /// `Some(Reject)` on a block hit, `Some(Accept)` on an allow hit (block wins), else `None`.
    pub verdict: Option<Action>,
}

/// An immutable index of live entries.
#[derive(Debug, Default)]
pub struct ListSnapshot {
    /// Kind first, then value: a lookup borrows the context's `&str`, allocating nothing.
    by_key: HashMap<ListKind, HashMap<String, Vec<ListEntry>>>,
    /// Number of entries indexed, for metrics and tests.
    pub len: usize,
}

impl ListSnapshot {
    pub fn new(entries: impl IntoIterator<Item = ListEntry>) -> ListSnapshot {
        let mut by_key: HashMap<ListKind, HashMap<String, Vec<ListEntry>>> = HashMap::new();
        let mut len = 0;
        for e in entries {
            len += 1;
            // Stored before a normalisation rule changed (an IPv4-mapped address, an e-mail in
            // another Unicode form): indexed as it normalises today, so it still matches.
            let key = match e.kind {
                ListKind::Ip | ListKind::Email => e
                    .kind
                    .normalise(&e.value)
                    .unwrap_or_else(|| e.value.clone()),
                _ => e.value.clone(),
            };
            by_key
                .entry(e.kind)
                .or_default()
                .entry(key)
                .or_default()
                .push(e);
        }
        ListSnapshot { by_key, len }
    }

    /// Matches every kind the context names. Expired entries are skipped at lookup time, so
    /// an expiry takes effect without a reload.
    pub fn evaluate(&self, ctx: &EnrichedContext, now: DateTime<Utc>) -> ListOutcome {
        let mut out = ListOutcome::default();
        if self.by_key.is_empty() {
            return out;
        }
        for kind in ListKind::ALL {
            let Some(value) = kind.value_in(ctx) else {
                continue;
            };
            let Some(entries) = self.by_key.get(&kind).and_then(|m| m.get(value)) else {
                continue;
            };
            for e in entries.iter().filter(|e| e.is_live(now)) {
                let verdict = match e.list {
                    ListName::Block => Some(Action::Reject),
                    ListName::Allow => Some(Action::Accept),
                    ListName::Watch => None,
                };
                if let Some(v) = verdict {
                    out.verdict = Some(out.verdict.map_or(v, |cur| cur.combine(v)));
                }
                out.hits.push(ListHit {
                    entry_id: e.id.clone(),
                    list: e.list,
                    kind,
                    code: format!("list.{}.{}", e.list.as_str(), kind.as_str()),
                    reason: e.reason.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
