//! The decision log: group commit in front of any [`DecisionStore`].
//!
//! Every decision must be durable before its answer leaves, and a durable commit costs an fsync
//! (SQLite with `synchronous = FULL`) or a WAL flush (PostgreSQL). One commit per decision
//! would cap throughput at the disk's sync rate, so requests hand their decision to ONE writer
//! task, which takes everything waiting (up to `max_batch`), writes it in one transaction and
//! answers each request. Under load batches grow and the sync cost per decision falls; when idle
//! a batch is a single decision and adds no delay. One writer, because SQLite has one writer
//! anyway and because a single task keeps the order of arrival and needs no coordination.
//!
//! The queue is BOUNDED. When the writer falls behind (slow disk, database failing over) the
//! queue fills and [`DecisionLog::append`] answers [`LogError::Busy`] at once; the HTTP edge turns
//! that into `503` + `Retry-After`. An unbounded queue would instead grow memory and latency
//! without limit and hold acknowledged-looking work that a crash would lose. Nothing is
//! acknowledged before its transaction commits: a failed write answers every decision of the
//! batch with [`LogError::Store`], never with an outcome.
//!
//! Metrics: `arbiter_decision_log_batch_size` and `arbiter_decision_log_write_seconds`
//! (histograms, per batch), `arbiter_decision_log_busy_total` (appends refused as busy),
//! `arbiter_decision_log_queued` (gauge: decisions left waiting when the writer took a batch).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use arbiter_engine::Decision;
use arbiter_engine::store::{AppendOutcome, DecisionStore, StoreError};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionLogConfig {
    /// Decisions waiting for the writer; one more and `append` answers [`LogError::Busy`].
    pub capacity: usize,
    /// Most decisions written in one transaction.
    pub max_batch: usize,
}

impl Default for DecisionLogConfig {
    fn default() -> Self {
        DecisionLogConfig {
            capacity: 4096,
            max_batch: 256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The queue is full: retry later (503 + `Retry-After`).
    #[error("decision log is full: retry later")]
    Busy,
    /// The log is shutting down or its writer is gone.
    #[error("decision log is closed")]
    Closed,
    /// The batch holding this decision was not written; nothing of it is stored.
    #[error("while writing the decision log: {0}")]
    Store(#[from] StoreError),
}

type Reply = oneshot::Sender<Result<AppendOutcome, LogError>>;

#[derive(Debug)]
struct Pending {
    decision: Decision,
    reply: Reply,
}

/// The handle requests append through. Share it (`Arc`); call [`DecisionLog::shutdown`] to
/// flush at exit. Dropping every handle also flushes, in the background.
#[derive(Debug)]
pub struct DecisionLog {
    /// Bounded: a full queue is the back-pressure signal, never a reason to buffer more.
    tx: mpsc::Sender<Pending>,
    /// Set by `shutdown` so appends are refused at once, even while the writer is mid-batch.
    closing: AtomicBool,
    /// The stop signal and the writer task, taken by the first `shutdown`. A std mutex: held
    /// only to take the value, never across an await.
    writer: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl DecisionLog {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(store: Arc<dyn DecisionStore>, config: DecisionLogConfig) -> DecisionLog {
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(write_loop(store, rx, stop_rx, config.max_batch.max(1)));
        DecisionLog {
            tx,
            closing: AtomicBool::new(false),
            writer: Mutex::new(Some((stop_tx, task))),
        }
    }

    /// Appends a decision and waits until it is durable (or known to be stored already).
    pub async fn append(&self, decision: Decision) -> Result<AppendOutcome, LogError> {
        self.submit(decision)?.await
    }

    /// Queues a decision without waiting: [`LogError::Busy`] when the queue is full. The
    /// decision is written whether or not the returned future is awaited.
    pub fn submit(&self, decision: Decision) -> Result<PendingAppend, LogError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(LogError::Closed);
        }
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(Pending { decision, reply }) {
            Ok(()) => Ok(PendingAppend { rx }),
            Err(TrySendError::Full(_)) => {
                metrics::counter!("arbiter_decision_log_busy_total").increment(1);
                Err(LogError::Busy)
            }
            Err(TrySendError::Closed(_)) => Err(LogError::Closed),
        }
    }

    /// Decisions queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Stops accepting appends, writes everything already queued, and waits for the writer to
    /// finish. Later calls return at once.
    pub async fn shutdown(&self) {
        self.closing.store(true, Ordering::Release);
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some((stop, task)) = writer else {
            return;
        };
        // The writer may already have exited (it panicked); then there is nothing to stop.
        let _ = stop.send(());
        if let Err(e) = task.await {
            tracing::error!(error = %e, "decision log writer ended abnormally");
        }
    }
}

/// The answer to one [`DecisionLog::submit`].
#[derive(Debug)]
pub struct PendingAppend {
    rx: oneshot::Receiver<Result<AppendOutcome, LogError>>,
}

impl Future for PendingAppend {
    type Output = Result<AppendOutcome, LogError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A dropped reply means the writer died before answering: not acknowledged.
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(LogError::Closed)))
    }
}

