//! Velocity features: how many decisions, and how much money, an entity saw in the last hour
//! and day. Behind [`VelocityStore`] so the in-process counters here and shared Redis counters
//! (scale-out) are interchangeable.
//!
//! The in-process store keeps, per entity, 12 five-minute buckets (the 1 h window) and 24
//! one-hour buckets (the 24 h window), so a window edge is exact to its bucket size. Memory is
//! bounded in bytes: an entity is kept under a fixed-size hash of its id, so long ids cannot
//! stretch the bound, and the entities counted least recently go first. Sums are kept for up
//! to two currencies per bucket; a third currency in the same bucket is counted but not
//! summed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::context::EnrichedContext;
use crate::generations::Sharded;

/// Count and amount sum (major units of the request's currency) over two windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    pub count_1h: u32,
    pub sum_1h: f64,
    pub count_24h: u32,
    pub sum_24h: f64,
}

/// Velocity per entity kind; `None` when the request does not name that entity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VelocityFeatures {
    pub user: WindowStats,
    pub device: Option<WindowStats>,
    pub card: Option<WindowStats>,
    pub ip: Option<WindowStats>,
    pub email: Option<WindowStats>,
}

/// The entity kinds velocity is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VelocityKind {
    User,
    Device,
    Card,
    Ip,
    Email,
}

/// The entities of one request, and the amount it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct VelocityEvent {
    pub subjects: Vec<(VelocityKind, String)>,
    /// Amount in minor units with its currency code and exponent.
    pub amount: Option<(i64, String, u32)>,
}

impl VelocityEvent {
    pub fn from_context(ctx: &EnrichedContext) -> VelocityEvent {
        let mut subjects = vec![(VelocityKind::User, ctx.user_id.clone())];
        let optional = [
            (VelocityKind::Device, &ctx.device_id),
            (VelocityKind::Card, &ctx.card_fingerprint),
            (VelocityKind::Ip, &ctx.ip),
            (VelocityKind::Email, &ctx.email),
        ];
        for (kind, value) in optional {
            if let Some(v) = value {
                subjects.push((kind, v.clone()));
            }
        }
        VelocityEvent {
            subjects,
            amount: ctx
                .amount
                .as_ref()
                .map(|a| (a.minor_units, a.currency.clone(), currency_exponent(a))),
        }
    }
}

fn currency_exponent(a: &crate::context::AmountView) -> u32 {
    iso_currency::Currency::from_code(&a.currency)
        .and_then(|c| c.exponent())
        .map_or(0, u32::from)
}

#[derive(Debug, Error)]
pub enum VelocityError {
    #[error("velocity store unavailable: {0}")]
    Unavailable(String),
}

/// Velocity features together with where they came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VelocityReading {
    pub features: VelocityFeatures,
    /// True when the shared store was unreachable and the features came from a documented
    /// fallback (a replica's own in-process counters), so the decision can record that its
    /// velocity inputs were partial.
    #[serde(default)]
    pub degraded: bool,
}

#[async_trait]
pub trait VelocityStore: Send + Sync + 'static {
    /// The features of `event`'s entities as of `at`, not counting `event` itself.
    async fn features(
        &self,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<VelocityFeatures, VelocityError>;

    /// [`Self::features`] plus whether they came from a fallback. Stores without a fallback
    /// keep this default (never degraded); stores with one override it.
    async fn read(
        &self,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<VelocityReading, VelocityError> {
        Ok(VelocityReading {
            features: self.features(event, at).await?,
            degraded: false,
        })
    }

    /// Counts `event` (called once its decision is durable, so a retried request is not
    /// counted twice).
    async fn record(&self, event: &VelocityEvent, at: DateTime<Utc>) -> Result<(), VelocityError>;

    /// Drops every count of these entities (a person's erasure): their next decision starts
    /// from nothing.
    async fn forget(&self, entities: &[(VelocityKind, String)]) -> Result<(), VelocityError>;
}

const FIVE_MIN: i64 = 300;
const HOUR: i64 = 3600;

/// One bucket in 32 bytes, so an entity's 36 are 18 cache lines: they are read cold (one
/// entity among thousands per decision), and a line not touched is the cheapest.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Which period (unix seconds / bucket length) this bucket holds; stale when older. 32
    /// bits hold five-minute periods for 40,000 years.
    slot: u32,
    count: u32,
    /// Up to two currencies summed (`NO_CURRENCY` while a place is free), with their sums in
    /// minor units.
    currencies: [[u8; 3]; 2],
    sums: [i64; 2],
}

const _: () = assert!(std::mem::size_of::<Bucket>() == 32);

/// A free currency place: no ISO code is three zero bytes.
const NO_CURRENCY: [u8; 3] = [0; 3];

/// A period as a bucket keeps it (before 1970 or past the 32 bits: period 0, always stale).
fn period(slot: i64) -> u32 {
    u32::try_from(slot).unwrap_or(0)
}

impl Bucket {
    fn add(&mut self, slot: i64, amount: Option<([u8; 3], i64)>) {
        let slot = period(slot);
        if self.slot != slot {
            *self = Bucket {
                slot,
                ..Bucket::default()
            };
        }
        self.count = self.count.saturating_add(1);
        if let Some((cur, minor)) = amount {
            for (c, s) in self.currencies.iter_mut().zip(&mut self.sums) {
                if *c == cur {
                    *s = s.saturating_add(minor);
                    return;
                }
                if *c == NO_CURRENCY {
                    *c = cur;
                    *s = minor;
                    return;
                }
            }
        }
    }

