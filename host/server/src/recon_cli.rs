//! `arbiter recon`: reconciliation from the command line, against the database (no server
//! needed). `import` reads a channel's statement file whole and archives it with its rows, as
//! `POST /v1/reconciliation/statements` does (audited as the CLI's), without the HTTP upload
//! cap; a file that does not read is refused with its line and nothing is stored. `run`
//! reconciles a day and records it, as `POST /v1/reconciliation/runs`.

use std::path::PathBuf;

use anyhow::Context;
use arbiter_engine::audit::Actor;
use arbiter_transactions::reconciliation::archive::{Imported, MAX_STATEMENT_BYTES, prepare};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;

use crate::config::{FeeArgs, StorageArgs};
use crate::http::recon_runs::RunView;
use crate::http::statements::StatementView;

#[derive(Debug, Subcommand)]
pub enum ReconCommand {
    /// Import a channel's statement file as the channel delivered it; prints the statement.
    Import {
        /// `card` (balance transactions CSV), `alipay` (trade bill zip) or `wechat` (trade bill).
        #[arg(long)]
        channel: String,
        /// The day the statement covers (`YYYY-MM-DD`).
        #[arg(long)]
        date: NaiveDate,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Match a channel's statement of a day against the payment book and record the run (its
    /// tickets, the statement's fees and payout in the ledger); prints every difference.
    /// Exits non-zero when there is one.
    Run {
        #[arg(long)]
        channel: String,
        /// The statement day (`YYYY-MM-DD`; Beijing days for Alipay and WeChat Pay).
        #[arg(long)]
        date: NaiveDate,
        #[command(flatten)]
        fees: FeeArgs,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub async fn run(command: ReconCommand) -> anyhow::Result<()> {
    let (channel, date, file, storage) = match command {
        ReconCommand::Import {
            channel,
            date,
            file,
            storage,
        } => (channel, date, file, storage),
        ReconCommand::Run {
            channel,
            date,
            fees,
            storage,
        } => return run_day(&channel, date, &fees, &storage).await,
    };
    let size = std::fs::metadata(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > MAX_STATEMENT_BYTES as u64 {
        anyhow::bail!(
            "{} is {size} bytes, over {MAX_STATEMENT_BYTES}",
            file.display()
        );
    }
    let content = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let actor = Actor::cli();
    let prepared = prepare(&channel, date, content, &actor.name, Utc::now())
        .with_context(|| format!("{} was not imported", file.display()))?;
    let stores = crate::wiring::open_store(&storage).await?;
    let view = match stores
        .transactions
        .import_statement(&prepared, &actor)
        .await?
    {
        Imported::New(s) => {
            eprintln!("imported {} rows", s.row_count);
            StatementView::new(s, false)
        }
        Imported::Existing(s) => {
            eprintln!("this file was imported before as {}: nothing written", s.id);
            StatementView::new(s, true)
        }
    };
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

async fn run_day(
    channel: &str,
    date: NaiveDate,
    fees: &FeeArgs,
    storage: &StorageArgs,
) -> anyhow::Result<()> {
    let stores = crate::wiring::open_store(storage).await?;
    let day = crate::services::reconciliation::reconcile_day(
        &stores.transactions,
        &fees.schedules(),
        channel,
        date,
        &Actor::cli(),
    )
    .await?;
    let view = RunView::new(day);
    println!("{}", serde_json::to_string_pretty(&view)?);
    if !view.differences.is_empty() {
        anyhow::bail!(
            "{} differences in {} rows",
            view.differences.len(),
            view.rows
        );
    }
    Ok(())
}
