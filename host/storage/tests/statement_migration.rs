//! Migration 0023 over statements an older release stored: the archive and its rows survive
//! the rebuild of `recon_statements` (SQLite cannot drop a constraint in place; foreign keys
//! stay enforced throughout), and the same file is then held once per day, not once ever.

#[macro_use]
mod support;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use support::upgrade::{folder, migrations_before};

macro_rules! statements_survive {
    ($conn:ty, $url:expr, $backend:literal, $ts:expr, $blob:expr) => {{
        let at = $ts("2026-12-06T10:00:00.000000Z");
        let seed = vec![
            format!(
                "INSERT INTO recon_statements (id, channel, statement_date, sha256, size_bytes, \
                 row_count, content, imported_by, imported_at) VALUES ('st_old', 'card', \
                 '2026-12-06', 'abc', 3, 1, {}, 'admin', {at})",
                $blob
            ),
            format!(
                "INSERT INTO recon_statement_rows (statement_id, line, row_id, kind, \
                 channel_txn_id, our_ref, currency, gross_minor, fee_minor, net_minor, \
                 booked_at) VALUES ('st_old', 2, 'txn_1', 'payment', 'ch_1', 'pay_1', 'USD', \
                 1000, 59, 941, {at})"
            ),
        ];
        let mut conn = upgraded!($conn, $url, $backend, "0023", seed);
        let (rows,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM recon_statement_rows r JOIN recon_statements s \
             ON s.id = r.statement_id WHERE s.id = 'st_old' AND r.net_minor = 941",
        )
        .fetch_one(&mut conn)
        .await
        .expect("rows");
        assert_eq!(rows, 1, $backend);
        // The same file for the next day is another statement; for the same day, refused.
        let insert = |id: &str, day: &str| {
            format!(
                "INSERT INTO recon_statements (id, channel, statement_date, sha256, size_bytes, \
                 row_count, content, imported_by, imported_at) VALUES ('{id}', 'card', \
                 '{day}', 'abc', 3, 1, {}, 'admin', {at})",
                $blob
            )
        };
        sqlx::query(&insert("st_next", "2026-12-07"))
            .execute(&mut conn)
            .await
            .expect("another day");
        assert!(
            sqlx::query(&insert("st_same", "2026-12-06"))
                .execute(&mut conn)
                .await
                .is_err(),
            "{}: the same day twice",
            $backend
        );
        // Rows still need their statement.
        assert!(
            sqlx::query(
                "INSERT INTO recon_statement_rows (statement_id, line, row_id, kind, \
                 channel_txn_id, our_ref, currency, gross_minor, fee_minor, net_minor, \
                 booked_at) VALUES ('st_none', 2, 'x', 'payment', 'c', NULL, 'USD', 1, 0, 1, \
                 '2026-12-06T10:00:00.000000Z')"
            )
            .execute(&mut conn)
            .await
            .is_err(),
            $backend
        );
        let _ = conn.close().await;
    }};
}

#[tokio::test]
async fn migration_0023_keeps_stored_statements_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    statements_survive!(
        sqlx::SqliteConnection,
        &url,
        "sqlite",
        |t: &str| format!("'{t}'"),
        "X'616263'"
    );
}

#[tokio::test]
async fn migration_0023_keeps_stored_statements_on_postgres() {
    let Some(admin) = support::backends::postgres_url() else {
        return;
    };
    let db = support::pg_database::PgDatabase::create(&admin).await;
    statements_survive!(
        sqlx::PgConnection,
        &db.url,
        "postgres",
        |t: &str| format!("TIMESTAMPTZ '{t}'"),
        "'\\x616263'::bytea"
    );
}
