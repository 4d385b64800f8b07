//! The group-commit decision log against real stores, with wrappers that hold, record or fail
//! batches so that every interleaving a test needs is reached deterministically: a test waits
//! for the writer to *enter* a batch and releases it explicitly, never by sleeping.

mod support;

use std::sync::{Arc, Mutex};

use arbiter_engine::Decision;
use arbiter_engine::store::{AppendOutcome, DecisionStore, StoreError};
use arbiter_storage::{DecisionLog, DecisionLogConfig, LogError};
use async_trait::async_trait;
use support::backends::backends;
use support::fixtures::decision;
use tokio::sync::{Semaphore, mpsc};

/// Wraps a store: records each batch's size, signals when the writer enters a batch, and holds
/// every batch until the test releases it.
struct Gate {
    inner: Arc<dyn DecisionStore>,
    open: Semaphore,
    entered: mpsc::UnboundedSender<usize>,
    sizes: Mutex<Vec<usize>>,
}

impl Gate {
    fn new(inner: Arc<dyn DecisionStore>) -> (Arc<Gate>, mpsc::UnboundedReceiver<usize>) {
        let (entered, rx) = mpsc::unbounded_channel();
        let gate = Gate {
            inner,
            open: Semaphore::new(0),
            entered,
            sizes: Mutex::new(Vec::new()),
        };
        (Arc::new(gate), rx)
    }

