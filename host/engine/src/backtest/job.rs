//! The stored record of a backtest run, its state machine, and the store it lives in.
//!
//! A run is `running` from the moment it is accepted until it ends `succeeded` (with its
//! report), `failed` (with the reason: an error, or the process that ran it stopped) or
//! `cancelled`. Those three are final: the store only moves a `running` row, so a cancel that
//! races the end of a run loses or wins cleanly and never overwrites a report.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::replay::RecordedRow;
use super::report::Report;
use super::shadow::ShadowRow;
use super::spec::BacktestSpec;
use crate::audit::Actor;
use crate::checkpoint::Checkpoint;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BacktestStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl BacktestStatus {
    pub const ALL: [BacktestStatus; 4] = [
        BacktestStatus::Running,
        BacktestStatus::Succeeded,
        BacktestStatus::Failed,
        BacktestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BacktestStatus::Running => "running",
            BacktestStatus::Succeeded => "succeeded",
            BacktestStatus::Failed => "failed",
            BacktestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BacktestStatus> {
        BacktestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether a run in this state may move to `next`: only a running one, to a final state.
    pub fn can_become(self, next: BacktestStatus) -> bool {
        self == BacktestStatus::Running && next != BacktestStatus::Running
    }
}

/// How far a run has read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Decisions read so far.
    pub read: u64,
    /// Decisions in the window when the run started.
    pub total: u64,
}

/// What a report was computed from, so two runs can be compared and a report cited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// SHA-256 over everything below and the spec, hex.
    pub id: String,
    /// `name@version:sha256` of each candidate module, in set order.
    pub candidate_modules: Vec<String>,
    /// The same for the baseline set, when one was named.
    pub baseline_modules: Option<Vec<String>>,
    /// The data watermark: decisions in the window and the newest of them …
    pub decisions: u64,
    pub last_decision_id: Option<String>,
    /// … and labels on them given up to the run's start, and the newest label's time.
    pub labels: u64,
    pub last_label_at: Option<DateTime<Utc>>,
    /// When the run started: the window's effective end and the maturity cut-off.
    pub as_of: DateTime<Utc>,
}

/// A finished run's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    pub fingerprint: Fingerprint,
    #[serde(flatten)]
    pub report: Report,
    /// Wall-clock time of the run, in milliseconds …
    pub elapsed_ms: u64,
    /// … of which the reader spent this long waiting for pages from the database …
    #[serde(default)]
    pub reading_ms: u64,
    /// … and this long waiting for a replay worker to take the next page: where the time
    /// goes (reading-bound or replay-bound).
    #[serde(default)]
    pub waiting_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    pub backtest_id: String,
    pub status: BacktestStatus,
    pub spec: BacktestSpec,
    pub progress: Progress,
    /// Present once `succeeded`.
    pub result: Option<BacktestResult>,
    /// Why it `failed`.
    pub error: Option<String>,
    /// The id of the key that started it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Backtest {
    pub fn generate_id() -> String {
        format!("bt_{}", uuid::Uuid::now_v7().simple())
    }
}

/// The window a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub checkpoint: Option<Checkpoint>,
}

/// The data watermark of a window (see [`Fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Watermark {
    pub decisions: u64,
    pub last_decision_id: Option<String>,
    pub labels: u64,
    pub last_label_at: Option<DateTime<Utc>>,
}

/// Where a page of history starts: after this `(created_at, decision_id)`.
pub type Cursor = (DateTime<Utc>, String);

#[async_trait]
pub trait BacktestStore: Send + Sync + 'static {
    /// Stores a new `running` run and audits its start.
    async fn insert_backtest(&self, b: &Backtest, actor: &Actor) -> Result<(), StoreError>;
    async fn get_backtest(&self, id: &str) -> Result<Option<Backtest>, StoreError>;
    /// Runs newest first, before the run `before` when given.
    async fn list_backtests(
        &self,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Backtest>, StoreError>;
    /// The most recently finished successful run of `candidate`, if any.
    async fn latest_succeeded_backtest(
        &self,
        candidate: i64,
    ) -> Result<Option<Backtest>, StoreError>;
    /// Records progress (and that the process is alive). `false` when the run is no longer
    /// running (cancelled): the worker stops.
    async fn backtest_progress(
        &self,
        id: &str,
        progress: Progress,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Moves a running run to a final state. `false` when it was not running any more.
    async fn finish_backtest(
        &self,
        id: &str,
        status: BacktestStatus,
        result: Option<&BacktestResult>,
        error: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Cancels a running run (audited). `None` when there is no such run; the run as it is
    /// otherwise (unchanged when it had already ended).
    async fn cancel_backtest(
        &self,
        id: &str,
        actor: &Actor,
    ) -> Result<Option<Backtest>, StoreError>;
    /// Fails running runs whose process stopped writing progress before `stale_before`.
    async fn fail_abandoned_backtests(
        &self,
        stale_before: DateTime<Utc>,
        error: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// How many runs are running.
    async fn running_backtests(&self) -> Result<u64, StoreError>;
    /// The data watermark of `window`, counting labels given up to `as_of`.
    async fn window_watermark(
        &self,
        window: Window,
        as_of: DateTime<Utc>,
    ) -> Result<Watermark, StoreError>;
    /// A page of recorded decisions in `window`, in `(created_at, decision_id)` order after
    /// `after`, each with its latest label given up to `as_of`.
    async fn recorded_page(
        &self,
        window: Window,
        as_of: DateTime<Utc>,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<RecordedRow>, StoreError>;
    /// A page of the decisions since `since` that carry a shadow result of set `version`, in
    /// `(created_at, decision_id)` order after `after`, each with its latest label given up
    /// to `as_of`.
    async fn shadow_page(
        &self,
        version: i64,
        since: DateTime<Utc>,
        as_of: DateTime<Utc>,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<ShadowRow>, StoreError>;
    /// Decisions since `since` that set `version` made (live) or was evaluated on (shadow).
    async fn served_decisions(&self, version: i64, since: DateTime<Utc>)
    -> Result<u64, StoreError>;
}
