//! Backtests (issue 16): what a candidate policy set would have done to decisions already
//! made, against what the baseline did and what the labels say.
//!
//! Arbiter can replay exactly: every decision is stored with its enriched context as the
//! pipeline saw it (velocity, graph features, watch hits), the list verdict and the model's
//! score, and rules are deterministic WebAssembly. A replay of the set that made a decision
//! must therefore reproduce its action and score bit for bit; any difference is reported as a
//! determinism fault.
//!
//! The parts, all pure (no I/O): [`spec`] is what a risk engineer asks for and its limits,
//! [`replay`] re-decides one recorded decision, [`labels`] turns the latest label into truth,
//! [`report`] aggregates replayed decisions, [`run`] ties them together for one decision at a
//! time, [`job`] is the stored record of a run and its state machine, and [`shadow`] reports a
//! shadow rollout's recorded answers the same way. Reading history,
//! scheduling workers and storing jobs belong to the host.

pub mod job;
pub mod labels;
pub mod replay;
pub mod report;
pub mod run;
pub mod shadow;
pub mod spec;

pub use job::{
    Backtest, BacktestResult, BacktestStatus, BacktestStore, Cursor, Fingerprint, Progress,
    Watermark, Window,
};
pub use labels::{LabelPolicy, Truth};
pub use replay::{RecordedDecision, RecordedRow, ReplayInput};
pub use report::{Report, ReportBuilder};
pub use run::Backtester;
pub use spec::{BacktestSpec, ListsMode, Sample, SpecError};

#[cfg(test)]
mod tests;
