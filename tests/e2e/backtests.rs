//! Backtests end to end through the real endpoints, on both backends: a history with planted
//! fraud and labels is decided by the bundled example set, then replayed. A stricter
//! candidate's transition matrix, confusion counts and per-rule hits are checked against
//! values this test computes on its own from the stored decisions; the set that decided must
//! reproduce every decision (the exactness check), also with a trained model in the loop.
//! Runs as jobs (cancel, crash, the command line) and what guards a promotion are tested
//! here too.

mod promotion;
mod report;
mod rules;
mod runs;
pub(crate) mod support;
