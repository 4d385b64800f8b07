//! The payment channel table (`payment_channels`), written once for both backends: read for
//! every new payment's routing, switched by an operator with an audit entry in the same
//! transaction.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_transactions::TxError;
use arbiter_transactions::channels::routing::ChannelRoute;

use crate::columns::stored_now;
use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::db;

const COLUMNS: &str =
    "name, enabled, priority, methods, currencies, credentials, updated_at, updated_by";

#[derive(sqlx::FromRow)]
struct RouteRow<T> {
    name: String,
    enabled: bool,
    priority: i32,
    methods: String,
    currencies: String,
    credentials: String,
    updated_at: T,
    updated_by: String,
}

impl<T: StoredTime> RouteRow<T> {
    fn into_route(self) -> Result<ChannelRoute, TxError> {
        let list = |text: &str| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(ChannelRoute {
            methods: list(&self.methods),
            currencies: list(&self.currencies),
            name: self.name,
            enabled: self.enabled,
            priority: self.priority,
            credentials: self.credentials,
            updated_at: self.updated_at.into_utc()?,
            updated_by: self.updated_by,
        })
    }
}

macro_rules! channel_routes {
    ($store:ty) => {
        impl $store {
            pub(crate) async fn read_channel_routes(&self) -> Result<Vec<ChannelRoute>, TxError> {
                let rows: Vec<RouteRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM payment_channels ORDER BY priority DESC, name"
                ))
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                rows.into_iter().map(RouteRow::into_route).collect()
            }

            pub(crate) async fn write_channel_switch(
                &self,
                name: &str,
                enabled: bool,
                reason: &str,
                actor: &Actor,
            ) -> Result<Option<ChannelRoute>, TxError> {
                let mut tx = self.begin_write().await?;
                let row: Option<RouteRow<<$store as Dialect>::Time>> = sqlx::query_as(&format!(
                    "UPDATE payment_channels SET enabled = $1, updated_at = $2, updated_by = $3 \
                     WHERE name = $4 RETURNING {COLUMNS}"
                ))
                .bind(enabled)
                .bind(<$store>::time(stored_now()))
                .bind(&actor.name)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                <$store>::audit(
                    &mut tx,
                    actor,
                    AuditRecord::channel_switched(name, enabled, reason),
                )
                .await?;
                tx.commit().await.map_err(db)?;
                row.into_route().map(Some)
            }
        }
    };
}

channel_routes!(SqliteStore);
channel_routes!(PgStore);
