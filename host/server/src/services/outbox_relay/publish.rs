//! Publishing a page of the feed to the stream, in order, and knowing exactly how much of it
//! the stream holds when something fails.
//!
//! Awaiting each acknowledgement before the next publish keeps the order but costs a round
//! trip per event; publishing a page at once does not, but if one message is lost (NATS
//! restarting under us) the next could still be stored, ahead of it. So every message after
//! the first carries `Nats-Expected-Last-Msg-Id` = its predecessor's id: the stream stores it
//! only right after its predecessor. Whatever happens, the events of a page the stream holds
//! are a prefix of the page, and the first failed acknowledgement marks its end.
//!
//! After a failure the stream may hold more of the page than was acknowledged (a lost
//! acknowledgement). A page therefore starts by publishing one event at a time, without the
//! expectation, until the stream stores one afresh: every event it already holds answers
//! "duplicate" (`Nats-Msg-Id` = the event's id), and once one is new, none after it can be
//! there. From then on the page is pipelined.

use arbiter_transactions::outbox::OutboxEvent;
use async_nats::connection::State;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::{self, context::PublishError, message::PublishMessage};

use super::stream::{Subjects, event_body, message_id};

/// Why publishing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// NATS is away or did not answer: nothing is wrong with the event; try again later.
    Away(String),
    /// The stream is gone (or JetStream not up yet): declare it again.
    StreamMissing,
    /// The server refused this event (too large, not permitted, or no acknowledgement while
    /// connected): counted toward the dead-letter subject.
    Refused(String),
}

/// How much of a page is on the stream.
#[derive(Debug)]
pub struct Sent {
    /// The first `confirmed` events are on the stream; the rest are not known to be.
    pub confirmed: usize,
    /// Why the rest were not confirmed (`None`: the whole page is).
    pub failure: Option<Failure>,
}

/// Publishes `events` (consecutive in the feed, everything before them on the stream) in
/// order; see the module doc.
pub async fn publish_page(
    js: &jetstream::Context,
    subjects: &Subjects,
    events: &[OutboxEvent],
) -> Sent {
    let mut confirmed = 0;
    // One at a time until the stream stores one afresh.
    while confirmed < events.len() {
        let event = &events[confirmed];
        match publish_acked(js, subjects.event(&event.topic), message(event, None)).await {
            Ok(ack) => {
                confirmed += 1;
                if !ack.duplicate {
                    break;
                }
            }
            Err(e) => return stopped(js, confirmed, e),
        }
    }
    // Then all at once, each expecting its predecessor.
    let mut pending = Vec::with_capacity(events.len() - confirmed);
    let mut send_failure = None;
    for i in confirmed..events.len() {
        let previous = message_id(events[i - 1].id);
        let message = message(&events[i], Some(&previous));
        match js
            .send_publish(subjects.event(&events[i].topic), message)
            .await
        {
            Ok(ack) => pending.push(ack),
            Err(e) => {
                send_failure = Some(e);
                break;
            }
        }
    }
    for ack in pending {
        if let Err(e) = ack.await {
            return stopped(js, confirmed, e);
        }
        confirmed += 1;
    }
    match send_failure {
        Some(e) => stopped(js, confirmed, e),
        None => Sent {
            confirmed,
            failure: None,
        },
    }
}

/// `event` as published: its body, its id, and the id it must follow when given.
fn message(event: &OutboxEvent, expected_last: Option<&str>) -> PublishMessage {
    let message = PublishMessage::build()
        .payload(event_body(event))
        .message_id(message_id(event.id));
    match expected_last {
        Some(last) => message.expected_last_message_id(last),
        None => message,
    }
}

/// Publishes one message and waits for the stream's acknowledgement.
pub async fn publish_acked(
    js: &jetstream::Context,
    subject: String,
    message: PublishMessage,
) -> Result<PublishAck, PublishError> {
    js.send_publish(subject, message).await?.await
}

fn stopped(js: &jetstream::Context, confirmed: usize, e: PublishError) -> Sent {
    let connected = js.client().connection_state() == State::Connected;
    Sent {
        confirmed,
        failure: Some(classify(&e, connected)),
    }
}

/// Whether a failed publish says something about the event (counted toward its dead letter)
/// or only about NATS (tried again without counting).
pub fn classify(e: &PublishError, connected: bool) -> Failure {
    match e.kind() {
        PublishErrorKind::MaxPayloadExceeded => Failure::Refused(e.to_string()),
        PublishErrorKind::StreamNotFound => Failure::StreamMissing,
        // The server answered with an API error of its own (the stream's message size,
        // …): the event is refused. A client-side failure (the connection's queue) is not.
        PublishErrorKind::Other
            if std::error::Error::source(e)
                .is_some_and(|s| s.downcast_ref::<jetstream::Error>().is_some()) =>
        {
            Failure::Refused(e.to_string())
        }
        // No answer while connected: a permission violation is answered that way (the
        // server drops the message and tells the connection, not the request).
        PublishErrorKind::TimedOut if connected => {
            Failure::Refused(format!("{e} (while connected)"))
        }
        // The previous message was not stored (interrupted): a fresh page starts one at a
        // time. A broken pipe, a full queue or a timeout while away: NATS, not the event.
        _ => Failure::Away(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_counts_toward_the_dead_letter_and_an_absence_does_not() {
        let e = |kind| PublishError::new(kind);
        assert!(matches!(
            classify(&e(PublishErrorKind::MaxPayloadExceeded), true),
            Failure::Refused(_)
        ));
        assert_eq!(
            classify(&e(PublishErrorKind::StreamNotFound), true),
            Failure::StreamMissing
        );
        assert!(matches!(
            classify(&e(PublishErrorKind::TimedOut), true),
            Failure::Refused(_)
        ));
        for (kind, connected) in [
            (PublishErrorKind::TimedOut, false),
            (PublishErrorKind::BrokenPipe, true),
            (PublishErrorKind::WrongLastMessageId, true),
            (PublishErrorKind::MaxAckPending, true),
            (PublishErrorKind::Other, true),
        ] {
            assert!(
                matches!(classify(&e(kind), connected), Failure::Away(_)),
                "{kind:?}"
            );
        }
    }
}
