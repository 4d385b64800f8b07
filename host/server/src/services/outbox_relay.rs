//! The outbox relay (issue 21): every committed outbox row, in feed order, published to NATS
//! JetStream on `<prefix>.<topic>` with `Nats-Msg-Id` = the row's id, so that downstream
//! systems get a stream instead of polling `GET /v1/events`.
//!
//! - **At least once from here, exactly once in the stream.** The relay records its position
//!   (the last event the stream acknowledged) in the database after each page; after a crash
//!   or a takeover it publishes again from there, and the stream's de-duplication window drops
//!   what it already holds.
//! - **In order.** The feed's order is each order's steps in the order they happened; a page
//!   is published so that what the stream holds is always a prefix of it
//!   ([`publish`]'s module doc), so the stream keeps the feed's order.
//! - **One relay across replicas**, by a lease in the database (`outbox_relay`): the holder
//!   renews it with every position it records; another replica takes over once it lapses.
//!   Every replica publishing with de-duplication doing the rest would also keep the order,
//!   but measured (BENCHMARKS.md, "Outbox relay") two publishers deliver 5× slower and cost
//!   NATS 7× the CPU per event: each one's chain of expected ids keeps breaking on the
//!   other's messages. A takeover within seconds gives the same availability.
//! - **NATS away**: rows wait in the outbox, the relay backs off (doubling, capped), and
//!   `/readyz` says it is degraded with its lag; decisions and orders never wait for it (the
//!   outbox row is written with their change; the relay only reads).
//! - **An event the server refuses** (larger than its `max_payload`, the stream's size limit,
//!   a subject it does not permit) is tried `--relay-dead-letter-after` times, then goes to
//!   `<prefix>.dead_letter.<topic>` with the reason, and `arbiter_outbox_dead_letters_total`
//!   counts it.

mod publish;
mod status;
mod stream;

pub use status::{RelayReport, RelayStatus};

use std::sync::Arc;
use std::time::{Duration, Instant};

use arbiter_transactions::outbox::{FeedRead, OutboxEvent};
use arbiter_transactions::store::TransactionStore;
use async_nats::connection::State;
use async_nats::jetstream::{self, message::PublishMessage};
use chrono::Utc;
use tokio::task::JoinHandle;

use self::publish::{Failure, classify, publish_acked, publish_page};
use self::stream::{Subjects, dead_letter_body, dead_letter_id, declare};
use crate::config::RelayArgs;
use crate::metrics::names;

/// The relay's row in `outbox_relay`: one relay per deployment.
pub const RELAY_NAME: &str = "nats";
/// The first back-off after a failure; it doubles up to `--relay-backoff-max-ms`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The running relay of this replica; dropping it stops it.
pub struct OutboxRelay {
    status: Arc<RelayStatus>,
    task: JoinHandle<()>,
}

impl Drop for OutboxRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OutboxRelay {
    /// Connects to NATS (in the background: the service starts whether or not NATS is up)
    /// and starts relaying whenever this replica holds the lease.
    pub async fn start(
        store: Arc<dyn TransactionStore>,
        args: &RelayArgs,
    ) -> anyhow::Result<Option<OutboxRelay>> {
        let Some(url) = args.nats_url.as_deref() else {
            return Ok(None);
        };
        let cap = args.backoff_max();
        let (url, options) = signed_in(url)?;
        let client = options
            .name("arbiter-outbox-relay")
            .retry_on_initial_connect()
            .reconnect_delay_callback(move |attempts| backoff(attempts, cap))
            .connect(url)
            .await?;
        let js = jetstream::ContextBuilder::new()
            .timeout(args.ack_timeout())
            .build(client);
        let status = Arc::new(RelayStatus::default());
        let relay = Relay {
            store,
            js,
            subjects: Subjects {
                prefix: args.nats_prefix.clone(),
                stream: args.nats_stream.clone(),
                duplicate_window: args.duplicate_window(),
            },
            holder: format!("replica_{}", uuid::Uuid::now_v7().simple()),
            lease: args.lease(),
            batch: args.relay_batch,
            poll: args.poll(),
            backoff_max: cap,
            dead_letter_after: args.relay_dead_letter_after,
            status: status.clone(),
        };
        let task = tokio::spawn(relay.run());
        Ok(Some(OutboxRelay { status, task }))
    }

    pub fn report(&self) -> RelayReport {
        self.status.report()
    }
}

