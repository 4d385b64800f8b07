//! Which stored columns can hold a person's identifiers, and the statements that find and
//! rewrite them on each backend (`sql/erasure.rs` runs them). The list is the erasure's
//! contract with the schema: a new column that keeps personal data is added here, and the
//! erasure story test, which reads every text column of every table, fails until it is.
//!
//! Order matters for an interrupted erasure: finding a person's identifiers reads `orders`
//! and the stored decisions (`decisions.body`, `decisions.packed`), so those are rewritten
//! last, the decisions the very last, and running the erasure again finds everything the
//! first run had not replaced yet.
//!
//! Not here, on purpose: ids we minted (decision, order, payment ids), amounts, the ledger
//! (accounts and references carry no identifiers), hashes of request bodies, API keys and
//! sessions (operators, not customers), and `list_entries` / `rule_snoozes`, whose rows are
//! deleted rather than rewritten.

/// How a column stores its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Free text: replaced by occurrence.
    Text,
    /// A JSON document (`JSONB` or JSON text): replaced string by string.
    Json,
    /// Raw bytes (`BLOB` / `BYTEA`): a callback or a statement file as received.
    Bytes,
    /// A packed decision (`stored_decision`): opaque to SQL, so every row is read, unpacked
    /// and searched here, and a JSON document that holds a needle is scrubbed and packed
    /// again.
    Packed,
}

/// How the table's rows are keyed, for paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Text,
    Integer,
}

/// One column that may hold identifiers. Every name is a constant: no SQL is assembled
/// from input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub table: &'static str,
    pub key: &'static str,
    pub key_type: KeyType,
    pub column: &'static str,
    pub shape: Shape,
    /// Only PostgreSQL has the table (`decision_links`, the graph feed).
    pub postgres_only: bool,
}

const fn col(
    table: &'static str,
    key: &'static str,
    key_type: KeyType,
    column: &'static str,
    shape: Shape,
) -> Column {
    Column {
        table,
        key,
        key_type,
        column,
        shape,
        postgres_only: false,
    }
}

const fn links(column: &'static str) -> Column {
    Column {
        postgres_only: true,
        ..col(
            "decision_links",
            "decision_id",
            KeyType::Text,
            column,
            Shape::Text,
        )
    }
}

use KeyType::{Integer, Text as TextKey};
use Shape::{Bytes, Json, Packed, Text};

/// Every column an erasure rewrites, in the order it does.
pub(crate) const COLUMNS: &[Column] = &[
    col("audit_log", "id", Integer, "target", Text),
    col("audit_log", "id", Integer, "detail", Json),
    col("reviews", "review_id", TextKey, "note", Text),
    col("reviews", "review_id", TextKey, "escalation_note", Text),
    col("labels", "label_id", TextKey, "note", Text),
    col("labels", "label_id", TextKey, "external_id", Text),
    col("refunds", "id", TextKey, "reason", Text),
    col("status_history", "id", Integer, "note", Text),
    col("outbox", "id", Integer, "payload", Json),
    col("channel_callbacks", "id", Integer, "raw", Bytes),
    col("channel_callbacks", "id", Integer, "detail", Text),
    col("recon_statements", "id", TextKey, "content", Bytes),
    col("recon_tickets", "id", TextKey, "detail", Text),
    col("recon_tickets", "id", TextKey, "note", Text),
    col("backtests", "backtest_id", TextKey, "result", Json),
    links("user_id"),
    links("device_id"),
    links("card_fingerprint"),
    links("email"),
    links("phone"),
    links("shipping_address_hash"),
    links("ip"),
    col("orders", "id", TextKey, "request", Json),
    col("orders", "id", TextKey, "user_id", Text),
    col("decisions", "decision_id", TextKey, "body", Json),
    col("decisions", "decision_id", TextKey, "packed", Packed),
];

/// Rows read (and rewritten in one transaction) at a time.
pub(crate) const PAGE: i64 = 200;

impl Column {
    /// `table.column`, as the erasure's counts name it.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    /// SQLite: the next page of rows after key `$1` holding any of the needles in `$2` (a
    /// JSON array), at most `$3`.
    pub fn sqlite_select(&self) -> String {
        let Column {
            table, key, column, ..
        } = *self;
        let needle = match self.shape {
            Shape::Bytes => "CAST(n.value AS BLOB)",
            Shape::Text | Shape::Json => "n.value",
            // `$2` is bound and unused: the needles are searched after unpacking.
            Shape::Packed => {
                return format!(
                    "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND {column} IS NOT NULL \
                     AND $2 IS NOT NULL ORDER BY {key} LIMIT $3"
                );
            }
        };
        format!(
            "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND EXISTS \
             (SELECT 1 FROM json_each($2) n WHERE instr({column}, {needle}) > 0) \
             ORDER BY {key} LIMIT $3"
        )
    }

    /// PostgreSQL: the same, the needles in `$2` as `text[]`.
    pub fn postgres_select(&self) -> String {
        let Column {
            table, key, column, ..
        } = *self;
        let (read, found) = match self.shape {
            Shape::Bytes => (
                column.to_owned(),
                format!("position(convert_to(n, 'UTF8') in {column}) > 0"),
            ),
            Shape::Json => (
                format!("{column}::text"),
                format!("strpos({column}::text, n) > 0"),
            ),
            Shape::Text => (column.to_owned(), format!("strpos({column}, n) > 0")),
            Shape::Packed => {
                return format!(
                    "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND {column} IS NOT NULL \
                     AND $2::text[] IS NOT NULL ORDER BY {key} LIMIT $3"
                );
            }
        };
        format!(
            "SELECT {key}, {read} FROM {table} WHERE {key} > $1 AND EXISTS \
             (SELECT 1 FROM unnest($2::text[]) n WHERE {found}) ORDER BY {key} LIMIT $3"
        )
    }

    /// The rewrite of one row: `$1` the new value, `$2` the key.
    pub fn update(&self, postgres: bool) -> String {
        let Column {
            table, key, column, ..
        } = *self;
        let cast = if postgres && self.shape == Shape::Json && self.is_jsonb() {
            "::jsonb"
        } else {
            ""
        };
        format!("UPDATE {table} SET {column} = $1{cast} WHERE {key} = $2")
    }

    /// Whether PostgreSQL keeps this JSON column as `JSONB` (the others are text).
    fn is_jsonb(&self) -> bool {
        matches!(
            (self.table, self.column),
            ("decisions", "body") | ("audit_log", "detail")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finders_read_what_they_search() {
        let body = COLUMNS
            .iter()
            .find(|c| c.table == "decisions")
            .expect("decisions.body");
        assert_eq!(
            body.postgres_select(),
            "SELECT decision_id, body::text FROM decisions WHERE decision_id > $1 AND EXISTS \
             (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(body::text, n) > 0) \
             ORDER BY decision_id LIMIT $3"
        );
        assert_eq!(
            body.update(true),
            "UPDATE decisions SET body = $1::jsonb WHERE decision_id = $2"
        );
        assert_eq!(
            body.update(false),
            "UPDATE decisions SET body = $1 WHERE decision_id = $2"
        );
    }

    #[test]
    fn what_finding_identifiers_reads_is_rewritten_last() {
        let last: Vec<String> = COLUMNS[COLUMNS.len() - 4..]
            .iter()
            .map(Column::name)
            .collect();
        assert_eq!(
            last,
            [
                "orders.request",
                "orders.user_id",
                "decisions.body",
                "decisions.packed"
            ]
        );
    }
}
