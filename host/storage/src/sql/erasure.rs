//! Erasure of a person ([`ErasureStore`]), written once for both backends: finding the
//! identifiers their decisions and orders hold, rewriting every column that may hold one
//! (`erasure_columns`), deleting the list entries and snoozes naming them, and the audit
//! entry. Each page of rows is one short write transaction, so decisions keep flowing
//! between pages; the whole is idempotent (see `ErasureStore::erase_identifiers`).

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::erasure::{
    Erased, ErasureCounts, ErasureStore, Identifiers, Pseudonyms, Scrubbed, Subject,
};
use arbiter_engine::feedback::Review;
use arbiter_engine::feedback::store::ReviewStore;
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;

use crate::erasure_columns::{COLUMNS, Column, KeyType, PAGE, Shape};
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::stored_decision;

/// The rows that name an entity and are deleted with the person: list entries, then rule
/// snoozes (`$1` kind, `$2` value).
const DELETE_NAMING: [&str; 2] = [
    "DELETE FROM list_entries WHERE kind = $1 AND value = $2",
    "DELETE FROM rule_snoozes WHERE kind = $1 AND value = $2",
];

/// Stored decisions read at a time while finding identifiers.
const SCAN_PAGE: i64 = 500;

/// A row's key while paging a table.
#[derive(Debug, Clone)]
enum Key {
    Text(String),
    Integer(i64),
}

impl Key {
    fn first(key_type: KeyType) -> Key {
        match key_type {
            KeyType::Text => Key::Text(String::new()),
            KeyType::Integer => Key::Integer(i64::MIN),
        }
    }
}

/// A stored value scrubbed: the new text or bytes, `None` when it holds no identifier.
enum NewValue {
    Text(String),
    Bytes(Vec<u8>),
}

fn scrub_text(column: &Column, pseudonyms: &Pseudonyms, text: &str) -> Option<NewValue> {
    let scrubbed = match column.shape {
        Shape::Json | Shape::Packed => pseudonyms.scrub_json(text),
        Shape::Text | Shape::Bytes => pseudonyms.scrub_text(text),
    };
    scrubbed.changed().map(NewValue::Text)
}

