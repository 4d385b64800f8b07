//! The relay's side of NATS: the stream it publishes to, declared at start or verified when an
//! operator made it, and what an event looks like on it (subject, id, body).

use std::time::Duration;

use arbiter_transactions::outbox::OutboxEvent;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where events go: `<prefix>.<topic>`, and refused ones `<prefix>.dead_letter.<topic>`, all
/// on one stream over `<prefix>.>`.
#[derive(Debug, Clone)]
pub struct Subjects {
    pub prefix: String,
    pub stream: String,
    pub duplicate_window: Duration,
}

impl Subjects {
    pub fn event(&self, topic: &str) -> String {
        format!("{}.{topic}", self.prefix)
    }

    pub fn dead_letter(&self, topic: &str) -> String {
        format!("{}.dead_letter.{topic}", self.prefix)
    }

    fn all(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The stream the relay needs: every subject under the prefix, on disk, de-duplicating
    /// re-published ids within the window.
    fn config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            subjects: vec![self.all()],
            storage: stream::StorageType::File,
            duplicate_window: self.duplicate_window,
            ..stream::Config::default()
        }
    }
}

/// Creates the stream, or checks that the one found takes the prefix's subjects and
/// de-duplicates for at least the window: without that a takeover could store an event twice,
/// so the relay does not publish to it.
pub async fn declare(js: &jetstream::Context, subjects: &Subjects) -> Result<(), String> {
    let mut found = js
        .get_or_create_stream(subjects.config())
        .await
        .map_err(|e| format!("declaring stream `{}`: {e}", subjects.stream))?;
    let info = found
        .info()
        .await
        .map_err(|e| format!("reading stream `{}`: {e}", subjects.stream))?;
    let all = subjects.all();
    if !info.config.subjects.iter().any(|s| *s == all || s == ">") {
        return Err(format!(
            "stream `{}` does not take `{all}` (its subjects: {})",
            subjects.stream,
            info.config.subjects.join(", ")
        ));
    }
    if info.config.duplicate_window < subjects.duplicate_window {
        return Err(format!(
            "stream `{}` de-duplicates for {:?}, less than the relay's {:?}",
            subjects.stream, info.config.duplicate_window, subjects.duplicate_window
        ));
    }
    Ok(())
}

/// An event as the stream carries it: the same fields as `GET /v1/events` gives.
#[derive(Serialize)]
struct EventBody<'a> {
    id: i64,
    topic: &'a str,
    payload: &'a serde_json::Value,
    created_at: DateTime<Utc>,
}

pub fn event_body(event: &OutboxEvent) -> Bytes {
    let body = EventBody {
        id: event.id,
        topic: &event.topic,
        payload: &event.payload,
        created_at: event.created_at,
    };
    // A `Value` and plain fields always serialize.
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// What the dead-letter subject says of an event the server refused: which, why, after how
/// many attempts, and the event itself when asked and it fits under the server's message
/// size.
#[derive(Serialize)]
struct DeadLetter<'a> {
    id: i64,
    topic: &'a str,
    created_at: DateTime<Utc>,
    reason: &'a str,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a serde_json::Value>,
}

pub fn dead_letter_body(
    event: &OutboxEvent,
    reason: &str,
    attempts: u32,
    max: usize,
    with_event: bool,
) -> Bytes {
    let mut letter = DeadLetter {
        id: event.id,
        topic: &event.topic,
        created_at: event.created_at,
        reason,
        attempts,
        payload: Some(&event.payload),
    };
    let with_payload = serde_json::to_vec(&letter).unwrap_or_default();
    // Headroom for the headers (`Nats-Msg-Id` and the protocol's own).
    if with_event && with_payload.len() + 256 <= max {
        return Bytes::from(with_payload);
    }
    letter.payload = None;
    Bytes::from(serde_json::to_vec(&letter).unwrap_or_default())
}

/// The id the stream de-duplicates an event by (`Nats-Msg-Id`), and a dead letter's.
pub fn message_id(event_id: i64) -> String {
    event_id.to_string()
}

pub fn dead_letter_id(event_id: i64) -> String {
    format!("dead_letter.{event_id}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(payload: serde_json::Value) -> OutboxEvent {
        OutboxEvent {
            id: 7,
            topic: "order.paid".into(),
            payload,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn an_event_goes_to_its_topics_subject_with_the_feeds_fields() {
        let subjects = Subjects {
            prefix: "shop".into(),
            stream: "SHOP".into(),
            duplicate_window: Duration::from_secs(60),
        };
        assert_eq!(subjects.event("order.paid"), "shop.order.paid");
        assert_eq!(
            subjects.dead_letter("order.paid"),
            "shop.dead_letter.order.paid"
        );
        assert_eq!(subjects.config().subjects, vec!["shop.>".to_owned()]);
        let e = event(json!({"order_id": "o_1"}));
        let body: serde_json::Value = serde_json::from_slice(&event_body(&e)).expect("json");
        assert_eq!(body["id"], 7);
        assert_eq!(body["topic"], "order.paid");
        assert_eq!(body["payload"]["order_id"], "o_1");
        assert!(body["created_at"].is_string());
    }

    #[test]
    fn a_dead_letter_carries_the_event_only_when_it_fits() {
        let e = event(json!({"note": "x".repeat(2_000)}));
        let small: serde_json::Value =
            serde_json::from_slice(&dead_letter_body(&e, "too large", 5, 1_024, true))
                .expect("json");
        assert_eq!(small["reason"], "too large");
        assert_eq!(small["attempts"], 5);
        assert!(small.get("payload").is_none());
        let large: serde_json::Value =
            serde_json::from_slice(&dead_letter_body(&e, "refused", 1, 1 << 20, true))
                .expect("json");
        assert_eq!(large["payload"]["note"].as_str().map(str::len), Some(2_000));
        let bare: serde_json::Value =
            serde_json::from_slice(&dead_letter_body(&e, "refused", 1, 1 << 20, false))
                .expect("json");
        assert!(bare.get("payload").is_none(), "asked without the event");
        assert_eq!(dead_letter_id(7), "dead_letter.7");
    }
}