/// The server addresses without credentials, and options that sign in with those the
/// URL carried (`nats://user:password@host`, or `nats://token@host`): the client takes
/// none from the URL itself.
pub fn signed_in(urls: &str) -> anyhow::Result<(String, async_nats::ConnectOptions)> {
    let mut options = async_nats::ConnectOptions::new();
    let mut bare = Vec::new();
    for one in urls.split(',') {
        let mut parsed = url::Url::parse(one.trim())
            .map_err(|e| anyhow::anyhow!("--nats-url: an address is not a URL ({e})"))?;
        let user = parsed.username().to_owned();
        let password = parsed.password().map(str::to_owned);
        if !user.is_empty() {
            options = match password {
                Some(password) => options.user_and_password(user, password),
                None => options.token(user),
            };
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
        }
        bare.push(parsed.to_string());
    }
    Ok((bare.join(","), options))
}

/// The `attempts`-th back-off: [`FIRST_BACKOFF`] doubled, at most `cap`.
fn backoff(attempts: usize, cap: Duration) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20) as u32;
    FIRST_BACKOFF.saturating_mul(1 << doublings).min(cap)
}

struct Relay {
    store: Arc<dyn TransactionStore>,
    js: jetstream::Context,
    subjects: Subjects,
    holder: String,
    lease: Duration,
    batch: u32,
    poll: Duration,
    backoff_max: Duration,
    dead_letter_after: u32,
    status: Arc<RelayStatus>,
}

/// The holder's state while it relays.
struct Holding {
    after: i64,
    /// Another replica took the relay over: stop.
    lost: bool,
    renewed: Instant,
    failures: usize,
    stream_ready: bool,
    /// The event the server refused and how many times.
    refused: Option<(i64, u32)>,
}

impl Relay {
    async fn run(self) {
        let mut failures = 0;
        loop {
            let now = Utc::now();
            match self
                .store
                .take_relay(RELAY_NAME, &self.holder, now + self.lease_chrono(), now)
                .await
            {
                Ok(Some(after)) => {
                    failures = 0;
                    self.status.set_active(true);
                    tracing::info!(after, "outbox relay: this replica relays");
                    self.hold(after).await;
                    self.status.set_active(false);
                    tracing::warn!("outbox relay: another replica took the relay over");
                }
                Ok(None) => {
                    failures = 0;
                    self.status.set_active(false);
                    tokio::time::sleep(self.lease / 3).await;
                }
                Err(e) => {
                    failures += 1;
                    self.status.failed(format!("taking the relay's lease: {e}"));
                    tokio::time::sleep(backoff(failures, self.backoff_max)).await;
                }
            }
        }
    }

