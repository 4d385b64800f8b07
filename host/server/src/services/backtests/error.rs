//! What can go wrong asking for a backtest.

use thiserror::Error;

use arbiter_engine::backtest::SpecError;
use arbiter_engine::store::StoreError;

use crate::services::feedback::FeedbackError;
use crate::services::policies::PolicyError;

#[derive(Debug, Error)]
pub enum BacktestError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("backtest `{0}` not found")]
    NotFound(String),
    /// The candidate or baseline set could not be loaded (missing, or a module that fails).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The candidate model could not be loaded.
    #[error(transparent)]
    Model(#[from] FeedbackError),
    #[error("{limit} backtests are already running on this replica; retry when one ends")]
    Busy { limit: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}
