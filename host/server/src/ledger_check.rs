//! `arbiter ledger check`: opens the store the way `arbiter migrate` does, re-sums every
//! journal and kept balance, prints the report as JSON and fails (exit 1) on any imbalance.

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::config::StorageArgs;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Every journal balances per currency and every kept balance equals its entries.
    Check(StorageArgs),
}

pub async fn run(command: LedgerCommand) -> anyhow::Result<()> {
    let LedgerCommand::Check(storage) = command;
    let stores = crate::wiring::open_store(&storage).await?;
    let report = stores
        .transactions
        .check_ledger()
        .await
        .context("reading the ledger")?;
    let mismatched: Vec<_> = report
        .mismatched_balances
        .iter()
        .map(|(account, currency, kept, summed)| {
            json!({"account": account, "currency": currency,
                   "kept": kept.to_string(), "summed": summed.to_string()})
        })
        .collect();
    let out = json!({
        "sound": report.is_sound(),
        "journals": report.journals,
        "unbalanced_journals": report.unbalanced_journals,
        "mismatched_balances": mismatched,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    anyhow::ensure!(
        report.is_sound(),
        "the ledger does not balance: {} unbalanced journal(s), {} mismatched balance(s)",
        report.unbalanced_journals.len(),
        report.mismatched_balances.len()
    );
    Ok(())
}
