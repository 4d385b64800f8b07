//! The state every handler shares.

use std::sync::Arc;

use arbiter_engine::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::services::backtests::BacktestService;
use crate::services::console_sessions::ConsoleSessions;
use crate::services::decisions::DecisionService;
use crate::services::entity_history::EntityHistory;
use crate::services::feedback::{LabelService, ModelService, ReportService, ReviewService};
use crate::services::graph::GraphService;
use crate::services::keys::KeyService;
use crate::services::lists::ListService;
use crate::services::policies::PolicyService;
use crate::services::rates::RateService;
use crate::services::reconciliation::ReconService;
use crate::services::snoozes::SnoozeService;
use crate::services::transactions::TransactionServices;

/// Cheap to clone: one `Arc` around the services.
#[derive(Clone)]
pub struct AppState(pub Arc<Services>);

pub struct Services {
    /// Shared with the transaction core's risk client, which decides in process.
    pub decisions: Arc<DecisionService>,
    pub lists: ListService,
    /// Shared with its sync task (last uses, reloads), which holds it weakly.
    pub keys: Arc<KeyService>,
    pub graph: Arc<GraphService>,
    pub policies: Arc<PolicyService>,
    pub reviews: ReviewService,
    /// Decisions by entity, and a decision beside its customer's usual behaviour.
    pub history: EntityHistory,
    pub labels: LabelService,
    pub models: ModelService,
    /// The exchange-rate table amounts are converted into the reporting currency with.
    pub rates: Arc<RateService>,
    /// Statements, runs, difference tickets and the days' results.
    pub reconciliation: ReconService,
    /// The outbox relay to NATS JetStream when `--nats-url` is given.
    pub relay: Option<crate::services::outbox_relay::OutboxRelay>,
    /// Deletes expired outbox events unless `--outbox-retention-secs` is 0.
    pub outbox_retention: Option<crate::services::outbox_retention::OutboxRetention>,
    /// Deletes expired decisions, callbacks and audit entries (`--*-retention-secs`), and
    /// makes PostgreSQL's decisions partitions ahead.
    pub retention: crate::services::retention::Retention,
    /// Erasure of a person: the key their identifiers' pseudonyms are made under.
    pub erasure: crate::services::erasure::ErasureService,
    /// Rule snoozes: per-entity silences the pipeline honours.
    pub snoozes: Arc<SnoozeService>,
    /// Reviewer console sign-ins.
    pub console: ConsoleSessions,
    /// Whether the console's cookie is marked `Secure` (served over HTTPS).
    pub console_secure_cookie: bool,
    pub reports: ReportService,
    /// Replays of candidate policy sets over stored decisions.
    pub backtests: BacktestService,
    /// Orders, payments, refunds, the catalogue, the ledger and the card channel.
    pub transactions: TransactionServices,
    /// For readiness checks.
    pub store: Arc<dyn Store>,
    pub metrics: PrometheusHandle,
    /// The shared velocity store when `--redis-url` is given (its health is in readiness).
    pub redis_velocity: Option<arbiter_redis::RedisVelocity>,
    /// The HTTP server's limits: the router's edge layers and `serve`'s accept loop read
    /// them. `Copy`: a few numbers, read once at start.
    pub http: crate::config::HttpLimits,
    /// Cross-replica change notifications when `--redis-url` is given; set once after start.
    pub replication: std::sync::OnceLock<Arc<crate::services::replication::Replication>>,
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}
