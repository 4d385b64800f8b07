//! What the outbox relay does with what NATS refuses (issue 21): an event the server does not
//! let it publish goes, after the attempts allowed, to `<prefix>.dead_letter.<topic>` with the
//! reason, counted by `arbiter_outbox_dead_letters_total`, and the events after it flow on in
//! order; a stream an operator made that would not de-duplicate a takeover is refused, and
//! `/readyz` says why.

use std::time::Duration;

use arbiter_host::config::RelayArgs;
use async_nats::jetstream;
use serde_json::Value;

use super::calls::config;
use super::nats_relay::{relay_args, relay_until, stream_of, whole_feed};
use crate::harness::{OwnNats, TestServer, backends, nats_url};

/// The dead-letter counter for `topic` as `/metrics` shows it (0 before the first).
async fn dead_letters(s: &TestServer, topic: &str) -> f64 {
    s.metric(&format!(
        "arbiter_outbox_dead_letters_total{{topic=\"{topic}\"}}"
    ))
    .await
}

/// Pays `n` orders and refunds each in part.
async fn refunded_orders(s: &TestServer, n: usize) {
    let key = s.checkout_key().await;
    s.sku("MUG-1", "12.00", 100).await;
    for i in 0..n {
        let (_, payment) = s.paid_order(&key, &format!("u-{i}"), "MUG-1", 1).await;
        s.refund_succeeded(&key, &format!("r-{i}"), &payment, "1.00")
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_server_refuses_goes_to_the_dead_letter_subject_and_the_rest_flow_on() {
    for backend in backends() {
        let prefix = format!("e2e_{}", uuid::Uuid::now_v7().simple());
        // The relay's NATS user may publish anything but refunds: the server drops those and
        // tells the connection, not the request.
        let nats = OwnNats::start_configured(
            Some(&format!(
                "authorization {{ users = [ {{ user: relay, password: relay, permissions: {{ \
             publish: {{ allow: [\">\"], deny: [\"{prefix}.refund.succeeded\"] }} }} }} ] }}"
            )),
            Some("relay:relay"),
        )
        .await;
        let url = nats.url();
        let args = RelayArgs {
            nats_ack_timeout_ms: 300,
            relay_dead_letter_after: 2,
            ..relay_args(&url, &prefix)
        };
        let s = TestServer::start_configured(&backend, |c| c.relay = args, config()).await;
        let before = dead_letters(&s, "refund.succeeded").await;
        refunded_orders(&s, 3).await;
        // Each order: pending payment, payment, paid, refund.
        let feed = whole_feed(&s, 12).await;
        let stream = stream_of(&url, &prefix, feed.len()).await;
        assert_eq!(stream.len(), feed.len(), "one message per event");
        let mut letters = 0;
        for (m, e) in stream.iter().zip(&feed) {
            assert_eq!(m.body["id"], e["id"], "the stream keeps the feed's order");
            if e["topic"] == "refund.succeeded" {
                letters += 1;
                assert_eq!(m.subject, format!("{prefix}.dead_letter.refund.succeeded"));
                assert_eq!(m.msg_id, format!("dead_letter.{}", e["id"]));
                assert_eq!(m.body["attempts"], 2);
                assert_eq!(
                    m.body["payload"], e["payload"],
                    "it fits: the event is kept"
                );
                let reason = m.body["reason"].as_str().expect("reason");
                assert!(reason.contains("timed out"), "{reason}");
            } else {
                assert_eq!(m.body, *e);
            }
        }
        assert_eq!(letters, 3, "each refund's event was dead-lettered");
        assert_eq!(dead_letters(&s, "refund.succeeded").await - before, 3.0);
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_would_not_deduplicate_a_takeover_is_refused_and_readyz_says_why() {
    let url = nats_url();
    let prefix = format!("e2e_{}", uuid::Uuid::now_v7().simple());
    let stream = prefix.to_uppercase();
    let js = jetstream::new(async_nats::connect(&url).await.expect("NATS_URL reachable"));
    js.create_stream(jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("{prefix}.>")],
        duplicate_window: Duration::from_secs(30),
        ..Default::default()
    })
    .await
    .expect("an operator's stream");
    let backend = backends().remove(0);
    let s =
        TestServer::start_configured(&backend, |c| c.relay = relay_args(&url, &prefix), config())
            .await;
    let ready = relay_until(&s, "refusing the stream", |r: &Value| {
        r["error"]
            .as_str()
            .is_some_and(|e| e.contains("de-duplicates"))
    })
    .await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    let error = ready["relay"]["error"].as_str().expect("error");
    assert!(
        error.contains(&stream) && error.contains("de-duplicates for 30s"),
        "{error}"
    );
    // Nothing was published to it.
    let info = js
        .get_stream(&stream)
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .state
        .messages;
    assert_eq!(info, 0);
    s.finish().await;
    js.delete_stream(&stream).await.expect("clean up");
}
