//! Group commit for the transaction core's hot writes (order creation, status changes) and,
//! on SQLite, the decision log's batches.
//!
//! An order costs two writes before it answers (create with its reservation, then the status
//! the risk answer leads to) besides its decision, and each durable commit costs an fsync
//! (SQLite, `synchronous = FULL`) or a WAL flush (PostgreSQL) plus its BEGIN/COMMIT round
//! trips — while it holds the hot SKU's row lock on PostgreSQL. One transaction per write made
//! checkout saturate at 100–200 orders/s. So, as the decision log does for decisions, callers
//! hand their write to ONE writer task, which takes everything waiting (up to `MAX_BATCH`),
//! runs each write in its own SAVEPOINT inside one transaction (a write alone in its batch
//! needs none), commits once and then answers every caller.
//!
//! Each write stays all-or-nothing on its own: a write that fails (out of stock, a status that
//! moved) rolls back to its savepoint and answers its error, and the others commit. Nothing is
//! answered `Ok` before the COMMIT returns; when the COMMIT (or the batch around a write) fails,
//! every write of the batch answers that error and none of it is stored. Writes run in arrival
//! order on one connection, so a later write of a batch sees the earlier ones exactly as if they
//! had committed before it (an idempotency key used twice in one batch finds the first order).
//!
//! Metrics: `arbiter_write_batch_size` and `arbiter_write_batch_seconds` (histograms, per batch).

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use arbiter_engine::store::StoreError;
use arbiter_transactions::TxError;
use sqlx::{Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::transaction_rows::db;

/// A future borrowing the batch's connection for `'c`.
pub(crate) type ConnFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, TxError>> + Send + 'c>>;

/// Runs one of the batch's own statements (savepoints), which may hold several statements
/// and take no arguments (so they go as one simple query). Implemented per database: the generic
/// future is not provably `Send` for every lifetime.
pub(crate) trait BatchStatements: Database {
    fn batch_statement<'c>(conn: &'c mut Self::Connection, sql: &'static str)
    -> ConnFuture<'c, ()>;
}

macro_rules! batch_statements {
    ($db:ty) => {
        impl BatchStatements for $db {
            fn batch_statement<'c>(
                conn: &'c mut <$db as Database>::Connection,
                sql: &'static str,
            ) -> ConnFuture<'c, ()> {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, sql)
                        .await
                        .map(drop)
                        .map_err(db)
                })
            }
        }
    };
}

batch_statements!(sqlx::Sqlite);
batch_statements!(sqlx::Postgres);

/// Writes waiting for the writer; one more waits for room (bounded memory, fair order).
const CAPACITY: usize = 4096;
/// Most writes in one transaction: bounds how long the first of a batch waits for the last.
const MAX_BATCH: usize = 64;

/// The handle callers submit writes through. Cheap to share (`Arc` it or clone the sender).
pub(crate) struct GroupCommit<DB: Database> {
    jobs: mpsc::Sender<Box<dyn Job<DB>>>,
}

impl<DB: Database> std::fmt::Debug for GroupCommit<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("queued", &(CAPACITY - self.jobs.capacity()))
            .finish()
    }
}

impl<DB: Database> Clone for GroupCommit<DB> {
    fn clone(&self) -> Self {
        GroupCommit {
            jobs: self.jobs.clone(),
        }
    }
}

impl<DB: BatchStatements> GroupCommit<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    /// Starts the writer on the current Tokio runtime. `begin` is the statement that opens each
    /// batch (`BEGIN IMMEDIATE` on SQLite); `None` is the database's plain `BEGIN`. The writer
    /// stops when every handle is dropped.
    pub(crate) fn spawn(pool: Pool<DB>, begin: Option<&'static str>) -> GroupCommit<DB> {
        let (jobs, rx) = mpsc::channel(CAPACITY);
        tokio::spawn(write_loop(pool, begin, rx));
        GroupCommit { jobs }
    }

    /// Runs `work` inside the next batch's transaction, under its own savepoint, and answers
    /// once the batch has committed: `work`'s error (its writes rolled back, the batch's kept)
    /// or the batch's error (nothing stored) or `work`'s value.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, TxError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> ConnFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Pending { work, reply }))
            .await
            .map_err(|_| closed())?;
        // A dropped reply: the writer gave up on the batch before this write ran.
        answer.await.unwrap_or_else(|_| Err(closed()))
    }
}

fn closed() -> TxError {
    TxError::Store(StoreError::Unavailable(
        "the write batch ended before this write ran".into(),
    ))
}

/// One submitted write, type-erased so writes of any result type share the queue.
trait Job<DB: Database>: Send {
    fn run<'c>(
        self: Box<Self>,
        conn: &'c mut DB::Connection,
    ) -> Pin<Box<dyn Future<Output = Box<dyn Ran>> + Send + 'c>>;
}

/// A write that has run: whether its savepoint stays, and how to answer it after the commit.
trait Ran: Send {
    fn succeeded(&self) -> bool;
    fn answer(self: Box<Self>, commit: Result<(), TxError>);
}

struct Pending<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T, TxError>>,
}

struct Done<T> {
    result: Result<T, TxError>,
    reply: oneshot::Sender<Result<T, TxError>>,
}

