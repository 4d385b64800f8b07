//! Prometheus metrics. The recorder is process-global (the `metrics` facade allows one), so it
//! is installed once and every server in the process renders the same registry.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets from 10 µs to 1 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Review turnaround buckets from one minute to a week.
const MINUTES_BUCKETS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 1440.0, 2880.0, 10080.0,
];

/// The handle that renders `/metrics`, installing the recorder on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("batch_size".into()), BATCH_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_minutes".into()), MINUTES_BUCKETS)
                })
                .map(PrometheusBuilder::build_recorder);
            match recorder {
                Ok(recorder) => {
                    let handle = recorder.handle();
                    // Fails only if another recorder was installed first; then ours stays
                    // unused and /metrics shows nothing, which the metrics test would catch.
                    if metrics::set_global_recorder(recorder).is_ok() {
                        describe();
                        start_upkeep(handle.clone());
                    }
                    handle
                }
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// How often histogram samples are folded into their buckets when nobody scrapes `/metrics`.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the histograms' pending samples into their buckets every [`UPKEEP_EVERY`].
///
/// The recorder keeps every histogram sample in a queue until a render or an upkeep drains it;
/// `build_recorder` (unlike the exporter's own `install`) starts no upkeep, so a server whose
/// `/metrics` nobody scraped kept about 16 samples of every decision — a straight line of RSS,
/// ~128 bytes a decision (issue 23). A plain thread, not a Tokio task: the recorder is global
/// and outlives any one runtime (tests start many).
fn start_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "metrics upkeep thread did not start; histograms drain only when scraped");
    }
}

