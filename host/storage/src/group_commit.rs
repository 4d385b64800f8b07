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
//! The queue in front of the writer is bounded, and a write that finds it full is refused at
//! once with [`StoreError::Overloaded`] (the API's 503 `overloaded` with `Retry-After`) rather
//! than waiting for room without end: a caller holding a request open behind 4,096 others
//! helps no one, and a stuck writer must not pile up every request in the process.
//!
//! Metrics: `arbiter_write_batch_size` and `arbiter_write_batch_seconds` (histograms, per batch),
//! `arbiter_write_queue_full_total` (writes refused because the queue was full),
//! `arbiter_write_queue_depth` (gauge: writes left waiting when the writer took a batch).

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use arbiter_engine::store::StoreError;
use arbiter_transactions::TxError;
use sqlx::{Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::error::store_error;

/// A future borrowing the batch's connection for `'c`, answering a write's value or its error.
pub(crate) type ConnFuture<'c, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;

/// Why the group commit could not store a write, whatever the write itself did. Each caller's
/// own error type takes it in (`From`), so the decision log answers [`StoreError`] and the
/// transaction core [`TxError`] without either borrowing the other's.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum BatchError {
    /// The queue in front of the writer is full; nothing was written.
    #[error("the write queue is full")]
    QueueFull,
    /// The writer stopped (or gave up on the batch) before this write ran.
    #[error("the write batch ended before this write ran")]
    Ended,
    /// The batch's own statements (BEGIN, SAVEPOINT, COMMIT) failed; none of it is stored.
    #[error(transparent)]
    Database(StoreError),
}

impl From<BatchError> for StoreError {
    fn from(e: BatchError) -> StoreError {
        match e {
            BatchError::QueueFull => StoreError::Overloaded("the write queue is full".into()),
            BatchError::Ended => StoreError::Unavailable(e.to_string()),
            BatchError::Database(e) => e,
        }
    }
}

impl From<BatchError> for TxError {
    fn from(e: BatchError) -> TxError {
        TxError::Store(e.into())
    }
}

fn batch_error(e: sqlx::Error) -> BatchError {
    BatchError::Database(store_error(e))
}

/// Runs one of the batch's own statements (savepoints), which may hold several statements
/// and take no arguments (so they go as one simple query). Implemented per database: the generic
/// future is not provably `Send` for every lifetime.
pub(crate) trait BatchStatements: Database {
    fn batch_statement<'c>(
        conn: &'c mut Self::Connection,
        sql: &'static str,
    ) -> ConnFuture<'c, (), BatchError>;
}

macro_rules! batch_statements {
    ($db:ty) => {
        impl BatchStatements for $db {
            fn batch_statement<'c>(
                conn: &'c mut <$db as Database>::Connection,
                sql: &'static str,
            ) -> ConnFuture<'c, (), BatchError> {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, sql)
                        .await
                        .map(drop)
                        .map_err(batch_error)
                })
            }
        }
    };
}

batch_statements!(sqlx::Sqlite);
batch_statements!(sqlx::Postgres);

/// Writes waiting for the writer; one more is refused as overloaded (bounded memory).
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
            .field("queued", &(self.jobs.max_capacity() - self.jobs.capacity()))
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
        GroupCommit::spawn_with_capacity(pool, begin, CAPACITY)
    }

    /// [`GroupCommit::spawn`] with room for `capacity` waiting writes (tests use a tiny one).
    pub(crate) fn spawn_with_capacity(
        pool: Pool<DB>,
        begin: Option<&'static str>,
        capacity: usize,
    ) -> GroupCommit<DB> {
        let (jobs, rx) = mpsc::channel(capacity.max(1));
        tokio::spawn(write_loop(pool, begin, rx));
        GroupCommit { jobs }
    }

    /// Runs `work` inside the next batch's transaction, under its own savepoint, and answers
    /// once the batch has committed: `work`'s error (its writes rolled back, the batch's kept)
    /// or the batch's error (nothing stored) or `work`'s value. A full queue is
    /// [`BatchError::QueueFull`] (a 503 `overloaded`) at once, with nothing written.
    pub(crate) async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<BatchError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut DB::Connection) -> ConnFuture<'c, T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .try_send(Box::new(Pending { work, reply }))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    metrics::counter!("arbiter_write_queue_full_total").increment(1);
                    BatchError::QueueFull
                }
                mpsc::error::TrySendError::Closed(_) => BatchError::Ended,
            })?;
        // A dropped reply: the writer gave up on the batch before this write ran.
        answer
            .await
            .unwrap_or_else(|_| Err(BatchError::Ended.into()))
    }
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
    fn answer(self: Box<Self>, commit: Result<(), BatchError>);
}

struct Pending<T, E, F> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

struct Done<T, E> {
    result: Result<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<DB, T, E, F> Job<DB> for Pending<T, E, F>
where
    DB: Database,
    T: Send + 'static,
    E: From<BatchError> + Send + 'static,
    F: for<'c> FnOnce(&'c mut DB::Connection) -> ConnFuture<'c, T, E> + Send + 'static,
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

impl<T: Send, E: From<BatchError> + Send> Ran for Done<T, E> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, commit: Result<(), BatchError>) {
        let answer = match (self.result, commit) {
            // Its own refusal stands whatever became of the batch: it stored nothing either way.
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e.into()),
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
        metrics::gauge!("arbiter_write_queue_depth").set(rx.len() as f64);
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
) -> Result<(), BatchError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut tx = match begin {
        Some(statement) => pool.begin_with(statement).await,
        None => pool.begin().await,
    }
    .map_err(batch_error)?;
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
            (false, true) => return tx.rollback().await.map_err(batch_error),
            (true, false) if last => {}
            (true, false) => {
                DB::batch_statement(&mut tx, "RELEASE group_write; SAVEPOINT group_write").await?;
            }
            (false, false) => DB::batch_statement(&mut tx, "ROLLBACK TO group_write").await?,
        }
    }
    tx.commit().await.map_err(batch_error)
}

#[cfg(test)]
mod tests;
