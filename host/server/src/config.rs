//! Configuration of `arbiter serve`, from flags and environment.

mod channels;
mod reconciliation;
mod relay;
mod retention;

pub use channels::ChannelArgs;
pub use reconciliation::{FeeArgs, ReconArgs};
pub use relay::RelayArgs;
pub use retention::RetentionArgs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where the data lives. Shared by every subcommand that touches storage.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite database and the admin key file.
    #[arg(long, env = "ARBITER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; unset means SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    #[arg(long, env = "ARBITER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Redis for shared counters and notifications (scale-out); unset means in-process.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so several deployments (or test runs) can share
    /// one Redis.
    #[arg(long, env = "ARBITER_REDIS_PREFIX", default_value = "arbiter:")]
    pub redis_prefix: String,
    #[arg(long, env = "ARBITER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Memory of the in-process velocity counters, in MiB (an entity costs at most 2.3 KiB,
    /// whatever its id's length; the least recently counted go first).
    #[arg(long, env = "ARBITER_VELOCITY_MEMORY_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub velocity_memory_mib: u64,
    /// Estimated memory of the link graph, in MiB; past it the maintenance pass evicts the
    /// least recently seen unmarked entities.
    #[arg(long, env = "ARBITER_GRAPH_MEMORY_MIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1 << 22))]
    pub graph_memory_mib: u64,
    /// With several replicas on PostgreSQL: how often, in milliseconds, the link graph reads
    /// the decisions and labels the other replicas committed (a full page is followed at once
    /// by the next). 0 turns following off: each replica then links only its own decisions.
    #[arg(long, env = "ARBITER_GRAPH_FOLLOW_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub graph_follow_ms: u64,
    /// Decisions that may wait for the log writer before requests get 503.
    #[arg(long, env = "ARBITER_LOG_QUEUE", default_value_t = 4096)]
    pub log_queue: usize,
    /// Most decisions written in one group commit.
    #[arg(long, env = "ARBITER_LOG_BATCH", default_value_t = 256)]
    pub log_batch: usize,
    /// Uploaded modules compiled at once; past it an upload gets 503 with `Retry-After`.
    #[arg(long, env = "ARBITER_MAX_COMPILATIONS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_compilations: u32,
    /// Most modules one policy set may name.
    #[arg(long, env = "ARBITER_MAX_SET_MODULES", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_set_modules: u32,
    /// Backtests running at once on this replica; past it a start gets 429 with `Retry-After`.
    #[arg(long, env = "ARBITER_MAX_BACKTESTS", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_backtests: u32,
    /// Threads one backtest replays on. Default: half the cores, at least one, so decisions
    /// keep the rest.
    #[arg(long, env = "ARBITER_BACKTEST_WORKERS",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub backtest_workers: Option<u32>,
    /// Share of the time (percent) a backtest keeps busy; it rests the rest after each page,
    /// so decisions keep their latency. 100 runs flat out.
    #[arg(long, env = "ARBITER_BACKTEST_DUTY", default_value_t = 25,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub backtest_duty: u8,
    /// Guarded activation: a set takes live traffic (a live rollout above 0 %, a promotion)
    /// only after a successful backtest of it finished within this many days.
    #[arg(long, env = "ARBITER_REQUIRE_BACKTEST_DAYS",
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub require_backtest_days: Option<u32>,
    /// Guarded activation (maker-checker): a set takes live traffic only once a key other
    /// than the caller's has approved it (`policy:approve` or `admin`).
    #[arg(long, env = "ARBITER_REQUIRE_APPROVAL")]
    pub require_approval: bool,
    #[command(flatten)]
    pub http: HttpLimits,
    #[command(flatten)]
    pub transactions: TransactionArgs,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub reviews: ReviewArgs,
    #[command(flatten)]
    pub recon: ReconArgs,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// How reviewers work the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct ReviewArgs {
    /// A review open longer than this is overdue (the queue shows each case's age against it).
    #[arg(long, env = "ARBITER_REVIEW_SLA_MINS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub review_sla_mins: u32,
    /// How long a claimed case stays with its reviewer; when the lease lapses the case is
    /// back in the queue for anyone.
    #[arg(long, env = "ARBITER_REVIEW_LEASE_MINS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_440))]
    pub review_lease_mins: u32,
    /// How long a console sign-in lasts (never past its key's expiry).
    #[arg(long, env = "ARBITER_CONSOLE_SESSION_HOURS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=168))]
    pub console_session_hours: u32,
    /// Mark the console's session cookie `Secure`: set it when the service is reached over
    /// HTTPS (a browser then never sends the cookie in clear).
    #[arg(long, env = "ARBITER_CONSOLE_SECURE_COOKIE")]
    pub console_secure_cookie: bool,
}