/// A packed decision scrubbed: unpacked, searched for the needles, and when one occurs, its
/// JSON scrubbed and packed again.
fn scrub_packed(
    column: &Column,
    pseudonyms: &Pseudonyms,
    needles: &[String],
    packed: &[u8],
) -> Result<Option<NewValue>, StoreError> {
    let json = stored_decision::unpack(packed)?;
    if !needles.iter().any(|n| contains(&json, n.as_bytes())) {
        return Ok(None);
    }
    let text = String::from_utf8(json)
        .map_err(|e| StoreError::Corrupt(format!("packed decision: {e}")))?;
    match scrub_text(column, pseudonyms, &text) {
        Some(NewValue::Text(t)) => Ok(Some(NewValue::Bytes(stored_decision::pack_json(
            t.as_bytes(),
        )?))),
        _ => Ok(None),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(haystack, needle).is_some()
}

fn scrub_bytes(pseudonyms: &Pseudonyms, bytes: &[u8]) -> Option<NewValue> {
    match pseudonyms.scrub_bytes(bytes) {
        Scrubbed::Clean => None,
        Scrubbed::Changed(b) => Some(NewValue::Bytes(b)),
    }
}

/// The identifiers an order's stored request holds.
fn add_order_request(ids: &mut Identifiers, order_id: &str, request: &str) {
    let Ok(v) = serde_json::from_str::<Value>(request) else {
        return;
    };
    let field = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let address = v.get("shipping").and_then(|s| field(s, "address"));
    ids.add_order(
        order_id,
        field(&v, "user").as_deref(),
        field(&v, "device").as_deref(),
        field(&v, "ip").as_deref(),
        address.as_deref(),
    );
}

fn sqlite_needles(needles: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(needles).map_err(|e| StoreError::Backend(format!("needles: {e}")))
}

fn postgres_needles(needles: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(needles.to_vec())
}

/// `$select`: the column's finder for this backend; `$needles`: how the needles are bound;
/// `$as_text`: the cast that reads a JSON body as text; `postgres`: whether this is the
/// PostgreSQL store (its JSONB casts and graph feed).
macro_rules! erasure_store {
    ($store:ty, select: $select:ident, needles: $needles:ident, as_text: $as_text:literal,
     postgres: $postgres:literal) => {
        impl $store {
            /// Adds what the decisions naming `value` (as `subject` matches them) hold.
            async fn scan_decisions(
                &self,
                subject: &Subject,
                ids: &mut Identifiers,
            ) -> Result<(), StoreError> {
                // Every stored decision is read: a packed one is searched after unpacking.
                let mut after = String::new();
                let value = subject.value.as_bytes();
                loop {
                    let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> =
                        sqlx::query_as(concat!(
                            "SELECT decision_id, body",
                            $as_text,
                            ", packed FROM decisions WHERE decision_id > $1 \
                             ORDER BY decision_id LIMIT $2"
                        ))
                        .bind(&after)
                        .bind(SCAN_PAGE)
                        .fetch_all(self.reader())
                        .await
                        .map_err(store_error)?;
                    let Some((last, _, _)) = rows.last() else {
                        return Ok(());
                    };
                    after = last.clone();
                    for (decision_id, body, packed) in rows {
                        // A decision this release cannot read is skipped here; the rewrite
                        // below still replaces every identifier found so far in it.
                        let Ok(json) = stored_decision::json_of(body, packed) else {
                            continue;
                        };
                        if !contains(&json, value) {
                            continue;
                        }
                        if let Ok(context) = stored_decision::context_of(&json)
                            && subject.named_by(&context)
                        {
                            ids.add_decision(&decision_id, &context);
                        }
                    }
                }
            }

            /// Rewrites one column's rows that hold a needle; returns how many changed.
            async fn rewrite_column(
                &self,
                column: &Column,
                pseudonyms: &Pseudonyms,
                needles: &[String],
            ) -> Result<u64, StoreError> {
                let select = column.$select();
                let update = column.update($postgres);
                let bound = $needles(needles)?;
                let mut after = Key::first(column.key_type);
                let mut changed = 0u64;
                loop {
                    let query = sqlx::query(&select);
                    let query = match &after {
                        Key::Text(k) => query.bind(k.clone()),
                        Key::Integer(k) => query.bind(*k),
                    };
                    let rows = query
                        .bind(bound.clone())
                        .bind(PAGE)
                        .fetch_all(self.reader())
                        .await
                        .map_err(store_error)?;
                    let Some(last) = rows.last() else {
                        return Ok(changed);
                    };
                    after = match column.key_type {
                        KeyType::Text => Key::Text(last.try_get(0).map_err(store_error)?),
                        KeyType::Integer => Key::Integer(last.try_get(0).map_err(store_error)?),
                    };
                    let mut tx = self.begin_write().await?;
                    for row in &rows {
                        let new = match column.shape {
                            Shape::Packed => {
                                match row.try_get::<Option<Vec<u8>>, _>(1).map_err(store_error)? {
                                    Some(p) => scrub_packed(column, pseudonyms, needles, &p)?,
                                    None => None,
                                }
                            }
                            Shape::Bytes => row
                                .try_get::<Option<Vec<u8>>, _>(1)
                                .map_err(store_error)?
                                .and_then(|b| scrub_bytes(pseudonyms, &b)),
                            Shape::Text | Shape::Json => row
                                .try_get::<Option<String>, _>(1)
                                .map_err(store_error)?
                                .and_then(|t| scrub_text(column, pseudonyms, &t)),
                        };
                        let Some(new) = new else { continue };
                        let query = match new {
                            NewValue::Text(t) => sqlx::query(&update).bind(t),
                            NewValue::Bytes(b) => sqlx::query(&update).bind(b),
                        };
                        let query = match column.key_type {
                            KeyType::Text => {
                                query.bind(row.try_get::<String, _>(0).map_err(store_error)?)
                            }
                            KeyType::Integer => {
                                query.bind(row.try_get::<i64, _>(0).map_err(store_error)?)
                            }
                        };
                        query.execute(&mut *tx).await.map_err(store_error)?;
                        changed += 1;
                    }
                    tx.commit().await.map_err(store_error)?;
                }
            }
        }

        #[async_trait]
        impl ErasureStore for $store {
            async fn subject_identifiers(
                &self,
                subject: &Subject,
            ) -> Result<Identifiers, StoreError> {
                let mut ids = Identifiers::of(subject);
                self.scan_decisions(subject, &mut ids).await?;
                // The person's other decisions: those of every user id theirs name (a login
                // carries no e-mail, a payment may carry no phone).
                let users: Vec<String> = ids.users().map(str::to_owned).collect();
                for user in &users {
                    if *user != subject.value {
                        let by_user = Subject {
                            kind: arbiter_engine::erasure::SubjectKind::UserId,
                            value: user.clone(),
                        };
                        self.scan_decisions(&by_user, &mut ids).await?;
                    }
                }
                let users: Vec<String> = ids.users().map(str::to_owned).collect();
                for user in &users {
                    let orders: Vec<(String, String)> =
                        sqlx::query_as("SELECT id, request FROM orders WHERE user_id = $1")
                            .bind(user)
                            .fetch_all(self.reader())
                            .await
                            .map_err(store_error)?;
                    for (id, request) in &orders {
                        add_order_request(&mut ids, id, request);
                    }
                }
                Ok(ids)
            }

            async fn erase_identifiers(
                &self,
                subject: &Subject,
                subject_pseudonym: &str,
                ids: &Identifiers,
                pseudonyms: &Pseudonyms,
                actor: &Actor,
            ) -> Result<ErasureCounts, StoreError> {
                let mut counts = ErasureCounts::default();
                let needles = pseudonyms.needles();
                if !needles.is_empty() {
                    for column in COLUMNS.iter().filter(|c| $postgres || !c.postgres_only) {
                        let changed = self.rewrite_column(column, pseudonyms, &needles).await?;
                        if changed > 0 {
                            counts.rewritten.insert(column.name(), changed);
                        }
                    }
                }
                let mut tx = self.begin_write().await?;
                for (kind, value) in ids.entities() {
                    let mut removed = [0u64; 2];
                    for (n, delete) in removed.iter_mut().zip(DELETE_NAMING) {
                        *n = sqlx::query(delete)
                            .bind(kind.as_str())
                            .bind(value)
                            .execute(&mut *tx)
                            .await
                            .map_err(store_error)?
                            .rows_affected();
                    }
                    counts.list_entries_removed += removed[0];
                    counts.snoozes_removed += removed[1];
                }
                let record = AuditRecord::subject_erased(
                    subject,
                    subject_pseudonym,
                    ids,
                    pseudonyms,
                    &counts,
                );
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(counts)
            }

            async fn reviews_of(&self, decision_ids: &[String]) -> Result<Vec<Review>, StoreError> {
                let mut reviews = Vec::new();
                for decision_id in decision_ids {
                    if let Some(review) = self.get_review(&Review::id_for(decision_id)).await? {
                        reviews.push(review);
                    }
                }
                Ok(reviews)
            }

            async fn audit_export(
                &self,
                record: AuditRecord,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn erasures_after(
                &self,
                after: i64,
                limit: u32,
            ) -> Result<Vec<Erased>, StoreError> {
                // The action a literal, so the partial index of migration 0028 serves it.
                let rows: Vec<(i64, String)> = sqlx::query_as(if $postgres {
                    "SELECT id, detail::text FROM audit_log WHERE action = 'subject.erase' \
                     AND id > $1 ORDER BY id LIMIT $2"
                } else {
                    "SELECT id, detail FROM audit_log WHERE action = 'subject.erase' \
                     AND id > $1 ORDER BY id LIMIT $2"
                })
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter()
                    .map(|(id, detail)| {
                        let detail: serde_json::Value = serde_json::from_str(&detail)
                            .map_err(|e| StoreError::Corrupt(format!("audit entry {id}: {e}")))?;
                        Ok(Erased::from_detail(id, &detail))
                    })
                    .collect()
            }

            async fn latest_erasure(&self) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "SELECT COALESCE(MAX(id), 0) FROM audit_log WHERE action = 'subject.erase'",
                )
                .fetch_one(self.reader())
                .await
                .map_err(store_error)
            }
        }
    };
}

erasure_store!(SqliteStore, select: sqlite_select, needles: sqlite_needles, as_text: "",
               postgres: false);
erasure_store!(PgStore, select: postgres_select, needles: postgres_needles, as_text: "::text",
               postgres: true);
