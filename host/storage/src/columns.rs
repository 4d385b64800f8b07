//! How domain values become column values and back, the same for both backends: timestamps as
//! RFC 3339 UTC text with microseconds, scopes as comma-separated names, structured values as
//! JSON text. A stored value that does not parse back is [`StoreError::Corrupt`], never a panic.

use std::collections::BTreeSet;

use arbiter_engine::keys::Scope;
use arbiter_engine::lists::{ListKind, ListName};
use arbiter_engine::registry::{RolloutMode, RolloutStatus};
use arbiter_engine::store::StoreError;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Fixed width (always six fractional digits, always `Z`), so text order is time order. Both
/// backends keep microseconds, so both truncate a timestamp the same way.
pub(crate) fn timestamp_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Now, to the microsecond both backends keep: a value a write returns equals its read-back.
pub(crate) fn stored_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

pub(crate) fn scopes_text(scopes: &BTreeSet<Scope>) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn parse_scopes(s: &str) -> Result<BTreeSet<Scope>, StoreError> {
    s.split(',')
        .filter(|part| !part.is_empty())
        .map(|part| {
            Scope::parse(part).ok_or_else(|| StoreError::Corrupt(format!("unknown scope `{part}`")))
        })
        .collect()
}

pub(crate) fn parse_list_name(s: &str) -> Result<ListName, StoreError> {
    ListName::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown list `{s}`")))
}

pub(crate) fn parse_list_kind(s: &str) -> Result<ListKind, StoreError> {
    ListKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown list kind `{s}`")))
}

pub(crate) fn parse_rollout_mode(s: &str) -> Result<RolloutMode, StoreError> {
    RolloutMode::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown rollout mode `{s}`")))
}

pub(crate) fn parse_rollout_status(s: &str) -> Result<RolloutStatus, StoreError> {
    RolloutStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown rollout status `{s}`")))
}

pub(crate) fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding {what}: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_fixed_width_utc_and_round_trip() {
        let t = Utc
            .timestamp_opt(1_714_564_800, 123_456_000)
            .single()
            .expect("valid timestamp");
        let text = timestamp_text(t);
        assert_eq!(text, "2024-05-01T12:00:00.123456Z");
        assert_eq!(parse_timestamp(&text).expect("parses"), t);
        let whole = Utc.timestamp_opt(1_714_564_800, 0).single().expect("valid");
        assert_eq!(timestamp_text(whole).len(), text.len());
    }

    #[test]
    fn scopes_round_trip_and_unknown_ones_are_corrupt() {
        let scopes = BTreeSet::from([Scope::Decide, Scope::PolicyWrite]);
        let text = scopes_text(&scopes);
        assert_eq!(text, "decide,policy:write");
        assert_eq!(parse_scopes(&text).expect("parses"), scopes);
        assert_eq!(parse_scopes("").expect("parses"), BTreeSet::new());
        assert!(matches!(parse_scopes("root"), Err(StoreError::Corrupt(_))));
    }
}
