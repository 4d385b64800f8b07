//! Configuration of `arbiter serve`, from flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Entities tracked by the in-process velocity counters (about 1.5 KiB each).
    #[arg(long, env = "ARBITER_VELOCITY_CAPACITY", default_value_t = 100_000)]
    pub velocity_capacity: u64,
    /// Decisions that may wait for the log writer before requests get 503.
    #[arg(long, env = "ARBITER_LOG_QUEUE", default_value_t = 4096)]
    pub log_queue: usize,
    /// Most decisions written in one group commit.
    #[arg(long, env = "ARBITER_LOG_BATCH", default_value_t = 256)]
    pub log_batch: usize,
}

impl ServeConfig {
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
            velocity_capacity: 10_000,
            log_queue: 4096,
            log_batch: 256,
        }
    }
}
