//! Reading a whole database for a string: every text, JSON and byte column of every table,
//! found from the database's own catalogue (so a table added later is read too); a
//! partitioned table is read through its parent, which holds every partition's rows; a packed
//! decision (`decisions.packed`, compressed) is unpacked and read as its JSON. What the
//! erasure test greps with.

use sqlx::{Connection, Row};

use crate::harness::TestDb;

/// Each `table.column` holding `needle` anywhere, with how many rows do.
pub async fn columns_holding(db: &TestDb, needle: &str) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    match &db.database_url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            let columns = sqlx::query(
                "SELECT table_name::text, column_name::text, data_type::text \
                 FROM information_schema.columns WHERE table_schema = 'public' \
                 AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea') \
                 AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition) \
                 ORDER BY table_name, column_name",
            )
            .fetch_all(&mut conn)
            .await
            .expect("catalogue");
            for c in columns {
                let (table, column, ty): (String, String, String) = (c.get(0), c.get(1), c.get(2));
                if (table.as_str(), column.as_str()) == ("decisions", "packed") {
                    let rows = sqlx::query_scalar("SELECT packed FROM decisions")
                        .fetch_all(&mut conn)
                        .await
                        .expect("packed decisions");
                    found.extend(packed_holding(rows, needle));
                    continue;
                }
                let test = if ty == "bytea" {
                    format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
                } else {
                    format!("strpos(\"{column}\"::text, $1) > 0")
                };
                let n: i64 =
                    sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\" WHERE {test}"))
                        .bind(needle)
                        .fetch_one(&mut conn)
                        .await
                        .expect("count");
                if n > 0 {
                    found.push((format!("{table}.{column}"), n));
                }
            }
        }
        None => {
            let path = db.data_dir().join("arbiter.db");
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .read_only(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options)
                .await
                .expect("open");
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            )
            .fetch_all(&mut conn)
            .await
            .expect("tables");
            for table in tables {
                let columns: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM pragma_table_info($1) WHERE type IN ('TEXT', 'BLOB', '')",
                )
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .expect("columns");
                for column in columns {
                    if (table.as_str(), column.as_str()) == ("decisions", "packed") {
                        let rows = sqlx::query_scalar("SELECT packed FROM decisions")
                            .fetch_all(&mut conn)
                            .await
                            .expect("packed decisions");
                        found.extend(packed_holding(rows, needle));
                        continue;
                    }
                    let n: i64 = sqlx::query_scalar(&format!(
                        "SELECT count(*) FROM \"{table}\" \
                         WHERE instr(CAST(\"{column}\" AS BLOB), CAST($1 AS BLOB)) > 0"
                    ))
                    .bind(needle)
                    .fetch_one(&mut conn)
                    .await
                    .expect("count");
                    if n > 0 {
                        found.push((format!("{table}.{column}"), n));
                    }
                }
            }
        }
    }
    found
}

/// `decisions.packed` with how many of its `rows` hold `needle` once unpacked, if any do.
fn packed_holding(rows: Vec<Option<Vec<u8>>>, needle: &str) -> Option<(String, i64)> {
    let n = rows
        .into_iter()
        .flatten()
        .filter(|packed| {
            let json = arbiter_storage::unpack_decision(packed).expect("a packed decision");
            json.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .count();
    (n > 0).then(|| ("decisions.packed".to_owned(), n as i64))
}

#[tokio::test]
async fn the_grep_finds_a_value_in_text_json_and_bytes() {
    for backend in crate::harness::backends() {
        let db = TestDb::new(&backend).await;
        // An empty file is an empty SQLite database.
        std::fs::File::create(db.data_dir().join("arbiter.db")).expect("create");
        let (blob, json) = match backend {
            crate::harness::Backend::Sqlite => ("BLOB", "TEXT"),
            crate::harness::Backend::Postgres { .. } => ("BYTEA", "JSONB"),
        };
        db.execute(&format!(
            "CREATE TABLE t (a TEXT, b {blob}, c {json});
             INSERT INTO t VALUES ('x needle-1 y', NULL, NULL);
             INSERT INTO t VALUES (NULL, CAST('pre needle-2' AS {blob}), NULL);
             INSERT INTO t VALUES (NULL, NULL, '{{\"k\": \"needle-3\"}}');"
        ))
        .await;
        for (needle, column) in [
            ("needle-1", "t.a"),
            ("needle-2", "t.b"),
            ("needle-3", "t.c"),
        ] {
            assert_eq!(
                columns_holding(&db, needle).await,
                vec![(column.to_owned(), 1)],
                "{backend:?}"
            );
        }
        assert!(columns_holding(&db, "needle-4").await.is_empty());
        db.drop_db().await;
    }
}
