//! Batching semantics on both databases: a failing write in a batch leaves the others
//! committed; a batch whose COMMIT fails answers every write with the error and stores
//! nothing. A "gate" write holds the writer while the writes under test queue up, so they
//! are certain to share one batch.

use std::sync::Arc;

use tokio::sync::Notify;

use super::*;
use crate::transaction_rows::db;

macro_rules! batching_tests {
    ($db:ty, $pool:expr, $table:expr, $begin:expr, $fk:expr) => {{
        type Conn = <$db as Database>::Connection;

        /// A write that inserts `id` into `table`, then fails when `fail` is set.
        fn insert(
            table: &'static str,
            id: i64,
            fail: bool,
        ) -> impl for<'c> FnOnce(&'c mut Conn) -> ConnFuture<'c, i64, TxError> + Send + 'static
        {
            move |conn: &mut Conn| -> ConnFuture<'_, i64, TxError> {
                Box::pin(async move {
                    let sql = format!("INSERT INTO {table} (id) VALUES ($1)");
                    sqlx::query(&sql)
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    if fail {
                        return Err(TxError::invalid("id", format!("{id} refused")));
                    }
                    Ok(id)
                })
            }
        }

        /// Submits a write that waits for `open`, so later writes queue behind it.
        fn gate(group: &GroupCommit<$db>, open: Arc<Notify>) -> tokio::task::JoinHandle<()> {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .run(move |_conn: &mut Conn| -> ConnFuture<'_, (), TxError> {
                        Box::pin(async move {
                            open.notified().await;
                            Ok(())
                        })
                    })
                    .await
                    .expect("gate");
            })
        }

        let pool = $pool;
        let table: &'static str = $table;
        let parent: &'static str = Box::leak(format!("{table}_parent").into_boxed_str());
        for sql in [
            format!("CREATE TABLE {parent} (id BIGINT PRIMARY KEY)"),
            format!(
                "CREATE TABLE {table} (id BIGINT PRIMARY KEY, parent BIGINT {fk})",
                fk = $fk(parent)
            ),
        ] {
            sqlx::query::<$db>(&sql)
                .execute(&pool)
                .await
                .expect("create");
        }
        let group = GroupCommit::<$db>::spawn(pool.clone(), $begin);
        let ids = |pool: Pool<$db>| async move {
            let sql = format!("SELECT id FROM {table} ORDER BY id");
            sqlx::query_scalar::<$db, i64>(&sql)
                .fetch_all(&pool)
                .await
                .expect("rows")
        };

        // A failing write rolls back alone.
        let open = Arc::new(Notify::new());
        let gated = gate(&group, open.clone());
        tokio::task::yield_now().await;
        let writes: Vec<_> = (1..=6)
            .map(|id| {
                let group = group.clone();
                tokio::spawn(async move { group.run(insert(table, id, id % 2 == 0)).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        open.notify_one();
        gated.await.expect("gate task");
        for (i, write) in writes.into_iter().enumerate() {
            let id = i as i64 + 1;
            match write.await.expect("task") {
                Ok(got) => assert!(id % 2 == 1 && got == id, "write {id} answered Ok"),
                Err(TxError::Invalid { reason, .. }) => {
                    assert!(id % 2 == 0 && reason == format!("{id} refused"))
                }
                Err(e) => panic!("write {id}: unexpected {e}"),
            }
        }
        assert_eq!(ids(pool.clone()).await, vec![1, 3, 5]);

        // A batch whose COMMIT fails (a deferred foreign key, checked only at COMMIT)
        // answers every write with the error and stores none of them.
        let open = Arc::new(Notify::new());
        let gated = gate(&group, open.clone());
        tokio::task::yield_now().await;
        let good = {
            let group = group.clone();
            tokio::spawn(async move { group.run(insert(table, 10, false)).await })
        };
        let orphan = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .run(move |conn: &mut Conn| -> ConnFuture<'_, i64, TxError> {
                        Box::pin(async move {
                            let sql = format!("INSERT INTO {table} (id, parent) VALUES (11, 99)");
                            sqlx::query::<$db>(&sql)
                                .execute(&mut *conn)
                                .await
                                .map_err(db)?;
                            Ok(11_i64)
                        })
                    })
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        open.notify_one();
        gated.await.expect("gate task");
        assert!(matches!(good.await.expect("task"), Err(TxError::Store(_))));
        assert!(matches!(
            orphan.await.expect("task"),
            Err(TxError::Store(_))
        ));
        assert_eq!(
            ids(pool.clone()).await,
            vec![1, 3, 5],
            "nothing of the failed batch"
        );

        // The writer carries on after a failed batch.
        assert_eq!(
            group.run(insert(table, 12, false)).await.expect("write"),
            12
        );
        assert_eq!(ids(pool.clone()).await, vec![1, 3, 5, 12]);

        // A write alone in its batch (no savepoint) that fails leaves nothing either.
        let alone = group.run(insert(table, 13, true)).await;
        assert!(matches!(alone, Err(TxError::Invalid { .. })), "{alone:?}");
        assert_eq!(ids(pool.clone()).await, vec![1, 3, 5, 12]);
    }};
}