    fn lease_chrono(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(15))
    }

    /// Relays from `after` for as long as this replica holds the lease.
    async fn hold(&self, after: i64) {
        let mut h = Holding {
            after,
            lost: false,
            renewed: Instant::now(),
            failures: 0,
            stream_ready: false,
            refused: None,
        };
        loop {
            let outcome = self.step(&mut h).await;
            if h.lost {
                return;
            }
            match outcome {
                Ok(true) => continue,
                Ok(false) => {
                    h.failures = 0;
                    tokio::time::sleep(self.poll).await;
                }
                Err(why) => {
                    self.status.failed(why);
                    h.failures += 1;
                    tokio::time::sleep(backoff(h.failures, self.backoff_max)).await;
                }
            }
            if h.renewed.elapsed() >= self.lease / 3 && !self.record(&mut h).await {
                return;
            }
        }
    }

    /// One page: whether there may be more right away (`Ok(true)`), the feed is drained
    /// (`Ok(false)`), or why it failed.
    ///
    /// The feed is read before NATS is asked for anything, so that the lag `/readyz` reports
    /// keeps growing while NATS is away (the oldest waiting event is known even when nothing
    /// can be published).
    async fn step(&self, h: &mut Holding) -> Result<bool, String> {
        let events = self
            .store
            .events_after(h.after, self.batch)
            .await
            .map_err(|e| format!("reading the outbox: {e}"))?;
        let FeedRead::Events(events) = events else {
            return Err(format!("the relay's position, event {}, is gone", h.after));
        };
        self.status
            .set_waiting(events.first().map(|first| first.created_at));
        if self.js.client().connection_state() != State::Connected {
            return Err("NATS is unreachable".into());
        }
        if !h.stream_ready {
            declare(&self.js, &self.subjects).await?;
            h.stream_ready = true;
        }
        if events.is_empty() {
            self.status.succeeded();
            return Ok(false);
        }
        let sent = publish_page(&self.js, &self.subjects, &events).await;
        if sent.confirmed > 0 {
            h.after = events[sent.confirmed - 1].id;
            h.refused = None;
            metrics::counter!(names::OUTBOX_RELAYED_TOTAL).increment(sent.confirmed as u64);
            if !self.record(h).await {
                return Ok(false);
            }
        }
        match sent.failure {
            None => {
                self.status.succeeded();
                Ok(events.len() == self.batch as usize)
            }
            Some(Failure::Away(why)) => Err(format!("publishing: {why}")),
            Some(Failure::StreamMissing) => {
                h.stream_ready = false;
                Err(format!("stream `{}` is missing", self.subjects.stream))
            }
            Some(Failure::Refused(why)) => {
                let event = &events[sent.confirmed];
                self.refused(h, event, why).await
            }
        }
    }

    /// The server refused `event` once more: past the attempts allowed, it goes to the
    /// dead-letter subject and the relay moves past it.
    async fn refused(
        &self,
        h: &mut Holding,
        event: &OutboxEvent,
        why: String,
    ) -> Result<bool, String> {
        let attempts = match h.refused {
            Some((id, n)) if id == event.id => n + 1,
            _ => 1,
        };
        h.refused = Some((event.id, attempts));
        if attempts < self.dead_letter_after {
            return Err(format!(
                "event {} refused (attempt {attempts}): {why}",
                event.id
            ));
        }
        self.dead_letter(event, &why, attempts).await?;
        tracing::error!(
            event = event.id,
            topic = %event.topic,
            attempts,
            reason = %why,
            "outbox relay: event sent to the dead-letter subject"
        );
        metrics::counter!(names::OUTBOX_DEAD_LETTERS_TOTAL, "topic" => event.topic.clone())
            .increment(1);
        h.after = event.id;
        h.refused = None;
        Ok(self.record(h).await)
    }

    /// Publishes `event`'s dead letter: with the event when it fits under the server's
    /// message size, and without it when the stream refuses that (its own size limit).
    async fn dead_letter(
        &self,
        event: &OutboxEvent,
        why: &str,
        attempts: u32,
    ) -> Result<(), String> {
        let max = self.js.client().server_info().max_payload;
        let mut with_event = true;
        loop {
            let letter = PublishMessage::build()
                .payload(dead_letter_body(event, why, attempts, max, with_event))
                .message_id(dead_letter_id(event.id));
            match publish_acked(&self.js, self.subjects.dead_letter(&event.topic), letter).await {
                Ok(_) => return Ok(()),
                Err(e) if with_event && matches!(classify(&e, true), Failure::Refused(_)) => {
                    with_event = false;
                }
                Err(e) => return Err(format!("dead-lettering event {}: {e}", event.id)),
            }
        }
    }

    /// Records the position and renews the lease; false (and `lost` set) when another replica
    /// holds the relay now.
    async fn record(&self, h: &mut Holding) -> bool {
        let now = Utc::now();
        match self
            .store
            .record_relayed(
                RELAY_NAME,
                &self.holder,
                h.after,
                now + self.lease_chrono(),
                now,
            )
            .await
        {
            Ok(true) => {
                h.renewed = Instant::now();
                true
            }
            Ok(false) => {
                h.lost = true;
                false
            }
            // The database is away: keep the position in memory and try again; if the lease
            // lapses meanwhile, the next record finds it taken.
            Err(e) => {
                self.status
                    .failed(format!("recording the relay's position: {e}"));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_for_the_options() {
        let (url, _) = signed_in("nats://relay:secret@127.0.0.1:4222").expect("url");
        assert_eq!(url, "nats://127.0.0.1:4222");
        let (url, _) = signed_in("nats://tok@a:1, nats://b:2").expect("urls");
        assert_eq!(url, "nats://a:1,nats://b:2");
        assert!(signed_in("not a url").is_err());
    }

    #[test]
    fn back_off_doubles_up_to_its_cap() {
        let cap = Duration::from_secs(2);
        let waits: Vec<_> = (1..=7).map(|n| backoff(n, cap).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(backoff(usize::MAX, cap), cap);
        assert_eq!(backoff(0, cap), FIRST_BACKOFF);
    }
}
