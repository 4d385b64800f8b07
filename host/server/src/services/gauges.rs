//! The gauges an operator watches that no request moves: the review queue's backlog and the
//! age of its oldest case, the policy set and model versions in force, whether each
//! optional dependency serves, and how far behind the other replicas the link graph is. Sampled every [`EVERY`] (two small reads, one of them over the
//! queue index) rather than at scrape time, so a busy or hostile scraper of the public
//! `/metrics` costs the database nothing.

use std::sync::Weak;
use std::time::Duration;

use chrono::Utc;

use crate::app_state::Services;
use crate::metrics::names;

/// How often the gauges are sampled.
pub const EVERY: Duration = Duration::from_secs(10);

/// Samples now, then every [`EVERY`] until the service is dropped.
pub fn spawn(services: Weak<Services>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let Some(services) = services.upgrade() else {
                return;
            };
            sample(&services).await;
        }
    });
}

/// Sets every gauge from the service's state. A read that fails leaves its gauges as they were
/// (the failure is the database's, and `/readyz` reports that).
pub async fn sample(s: &Services) {
    match s.store.open_reviews().await {
        Ok(open) => {
            let age = open.oldest_opened_at.map_or(0.0, |t| {
                (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!(names::REVIEWS_OPEN).set(open.count as f64);
            metrics::gauge!(names::REVIEW_OLDEST_AGE_SECONDS).set(age);
        }
        Err(e) => tracing::debug!(error = %e, "could not sample the review queue"),
    }
    metrics::gauge!(names::POLICY_SET_ACTIVE_VERSION).set(s.policies.active_version() as f64);
    match s.store.model_slots().await {
        Ok((active, shadow)) => {
            for (slot, version) in [("active", active), ("shadow", shadow)] {
                let version = version.unwrap_or(0) as f64;
                metrics::gauge!(names::MODEL_VERSION, "slot" => slot).set(version);
            }
        }
        Err(e) => tracing::debug!(error = %e, "could not sample the model slots"),
    }
    if let Some(velocity) = &s.redis_velocity {
        let up = if velocity.is_degraded() { 0.0 } else { 1.0 };
        metrics::gauge!(names::DEPENDENCY_UP, "dependency" => "redis_velocity").set(up);
    }
    if let Some(follow) = s.graph.follow_report() {
        metrics::gauge!(names::GRAPH_FOLLOW_BEHIND_SECONDS).set(follow.behind_seconds);
    }
    if let Some(relay) = &s.relay {
        metrics::gauge!(names::OUTBOX_RELAY_LAG_SECONDS).set(relay.report().lag_seconds);
    }
    if let Some(replication) = s.replication.get() {
        let up = if replication.is_subscribed() {
            1.0
        } else {
            0.0
        };
        metrics::gauge!(names::DEPENDENCY_UP, "dependency" => "redis_notifications").set(up);
    }
}
