//! Console sessions, written once for both backends. Looked up by the hash of the cookie's
//! secret on every console request; ended by a sign-out.

use arbiter_engine::session::ConsoleSession;
use arbiter_engine::store::{SessionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;

#[derive(sqlx::FromRow)]
struct SessionRow<T> {
    id_hash: String,
    key_id: String,
    csrf: String,
    created_at: T,
    expires_at: T,
    ended_at: Option<T>,
}

impl<T: StoredTime> SessionRow<T> {
    fn into_session(self) -> Result<ConsoleSession, StoreError> {
        Ok(ConsoleSession {
            id_hash: self.id_hash,
            key_id: self.key_id,
            csrf: self.csrf,
            created_at: self.created_at.into_utc()?,
            expires_at: self.expires_at.into_utc()?,
            ended_at: self.ended_at.map(StoredTime::into_utc).transpose()?,
        })
    }
}

macro_rules! session_store {
    ($store:ty) => {
        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, session: &ConsoleSession) -> Result<(), StoreError> {
                // Sessions that ended or expired a day ago go with each sign-in, so the table
                // holds about a day of sign-ins.
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
                    .bind(<$store>::time(
                        session.created_at - chrono::Duration::days(1),
                    ))
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                sqlx::query(
                    "INSERT INTO console_sessions (id_hash, key_id, csrf, created_at, \
                     expires_at, ended_at) VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(&session.id_hash)
                .bind(&session.key_id)
                .bind(&session.csrf)
                .bind(<$store>::time(session.created_at))
                .bind(<$store>::time(session.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)
            }

            async fn get_session(
                &self,
                id_hash: &str,
            ) -> Result<Option<ConsoleSession>, StoreError> {
                let row: Option<SessionRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT id_hash, key_id, csrf, created_at, expires_at, ended_at \
                     FROM console_sessions WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(SessionRow::into_session).transpose()
            }

            async fn end_session(
                &self,
                id_hash: &str,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let ended = sqlx::query(
                    "UPDATE console_sessions SET ended_at = $1 \
                     WHERE id_hash = $2 AND ended_at IS NULL",
                )
                .bind(<$store>::time(at))
                .bind(id_hash)
                .execute(self.writer())
                .await
                .map_err(store_error)?
                .rows_affected();
                Ok(ended == 1)
            }
        }
    };
}

session_store!(SqliteStore);
session_store!(PgStore);
