//! The link-graph layer: adapts `arbiter-graph` to the pipeline's `GraphStage`, rebuilds the
//! graph from the decision log at start, keeps block-list entries as fraud marks, runs the
//! periodic maintenance (ageing, eviction) off the request path, and answers the reviewer's
//! neighbourhood view.
//!
//! Consistency with several replicas: on a database several replicas share (PostgreSQL) the
//! graph is built at start from the graph feed up to its horizon, and then each replica
//! follows the feed from there (`follow`), folding in the decisions the others make and every
//! label. On SQLite one process owns the database; it builds from the decision log and links
//! what it decides.

mod follow;
mod forget;
mod marks;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;

use arbiter_engine::context::EnrichedContext;
use arbiter_engine::entity_chain::ChainHeads;
use arbiter_engine::graph_feed::{FeedPosition, FeedRead};
use arbiter_engine::lists::ListKind;
use arbiter_engine::stages::{GraphOutcome, GraphStage, ReasonCode};
use arbiter_engine::store::{DecisionEntities, Store, StoreError};
use arbiter_graph::{Config, EntityKind, EntityView, LinkGraph, Observation, SharedGraph};

pub use follow::{FollowReport, FollowStatus};

/// Decisions read per page while rebuilding.
const REBUILD_PAGE: u32 = 2_000;
/// Labels whose marks a start-up reads at once (each reads its entities' histories).
const LABEL_PLANS_AT_ONCE: usize = 8;
/// How often maintenance runs.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(300);

pub struct GraphService {
    graph: Arc<SharedGraph>,
    /// Who marks what: block-list entries and labels (`marks`).
    marks: Mutex<marks::MarkBook>,
    /// Where labels read the history of the entities they mark.
    store: Arc<dyn Store>,
    /// The newest decision of each entity this replica knows of: where an entity's chain of
    /// decisions starts. Seeded with the graph, from the same decisions, and bounded like it.
    heads: Arc<ChainHeads>,
    /// How far back the graph reaches (`Config::window`): what the feed keeps.
    window: Duration,
    /// Where following the feed starts: the horizon the start-up build read up to. `None`
    /// where the database keeps no feed (one process).
    start: Option<FeedPosition>,
    /// The follower's standing, once it runs.
    follow: std::sync::OnceLock<Arc<FollowStatus>>,
}

/// The observation of a decision's context at `at`.
pub fn observation(ctx: &EnrichedContext, at: chrono::DateTime<Utc>) -> Observation<'_> {
    Observation::new(at)
        .with(EntityKind::User, ctx.user_id.as_str())
        .with_opt(EntityKind::Device, ctx.device_id.as_deref())
        .with_opt(EntityKind::Card, ctx.card_fingerprint.as_deref())
        .with_opt(EntityKind::Email, ctx.email.as_deref())
        .with_opt(EntityKind::Phone, ctx.phone.as_deref())
        .with_opt(EntityKind::Address, ctx.shipping_address_hash.as_deref())
        .with_opt(EntityKind::Ip, ctx.ip.as_deref())
}

/// The observation of a stored decision, as [`observation`] makes it from the live context.
pub fn entities_observation(d: &DecisionEntities) -> Observation<'_> {
    Observation::new(d.created_at)
        .with(EntityKind::User, d.user_id.as_str())
        .with_opt(EntityKind::Device, d.device_id.as_deref())
        .with_opt(EntityKind::Card, d.card_fingerprint.as_deref())
        .with_opt(EntityKind::Email, d.email.as_deref())
        .with_opt(EntityKind::Phone, d.phone.as_deref())
        .with_opt(EntityKind::Address, d.shipping_address_hash.as_deref())
        .with_opt(EntityKind::Ip, d.ip.as_deref())
}

