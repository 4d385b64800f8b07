//! Backtests: what a candidate policy set would have done to the decisions already made.
//!
//! A run is accepted at once (`running`) and replayed in the background by [`runner`], off the
//! decision path: at most [`BacktestLimits::running`] runs per process, each on at most
//! [`BacktestLimits::workers`] blocking threads. Cancelling is a status change in the store,
//! which the run sees at its next progress write, so a `DELETE` on any replica stops a run on
//! any other. A run whose process stops is failed by the liveness sweep
//! (`feedback::job_liveness`).

mod error;
mod fingerprint;
mod runner;

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{SubsecRound, Utc};
use tokio::sync::Semaphore;

use arbiter_engine::audit::Actor;
use arbiter_engine::backtest::{
    Backtest, BacktestSpec, BacktestStatus, Backtester, Progress, Window,
};
use arbiter_engine::lists::ListSnapshot;
use arbiter_engine::stages::ModelStage;
use arbiter_engine::store::Store;

pub use error::BacktestError;

use crate::services::feedback::load_scorer;
use crate::services::policies::PolicyService;

/// What backtests may cost a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacktestLimits {
    /// Runs at once in this process; past it a start is refused with 429 and `Retry-After`.
    pub running: u32,
    /// Blocking threads replaying for one run.
    pub workers: u32,
    /// Decisions read per page.
    pub page: u32,
    /// Share of the time a run may keep its reader and workers busy, in percent: after each
    /// page it rests for the rest. 100 runs flat out.
    pub duty_percent: u8,
}

impl Default for BacktestLimits {
    fn default() -> Self {
        BacktestLimits {
            running: 1,
            workers: 1,
            page: 250,
            duty_percent: 25,
        }
    }
}

/// The most runs one listing returns.
pub const MAX_LIST: u32 = 100;

/// The most decisions a shadow rollout's summary reads (the run's first ones); a summary that
/// stopped there says so.
pub const SHADOW_SUMMARY_MAX: u64 = 200_000;

/// A shadow rollout's recorded answers against the live set's, like a backtest's report.
pub struct ShadowSummary {
    pub report: arbiter_engine::backtest::Report,
    /// True when the run has more shadowed decisions than [`SHADOW_SUMMARY_MAX`].
    pub partial: bool,
}

pub struct BacktestService {
    store: Arc<dyn Store>,
    policies: Arc<PolicyService>,
    /// The lists as they are now, for runs that ask for them.
    lists: Arc<ArcSwap<ListSnapshot>>,
    slots: Arc<Semaphore>,
    limits: BacktestLimits,
}

impl BacktestService {
    pub fn new(
        store: Arc<dyn Store>,
        policies: Arc<PolicyService>,
        lists: Arc<ArcSwap<ListSnapshot>>,
        limits: BacktestLimits,
    ) -> BacktestService {
        BacktestService {
            store,
            policies,
            lists,
            slots: Arc::new(Semaphore::new(limits.running as usize)),
            limits,
        }
    }

    /// Checks `spec`, loads what it names (so a missing set or model is refused here, not
    /// found out by the run), records the run and starts it.
    pub async fn start(
        &self,
        spec: BacktestSpec,
        actor: &Actor,
    ) -> Result<Backtest, BacktestError> {
        spec.validate()?;
        let (candidate, candidate_modules) = self.policies.replayable(spec.candidate).await?;
        let baseline = match spec.baseline {
            Some(v) => Some(self.policies.replayable(v).await?),
            None => None,
        };
        let candidate_model = match spec.candidate_model {
            Some(v) => {
                Some(Arc::new(load_scorer(self.store.as_ref(), v).await?) as Arc<dyn ModelStage>)
            }
            None => None,
        };
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| BacktestError::Busy {
                limit: self.limits.running,
            })?;
        let as_of = Utc::now().trunc_subsecs(6);
        let window = Window {
            from: spec.from,
            to: spec.to.min(as_of),
            checkpoint: spec.checkpoint,
        };
        let watermark = self.store.window_watermark(window, as_of).await?;
        let backtest = Backtest {
            backtest_id: Backtest::generate_id(),
            status: BacktestStatus::Running,
            progress: Progress {
                read: 0,
                total: watermark.decisions,
            },
            result: None,
            error: None,
            created_by: actor.id.clone(),
            created_at: as_of,
            finished_at: None,
            spec: spec.clone(),
        };
        self.store.insert_backtest(&backtest, actor).await?;
        let fingerprint = fingerprint::of(
            &spec,
            &candidate,
            candidate_modules,
            baseline.as_ref(),
            &watermark,
            as_of,
        );
        let backtester = Backtester {
            candidate,
            baseline: baseline.map(|(set, _)| set),
            current_lists: (spec.lists == arbiter_engine::backtest::ListsMode::Current)
                .then(|| self.lists.load_full()),
            candidate_model,
            labels: spec.labels.clone(),
            sample: spec.sample,
            as_of,
        };
        let run = runner::Run {
            store: self.store.clone(),
            backtest_id: backtest.backtest_id.clone(),
            window,
            as_of,
            total: watermark.decisions,
            grid: spec.sweep_grid(),
            backtester,
            fingerprint,
            limits: self.limits,
        };
        tokio::spawn(async move {
            run.execute().await;
            drop(permit);
        });
        Ok(backtest)
    }

    pub async fn get(&self, id: &str) -> Result<Backtest, BacktestError> {
        self.store
            .get_backtest(id)
            .await?
            .ok_or_else(|| BacktestError::NotFound(id.to_owned()))
    }

    /// Runs newest first, before `before` when given.
    pub async fn list(
        &self,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Backtest>, BacktestError> {
        Ok(self
            .store
            .list_backtests(before, limit.clamp(1, MAX_LIST))
            .await?)
    }

    /// Summarises the shadow results of set `candidate` on the decisions since `since` (a
    /// shadow rollout's start), folded off the async runtime page by page.
    pub async fn shadow_summary(
        &self,
        candidate: i64,
        since: chrono::DateTime<Utc>,
    ) -> Result<ShadowSummary, BacktestError> {
        let as_of = Utc::now();
        let mut builder = arbiter_engine::backtest::ReportBuilder::new(&[]);
        let mut cursor = None;
        let mut read = 0u64;
        let partial = loop {
            let page = self
                .store
                .shadow_page(candidate, since, as_of, cursor.as_ref(), self.limits.page)
                .await?;
            let Some(last) = page.last() else { break false };
            cursor = Some((last.created_at, last.decision_id.clone()));
            read += page.len() as u64;
            let full = page.len() as u32 == self.limits.page;
            builder = tokio::task::spawn_blocking(move || {
                for row in page {
                    arbiter_engine::backtest::shadow::fold(row, as_of, &mut builder);
                }
                builder
            })
            .await
            .map_err(|e| {
                BacktestError::Store(arbiter_engine::store::StoreError::Backend(format!(
                    "summarising the shadow: {e}"
                )))
            })?;
            if !full {
                break false;
            }
            if read >= SHADOW_SUMMARY_MAX {
                break true;
            }
        };
        Ok(ShadowSummary {
            report: builder.finish(),
            partial,
        })
    }

    /// Cancels a running run; a run that has ended is returned as it is.
    pub async fn cancel(&self, id: &str, actor: &Actor) -> Result<Backtest, BacktestError> {
        self.store
            .cancel_backtest(id, actor)
            .await?
            .ok_or_else(|| BacktestError::NotFound(id.to_owned()))
    }
}
