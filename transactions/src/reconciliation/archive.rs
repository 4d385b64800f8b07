//! A statement as imported: the file archived unchanged (content hash, size, who and when) with
//! the rows it read, and the store that keeps them. Reading happens first and whole
//! ([`prepare`]), so a file that does not read never reaches the store; the store writes the
//! archive and its rows in one transaction, and the same file again for the same day is the
//! one already held (two days may hold byte-identical files: days without movements).

use arbiter_engine::audit::Actor;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_core::stream::BoxStream;
use sha2::{Digest, Sha256};

use super::matching::BookEntry;
use super::statement::{StatementError, StatementRow};
use super::{alipay_bill, card_csv, wechat_bill};
use crate::error::TxError;

/// The channels whose statements are read here.
pub const STATEMENT_CHANNELS: [&str; 3] = ["card", "alipay", "wechat"];

/// The largest statement file imported.
pub const MAX_STATEMENT_BYTES: usize = 256 << 20;

/// A statement ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatement {
    pub id: String,
    pub channel: String,
    /// The day the statement covers.
    pub date: NaiveDate,
    /// Hex SHA-256 of `content`.
    pub sha256: String,
    pub content: Vec<u8>,
    pub rows: Vec<StatementRow>,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

/// A stored statement, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatement {
    pub id: String,
    pub channel: String,
    pub date: NaiveDate,
    pub sha256: String,
    pub size_bytes: u64,
    pub row_count: u64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
    /// When retention took the file's bytes and its rows (the record stays); importing the
    /// same file again brings them back.
    pub expired_at: Option<DateTime<Utc>>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// Stored; also a file whose statement had expired, stored again with its rows.
    New(StoredStatement),
    /// The same file was imported before: nothing written.
    Existing(StoredStatement),
}

/// Why a statement was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("no statement reader for channel `{0}` (card, alipay or wechat)")]
    UnknownChannel(String),
    #[error("the statement is {size} bytes, over {MAX_STATEMENT_BYTES}")]
    TooLarge { size: usize },
    #[error(transparent)]
    Unreadable(#[from] StatementError),
}

/// Reads `content` as `channel`'s statement for `date` and makes the record to store.
pub fn prepare(
    channel: &str,
    date: NaiveDate,
    content: Vec<u8>,
    imported_by: &str,
    now: DateTime<Utc>,
) -> Result<NewStatement, ImportError> {
    if content.len() > MAX_STATEMENT_BYTES {
        return Err(ImportError::TooLarge {
            size: content.len(),
        });
    }
    let rows = match channel {
        "card" => card_csv::read(&content)?,
        "alipay" => alipay_bill::read(&content)?,
        "wechat" => wechat_bill::read(&content)?,
        other => return Err(ImportError::UnknownChannel(other.to_owned())),
    };
    Ok(NewStatement {
        id: format!("st_{}", uuid::Uuid::now_v7().simple()),
        channel: channel.to_owned(),
        date,
        sha256: hex::encode(Sha256::digest(&content)),
        content,
        rows,
        imported_by: imported_by.to_owned(),
        imported_at: now,
    })
}

/// Where statements are kept.
#[async_trait]
pub trait StatementStore: Send + Sync + 'static {
    /// Stores `statement` and its rows in one transaction with its audit entry (as `actor`'s),
    /// unless the same file (channel, day and hash) is held already.
    async fn import_statement(
        &self,
        statement: &NewStatement,
        actor: &Actor,
    ) -> Result<Imported, TxError>;
    async fn statement(&self, id: &str) -> Result<Option<StoredStatement>, TxError>;
    /// The statement of `channel` for `date` imported last, if any.
    async fn statement_of_day(
        &self,
        channel: &str,
        date: NaiveDate,
    ) -> Result<Option<StoredStatement>, TxError>;
    /// The archived file, byte for byte.
    async fn statement_content(&self, id: &str) -> Result<Option<Vec<u8>>, TxError>;
    /// The rows as read, in file order.
    async fn statement_rows(&self, id: &str) -> Result<Vec<StatementRow>, TxError>;
    /// The rows in ascending byte order of our id (rows without one, anywhere): the cursor
    /// a run walks ([`super::merge`]).
    fn stream_statement_rows<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxStream<'a, Result<StatementRow, TxError>>;
    /// [`StatementStore::book`] as a cursor in ascending byte order of our id.
    fn stream_book<'a>(
        &'a self,
        channel: &'a str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> BoxStream<'a, Result<BookEntry, TxError>>;
    /// What our book says went through `channel` in `[from, to)`: payments and refunds that
    /// succeeded in it (done, at their success), and those created in it or the day before
    /// that have not (not done, at their creation) — a statement showing one of those is a
    /// status mismatch.
    async fn book(
        &self,
        channel: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BookEntry>, TxError>;
}