/// A stored decision's entities as chains key them.
fn chain_entities(d: &DecisionEntities) -> impl Iterator<Item = (ListKind, &str)> {
    [
        (ListKind::User, Some(d.user_id.as_str())),
        (ListKind::Device, d.device_id.as_deref()),
        (ListKind::Card, d.card_fingerprint.as_deref()),
        (ListKind::Email, d.email.as_deref()),
        (ListKind::Phone, d.phone.as_deref()),
        (ListKind::Address, d.shipping_address_hash.as_deref()),
        (ListKind::Ip, d.ip.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
}

fn graph_kind(kind: ListKind) -> EntityKind {
    match kind {
        ListKind::User => EntityKind::User,
        ListKind::Device => EntityKind::Device,
        ListKind::Ip => EntityKind::Ip,
        ListKind::Card => EntityKind::Card,
        ListKind::Email => EntityKind::Email,
        ListKind::Phone => EntityKind::Phone,
        ListKind::Address => EntityKind::Address,
    }
}

/// A graph being built at start, with the chain heads seeded from the same decisions.
struct Built<'a> {
    graph: LinkGraph,
    heads: &'a ChainHeads,
    latest: Option<chrono::DateTime<Utc>>,
    decisions: usize,
}

impl Built<'_> {
    fn fold(&mut self, d: &DecisionEntities) {
        self.graph.observe(&entities_observation(d));
        self.heads.seed(chain_entities(d), &d.decision_id);
        self.latest = self.latest.max(Some(d.created_at));
        self.decisions += 1;
    }
}

/// The pipeline's view of the graph.
pub struct GraphLayer(pub Arc<SharedGraph>);

impl GraphStage for GraphLayer {
    fn score(&self, ctx: &EnrichedContext) -> GraphOutcome {
        let scored = self.0.score(&observation(ctx, Utc::now()));
        GraphOutcome {
            features: scored.features,
            reasons: scored
                .reasons
                .into_iter()
                .map(|r| ReasonCode {
                    code: r.code.as_str().to_owned(),
                    detail: Some(r.detail),
                })
                .collect(),
        }
    }

    fn observe(&self, ctx: &EnrichedContext, at: chrono::DateTime<Utc>) {
        // At the instant as the database keeps it (microseconds), so the replicas that follow
        // this decision link it at exactly the same instant.
        self.0
            .observe(&observation(ctx, chrono::SubsecRound::trunc_subsecs(at, 6)));
    }
}

