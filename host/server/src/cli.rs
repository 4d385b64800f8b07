//! The command line: `arbiter serve | migrate | keys list|create|revoke | ledger check`, and
//! the remote commands.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{ServeConfig, StorageArgs};

#[derive(Debug, Parser)]
#[command(
    name = "arbiter",
    version,
    about = "Risk decisions for checkout and payments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate(StorageArgs),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The payment channel table: list it, switch a channel on or off.
    Channels {
        #[command(subcommand)]
        command: crate::channels_cli::ChannelsCommand,
    },
    /// Reconciliation: import a channel's statement file.
    Recon {
        #[command(subcommand)]
        command: crate::recon_cli::ReconCommand,
    },
    /// Check, compile and test rule files locally; push them to a running server.
    Rule {
        #[command(subcommand)]
        command: crate::rule_cli::RuleCommand,
    },
    /// Upload policy modules to a running server; try one on a context locally.
    Policy {
        #[command(subcommand)]
        command: crate::remote::PolicyCommand,
    },
    /// Create policy sets on a running server.
    #[command(name = "policy-set")]
    PolicySet {
        #[command(subcommand)]
        command: crate::remote::PolicySetCommand,
    },
    /// Start, promote, roll back and inspect rollouts on a running server.
    Rollout {
        #[command(subcommand)]
        command: crate::remote::RolloutCommand,
    },
    /// Show or set the exchange-rate table (amounts in the reporting currency) of a running
    /// server.
    Rates {
        #[command(subcommand)]
        command: crate::rates_cli::RatesCommand,
    },
    /// Backtest a policy set on a running server: replay it over stored decisions and compare
    /// it with what was decided and what the labels say (needs `policy:write`).
    Backtest(crate::backtest_cli::BacktestArgs),
    /// Import labels (a channel's chargeback file) into a running server.
    Labels {
        #[command(subcommand)]
        command: crate::remote::LabelsCommand,
    },
    /// A person's data on a running server: erase them (needs `admin`).
    Subjects {
        #[command(subcommand)]
        command: crate::subjects_cli::SubjectsCommand,
    },
    /// Copy the embedded SQLite database to a file while the service runs.
    Backup(crate::backup_cli::BackupArgs),
    /// Verify the double-entry ledger in the database.
    Ledger {
        #[command(subcommand)]
        command: crate::ledger_check::LedgerCommand,
    },
}

/// Key commands work on the database directly (no running server, no key needed): they are how
/// an operator gets a first key, or a new one when every admin key is lost or revoked.
#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print every key as JSON (never a secret or hash), oldest first.
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Mint a key and print it (once).
    Create {
        /// What the key is for (who holds it), 1–100 characters.
        #[arg(long)]
        name: String,
        /// decide, decisions:read, orders:write, refunds:write, policy:write, policy:approve,
        /// label:write or admin; repeatable.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// When the key stops working (RFC 3339, in the future). Absent: never.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Revoke a key by id and print it as JSON; revoking it again changes nothing. Running
    /// servers refuse it within a few seconds.
    Revoke {
        /// The key's id (`key_…`).
        id: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (log_format, to_stderr) = match &cli.command {
        Command::Serve(c) => (c.log_format, false),
        _ => (Default::default(), true),
    };
    crate::telemetry::init(log_format, to_stderr);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(log_format, &format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fatal(log_format, &format!("{e:#}")),
    }
}

/// Reports the error that stops the process: a JSON log line under `--log-format json` (so a
/// log collector sees why a replica would not start), a plain line on stderr otherwise.
fn fatal(format: crate::config::LogFormat, error: &str) -> ExitCode {
    match format {
        crate::config::LogFormat::Json => tracing::error!(error, "arbiter stopped"),
        crate::config::LogFormat::Text => eprintln!("arbiter: {error}"),
    }
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(mut config) => {
            let store = crate::wiring::open_store(&config.storage).await?;
            // Bound before the services are built, so the address the channels notify is
            // known also when the port is chosen by the system.
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            config.listen = listener.local_addr()?;
            let state = crate::wiring::build(&config, store).await?;
            tracing::info!(addr = %listener.local_addr()?, "arbiter listening");
            crate::serve::serve(listener, state, crate::serve::shutdown_signal()).await?;
            Ok(())
        }
        Command::Rule { command } => crate::rule_cli::run(command).await,
        Command::Policy { command } => crate::remote::policy(command).await,
        Command::PolicySet { command } => crate::remote::policy_set(command).await,
        Command::Rollout { command } => crate::remote::rollout(command).await,
        Command::Labels { command } => crate::remote::labels(command).await,
        Command::Subjects { command } => crate::subjects_cli::run(command).await,
        Command::Rates { command } => crate::rates_cli::run(command).await,
        Command::Backtest(args) => crate::backtest_cli::run(args).await,
        Command::Ledger { command } => crate::ledger_check::run(command).await,
        Command::Backup(args) => crate::backup_cli::run(args).await,
        Command::Migrate(storage) => {
            crate::wiring::open_store(&storage).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys { command } => keys(command).await,
        Command::Channels { command } => crate::channels_cli::run(command).await,
        Command::Recon { command } => crate::recon_cli::run(command).await,
    }
}

async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    use crate::http::keys::{KeyView, RevokedKey};
    use crate::services::keys::{KeyService, NewKeyRequest};
    use arbiter_engine::audit::Actor;

    let open = |storage: StorageArgs| async move {
        let stores = crate::wiring::open_store(&storage).await?;
        anyhow::Ok(KeyService::load(stores.store).await?)
    };
    match command {
        KeysCommand::List { storage } => {
            let all = open(storage).await?.list().await?;
            let views: Vec<KeyView> = all.iter().map(KeyView::from).collect();
            println!("{}", serde_json::to_string_pretty(&views)?);
        }
        KeysCommand::Create {
            name,
            scopes,
            expires_at,
            storage,
        } => {
            let request = NewKeyRequest {
                name,
                scopes,
                expires_at,
            };
            // Refuse bad input before touching the database.
            let spec = crate::services::keys::validate(request, chrono::Utc::now())?;
            let new = open(storage).await?.mint(spec, &Actor::cli()).await?;
            println!("{}", new.secret);
            eprintln!(
                "created {} `{}` with scopes {:?}",
                new.record.id, new.record.name, new.record.scopes
            );
        }
        KeysCommand::Revoke { id, storage } => {
            let revoked = RevokedKey::from(open(storage).await?.revoke(&id, &Actor::cli()).await?);
            if revoked.already_revoked {
                eprintln!("{id} was already revoked");
            }
            println!("{}", serde_json::to_string_pretty(&revoked)?);
        }
    }
    Ok(())
}