    /// Lets every batch, now and later, through.
    fn open(&self) {
        self.open.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    fn sizes(&self) -> Vec<usize> {
        self.sizes.lock().expect("sizes").clone()
    }
}

#[async_trait]
impl DecisionStore for Gate {
    async fn insert_decisions(&self, batch: &[Decision]) -> Result<Vec<AppendOutcome>, StoreError> {
        self.sizes.lock().expect("sizes").push(batch.len());
        let _ = self.entered.send(batch.len());
        self.open.acquire().await.expect("gate").forget();
        self.inner.insert_decisions(batch).await
    }
    async fn get_decision(&self, id: &str) -> Result<Option<Decision>, StoreError> {
        self.inner.get_decision(id).await
    }
    async fn get_decision_by_request_id(&self, id: &str) -> Result<Option<Decision>, StoreError> {
        self.inner.get_decision_by_request_id(id).await
    }
    async fn count_decisions(&self) -> Result<u64, StoreError> {
        self.inner.count_decisions().await
    }
    async fn decisions_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Decision>, StoreError> {
        self.inner.decisions_page(since, after, limit).await
    }
}

/// Refuses every batch, as a database that is down would.
struct Down;

#[async_trait]
impl DecisionStore for Down {
    async fn insert_decisions(&self, _: &[Decision]) -> Result<Vec<AppendOutcome>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn get_decision(&self, _: &str) -> Result<Option<Decision>, StoreError> {
        Ok(None)
    }
    async fn get_decision_by_request_id(&self, _: &str) -> Result<Option<Decision>, StoreError> {
        Ok(None)
    }
    async fn count_decisions(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn decisions_page(
        &self,
        _since: chrono::DateTime<chrono::Utc>,
        _after: Option<&str>,
        _limit: u32,
    ) -> Result<Vec<Decision>, StoreError> {
        Ok(Vec::new())
    }
}

/// Refuses any batch holding the request `poison`, as PostgreSQL refuses a `\u0000` in text.
struct Poisoned(Arc<dyn DecisionStore>);

#[async_trait]
impl DecisionStore for Poisoned {
    async fn insert_decisions(&self, batch: &[Decision]) -> Result<Vec<AppendOutcome>, StoreError> {
        if batch.iter().any(|d| d.request_id == "poison") {
            return Err(StoreError::Backend(
                "unsupported Unicode escape sequence".into(),
            ));
        }
        self.0.insert_decisions(batch).await
    }
    async fn get_decision(&self, id: &str) -> Result<Option<Decision>, StoreError> {
        self.0.get_decision(id).await
    }
    async fn get_decision_by_request_id(&self, id: &str) -> Result<Option<Decision>, StoreError> {
        self.0.get_decision_by_request_id(id).await
    }
    async fn count_decisions(&self) -> Result<u64, StoreError> {
        self.0.count_decisions().await
    }
    async fn decisions_page(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Decision>, StoreError> {
        self.0.decisions_page(since, after, limit).await
    }
}

fn config(capacity: usize) -> DecisionLogConfig {
    DecisionLogConfig {
        capacity,
        max_batch: 256,
    }
}

/// Many tasks append at once while the writer is held on the first decision; released, it
/// writes the rest in one batch. Every append is acknowledged as inserted, and durable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_batched_and_all_durable() {
    const TASKS: usize = 100;
    for db in backends().await {
        let (gate, mut entered) = Gate::new(db.store.clone());
        let log = Arc::new(DecisionLog::spawn(gate.clone(), config(4096)));
        let mut tasks = tokio::task::JoinSet::new();
        let first = Arc::clone(&log);
        tasks.spawn(async move { first.append(decision("req-0")).await });
        assert_eq!(
            entered.recv().await,
            Some(1),
            "{}: writer holds the first",
            db.name
        );
        for i in 1..TASKS {
            let log = Arc::clone(&log);
            tasks.spawn(async move { log.append(decision(&format!("req-{i}"))).await });
        }
        while log.queued() < TASKS - 1 {
            tokio::task::yield_now().await;
        }
        gate.open();
        for outcome in tasks.join_all().await {
            assert!(
                matches!(outcome, Ok(AppendOutcome::Inserted)),
                "{}: {outcome:?}",
                db.name
            );
        }
        assert_eq!(
            db.store.count_decisions().await.expect("count"),
            TASKS as u64,
            "{}",
            db.name
        );
        let sizes = gate.sizes();
        assert_eq!(
            sizes,
            vec![1, TASKS - 1],
            "{}: one batch for everything queued",
            db.name
        );
        log.shutdown().await;
    }
}

#[tokio::test]
async fn a_full_queue_answers_busy_at_once() {
    let db = support::backends::sqlite().await;
    let (gate, mut entered) = Gate::new(db.store.clone());
    let log = DecisionLog::spawn(gate.clone(), config(4));
    let held = log.submit(decision("held")).expect("queued");
    assert_eq!(entered.recv().await, Some(1));
    let queued: Vec<_> = (0..4)
        .map(|i| {
            log.submit(decision(&format!("q-{i}")))
                .expect("room in the queue")
        })
        .collect();
    assert_eq!(log.queued(), 4);
    assert!(matches!(
        log.submit(decision("one-too-many")),
        Err(LogError::Busy)
    ));
    assert!(matches!(
        log.append(decision("one-too-many")).await,
        Err(LogError::Busy)
    ));

    gate.open();
    assert!(matches!(held.await, Ok(AppendOutcome::Inserted)));
    for pending in queued {
        assert!(matches!(pending.await, Ok(AppendOutcome::Inserted)));
    }
    assert_eq!(
        db.store
            .get_decision_by_request_id("one-too-many")
            .await
            .expect("get"),
        None
    );
    assert!(matches!(
        log.append(decision("later")).await,
        Ok(AppendOutcome::Inserted)
    ));
    assert_eq!(db.store.count_decisions().await.expect("count"), 6);
}

#[tokio::test]
async fn a_failing_store_yields_errors_not_acknowledgements() {
    let log = DecisionLog::spawn(Arc::new(Down), config(16));
    let pending: Vec<_> = (0..5)
        .map(|i| log.submit(decision(&format!("down-{i}"))).expect("queued"))
        .collect();
    for p in pending {
        let outcome = p.await;
        assert!(
            matches!(outcome, Err(LogError::Store(StoreError::Unavailable(_)))),
            "{outcome:?}"
        );
    }
    log.shutdown().await;
}

/// A decision the database refuses fails alone; the rest of its batch is written.
#[tokio::test]
async fn a_refused_decision_does_not_fail_its_batch() {
    let db = support::backends::sqlite().await;
    let (gate, mut entered) = Gate::new(Arc::new(Poisoned(db.store.clone())));
    let log = DecisionLog::spawn(gate.clone(), config(16));
    let first = log.submit(decision("first")).expect("queued");
    assert_eq!(entered.recv().await, Some(1));
    let good = log.submit(decision("good")).expect("queued");
    let poison = log.submit(decision("poison")).expect("queued");
    let dup = log.submit(decision("good")).expect("queued");
    gate.open();
    assert!(matches!(first.await, Ok(AppendOutcome::Inserted)));
    assert!(matches!(good.await, Ok(AppendOutcome::Inserted)));
    assert!(matches!(
        poison.await,
        Err(LogError::Store(StoreError::Backend(_)))
    ));
    assert!(matches!(dup.await, Ok(AppendOutcome::Existing(_))));
    assert_eq!(gate.sizes()[..2], [1, 3], "the batch was tried whole first");
    assert_eq!(db.store.count_decisions().await.expect("count"), 2);
    log.shutdown().await;
}

/// Shutdown refuses new appends at once, still writes everything queued, then returns.
#[tokio::test]
async fn shutdown_flushes_what_is_queued() {
    let db = support::backends::sqlite().await;
    let (gate, mut entered) = Gate::new(db.store.clone());
    let log = DecisionLog::spawn(gate.clone(), config(64));
    let mut pending = vec![log.submit(decision("flush-0")).expect("queued")];
    assert_eq!(entered.recv().await, Some(1));
    pending.extend((1..=10).map(|i| log.submit(decision(&format!("flush-{i}"))).expect("queued")));

    tokio::join!(log.shutdown(), async {
        // Let `shutdown` run first whatever order `join!` polls in.
        tokio::task::yield_now().await;
        assert!(matches!(
            log.submit(decision("too-late")),
            Err(LogError::Closed)
        ));
        gate.open();
    });
    for p in pending {
        assert!(matches!(p.await, Ok(AppendOutcome::Inserted)));
    }
    assert_eq!(db.store.count_decisions().await.expect("count"), 11);
    assert!(matches!(
        log.append(decision("after")).await,
        Err(LogError::Closed)
    ));
    log.shutdown().await; // a second shutdown returns at once
}