impl GraphService {
    /// Builds the graph from the decisions of the last window: from the graph feed up to its
    /// horizon where the database keeps one (following continues from there), from the
    /// decision log otherwise.
    pub async fn rebuild(
        store: &Arc<dyn Store>,
        config: Config,
    ) -> Result<GraphService, StoreError> {
        let started = Instant::now();
        let window = config.window;
        let since = Utc::now() - chrono::Duration::from_std(window).unwrap_or_default();
        let heads = Arc::new(ChainHeads::new(config.entity_cap as u64));
        let mut built = Built {
            graph: LinkGraph::new(config),
            heads: &heads,
            latest: None,
            decisions: 0,
        };
        // Page by page, so memory holds one page of decisions, never the whole window. This
        // runs before the server accepts traffic, so observing inline blocks nobody.
        let start = match store.graph_feed() {
            Some(feed) => {
                let horizon = feed.horizon().await?;
                let mut at = FeedPosition::default();
                loop {
                    let page = feed
                        .decisions_after(&at, FeedRead::building(horizon.txid, since), REBUILD_PAGE)
                        .await?;
                    let Some(last) = page.last() else { break };
                    at = last.position.clone();
                    page.iter().for_each(|d| built.fold(&d.entities));
                }
                Some(horizon)
            }
            None => {
                let mut after: Option<String> = None;
                loop {
                    // Only the entities, not whole decisions: decoding every body (reasons,
                    // layer results) was most of a rebuild's time (BENCHMARKS.md, link graph).
                    let page = store
                        .decision_entities_page(since, after.as_deref(), REBUILD_PAGE)
                        .await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.decision_id.clone());
                    page.iter().for_each(|d| built.fold(d));
                }
                None
            }
        };
        let Built {
            mut graph,
            latest,
            decisions,
            ..
        } = built;
        if let Some(now) = latest {
            // Drops what aged out and compacts the groups, as `LinkGraph::rebuild` does.
            graph.maintain(now);
        }
        tracing::info!(
            decisions,
            entities = graph.entity_count(),
            links = graph.link_count(),
            millis = started.elapsed().as_millis() as u64,
            from_feed = start.is_some(),
            "link graph rebuilt"
        );
        let service = GraphService {
            graph: Arc::new(SharedGraph::new(graph)),
            marks: Mutex::new(marks::MarkBook::default()),
            store: store.clone(),
            heads,
            window,
            start,
            follow: std::sync::OnceLock::new(),
        };
        // Each label's plan reads up to a few dozen stored decisions, one query per entity:
        // read one label at a time, a start-up spent most of its time waking the database's
        // threads and waiting for them (BENCHMARKS.md, "A restart and a backtest on the
        // compact store"). Plans are read several at once and applied in the labels' order
        // (`buffered` keeps it), as one at a time would.
        let marking = Instant::now();
        let labels = store.fraud_labelled_decisions(since).await?;
        {
            let service = &service;
            let mut plans = futures_util::stream::iter(&labels)
                .map(|(d, kind)| async move { (d, *kind, service.plan_label(d, *kind).await) })
                .buffered(LABEL_PLANS_AT_ONCE);
            while let Some((d, kind, planned)) = plans.next().await {
                service.apply_plan(d, kind, planned);
            }
        }
        tracing::info!(
            labels = labels.len(),
            millis = marking.elapsed().as_millis() as u64,
            "labels marked"
        );
        Ok(service)
    }

    /// Follows the other replicas' decisions and labels every `every`, where the database
    /// keeps a feed (`follow`); nothing otherwise, or with `every` zero.
    pub fn spawn_follower(self: &Arc<Self>, every: Duration) {
        let Some(start) = self.start.clone() else {
            return;
        };
        if every.is_zero() {
            tracing::warn!(
                "following the other replicas is off: each links only its own decisions"
            );
            return;
        }
        let status = follow::Follower::spawn(self.clone(), start, every);
        let _ = self.follow.set(status);
    }

    /// How following stands; `None` when this replica does not follow.
    pub fn follow_report(&self) -> Option<FollowReport> {
        self.follow.get().map(|s| s.report())
    }

    /// Where each entity's chain of decisions starts on this replica.
    pub fn heads(&self) -> &Arc<ChainHeads> {
        &self.heads
    }

    pub fn layer(&self) -> GraphLayer {
        GraphLayer(self.graph.clone())
    }

    /// The reviewer view of one entity: depth 2, at most 200 neighbours.
    pub fn entity(&self, kind: &str, value: &str) -> Result<Option<EntityView>, String> {
        let kind: EntityKind = kind.parse().map_err(|_| {
            format!("`{kind}` is not one of user, device, card, email, phone, address, ip")
        })?;
        let list_kind = ListKind::parse(kind.as_str());
        // Values are looked up normalised, exactly as decisions store them (an address as
        // written or as its hash).
        let value = match list_kind {
            Some(k) => k.key_of(value).unwrap_or_default(),
            None => value.to_owned(),
        };
        Ok(self.graph.neighbourhood(kind, &value, 2, 200))
    }

    /// Ages out and evicts in the background, in chunks that never hold the write lock long.
    pub fn spawn_maintenance(&self) {
        let graph = self.graph.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(MAINTENANCE_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                let g = graph.clone();
                let report = tokio::task::spawn_blocking(move || g.maintain(Utc::now())).await;
                if let Ok(report) = report {
                    tracing::debug!(?report, "link graph maintenance");
                }
            }
        });
    }
}
