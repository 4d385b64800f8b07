//! `arbiter ledger check`: opens the store the way `arbiter migrate` does, re-sums every
//! journal and kept balance, checks that every day reconciled clean left its channel's
//! clearing account at zero, prints the report as JSON and fails (exit 1) on any imbalance.

use anyhow::Context;
use arbiter_transactions::reconciliation::settlement::day_results;
use clap::Subcommand;
use serde_json::json;

use crate::config::StorageArgs;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Every journal balances per currency, every kept balance equals its entries, and every
    /// day reconciled clean left its channel's clearing account at zero.
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
    let uncleared = uncleared_days(&*stores.transactions).await?;
    let mismatched: Vec<_> = report
        .mismatched_balances
        .iter()
        .map(|(account, currency, kept, summed)| {
            json!({"account": account, "currency": currency,
                   "kept": kept.to_string(), "summed": summed.to_string()})
        })
        .collect();
    let sound = report.is_sound() && uncleared.is_empty();
    let out = json!({
        "sound": sound,
        "journals": report.journals,
        "unbalanced_journals": report.unbalanced_journals,
        "mismatched_balances": mismatched,
        "uncleared_days": uncleared,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    anyhow::ensure!(
        sound,
        "the ledger does not balance: {} unbalanced journal(s), {} mismatched balance(s), {} \
         clean day(s) whose clearing account is not zero",
        report.unbalanced_journals.len(),
        report.mismatched_balances.len(),
        uncleared.len()
    );
    Ok(())
}

/// The days reconciled clean whose clearing account is not zero: the channel still owes (or
/// was paid) something the statement does not explain.
async fn uncleared_days(
    store: &dyn arbiter_transactions::store::TransactionStore,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut uncleared = Vec::new();
    for (channel, date) in store.clean_days().await.context("reading the clean days")? {
        let journals = store
            .day_journals(&channel, date)
            .await
            .context("reading a day's journals")?;
        for result in day_results(&journals, &channel, date) {
            if !result.clearing.is_zero() {
                uncleared.push(json!({"channel": channel, "date": date.to_string(),
                    "currency": result.currency.code(), "clearing": result.clearing.to_string()}));
            }
        }
    }
    Ok(uncleared)
}
