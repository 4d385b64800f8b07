//! Prometheus metrics. The recorder is process-global (the `metrics` facade allows one), so it
//! is installed once and every server in the process renders the same registry.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets from 10 µs to 1 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0,
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
                    let _ = metrics::set_global_recorder(recorder);
                    handle
                }
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
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
}
