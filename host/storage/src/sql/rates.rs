//! Exchange-rate tables into the reporting currency, written once for both backends. The
//! rates are a JSON object kept as text on both: nothing queries inside it.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::money::RateTableWire;
use arbiter_engine::money::reporting::StoredRateTable;
use arbiter_engine::store::{RateStore, StoreError};
use async_trait::async_trait;
use chrono::Utc;

use crate::columns::{from_json, to_json};
use crate::dialect::{Dialect, Serialized};
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;

#[derive(sqlx::FromRow)]
struct RateTableRow<T> {
    version: i64,
    reporting_currency: String,
    rates: String,
    created_at: T,
    created_by: String,
}

impl<T: StoredTime> RateTableRow<T> {
    fn into_table(self) -> Result<StoredRateTable, StoreError> {
        Ok(StoredRateTable {
            version: self.version,
            table: RateTableWire {
                reporting_currency: self.reporting_currency,
                rates: from_json(&self.rates, "rate table")?,
            },
            created_at: self.created_at.into_utc()?,
            created_by: self.created_by,
        })
    }
}

macro_rules! rate_store {
    ($store:ty) => {
        #[async_trait]
        impl RateStore for $store {
            async fn insert_rate_table(
                &self,
                table: &RateTableWire,
                actor: &Actor,
            ) -> Result<StoredRateTable, StoreError> {
                // INVARIANT: versions are 1, 2, 3, … with no gap and no reuse: `max + 1` is
                // read and written by one statement in a transaction no other rate-table
                // writer enters (`begin_serialized`); the primary key is the backstop.
                let mut tx = self.begin_serialized(Serialized::RateTables).await?;
                let row: RateTableRow<<$store as Dialect>::Time> = sqlx::query_as(
                    "INSERT INTO rate_tables (version, reporting_currency, rates, created_at, \
                     created_by) SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4 \
                     FROM rate_tables \
                     RETURNING version, reporting_currency, rates, created_at, created_by",
                )
                .bind(&table.reporting_currency)
                .bind(to_json(&table.rates, "rate table")?)
                .bind(<$store>::time(Utc::now()))
                .bind(&actor.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let stored = row.into_table()?;
                <$store>::audit(&mut tx, actor, AuditRecord::rates_set(&stored)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(stored)
            }

            async fn current_rate_table(&self) -> Result<Option<StoredRateTable>, StoreError> {
                let row: Option<RateTableRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT version, reporting_currency, rates, created_at, created_by \
                     FROM rate_tables ORDER BY version DESC LIMIT 1",
                )
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(RateTableRow::into_table).transpose()
            }
        }
    };
}

rate_store!(SqliteStore);
rate_store!(PgStore);