impl Default for ReviewArgs {
    fn default() -> Self {
        ReviewArgs {
            review_sla_mins: 30,
            review_lease_mins: 10,
            console_session_hours: 8,
            console_secure_cookie: false,
        }
    }
}

impl ReviewArgs {
    pub fn sla(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.review_sla_mins))
    }

    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.review_lease_mins))
    }

    pub fn console_session(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.console_session_hours))
    }
}

/// What one client may hold of the HTTP server, and how long a stop may take. Every timeout
/// closes or refuses only the connection or request that overran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct HttpLimits {
    /// A request's header must arrive in full within this time of its first byte (of accept,
    /// for a connection's first request); past it the connection is closed.
    #[arg(long, env = "ARBITER_HEADER_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,
    /// A request's body must arrive in full within this time of its header; past it the
    /// request gets 408 and the connection is closed.
    #[arg(long, env = "ARBITER_BODY_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_ms: u64,
    /// A kept-alive connection with no request under way is closed after this long (from its
    /// last response until the first byte of the next request).
    #[arg(long, env = "ARBITER_IDLE_TIMEOUT_MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_ms: u64,
    /// Connections served at once; further ones wait, unaccepted, in the kernel's listen
    /// backlog until one closes.
    #[arg(long, env = "ARBITER_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Requests handled at once; further ones get 503 with `Retry-After` (`/healthz` is
    /// exempt, so liveness holds under load).
    #[arg(long, env = "ARBITER_MAX_IN_FLIGHT", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// After SIGTERM, how long requests under way may take to finish; then their connections
    /// are closed and the process stops (the decision log is flushed either way).
    #[arg(long, env = "ARBITER_SHUTDOWN_GRACE_MS", default_value_t = 20_000)]
    pub shutdown_grace_ms: u64,
}

impl Default for HttpLimits {
    /// The same values as the flags' defaults (a test holds them equal).
    fn default() -> HttpLimits {
        HttpLimits {
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 1024,
            max_in_flight: 512,
            shutdown_grace_ms: 20_000,
        }
    }
}

impl HttpLimits {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

/// What a risk-host timeout or error means for a transaction-core step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailModeArg {
    /// Go on as if the risk host had accepted (recorded on the order).
    Open,
    /// Refuse the step (recorded).
    Closed,
}

/// The transaction core's settings. The card webhook's signing secret is not among them: it
/// is read from `ARBITER_CARD_WEBHOOK_SECRET` only (a flag would show it in `ps`), else from
/// `<data-dir>/card-webhook.secret`. Every replica of one deployment must share it.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct TransactionArgs {
    /// Where the simulated card channel posts its webhooks; unset means this server, at the
    /// address the channel trigger was sent to.
    #[arg(long, env = "ARBITER_CARD_WEBHOOK_URL")]
    pub card_webhook_url: Option<String>,
    /// Longest wait for a risk decision before the step's fail mode applies.
    #[arg(long, env = "ARBITER_RISK_TIMEOUT_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub risk_timeout_ms: u64,
    /// `order.create` when the risk host fails.
    #[arg(long, env = "ARBITER_ORDER_RISK_FAIL_MODE", value_enum, default_value_t = FailModeArg::Open)]
    pub order_risk_fail_mode: FailModeArg,
    /// `payment.authorize` and `refund.request` when the risk host fails.
    #[arg(long, env = "ARBITER_PAYMENT_RISK_FAIL_MODE", value_enum, default_value_t = FailModeArg::Closed)]
    pub payment_risk_fail_mode: FailModeArg,
    /// How long an unpaid order holds its stock.
    #[arg(long, env = "ARBITER_ORDER_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub order_ttl_secs: u64,
    /// How often the expiry worker looks for due orders.
    #[arg(long, env = "ARBITER_EXPIRY_INTERVAL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub expiry_interval_ms: u64,
    /// With Redis: how often the due rows Redis lost are put back (also once at start).
    #[arg(long, env = "ARBITER_EXPIRY_SWEEP_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub expiry_sweep_ms: u64,
}

