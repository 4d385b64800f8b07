//! The Arbiter decision engine.
//!
//! Owns what a decision *is*: the request contract and its validation, normalisation, the
//! enriched context, velocity features, the list layer, the staged pipeline (lists, rules,
//! graph, model, score bands), policy sets, the policy registry's records (modules,
//! rollouts), the audit trail and the store traits the backends implement.
//!
//! It must not know about HTTP or SQL: the HTTP edge lives in `arbiter-host`, the SQLite and
//! PostgreSQL implementations of [`store`] in `arbiter-storage`.

// The workspace denies unsafe code; only the policy runtime may override that, once.
#![forbid(unsafe_code)]

pub mod action;
pub mod audit;
pub mod backtest;
pub mod card_scan;
pub mod checkpoint;
pub mod clock;
pub mod context;
pub mod decision;
pub mod entity_chain;
pub mod erasure;
pub mod error;
pub mod feedback;
mod field_path;
mod generations;
pub mod graph_feed;
pub mod guard;
pub mod json_numbers;
pub mod keys;
pub mod lists;
pub mod money;
pub mod normalize;
pub mod pipeline;
pub mod policy_set;
pub mod registry;
pub mod request;
pub mod retention;
pub mod routing;
pub mod screen;
pub mod session;
pub mod snooze;
pub mod stages;
pub mod store;
pub mod usual;
pub mod velocity;

pub use action::Action;
pub use checkpoint::Checkpoint;
pub use context::EnrichedContext;
pub use decision::{Decision, DecisionId};
pub use error::RequestError;
pub use money::Money;
pub use request::DecisionRequest;
