//! `arbiter serve` flags for the outbox (issue 21): its relay to NATS JetStream and its
//! retention. Without `--nats-url` nothing is relayed and the outbox is only the pull feed
//! (`GET /v1/events`).

use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// NATS server(s) to relay the outbox to (`nats://host:4222`, comma-separated for a
    /// cluster), on JetStream. Unset: nothing is relayed.
    #[arg(long, env = "ARBITER_NATS_URL")]
    pub nats_url: Option<String>,
    /// Subject prefix: an event of topic `order.paid` goes to `<prefix>.order.paid`; a refused
    /// one to `<prefix>.dead_letter.<topic>`.
    #[arg(long, env = "ARBITER_NATS_PREFIX", default_value = "arbiter",
          value_parser = subject_prefix)]
    pub nats_prefix: String,
    /// The JetStream stream the relay declares (or verifies) at start, over `<prefix>.>`.
    #[arg(long, env = "ARBITER_NATS_STREAM", default_value = "ARBITER_EVENTS",
          value_parser = stream_name)]
    pub nats_stream: String,
    /// The stream's de-duplication window, in seconds: a relay that takes over re-publishes
    /// the events since the last recorded position, and the stream drops those it holds. It
    /// must be longer than a takeover (`--relay-lease-secs` and a restart).
    #[arg(long, env = "ARBITER_NATS_DUPLICATE_WINDOW_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub nats_duplicate_window_secs: u64,
    /// How long a replica holds the relay without renewing before another takes it over.
    #[arg(long, env = "ARBITER_RELAY_LEASE_SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub relay_lease_secs: u64,
    /// Events published before their acknowledgements are awaited.
    #[arg(long, env = "ARBITER_RELAY_BATCH", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub relay_batch: u32,
    /// How often, in milliseconds, an idle relay looks for new events.
    #[arg(long, env = "ARBITER_RELAY_POLL_MS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub relay_poll_ms: u64,
    /// How long to wait for the stream's acknowledgement of one event, in milliseconds.
    #[arg(long, env = "ARBITER_NATS_ACK_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=120_000))]
    pub nats_ack_timeout_ms: u64,
    /// The longest back-off, in milliseconds, between attempts while NATS is away or refuses.
    #[arg(long, env = "ARBITER_RELAY_BACKOFF_MAX_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub relay_backoff_max_ms: u64,
    /// Attempts at an event the server refuses (too large, not permitted) before it goes to
    /// the dead-letter subject with the reason.
    #[arg(long, env = "ARBITER_RELAY_DEAD_LETTER_AFTER", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub relay_dead_letter_after: u32,
    /// Outbox events older than this many seconds are deleted (with the relay on, only those
    /// it published); 0 keeps every event. A pull consumer further behind is told its events
    /// expired.
    #[arg(long, env = "ARBITER_OUTBOX_RETENTION_SECS", default_value_t = 604_800)]
    pub outbox_retention_secs: u64,
    /// Decisions and reviews write their events to the outbox too (`decision.made`,
    /// `review.opened`, `review.resolved`; no personal data), relayed like the others. Costs an
    /// outbox row per decision.
    #[arg(long, env = "ARBITER_DECISION_EVENTS")]
    pub decision_events: bool,
}

/// The flags' defaults: nothing relayed.
impl Default for RelayArgs {
    fn default() -> RelayArgs {
        RelayArgs {
            nats_url: None,
            nats_prefix: "arbiter".into(),
            nats_stream: "ARBITER_EVENTS".into(),
            nats_duplicate_window_secs: 600,
            relay_lease_secs: 15,
            relay_batch: 256,
            relay_poll_ms: 10,
            nats_ack_timeout_ms: 5_000,
            relay_backoff_max_ms: 5_000,
            relay_dead_letter_after: 5,
            outbox_retention_secs: 604_800,
            decision_events: false,
        }
    }
}

impl RelayArgs {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.relay_lease_secs)
    }

    pub fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.nats_duplicate_window_secs)
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.relay_poll_ms)
    }

    pub fn ack_timeout(&self) -> Duration {
        Duration::from_millis(self.nats_ack_timeout_ms)
    }

    pub fn outbox_retention(&self) -> Duration {
        Duration::from_secs(self.outbox_retention_secs)
    }

    pub fn backoff_max(&self) -> Duration {
        Duration::from_millis(self.relay_backoff_max_ms)
    }
}

/// Dot-separated tokens of letters, digits, `-` and `_` (no wildcards, no spaces).
fn subject_prefix(text: &str) -> Result<String, String> {
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if text.len() <= 128 && text.split('.').all(token_ok) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a subject prefix: dot-separated tokens of letters, digits, `-` and `_`"
        ))
    }
}

/// JetStream stream names: letters, digits, `-` and `_`, at most 64.
fn stream_name(text: &str) -> Result<String, String> {
    if !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a stream name: 1 to 64 letters, digits, `-` and `_`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        relay: RelayArgs,
    }

    #[test]
    fn defaults_relay_nothing_and_flags_are_read() {
        let cli = Cli::try_parse_from(["arbiter"]).expect("defaults");
        let fallback = RelayArgs::default();
        assert_eq!(
            format!("{:?}", cli.relay),
            format!("{fallback:?}"),
            "the flags' defaults and `Default` agree"
        );
        assert_eq!(cli.relay.nats_url, None);
        assert_eq!(cli.relay.nats_prefix, "arbiter");
        assert_eq!(cli.relay.lease(), Duration::from_secs(15));
        let cli = Cli::try_parse_from([
            "arbiter",
            "--nats-url",
            "nats://127.0.0.1:4222",
            "--nats-prefix",
            "shop.events",
            "--nats-stream",
            "SHOP",
            "--relay-lease-secs",
            "3",
        ])
        .expect("flags");
        assert_eq!(cli.relay.nats_prefix, "shop.events");
        assert_eq!(cli.relay.nats_stream, "SHOP");
        assert_eq!(cli.relay.lease(), Duration::from_secs(3));
    }

    #[test]
    fn wildcards_and_spaces_are_refused_in_names() {
        for prefix in ["arbiter.>", "a..b", "a b", "*", "", ".a"] {
            assert!(
                Cli::try_parse_from(["arbiter", "--nats-prefix", prefix]).is_err(),
                "{prefix:?}"
            );
        }
        for stream in ["A.B", "A B", "", "A>"] {
            assert!(
                Cli::try_parse_from(["arbiter", "--nats-stream", stream]).is_err(),
                "{stream:?}"
            );
        }
    }
}
