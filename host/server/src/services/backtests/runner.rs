//! One run, from the first page to its stored end.
//!
//! The reader pages through the window on the async runtime (the store's own I/O); each page
//! is decoded and replayed on a blocking thread by one of the run's workers, each folding into
//! its own report builder, and the reader fetches the next page while they work. The builders
//! are merged at the end. Progress is written at most every [`PROGRESS_EVERY`]; that write is
//! also the run's heartbeat and how it learns it was cancelled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use arbiter_engine::backtest::{
    BacktestResult, BacktestStatus, Backtester, Cursor, Fingerprint, Progress, ReportBuilder,
    Window,
};
use arbiter_engine::store::Store;

use super::BacktestLimits;

/// How often a run writes its progress (and heartbeat). Well inside the liveness sweep's
/// silence limit, so a healthy run is never taken for a dead one.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);

pub struct Run {
    pub store: Arc<dyn Store>,
    pub backtest_id: String,
    pub window: Window,
    pub as_of: DateTime<Utc>,
    pub total: u64,
    pub grid: Vec<f64>,
    pub backtester: Backtester,
    pub fingerprint: Fingerprint,
    pub limits: BacktestLimits,
}

/// Where a finished run's reader spent its time, in milliseconds: awaiting pages, awaiting a
/// free worker.
struct Spent {
    reading: u64,
    waiting: u64,
}

/// How a run ended before its result was stored.
enum Ended {
    Done(Box<ReportBuilder>, u64, Spent),
    Cancelled,
    Failed(String),
}

impl Run {
    /// Runs to the end and stores the outcome; never panics the caller.
    pub async fn execute(self) {
        let started = Instant::now();
        let ended = self.replay().await;
        let id = self.backtest_id.as_str();
        let stored = match ended {
            Ended::Done(builder, read, spent) => {
                let report = (*builder).finish();
                let elapsed = started.elapsed();
                tracing::info!(
                    backtest = %id,
                    read,
                    replayed = report.coverage.replayed,
                    changed = report.changed,
                    determinism_faults = report.determinism.faults,
                    ms = elapsed.as_millis() as u64,
                    reading_ms = spent.reading,
                    waiting_ms = spent.waiting,
                    "backtest finished"
                );
                let result = BacktestResult {
                    fingerprint: self.fingerprint.clone(),
                    report,
                    elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                    reading_ms: spent.reading,
                    waiting_ms: spent.waiting,
                };
                match self
                    .store
                    .backtest_progress(id, self.progress(read), Utc::now())
                    .await
                {
                    Ok(_) => {
                        self.finish(BacktestStatus::Succeeded, Some(&result), None)
                            .await
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Ended::Cancelled => {
                tracing::info!(backtest = %id, "backtest cancelled");
                Ok(())
            }
            Ended::Failed(error) => {
                tracing::warn!(backtest = %id, error = %error, "backtest failed");
                self.finish(BacktestStatus::Failed, None, Some(&error))
                    .await
            }
        };
        if let Err(e) = stored {
            tracing::error!(backtest = %id, error = %e, "could not record the backtest's end");
        }
    }

    /// Progress after `read` decisions (the window may have grown since the count).
    fn progress(&self, read: u64) -> Progress {
        Progress {
            read,
            total: self.total.max(read),
        }
    }

    async fn finish(
        &self,
        status: BacktestStatus,
        result: Option<&BacktestResult>,
        error: Option<&str>,
    ) -> Result<(), String> {
        metrics::counter!("arbiter_backtests_total", "status" => status.as_str()).increment(1);
        self.store
            .finish_backtest(&self.backtest_id, status, result, error)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn replay(&self) -> Ended {
        let workers = self.limits.workers.max(1) as usize;
        let mut idle: Vec<ReportBuilder> = (0..workers)
            .map(|_| ReportBuilder::new(&self.grid))
            .collect();
        let mut busy: JoinSet<ReportBuilder> = JoinSet::new();
        let mut cursor: Option<Cursor> = None;
        let mut read = 0u64;
        let mut reported = Instant::now();
        let (mut reading, mut waiting) = (Duration::ZERO, Duration::ZERO);
        loop {
            let page_started = Instant::now();
            let page = match self
                .store
                .recorded_page(self.window, self.as_of, cursor.as_ref(), self.limits.page)
                .await
            {
                Ok(page) => page,
                Err(e) => return Ended::Failed(format!("reading decisions: {e}")),
            };
            reading += page_started.elapsed();
            let Some(last) = page.last() else { break };
            cursor = Some((last.created_at, last.decision_id.clone()));
            let full = page.len() as u32 == self.limits.page;
            read += page.len() as u64;
            if idle.is_empty() {
                let asked = Instant::now();
                let freed = busy.join_next().await;
                waiting += asked.elapsed();
                match freed {
                    Some(Ok(b)) => idle.push(b),
                    Some(Err(e)) => return Ended::Failed(format!("a replay worker failed: {e}")),
                    None => {}
                }
            }
            let mut builder = idle.pop().unwrap_or_else(|| ReportBuilder::new(&self.grid));
            let backtester = self.backtester.clone();
            busy.spawn_blocking(move || {
                for row in page {
                    backtester.fold_row(row, &mut builder);
                }
                builder
            });
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                match self
                    .store
                    .backtest_progress(&self.backtest_id, self.progress(read), Utc::now())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        busy.abort_all();
                        return Ended::Cancelled;
                    }
                    Err(e) => tracing::warn!(
                        backtest = %self.backtest_id, error = %e, "backtest progress write failed"
                    ),
                }
            }
            if !full {
                break;
            }
            // Share the machine with decisions: after each page, rest for as long as the page
            // took, scaled so the run is busy only `duty_percent` of the time.
            let duty = u32::from(self.limits.duty_percent.clamp(1, 100));
            if duty < 100 {
                tokio::time::sleep(page_started.elapsed() * (100 - duty) / duty).await;
            }
        }
        while let Some(done) = busy.join_next().await {
            match done {
                Ok(b) => idle.push(b),
                Err(e) => return Ended::Failed(format!("a replay worker failed: {e}")),
            }
        }
        let mut merged = ReportBuilder::new(&self.grid);
        for b in idle {
            merged.merge(b);
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let spent = Spent {
            reading: ms(reading),
            waiting: ms(waiting),
        };
        Ended::Done(Box::new(merged), read, spent)
    }
}
