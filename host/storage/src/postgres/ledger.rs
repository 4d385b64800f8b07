//! The ledger on PostgreSQL: balances and journals for reading and for `ledger check`. Journals are
//! written only by [`ChangeStore::apply`](arbiter_transactions::store::ChangeStore::apply).

use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::ledger::{Account, Balance, Journal};
use arbiter_transactions::store::LedgerStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::transaction_rows::{BalanceRow, JournalEntryRow, db, journals};

type Time = DateTime<Utc>;

#[async_trait]
impl LedgerStore for PgStore {
    async fn balance(&self, account: &Account) -> Result<Vec<Money>, TxError> {
        let rows: Vec<BalanceRow> = sqlx::query_as(
            "SELECT account, currency, balance_minor FROM ledger_balances \
             WHERE account = $1 ORDER BY currency",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| Ok(r.into_balance()?.amount))
            .collect()
    }

    async fn journals(&self) -> Result<Vec<Journal>, TxError> {
        let rows: Vec<JournalEntryRow<Time>> = sqlx::query_as(
            "SELECT j.id, j.kind, j.reference, j.created_at, e.account, e.amount_minor, \
             e.currency FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id \
             ORDER BY j.id, e.line",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(journals(rows)?)
    }

    async fn balances(&self) -> Result<Vec<Balance>, TxError> {
        let rows: Vec<BalanceRow> = sqlx::query_as(
            "SELECT account, currency, balance_minor FROM ledger_balances \
             ORDER BY account, currency",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter().map(|r| Ok(r.into_balance()?)).collect()
    }
}
