//! Host-level rebuild of the link graph from a stored decision log (issue 4: "rebuild time
//! for 1 M decisions reported"). Fills a database through the real store (`insert_decisions`
//! in batches) with realistic decisions, then times
//! - the former read path: whole decisions page by page (`decisions_page`), each decoded and
//!   observed, and
//! - on PostgreSQL, the entity fields picked out of each body (`decision_entities_page`, the
//!   start-up read before the graph feed), and
//! - `GraphService::rebuild` as the server runs it at start (SQLite: that projection;
//!   PostgreSQL: the graph feed's narrow rows, `decision_links`).
//!
//! Run (release): `cargo run --release -p arbiter-host --example graph_rebuild -- [URL] [N]`.
//! `URL` is a `sqlite:` or `postgres:` URL (default: a SQLite file under
//! `target/graph-rebuild/`); `N` defaults to 1 000 000. A database that already holds `N`
//! decisions is reused as it is, so a second run only times the rebuilds. A third argument,
//! `bodies`, `projection` or `feed`, times less.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use arbiter_engine::action::Action;
use arbiter_engine::context::GraphFeatures;
use arbiter_engine::decision::{Layer, LayerResults, Reason, StageTimings};
use arbiter_engine::money::RateTable;
use arbiter_engine::policy_set::FailMode;
use arbiter_engine::stages::{GraphOutcome, ModuleResult};
use arbiter_engine::store::Store;
use arbiter_engine::{Decision, DecisionId, DecisionRequest, EnrichedContext};
use arbiter_graph::{Config, LinkGraph};
use arbiter_host::services::graph::{GraphService, observation};
use chrono::{DateTime, TimeDelta, Utc};

const BATCH: usize = 1_000;
const PAGE: u32 = 2_000;

/// splitmix64: a tiny deterministic mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A decision as the pipeline stores one: a normalised payment context and the results of six
/// rule modules, the graph, the model and the bands. (The phone is set per decision: a phone
/// number in the raw request would trip the card-number scan.)
fn template() -> anyhow::Result<Decision> {
    let body = serde_json::json!({
        "request_id": "req-template",
        "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "EUR"},
        "user": {"id": "u-1", "account_age_days": 40, "email": "jane.doe@example.com"},
        "device": {"id": "dev-1", "ip": "203.0.113.7", "ip_country": "de"},
        "payment": {"method": "card", "card_fingerprint": "fp_1", "card_bin": "424242",
                    "card_country": "DE"},
        "shipping": {"address": "1 Main St, Berlin", "country": "DE"},
        "order_id": "ord-1",
        "attributes": {"items": 3, "channel": "web"}
    });
    let req = DecisionRequest::from_slice(body.to_string().as_bytes())
        .map_err(|e| anyhow::anyhow!("template request: {e}"))?;
    let mut context = EnrichedContext::normalise(&req, &RateTable::default());
    context.velocity.user.count_1h = 2;
    context.velocity.user.sum_1h = 259.98;
    let graph = GraphFeatures {
        group_entities: 7,
        group_users: 2,
        users_per_device: 1,
        users_per_card: 1,
        users_per_address: 2,
        cards_per_device: 1,
        cards_per_user: 1,
        ..GraphFeatures::default()
    };
    context.graph = Some(graph);
    let modules = [
        "card_testing",
        "geo_mismatch",
        "graph_ring",
        "new_account_high_value",
        "promo_abuse",
        "proxy_high_value",
    ];
    let rules = modules
        .iter()
        .map(|name| ModuleResult {
            name: (*name).into(),
            version: 1,
            fail_mode: FailMode::Open,
            action: Action::None,
            score: 0.0,
            reasons: Vec::new(),
            fault: None,
            fuel_used: 2_345,
            snoozed: false,
        })
        .collect();
    let layers = LayerResults {
        rules,
        graph: Some(GraphOutcome {
            features: graph,
            reasons: Vec::new(),
        }),
        band: Some(Action::Accept),
        timings: StageTimings {
            enrich_us: 3,
            rules_us: 41,
            graph_us: 6,
            model_us: 2,
            ..StageTimings::default()
        },
        ..LayerResults::default()
    };
    Ok(Decision {
        decision_id: DecisionId::generate(),
        request_id: req.request_id.clone(),
        body_hash: req.body_hash.clone(),
        action: Action::Accept,
        score: 12.5,
        reasons: vec![Reason {
            layer: Layer::Score,
            code: "band.accept".into(),
            source: "policy_set@1".into(),
            detail: None,
        }],
        policy_set_version: 1,
        model_version: Some(1),
        created_at: Utc::now(),
        context,
        layers,
        rollout: None,
        shadow: None,
        chain: Default::default(),
    })
}