/// The `# HELP` line of every metric, and the build's identity as a gauge. Described once,
/// when the recorder is installed; a metric shows in `/metrics` from its first value on.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    use names::*;
    describe_counter!(
        DECISIONS_TOTAL,
        "Decisions answered, by checkpoint (`event`) and action."
    );
    describe_histogram!(
        DECISION_SECONDS,
        Unit::Seconds,
        "Time to decide, request in to answer out."
    );
    describe_histogram!(
        STAGE_SECONDS,
        Unit::Seconds,
        "Time per pipeline stage (`stage`)."
    );
    describe_counter!(
        REJECTED_REQUESTS_TOTAL,
        "Requests answered with a problem, by its `code`."
    );
    describe_counter!(
        IDEMPOTENT_REPLAYS_TOTAL,
        "Requests answered from an earlier identical one."
    );
    describe_histogram!(
        REVIEW_TURNAROUND_MINUTES,
        "Minutes from a review's opening to its resolution."
    );
    describe_counter!(LABELS_TOTAL, "Labels recorded, by `label`.");
    describe_counter!(
        WEBHOOK_REFUSALS_TOTAL,
        "Channel callbacks refused before reading, by `channel` and `reason`."
    );
    describe_counter!(
        CONNECTIONS_TIMED_OUT_TOTAL,
        "Connections closed for overrunning a timeout, by `timeout`."
    );
    describe_gauge!(CONNECTIONS_OPEN, "Connections being served now.");
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the `version` label is the running build's."
    );
    describe_gauge!(
        DEPENDENCY_UP,
        "1 when an optional dependency (`dependency`: redis_velocity, redis_notifications) serves, 0 while the service runs degraded without it."
    );
    describe_gauge!(REVIEWS_OPEN, "Reviews waiting in the queue.");
    describe_gauge!(
        REVIEW_OLDEST_AGE_SECONDS,
        Unit::Seconds,
        "Age of the oldest open review; 0 when none is open."
    );
    describe_gauge!(
        POLICY_SET_ACTIVE_VERSION,
        "The policy set version serving traffic."
    );
    describe_gauge!(
        MODEL_VERSION,
        "The model version in each `slot` (active, shadow); 0 when the slot is empty."
    );
    describe_counter!(
        "arbiter_decision_log_busy_total",
        "Decision batches that waited for the database (SQLite busy)."
    );
    describe_histogram!(
        "arbiter_decision_log_batch_size",
        "Decisions written per decision-log batch."
    );
    describe_histogram!(
        "arbiter_decision_log_write_seconds",
        Unit::Seconds,
        "Time to write one decision-log batch."
    );
    describe_counter!(
        "arbiter_write_queue_full_total",
        "Writes refused because a group-commit queue was full."
    );
    describe_histogram!("arbiter_write_batch_size", "Writes per group-commit batch.");
    describe_gauge!(
        "arbiter_write_queue_depth",
        "Writes left waiting in a group-commit queue when its writer took a batch."
    );
    describe_gauge!(
        "arbiter_decision_log_queued",
        "Decisions left waiting in the decision log's queue when its writer took a batch."
    );
    describe_histogram!(
        "arbiter_write_batch_seconds",
        Unit::Seconds,
        "Time to commit one group-commit batch."
    );
    describe_histogram!(
        GRAPH_FOLLOW_LAG_SECONDS,
        Unit::Seconds,
        "From a decision's instant to its link on another replica's graph."
    );
    describe_counter!(
        GRAPH_FOLLOWED_TOTAL,
        "Decisions of other replicas linked into this replica's graph."
    );
    describe_histogram!(
        GRAPH_FOLLOW_FOLD_SECONDS,
        Unit::Seconds,
        "Time to link one page of the other replicas' decisions."
    );
    describe_gauge!(
        GRAPH_FOLLOW_BEHIND_SECONDS,
        Unit::Seconds,
        "Seconds since this replica last held every committed decision of the others."
    );
    describe_counter!(
        OUTBOX_RELAYED_TOTAL,
        "Outbox events the stream acknowledged from this replica's relay."
    );
    describe_counter!(
        OUTBOX_DEAD_LETTERS_TOTAL,
        "Outbox events the server refused, sent to the dead-letter subject, by topic."
    );
    describe_counter!(OUTBOX_PRUNED_TOTAL, "Outbox events deleted by retention.");
    describe_counter!(
        RETENTION_DELETED_TOTAL,
        "Expired rows deleted by retention, by kind (decisions, callbacks, audit, statements)."
    );
    describe_counter!(
        RETENTION_RECLAIMED_PAGES_TOTAL,
        "Free pages of the SQLite file given back to the file system after retention."
    );
    describe_gauge!(
        OUTBOX_RELAY_LAG_SECONDS,
        Unit::Seconds,
        "Seconds the oldest outbox event not yet on the stream has waited (0: caught up)."
    );
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Names of the metrics this service emits, in one place.
pub mod names {
    pub const DECISIONS_TOTAL: &str = "arbiter_decisions_total";
    pub const DECISION_SECONDS: &str = "arbiter_decision_duration_seconds";
    pub const STAGE_SECONDS: &str = "arbiter_stage_duration_seconds";
    pub const REJECTED_REQUESTS_TOTAL: &str = "arbiter_rejected_requests_total";
    pub const IDEMPOTENT_REPLAYS_TOTAL: &str = "arbiter_idempotent_replays_total";
    /// Open to resolved, per review (minutes: reviews take minutes to days, not seconds).
    pub const REVIEW_TURNAROUND_MINUTES: &str = "arbiter_review_turnaround_minutes";
    pub const LABELS_TOTAL: &str = "arbiter_labels_total";
    /// Channel callbacks refused for their signature (not stored), by `channel` and `reason`.
    pub const WEBHOOK_REFUSALS_TOTAL: &str = "arbiter_webhook_refusals_total";
    /// Connections the server closed for overrunning a timeout, by `timeout` (idle, header).
    pub const CONNECTIONS_TIMED_OUT_TOTAL: &str = "arbiter_connections_timed_out_total";
    /// Connections being served now (at most `--max-connections`).
    pub const CONNECTIONS_OPEN: &str = "arbiter_http_connections_open";
    pub const BUILD_INFO: &str = "arbiter_build_info";
    /// Optional dependencies, by `dependency`: 1 serving, 0 degraded.
    pub const DEPENDENCY_UP: &str = "arbiter_dependency_up";
    pub const REVIEWS_OPEN: &str = "arbiter_reviews_open";
    pub const REVIEW_OLDEST_AGE_SECONDS: &str = "arbiter_review_oldest_age_seconds";
    pub const POLICY_SET_ACTIVE_VERSION: &str = "arbiter_policy_set_active_version";
    /// By `slot` (active, shadow); 0 when empty.
    pub const MODEL_VERSION: &str = "arbiter_model_version";
    /// From a decision's instant to its link on another replica's graph, per followed decision.
    pub const GRAPH_FOLLOW_LAG_SECONDS: &str = "arbiter_graph_follow_lag_seconds";
    /// Decisions of other replicas linked into this replica's graph.
    pub const GRAPH_FOLLOWED_TOTAL: &str = "arbiter_graph_followed_total";
    /// Time spent linking one page of followed decisions (its sum over the followed total is
    /// the cost of following per decision).
    pub const GRAPH_FOLLOW_FOLD_SECONDS: &str = "arbiter_graph_follow_fold_seconds";
    /// Seconds since this replica last held every committed decision of the others.
    pub const GRAPH_FOLLOW_BEHIND_SECONDS: &str = "arbiter_graph_follow_behind_seconds";
    /// Outbox events the stream acknowledged from this replica's relay.
    pub const OUTBOX_RELAYED_TOTAL: &str = "arbiter_outbox_relayed_total";
    /// Outbox events the server refused, sent to the dead-letter subject, by `topic`.
    pub const OUTBOX_DEAD_LETTERS_TOTAL: &str = "arbiter_outbox_dead_letters_total";
    /// Outbox events deleted by retention.
    pub const OUTBOX_PRUNED_TOTAL: &str = "arbiter_outbox_pruned_total";
    /// Expired rows deleted by retention, by `kind`.
    pub const RETENTION_DELETED_TOTAL: &str = "arbiter_retention_deleted_total";
    /// SQLite pages given back to the file system after retention.
    pub const RETENTION_RECLAIMED_PAGES_TOTAL: &str = "arbiter_retention_reclaimed_pages_total";
    /// Seconds the oldest outbox event not yet on the stream has waited (0: caught up).
    pub const OUTBOX_RELAY_LAG_SECONDS: &str = "arbiter_outbox_relay_lag_seconds";
}
