//! The command line: `arbiter serve | migrate | keys create | ledger check`, and the remote
//! commands.

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
    Serve(ServeConfig),
    /// Apply database migrations and exit.
    Migrate(StorageArgs),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Upload policy modules to a running server.
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
    /// Import labels (a channel's chargeback file) into a running server.
    Labels {
        #[command(subcommand)]
        command: crate::remote::LabelsCommand,
    },
    /// Verify the double-entry ledger in the database.
    Ledger {
        #[command(subcommand)]
        command: crate::ledger_check::LedgerCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Mint a key and print it (once).
    Create {
        /// decide, policy:write, label:write or admin; repeatable.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
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
        Err(e) => {
            eprintln!("arbiter: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arbiter: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => {
            let store = crate::wiring::open_store(&config.storage).await?;
            let state = crate::wiring::build(&config, store).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            tracing::info!(addr = %listener.local_addr()?, "arbiter listening");
            crate::serve::serve(listener, state, crate::serve::shutdown_signal()).await?;
            Ok(())
        }
        Command::Policy { command } => crate::remote::policy(command).await,
        Command::PolicySet { command } => crate::remote::policy_set(command).await,
        Command::Rollout { command } => crate::remote::rollout(command).await,
        Command::Labels { command } => crate::remote::labels(command).await,
        Command::Ledger { command } => crate::ledger_check::run(command).await,
        Command::Migrate(storage) => {
            crate::wiring::open_store(&storage).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Create { scopes, storage },
        } => {
            let scopes = crate::services::keys::parse_scopes(&scopes)?;
            let store = crate::wiring::open_store(&storage).await?;
            let keys = crate::services::keys::KeyService::load(store.store).await?;
            let new = keys.create(scopes).await?;
            println!("{}", new.secret);
            eprintln!(
                "created {} with scopes {:?}",
                new.record.id, new.record.scopes
            );
            Ok(())
        }
    }
}
