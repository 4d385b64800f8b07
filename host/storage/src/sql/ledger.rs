//! The ledger's reads, written once for both backends: balances and journals for the ledger
//! routes and `ledger check`. Journals are written only by
//! [`ChangeStore::apply`](arbiter_transactions::store::ChangeStore::apply).

use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::ledger::{Account, Balance, Journal};
use arbiter_transactions::store::LedgerStore;
use async_trait::async_trait;

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{BalanceRow, JournalEntryRow, db, journals};

macro_rules! ledger_store {
    ($store:ty) => {
        #[async_trait]
        impl LedgerStore for $store {
            async fn balance(&self, account: &Account) -> Result<Vec<Money>, TxError> {
                let rows: Vec<BalanceRow> = sqlx::query_as(
                    "SELECT account, currency, balance_minor FROM ledger_balances \
                     WHERE account = $1 ORDER BY currency",
                )
                .bind(account.as_str())
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter()
                    .map(|r| Ok(r.into_balance()?.amount))
                    .collect()
            }

            async fn journals(&self) -> Result<Vec<Journal>, TxError> {
                let rows: Vec<JournalEntryRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT j.id, j.kind, j.reference, j.created_at, e.account, e.amount_minor, \
                     e.currency FROM ledger_journals j JOIN ledger_entries e \
                     ON e.journal_id = j.id ORDER BY j.id, e.line",
                )
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                Ok(journals(rows)?)
            }

            async fn balances(&self) -> Result<Vec<Balance>, TxError> {
                let rows: Vec<BalanceRow> = sqlx::query_as(
                    "SELECT account, currency, balance_minor FROM ledger_balances \
                     ORDER BY account, currency",
                )
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter().map(|r| Ok(r.into_balance()?)).collect()
            }
        }
    };
}

ledger_store!(SqliteStore);
ledger_store!(PgStore);