    fn sum_for(&self, cur: Option<[u8; 3]>) -> i64 {
        let Some(cur) = cur else { return 0 };
        self.currencies
            .iter()
            .zip(self.sums)
            .find(|(c, _)| **c == cur)
            .map_or(0, |(_, s)| s)
    }

    /// Whether the bucket holds a period of the `len` periods up to `now`.
    fn live(&self, now: i64, len: i64) -> bool {
        let slot = i64::from(self.slot);
        slot > now - len && slot <= now
    }
}

#[derive(Debug, Default)]
struct EntityWindows {
    minutes: [Bucket; 12],
    hours: [Bucket; 24],
}

impl EntityWindows {
    fn add(&mut self, t: i64, amount: Option<([u8; 3], i64)>) {
        let m = t.div_euclid(FIVE_MIN);
        let h = t.div_euclid(HOUR);
        self.minutes[m.rem_euclid(12) as usize].add(m, amount);
        self.hours[h.rem_euclid(24) as usize].add(h, amount);
    }

    fn stats(&self, t: i64, cur: Option<[u8; 3]>, scale: f64) -> WindowStats {
        let m = t.div_euclid(FIVE_MIN);
        let h = t.div_euclid(HOUR);
        let live_m = self.minutes.iter().filter(|b| b.live(m, 12));
        let live_h = self.hours.iter().filter(|b| b.live(h, 24));
        let (mut c1, mut s1, mut c24, mut s24) = (0u32, 0i64, 0u32, 0i64);
        for b in live_m {
            c1 = c1.saturating_add(b.count);
            s1 = s1.saturating_add(b.sum_for(cur));
        }
        for b in live_h {
            c24 = c24.saturating_add(b.count);
            s24 = s24.saturating_add(b.sum_for(cur));
        }
        WindowStats {
            count_1h: c1,
            sum_1h: s1 as f64 / scale,
            count_24h: c24,
            sum_24h: s24 as f64 / scale,
        }
    }
}

/// What one tracked entity costs at most: its windows and fixed-size key, twice over for the
/// hash table's room to grow (a table doubles when it is 7/8 full). The same whatever the
/// length of the entity's id: only its hash is kept.
pub const ENTITY_BYTES: usize = (std::mem::size_of::<(u64, EntityWindows)>() + 1) * 2;

/// In-process velocity counters with bounded memory.
pub struct InProcessVelocity {
    /// Each entity's windows under its hash ([`crate::generations`]): one lookup under a short
    /// per-shard lock, no allocation once warm, nothing in the background. An entity not
    /// counted for two generations is forgotten; its windows would have emptied within a day
    /// anyway.
    entities: Sharded<EntityWindows>,
}

impl InProcessVelocity {
    /// `max_bytes` bounds the memory of the tracked entities ([`ENTITY_BYTES`] each).
    pub fn new(max_bytes: u64) -> InProcessVelocity {
        InProcessVelocity {
            entities: Sharded::new(max_bytes / ENTITY_BYTES as u64),
        }
    }

    fn currency_key(code: &str) -> Option<[u8; 3]> {
        code.as_bytes().try_into().ok()
    }

    /// Synchronous form of [`VelocityStore::features`] (no I/O happens here).
    pub fn features_now(&self, event: &VelocityEvent, at: DateTime<Utc>) -> VelocityFeatures {
        let t = at.timestamp();
        let (cur, scale) = match &event.amount {
            Some((_, code, exp)) => (Self::currency_key(code), 10f64.powi(*exp as i32)),
            None => (None, 1.0),
        };
        let mut out = VelocityFeatures::default();
        for (kind, value) in &event.subjects {
            let stats = self
                .entities
                .lock((kind, value))
                .get()
                .map(|w| w.stats(t, cur, scale))
                .unwrap_or_default();
            match kind {
                VelocityKind::User => out.user = stats,
                VelocityKind::Device => out.device = Some(stats),
                VelocityKind::Card => out.card = Some(stats),
                VelocityKind::Ip => out.ip = Some(stats),
                VelocityKind::Email => out.email = Some(stats),
            }
        }
        out
    }

    /// Synchronous form of [`VelocityStore::forget`].
    pub fn forget_now(&self, entities: &[(VelocityKind, String)]) {
        for (kind, value) in entities {
            self.entities.lock((kind, value)).remove();
        }
    }

    /// Synchronous form of [`VelocityStore::record`].
    pub fn record_now(&self, event: &VelocityEvent, at: DateTime<Utc>) {
        let t = at.timestamp();
        let amount = event
            .amount
            .as_ref()
            .and_then(|(minor, code, _)| Self::currency_key(code).map(|c| (c, *minor)));
        for (kind, value) in &event.subjects {
            self.entities.lock((kind, value)).entry().add(t, amount);
        }
    }
}

#[async_trait]
impl VelocityStore for InProcessVelocity {
    async fn features(
        &self,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<VelocityFeatures, VelocityError> {
        Ok(self.features_now(event, at))
    }

    async fn record(&self, event: &VelocityEvent, at: DateTime<Utc>) -> Result<(), VelocityError> {
        self.record_now(event, at);
        Ok(())
    }

    async fn forget(&self, entities: &[(VelocityKind, String)]) -> Result<(), VelocityError> {
        self.forget_now(entities);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