impl Default for TransactionArgs {
    /// The same values as the flags' defaults (a test holds them equal).
    fn default() -> TransactionArgs {
        TransactionArgs {
            card_webhook_url: None,
            risk_timeout_ms: 200,
            order_risk_fail_mode: FailModeArg::Open,
            payment_risk_fail_mode: FailModeArg::Closed,
            order_ttl_secs: 900,
            expiry_interval_ms: 1000,
            expiry_sweep_ms: 30_000,
        }
    }
}

impl ServeConfig {
    /// The velocity counters' bound in bytes.
    pub fn velocity_max_bytes(&self) -> u64 {
        self.velocity_memory_mib << 20
    }

    /// What backtests may cost this replica.
    pub fn backtest_limits(&self) -> crate::services::backtests::BacktestLimits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        crate::services::backtests::BacktestLimits {
            running: self.max_backtests,
            workers: self.backtest_workers.unwrap_or((cores / 2).max(1)),
            duty_percent: self.backtest_duty,
            ..Default::default()
        }
    }

    /// The link graph's settings: defaults with the configured memory bound.
    pub fn graph(&self) -> arbiter_graph::Config {
        arbiter_graph::Config {
            byte_cap: usize::try_from(self.graph_memory_mib << 20).unwrap_or(usize::MAX),
            ..arbiter_graph::Config::default()
        }
    }

    /// A configuration for tests and embedding: SQLite in `data_dir`, port chosen by the caller.
    pub fn for_data_dir(data_dir: PathBuf, database_url: Option<String>) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage: StorageArgs {
                data_dir,
                database_url,
            },
            redis_url: None,
            redis_prefix: "arbiter:".into(),
            log_format: LogFormat::Text,
            velocity_memory_mib: 16,
            graph_memory_mib: 256,
            graph_follow_ms: 100,
            log_queue: 4096,
            log_batch: 256,
            max_compilations: 2,
            max_set_modules: 32,
            max_backtests: 1,
            backtest_workers: None,
            backtest_duty: 25,
            require_backtest_days: None,
            require_approval: false,
            http: HttpLimits::default(),
            transactions: TransactionArgs::default(),
            channels: ChannelArgs {
                channel_query_after_secs: 60,
                channel_query_interval_ms: 5_000,
                ..ChannelArgs::default()
            },
            reviews: ReviewArgs::default(),
            recon: ReconArgs::default(),
            relay: RelayArgs::default(),
            retention: RetentionArgs::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        transactions: TransactionArgs,
        #[command(flatten)]
        http: HttpLimits,
    }

    #[test]
    fn http_limit_defaults_match_the_flags_and_zero_is_refused() {
        let parsed = Cli::try_parse_from(["arbiter"]).expect("no flags");
        assert_eq!(parsed.http, HttpLimits::default());
        let set = Cli::try_parse_from(["arbiter", "--max-in-flight", "8"]).expect("flag");
        assert_eq!(set.http.max_in_flight, 8);
        for flag in [
            "--header-timeout-ms",
            "--body-timeout-ms",
            "--idle-timeout-ms",
            "--max-connections",
            "--max-in-flight",
        ] {
            let refused = Cli::try_parse_from(["arbiter", flag, "0"]).err();
            let message = refused.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(flag), "{flag} 0 refused: {message}");
        }
    }

    #[test]
    fn transaction_defaults_match_the_flags_and_bad_values_are_refused() {
        let parsed = Cli::try_parse_from(["arbiter"]).expect("no flags");
        assert_eq!(parsed.transactions, TransactionArgs::default());
        let set = Cli::try_parse_from([
            "arbiter",
            "--order-risk-fail-mode",
            "closed",
            "--order-ttl-secs",
            "60",
        ])
        .expect("flags");
        assert_eq!(set.transactions.order_risk_fail_mode, FailModeArg::Closed);
        assert_eq!(set.transactions.order_ttl_secs, 60);
        for bad in [
            ["--order-ttl-secs", "0"],
            ["--risk-timeout-ms", "soon"],
            ["--payment-risk-fail-mode", "maybe"],
        ] {
            let refused = Cli::try_parse_from(["arbiter", bad[0], bad[1]]).err();
            let message = refused.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains(bad[0]),
                "{bad:?} refused naming the flag: {message}"
            );
        }
    }
}