impl<DB, T, F> Job<DB> for Pending<T, F>
where
    DB: Database,
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut DB::Connection) -> ConnFuture<'c, T> + Send + 'static,
{
    fn run<'c>(
        self: Box<Self>,
        conn: &'c mut DB::Connection,
    ) -> Pin<Box<dyn Future<Output = Box<dyn Ran>> + Send + 'c>> {
        let Pending { work, reply } = *self;
        Box::pin(async move {
            let result = work(conn).await;
            Box::new(Done { result, reply }) as Box<dyn Ran>
        })
    }
}

impl<T: Send> Ran for Done<T> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, commit: Result<(), TxError>) {
        let answer = match (self.result, commit) {
            // Its own refusal stands whatever became of the batch: it stored nothing either way.
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(value), Ok(())) => Ok(value),
        };
        // The caller may have gone away; what committed stays committed.
        let _ = self.reply.send(answer);
    }
}

async fn write_loop<DB: BatchStatements>(
    pool: Pool<DB>,
    begin: Option<&'static str>,
    mut rx: mpsc::Receiver<Box<dyn Job<DB>>>,
) where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics::histogram!("arbiter_write_batch_size").record(batch.len() as f64);
        let started = Instant::now();
        write_batch(&pool, begin, &mut batch).await;
        metrics::histogram!("arbiter_write_batch_seconds").record(started.elapsed().as_secs_f64());
    }
}

/// Runs and answers every job of `jobs`, leaving it empty.
async fn write_batch<DB: BatchStatements>(
    pool: &Pool<DB>,
    begin: Option<&'static str>,
    jobs: &mut Vec<Box<dyn Job<DB>>>,
) where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut ran: Vec<Box<dyn Ran>> = Vec::with_capacity(jobs.len());
    let outcome = run_all(pool, begin, jobs.drain(..), &mut ran).await;
    if let Err(e) = &outcome {
        tracing::error!(error = %e, size = ran.len(), "write batch failed; none of it is stored");
    }
    for done in ran {
        done.answer(outcome.clone());
    }
    // Jobs that never ran were dropped with their replies: they answer "not stored".
}

async fn run_all<DB: BatchStatements>(
    pool: &Pool<DB>,
    begin: Option<&'static str>,
    jobs: std::vec::Drain<'_, Box<dyn Job<DB>>>,
    ran: &mut Vec<Box<dyn Ran>>,
) -> Result<(), TxError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut tx = match begin {
        Some(statement) => pool.begin_with(statement).await,
        None => pool.begin().await,
    }
    .map_err(db)?;
    // A batch of one needs no savepoint: the transaction is the write. Otherwise one savepoint
    // name is reused: `ROLLBACK TO` keeps it open for the next write, after a write that stays
    // `RELEASE; SAVEPOINT` opens the next one in a single round trip, and the COMMIT releases
    // the last (every statement is a round trip, and they are most of what a batch costs).
    let count = jobs.len();
    if count > 1 {
        DB::batch_statement(&mut tx, "SAVEPOINT group_write").await?;
    }
    for (i, job) in jobs.enumerate() {
        // INVARIANT: a write is all or nothing on its own. It runs inside a fresh savepoint
        // and is rolled back to it unless it succeeded, before the next write runs; a write
        // alone in its batch is rolled back with the whole transaction.
        let done = job.run(&mut *tx).await;
        let kept = done.succeeded();
        ran.push(done);
        let last = i + 1 == count;
        match (kept, count == 1) {
            (true, true) => {}
            // Its own error is its answer whatever happens to the (empty) transaction.
            (false, true) => return tx.rollback().await.map_err(db),
            (true, false) if last => {}
            (true, false) => {
                DB::batch_statement(&mut tx, "RELEASE group_write; SAVEPOINT group_write").await?;
            }
            (false, false) => DB::batch_statement(&mut tx, "ROLLBACK TO group_write").await?,
        }
    }
    tx.commit().await.map_err(db)
}

#[cfg(test)]
mod tests {
    //! Batching semantics on both databases: a failing write in a batch leaves the others
    //! committed; a batch whose COMMIT fails answers every write with the error and stores
    //! nothing. A "gate" write holds the writer while the writes under test queue up, so they
    //! are certain to share one batch.

    use std::sync::Arc;

    use tokio::sync::Notify;

    use super::*;

    macro_rules! batching_tests {
        ($db:ty, $pool:expr, $table:expr, $begin:expr, $fk:expr) => {{
            type Conn = <$db as Database>::Connection;

            /// A write that inserts `id` into `table`, then fails when `fail` is set.
            fn insert(
                table: &'static str,
                id: i64,
                fail: bool,
            ) -> impl for<'c> FnOnce(&'c mut Conn) -> ConnFuture<'c, i64> + Send + 'static {
                move |conn: &mut Conn| -> ConnFuture<'_, i64> {
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
                        .run(move |_conn: &mut Conn| -> ConnFuture<'_, ()> {
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
                        .run(move |conn: &mut Conn| -> ConnFuture<'_, i64> {
                            Box::pin(async move {
                                let sql =
                                    format!("INSERT INTO {table} (id, parent) VALUES (11, 99)");
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
}
