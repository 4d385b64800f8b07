//! `arbiter recon`: reconciliation from the command line, against the database (no server
//! needed). `import` reads a channel's statement file whole and archives it with its rows, as
//! `POST /v1/reconciliation/statements` does (audited as the CLI's), without the HTTP upload
//! cap; a file that does not read is refused with its line and nothing is stored.

use std::path::PathBuf;

use anyhow::Context;
use arbiter_engine::audit::Actor;
use arbiter_transactions::reconciliation::archive::{Imported, MAX_STATEMENT_BYTES, prepare};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;

use crate::config::StorageArgs;
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
}

pub async fn run(command: ReconCommand) -> anyhow::Result<()> {
    let ReconCommand::Import {
        channel,
        date,
        file,
        storage,
    } = command;
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