/// Decision `n` of `total`: 250 k users, about four decisions each, one or two devices and
/// cards, a household address, an IP from a shared pool; spread over the last 60 days.
fn decision(t: &Decision, n: u64, total: u64, now: DateTime<Utc>) -> Decision {
    let users = (total / 4).max(1);
    let u = mix(n) % users;
    let h = mix(u ^ 0x5eed);
    let second = mix(n ^ 0xa11) % 2 == 1;
    let device = if h.is_multiple_of(10) && second {
        u + users
    } else {
        u
    };
    let card = if h.is_multiple_of(3) && second {
        u + users
    } else {
        u
    };
    let ip = mix(u * 1_000 + n % 7) % (users / 3).max(1);
    let mut d = t.clone();
    d.decision_id = DecisionId::generate();
    d.request_id = format!("req-{n:09}");
    d.body_hash = format!("{:016x}{:016x}", mix(n), mix(n + 1));
    let span = 60 * 24 * 3600 * 1000 / total.max(1);
    let ms = i64::try_from((total - n) * span).unwrap_or(0);
    d.created_at = now - TimeDelta::milliseconds(ms);
    let c = &mut d.context;
    c.request_id = d.request_id.clone();
    c.user_id = format!("user-{u}");
    c.email = Some(format!("user{u}@example.com"));
    c.phone = Some(format!("+49151{u:08}"));
    c.device_id = Some(format!("dev-{:012x}", mix(device) >> 16));
    c.card_fingerprint = Some(format!("fp_{:016x}", mix(card ^ 0xca4d)));
    c.shipping_address_hash = Some(format!(
        "{:016x}{:016x}{:016x}{:016x}",
        mix(u / 2),
        mix(u / 2 + 1),
        mix(u / 2 + 2),
        mix(u / 2 + 3)
    ));
    c.ip = Some(format!("10.{}.{}.{}", ip >> 16, (ip >> 8) & 255, ip & 255));
    c.order_id = Some(format!("ord-{n:09}"));
    if n.is_multiple_of(20) {
        d.action = Action::Challenge;
    }
    d
}

async fn fill(store: &dyn Store, total: u64) -> anyhow::Result<()> {
    let have = store.count_decisions().await?;
    if have >= total {
        println!("reusing {have} stored decisions");
        return Ok(());
    }
    let t = template()?;
    let now = Utc::now();
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for n in have..total {
        batch.push(decision(&t, n, total, now));
        if batch.len() == BATCH || n + 1 == total {
            store.insert_decisions(&batch).await?;
            batch.clear();
        }
    }
    let body = serde_json::to_string(&decision(&t, 0, total, now))?.len();
    println!(
        "stored {} decisions in {:.1?} (body {body} bytes of JSON each)",
        total - have,
        started.elapsed()
    );
    Ok(())
}

/// The read path `GraphService::rebuild` has on SQLite (and had on PostgreSQL before the
/// graph feed): the seven entity fields picked out of each stored body.
async fn rebuild_from_projection(store: &dyn Store, config: Config) -> anyhow::Result<LinkGraph> {
    let since = Utc::now() - TimeDelta::from_std(config.window)?;
    let mut graph = LinkGraph::new(config);
    let mut after: Option<String> = None;
    loop {
        let page = store
            .decision_entities_page(since, after.as_deref(), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.decision_id.clone());
        for d in &page {
            graph.observe(&arbiter_host::services::graph::entities_observation(d));
        }
    }
    Ok(graph)
}

/// The read path `GraphService::rebuild` had before the entity projection: whole decisions,
/// each body decoded, then observed.
async fn rebuild_from_bodies(store: &dyn Store, config: Config) -> anyhow::Result<LinkGraph> {
    let since = Utc::now() - TimeDelta::from_std(config.window)?;
    let mut graph = LinkGraph::new(config);
    let mut latest = None;
    let mut after: Option<String> = None;
    loop {
        let page = store.decisions_page(since, after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.decision_id.0.clone());
        for d in &page {
            graph.observe(&observation(&d.context, d.created_at));
            latest = latest.max(Some(d.created_at));
        }
    }
    if let Some(now) = latest {
        graph.maintain(now);
    }
    Ok(graph)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().filter(|a| !a.is_empty());
    let total: u64 = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    // `bodies`, `projection` or both (the default).
    let only = args.next().unwrap_or_default();
    let dir = Path::new("target/graph-rebuild");
    std::fs::create_dir_all(dir).context("creating the data directory")?;
    let store = arbiter_storage::connect(url.as_deref(), dir)
        .await
        .context("connecting to the store")?;
    fill(store.as_ref(), total).await?;

    if only != "projection" && only != "feed" {
        let started = Instant::now();
        let g = rebuild_from_bodies(store.as_ref(), Config::default()).await?;
        println!(
            "rebuild from whole decisions (decisions_page): {:.2?} -> {} entities, {} links",
            started.elapsed(),
            g.entity_count(),
            g.link_count()
        );
    }
    if only == "bodies" {
        return Ok(());
    }

    if store.graph_feed().is_some() && only != "feed" {
        let started = Instant::now();
        let g = rebuild_from_projection(store.as_ref(), Config::default()).await?;
        println!(
            "rebuild from the bodies' entity fields (decision_entities_page): {:.2?} -> {} entities, {} links",
            started.elapsed(),
            g.entity_count(),
            g.link_count()
        );
    }
    let source = if store.graph_feed().is_some() {
        "the graph feed"
    } else {
        "decision_entities_page"
    };
    let started = Instant::now();
    let service = GraphService::rebuild(&store, Config::default()).await?;
    let s = service.layer().0.stats();
    println!(
        "GraphService::rebuild ({source}): {:.2?} -> {} entities, {} links",
        started.elapsed(),
        s.entities,
        s.links
    );
    Ok(())
}
