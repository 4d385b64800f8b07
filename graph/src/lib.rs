//! Arbiter's link graph: users, devices, cards, emails, phones, shipping addresses and IPs
//! seen together in decisions, linked on petgraph, and the graph features and score the
//! decision pipeline records. Fraud rings, card testing and multi-accounting show here when
//! no single transaction shows them.
//!
//! A pure library: no HTTP, no storage, no async, no clock (every instant is passed in). It
//! does not depend on the engine; the pipeline adapts [`Observation`] to its own context
//! types and records [`Features`] as they are (the engine re-exports them as `GraphFeatures`). Start with [`LinkGraph`] (single-writer) and [`SharedGraph`] (one
//! graph across request threads); `README.md` has scores, thresholds, ageing, eviction and
//! the consistency model across replicas.

mod config;
mod edge_table;
mod entity;
mod error;
mod forget;
mod graph;
mod groups;
mod hops;
mod intern;
pub mod label_marks;
mod maintenance;
mod marks;
mod node;
mod open_table;
mod phase;
mod score;
mod shared;
mod stats;
mod view;

#[cfg(test)]
mod invariants;

pub use config::{Config, Thresholds};
pub use entity::{EntityKind, EntityRef, Observation};
pub use error::GraphError;
pub use graph::LinkGraph;
pub use groups::GroupStats;
pub use label_marks::{History, LabelSide, MarkPlan};
pub use maintenance::MaintenanceReport;
pub use score::{Features, Reason, ReasonCode, Scored};
pub use shared::{MAINTENANCE_CHUNK, SharedGraph};
pub use stats::GraphStats;
pub use view::{EntityView, FraudMark, Neighbour};
