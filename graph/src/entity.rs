//! The graph's vocabulary: entity kinds, entity references and the [`Observation`] one decision
//! contributes. Owns the wire names of the kinds and the conversion of timestamps to the
//! graph's second counter; holds no graph state.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::GraphError;

/// What a node stands for. The order is the hub preference of [`Observation`]: the first
/// present kind (the user, in practice) is the centre of the decision's star of links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    User,
    Device,
    Card,
    Email,
    Phone,
    Address,
    Ip,
}

impl EntityKind {
    /// Every kind, in hub-preference order.
    pub const ALL: [EntityKind; 7] = [
        EntityKind::User,
        EntityKind::Device,
        EntityKind::Card,
        EntityKind::Email,
        EntityKind::Phone,
        EntityKind::Address,
        EntityKind::Ip,
    ];

    /// The wire name (`user`, `device`, …), as in `GET /v1/graph/entities/{kind}/{value}`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Device => "device",
            EntityKind::Card => "card",
            EntityKind::Email => "email",
            EntityKind::Phone => "phone",
            EntityKind::Address => "address",
            EntityKind::Ip => "ip",
        }
    }

    /// Weak kinds are linked and shown but never merge groups and never carry proximity to
    /// fraud onwards: a shared office or carrier IP says little about who is behind it.
    pub fn is_weak(self) -> bool {
        self == EntityKind::Ip
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = GraphError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| GraphError::UnknownKind { kind: s.to_owned() })
    }
}

/// An entity by kind and (normalised, possibly hashed) value. Displays as `kind:value`, the
/// form reason details use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub value: String,
}

impl EntityRef {
    pub fn new(kind: EntityKind, value: impl Into<String>) -> EntityRef {
        EntityRef {
            kind,
            value: value.into(),
        }
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// The entities one decision names, at most one per kind (as in the enriched context), and
/// when. Values borrow where they can so the decision path builds one without allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation<'a> {
    pub at: DateTime<Utc>,
    slots: [Option<Cow<'a, str>>; 7],
}

impl<'a> Observation<'a> {
    pub fn new(at: DateTime<Utc>) -> Observation<'a> {
        Observation {
            at,
            slots: Default::default(),
        }
    }

    /// Names `value` for `kind`, replacing an earlier one. Empty values are ignored.
    pub fn with(mut self, kind: EntityKind, value: impl Into<Cow<'a, str>>) -> Observation<'a> {
        self.set(kind, value);
        self
    }

    /// [`Observation::with`] for an optional value (the context's fields are `Option`s).
    pub fn with_opt<V: Into<Cow<'a, str>>>(
        mut self,
        kind: EntityKind,
        value: Option<V>,
    ) -> Observation<'a> {
        if let Some(v) = value {
            self.set(kind, v);
        }
        self
    }

    pub fn set(&mut self, kind: EntityKind, value: impl Into<Cow<'a, str>>) {
        let value = value.into();
        self.slots[kind.index()] = (!value.is_empty()).then_some(value);
    }

    pub fn get(&self, kind: EntityKind) -> Option<&str> {
        self.slots[kind.index()].as_deref()
    }

    /// The named entities in hub-preference order.
    pub fn entities(&self) -> impl Iterator<Item = (EntityKind, &str)> + '_ {
        EntityKind::ALL
            .into_iter()
            .filter_map(|k| self.get(k).map(|v| (k, v)))
    }

    /// A view borrowing this observation's values (no allocation), e.g. to replay stored
    /// observations through [`crate::LinkGraph::rebuild`] without cloning them.
    pub fn as_borrowed(&self) -> Observation<'_> {
        Observation {
            at: self.at,
            slots: std::array::from_fn(|i| self.slots[i].as_deref().map(Cow::Borrowed)),
        }
    }

    /// Copies borrowed values so the observation can outlive its source (e.g. a log row).
    pub fn into_owned(self) -> Observation<'static> {
        Observation {
            at: self.at,
            slots: self.slots.map(|s| s.map(|v| Cow::Owned(v.into_owned()))),
        }
    }
}

/// Seconds since the Unix epoch as the graph stores them: `u32` (enough until 2106) keeps
/// nodes and edges small; earlier instants clamp to 0.
pub(crate) fn stamp(at: DateTime<Utc>) -> u32 {
    u32::try_from(at.timestamp().clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX)
}

/// The inverse of [`stamp`].
pub(crate) fn instant(secs: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::from(secs), 0).unwrap_or_default()
}

/// The key an IP is stored under: the address itself, or with `prefix` its /24 (IPv4) or
/// /64 (IPv6) network, so one NAT pool or subnet is one node. Unparseable values are kept.
pub(crate) fn ip_key(value: &str, prefix: bool) -> Cow<'_, str> {
    if !prefix {
        return Cow::Borrowed(value);
    }
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            Cow::Owned(format!("{a}.{b}.{c}.0/24"))
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            Cow::Owned(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
        Err(_) => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for k in EntityKind::ALL {
            assert_eq!(k.as_str().parse::<EntityKind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        assert!("iban".parse::<EntityKind>().is_err());
    }

    #[test]
    fn observation_keeps_one_value_per_kind_and_skips_empty() {
        let obs = Observation::new(DateTime::default())
            .with(EntityKind::Ip, "10.0.0.1")
            .with(EntityKind::User, "u1")
            .with(EntityKind::Device, "")
            .with(EntityKind::User, "u2")
            .with_opt(EntityKind::Card, None::<&str>);
        let got: Vec<_> = obs.entities().collect();
        assert_eq!(
            got,
            vec![(EntityKind::User, "u2"), (EntityKind::Ip, "10.0.0.1")]
        );
    }

    #[test]
    fn ip_prefix_groups_a_subnet() {
        assert_eq!(ip_key("192.168.7.42", true), "192.168.7.0/24");
        assert_eq!(ip_key("2001:db8:1:2:3::9", true), "2001:db8:1:2::/64");
        assert_eq!(ip_key("192.168.7.42", false), "192.168.7.42");
        assert_eq!(ip_key("not-an-ip", true), "not-an-ip");
    }
}