async fn write_loop(
    store: Arc<dyn DecisionStore>,
    mut rx: mpsc::Receiver<Pending>,
    mut stop: oneshot::Receiver<()>,
    max_batch: usize,
) {
    let mut stopping = false;
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        tokio::select! {
            biased;
            // Closing the receiver refuses new sends but still yields what is queued. (A
            // dropped `DecisionLog` resolves this too: it flushes the same way.)
            _ = &mut stop, if !stopping => {
                stopping = true;
                rx.close();
            }
            // Waits for one decision, then takes whatever else is already queued.
            taken = rx.recv_many(&mut batch, max_batch) => {
                if taken == 0 {
                    return; // closed and drained
                }
                metrics::gauge!("arbiter_decision_log_queued").set(rx.len() as f64);
                write_batch(&*store, &mut batch).await;
            }
        }
    }
}

/// Writes and answers everything in `pending`, leaving it empty (its capacity is reused).
async fn write_batch(store: &dyn DecisionStore, pending: &mut Vec<Pending>) {
    let (decisions, replies): (Vec<Decision>, Vec<Reply>) =
        pending.drain(..).map(|p| (p.decision, p.reply)).unzip();
    metrics::histogram!("arbiter_decision_log_batch_size").record(decisions.len() as f64);
    let started = Instant::now();
    let result = insert(store, &decisions).await;
    metrics::histogram!("arbiter_decision_log_write_seconds")
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // The requester may have gone away; the decision is stored all the same.
                let _ = reply.send(Ok(outcome));
            }
        }
        // A row the database refuses (PostgreSQL rejects `\u0000` in text) must fail only its
        // own request, so the batch is retried one decision at a time. Not when the database
        // is unavailable: every retry would fail the same way.
        Err(e) if replies.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
            tracing::warn!(error = %e, size = replies.len(), "decision log batch failed; retrying its decisions one by one");
            write_one_by_one(store, &decisions, replies).await;
        }
        Err(e) => {
            tracing::error!(error = %e, size = replies.len(), "decision log batch failed");
            for reply in replies {
                let _ = reply.send(Err(LogError::Store(copy_error(&e))));
            }
        }
    }
}

async fn write_one_by_one(store: &dyn DecisionStore, decisions: &[Decision], replies: Vec<Reply>) {
    // Once the database is unavailable the rest fail at once instead of each timing out.
    let mut down: Option<StoreError> = None;
    for (decision, reply) in decisions.iter().zip(replies) {
        let answer = match &down {
            Some(e) => Err(copy_error(e)),
            None => insert(store, std::slice::from_ref(decision))
                .await
                .and_then(|outcomes| {
                    outcomes
                        .into_iter()
                        .next()
                        .ok_or_else(|| StoreError::Backend("store answered no outcome".into()))
                }),
        };
        if let Err(e) = &answer {
            tracing::error!(error = %e, request_id = %decision.request_id, "decision not logged");
            if matches!(e, StoreError::Unavailable(_)) {
                down = Some(copy_error(e));
            }
        }
        let _ = reply.send(answer.map_err(LogError::Store));
    }
}

/// `insert_decisions`, holding the store to its contract of one outcome per decision.
async fn insert(
    store: &dyn DecisionStore,
    decisions: &[Decision],
) -> Result<Vec<AppendOutcome>, StoreError> {
    let outcomes = store.insert_decisions(decisions).await?;
    if outcomes.len() != decisions.len() {
        return Err(StoreError::Backend(format!(
            "store answered {} outcomes for {} decisions",
            outcomes.len(),
            decisions.len()
        )));
    }
    Ok(outcomes)
}

/// `StoreError` is not `Clone`; every request of a failed batch gets its own copy.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Overloaded(m) => StoreError::Overloaded(m.clone()),
    }
}