/// A full queue answers at once: with room for one waiting write and the writer held by a gate,
/// the write after the waiting one is refused as overloaded, stores nothing, and the writer
/// carries on once released.
macro_rules! overload_test {
    ($db:ty, $pool:expr, $table:expr, $begin:expr) => {{
        type Conn = <$db as Database>::Connection;
        let (pool, table): (Pool<$db>, &'static str) = ($pool, $table);
        sqlx::query::<$db>(&format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY)"))
            .execute(&pool)
            .await
            .expect("create");
        fn insert(
            table: &'static str,
            id: i64,
        ) -> impl for<'c> FnOnce(&'c mut Conn) -> ConnFuture<'c, i64, TxError> + Send + 'static
        {
            move |conn: &mut Conn| -> ConnFuture<'_, i64, TxError> {
                Box::pin(async move {
                    sqlx::query(&format!("INSERT INTO {table} (id) VALUES ($1)"))
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                    Ok(id)
                })
            }
        }
        let group = GroupCommit::<$db>::spawn_with_capacity(pool.clone(), $begin, 1);
        let (entered, running) = tokio::sync::oneshot::channel::<()>();
        let open = Arc::new(Notify::new());
        let gate = {
            let (group, open) = (group.clone(), open.clone());
            tokio::spawn(async move {
                group
                    .run(move |_conn: &mut Conn| -> ConnFuture<'_, (), TxError> {
                        Box::pin(async move {
                            let _ = entered.send(());
                            open.notified().await;
                            Ok(())
                        })
                    })
                    .await
            })
        };
        running.await.expect("the writer runs the gate");
        let waiting = {
            let group = group.clone();
            tokio::spawn(async move { group.run(insert(table, 1)).await })
        };
        while group.jobs.capacity() > 0 {
            tokio::task::yield_now().await;
        }
        // Answered on its first poll: a write that waited for room would still be pending.
        let refused = tokio::select! {
            biased;
            answer = group.run(insert(table, 2)) => Some(answer),
            () = std::future::ready(()) => None,
        };
        assert!(
            matches!(
                &refused,
                Some(Err(TxError::Store(StoreError::Overloaded(_))))
            ),
            "{refused:?}"
        );
        open.notify_one();
        gate.await.expect("gate task").expect("gate");
        assert_eq!(waiting.await.expect("task").expect("queued write"), 1);
        assert_eq!(group.run(insert(table, 3)).await.expect("room again"), 3);
        let ids: Vec<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} ORDER BY id"))
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(ids, vec![1, 3], "the refused write stored nothing");
    }};
}

#[tokio::test]
async fn a_full_queue_is_refused_as_overloaded_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("q.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("sqlite");
    overload_test!(sqlx::Sqlite, pool, "queued", Some("BEGIN IMMEDIATE"));
}

#[tokio::test]
async fn a_full_queue_is_refused_as_overloaded_on_postgres() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: PostgreSQL group commit not tested");
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("postgres");
    let schema = format!("group_queue_{}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("schema");
    let table: &'static str = Box::leak(format!("{schema}.queued").into_boxed_str());
    overload_test!(sqlx::Postgres, pool.clone(), table, None);
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .expect("drop schema");
}

#[tokio::test]
async fn batches_on_sqlite_keep_each_write_atomic_and_fail_whole_on_commit() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("g.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("sqlite");
    batching_tests!(
        sqlx::Sqlite,
        pool,
        "writes",
        Some("BEGIN IMMEDIATE"),
        |parent: &str| format!("REFERENCES {parent} (id) DEFERRABLE INITIALLY DEFERRED")
    );
}

#[tokio::test]
async fn batches_on_postgres_keep_each_write_atomic_and_fail_whole_on_commit() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: PostgreSQL group commit not tested");
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("postgres");
    // Tables of this run only, dropped with the schema at the end.
    let schema = format!("group_commit_{}", std::process::id());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("schema");
    let table: &'static str = Box::leak(format!("{schema}.writes").into_boxed_str());
    batching_tests!(
        sqlx::Postgres,
        pool.clone(),
        table,
        None,
        |parent: &str| format!("REFERENCES {parent} (id) DEFERRABLE INITIALLY DEFERRED")
    );
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .expect("drop schema");
}
