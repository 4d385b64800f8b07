//! The in-process decision pipeline end to end, wired as `wiring.rs` wires the server: body
//! validation (`DecisionRequest::from_slice`), then `Pipeline::decide` through every layer —
//! the six bundled example policies as the first-start policy set (default thresholds and
//! weights, fail open), the link graph (`GraphLayer`), a trained model and 10,000 list
//! entries — and, separately, what a committed decision feeds back (`after_commit`).
//!
//! It exists because the engine's own bench (`host/engine/benches/pipeline.rs`) decides with
//! no modules, no graph and no model, so it cannot show the cost issue 23 budgets. The state
//! is not empty either: before measuring, 20,000 decisions are decided and committed over the
//! load script's bounded pools (`benches/load/decisions.lua`: 5,000 users, 3,000 devices,
//! 250 IPs), so velocity counters and graph groups hold what a running server's would; a model
//! is trained on those decisions' contexts with a planted fraud signal, and the cards and
//! devices of the first hundred fraud labels are marked in the graph, standing in for the
//! marks labels leave (the server plans those per entity from its history; not needed here).
//! Measured requests cycle through 1,000 pre-built bodies from the same pools, so neither
//! string building nor one hot user's caches flatter the numbers.
//!
//! The `stage/*` functions time single layers on the same contexts, to see which dominates.
//!
//! Run: `cargo bench -p arbiter-host --bench pipeline`. Target (issue 23): the first function
//! ("full pipeline: validate + decide") median ≤ 20 µs.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use arbiter_engine::DecisionRequest;
use arbiter_engine::clock::SystemClock;
use arbiter_engine::context::EnrichedContext;
use arbiter_engine::decision::Decision;
use arbiter_engine::lists::{ListEntry, ListKind, ListName, ListSnapshot};
use arbiter_engine::money::RateTable;
use arbiter_engine::pipeline::{ActivePolicy, Pipeline, PipelineState};
use arbiter_engine::policy_set::{FailMode, ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::stages::{GraphStage, ModelStage, RuleEvaluator};
use arbiter_engine::velocity::InProcessVelocity;
use arbiter_graph::{EntityKind, LinkGraph, SharedGraph};
use arbiter_host::services::graph::GraphLayer;
use arbiter_models::{Example, Scorer, TrainConfig, extract, train};
use arbiter_runtime::{CompiledRuleSet, PolicyRuntime, RuntimeConfig, bundled};
use arc_swap::{ArcSwap, ArcSwapOption};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The `arbiter` binary's allocator (see `src/main.rs`): allocation is a real share of a
/// decision's cost, so measuring under glibc malloc would not measure the server.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The modules the server seeds as policy set 1 on first start.
const MODULES: [&str; 6] = [
    "card_testing",
    "geo_mismatch",
    "graph_ring",
    "new_account_high_value",
    "promo_abuse",
    "proxy_high_value",
];
/// The load script's pools.
const USERS: u32 = 5_000;
const DEVICES: u32 = 3_000;
const IPS: u32 = 250;
const ADDRESSES: u32 = 4_000;
/// Decisions decided and committed before anything is measured.
const POPULATION: usize = 20_000;
/// Distinct request bodies the measured loops cycle through.
const BODIES: usize = 1_000;
/// Fraud labels whose card and device are marked in the graph.
const MARKED: usize = 100;

/// Request bodies over the load script's pools, with some risk planted in them: one user in
/// ten has a days-old account, 15 % of amounts are high, 5 % of requests come through a proxy
/// and 5 % from an IP in another country than the card, and one in ten redeems a promotion.
struct Traffic {
    rng: StdRng,
    sent: u64,
}

impl Traffic {
    fn new(seed: u64) -> Traffic {
        Traffic {
            rng: StdRng::seed_from_u64(seed),
            sent: 0,
        }
    }

    fn body(&mut self) -> String {
        self.sent += 1;
        let n = self.sent;
        let rng = &mut self.rng;
        let u = rng.random_range(1..=USERS);
        // A property of the user, not of the request.
        let age = if u % 10 == 0 { u % 3 } else { 30 + u % 1_970 };
        let amount = if rng.random_bool(0.15) {
            rng.random_range(400..3_000)
        } else {
            rng.random_range(5..150)
        };
        let proxy = rng.random_bool(0.05);
        let ip_country = if rng.random_bool(0.05) { "DE" } else { "US" };
        let (event, promo) = if rng.random_bool(0.1) {
            (
                "promo.redeem",
                r#", "attributes": {"promo_code": "WELCOME10"}"#,
            )
        } else {
            ("payment.authorize", "")
        };
        let (device, ip, address) = (u % DEVICES, u % IPS, u % ADDRESSES);
        format!(
            r#"{{"request_id": "bench-{n}", "event": "{event}",
 "amount": {{"value": "{amount}.99", "currency": "USD"}},
 "user": {{"id": "u-{u}", "account_age_days": {age}, "email": "user{u}@example.com", "phone": "+1555{u:07}"}},
 "device": {{"id": "dev-{device}", "ip": "203.0.{ip}.{ip}", "ip_country": "{ip_country}", "is_proxy": {proxy}}},
 "payment": {{"method": "card", "card_fingerprint": "fp_{u}", "card_bin": "411111", "card_country": "US"}},
 "shipping": {{"address": "{address} Main St, Springfield, US", "country": "US"}}{promo}}}"#
        )
    }
}

/// The planted label: proxy, days-old account and high amount each raise the log-odds (as
/// the models crate's test stream plants them), and the label is a coin with that chance.
fn planted_fraud(ctx: &EnrichedContext, rng: &mut StdRng) -> bool {
    let new_account = ctx.account_age_days.is_some_and(|d| d < 3);
    let high_amount = ctx.amount.as_ref().is_some_and(|a| a.approx >= 400.0);
    let log_odds = -7.0
        + 4.5 * f64::from(u8::from(ctx.is_proxy))
        + 4.5 * f64::from(u8::from(new_account))
        + 4.5 * f64::from(u8::from(high_amount));
    rng.random_bool(1.0 / (1.0 + (-log_odds).exp()))
}

/// Entries that match nothing the traffic names: the cost of looking, not of a short circuit.
fn lists(n: usize) -> ListSnapshot {
    ListSnapshot::new((0..n).map(|i| ListEntry {
        id: format!("le_{i}"),
        list: if i % 3 == 0 {
            ListName::Block
        } else {
            ListName::Watch
        },
        kind: ListKind::ALL[i % ListKind::ALL.len()],
        value: format!("value-{i}"),
        reason: String::new(),
        expires_at: None,
        created_at: chrono::Utc::now(),
        created_by: "bench".into(),
    }))
}

/// The six example modules, loaded and warmed as `PolicyService::activate` does.
fn rule_set() -> CompiledRuleSet {
    let runtime = PolicyRuntime::new(RuntimeConfig::default()).expect("runtime");
    let modules = MODULES
        .iter()
        .map(|name| {
            let policy = bundled::find(name).expect("bundled policy");
            let artifact = runtime.validate(policy.component).expect("valid");
            let module = runtime.load(&artifact.precompiled).expect("loads");
            let module_ref = ModuleRef {
                name: (*name).to_owned(),
                version: 1,
                fail_mode: FailMode::Open,
            };
            (module_ref, module)
        })
        .collect();
    let rules = CompiledRuleSet::new(modules);
    // One request thread here; the server warms two per worker.
    rules.prewarm(1).expect("prewarm");
    rules
}

/// What the measured loops share.
struct Bench {
    rt: tokio::runtime::Runtime,
    pipeline: Pipeline,
    graph: GraphLayer,
    rules: Arc<CompiledRuleSet>,
}

fn setup() -> Bench {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let rules = Arc::new(rule_set());
    let names: Vec<&str> = rules
        .modules()
        .iter()
        .map(|(r, _)| r.name.as_str())
        .collect();
    assert_eq!(names, MODULES, "the policy set runs the six modules");
    let policies = MODULES
        .iter()
        .map(|name| ModuleRef {
            name: (*name).to_owned(),
            version: 1,
            fail_mode: FailMode::Open,
        })
        .collect();
    let state = PipelineState {
        lists: Arc::new(ArcSwap::from_pointee(lists(10_000))),
        policy: Arc::new(ArcSwap::from_pointee(PolicyRouting::stable_only(Arc::new(
            ActivePolicy {
                set: PolicySet {
                    version: 1,
                    thresholds: Thresholds::default(),
                    weights: Weights::default(),
                    policies,
                },
                rules: rules.clone(),
            },
        )))),
        model: Arc::new(ArcSwapOption::empty()),
        shadow_model: Arc::new(ArcSwapOption::empty()),
        rates: Arc::new(ArcSwap::from_pointee(RateTable::default())),
        snoozes: Arc::default(),
    };
    // The server's defaults: 256 MiB of velocity counters, the graph's default `Config`.
    let velocity = Arc::new(InProcessVelocity::new(256 << 20));
    let shared = Arc::new(SharedGraph::new(LinkGraph::new(
        arbiter_graph::Config::default(),
    )));
    let pipeline = Pipeline::new(
        state,
        velocity,
        Some(Arc::new(GraphLayer(shared.clone()))),
        Arc::new(SystemClock),
    );

    // The population: decided and committed one by one, as the server does, with no model
    // yet (the model is trained on these decisions).
    let mut traffic = Traffic::new(1);
    let mut labels = StdRng::seed_from_u64(2);
    let mut examples = Vec::with_capacity(POPULATION);
    let mut marked = 0;
    for _ in 0..POPULATION {
        let req = DecisionRequest::from_slice(traffic.body().as_bytes()).expect("valid");
        let d = rt.block_on(pipeline.decide(&req)).expect("decides");
        rt.block_on(pipeline.after_commit(&d)).expect("records");
        let fraud = planted_fraud(&d.context, &mut labels);
        if fraud && marked < MARKED {
            for (kind, value) in [
                (EntityKind::Card, d.context.card_fingerprint.as_deref()),
                (EntityKind::Device, d.context.device_id.as_deref()),
            ] {
                if let Some(value) = value {
                    shared.mark_fraud(kind, value, "labelled fraud", d.created_at);
                }
            }
            marked += 1;
        }
        examples.push(Example {
            features: extract(&d.context),
            fraud,
            at: d.created_at,
        });
    }
    let artifact = train(examples, &TrainConfig::default()).expect("trains");
    let scorer: Box<dyn ModelStage> = Box::new(Scorer::new(1, &artifact).expect("loads"));
    pipeline.state.model.store(Some(Arc::new(scorer)));
    let stats = shared.stats();
    println!(
        "population: {POPULATION} decisions; graph {} entities, {} links, {} fraud marks",
        stats.entities, stats.links, stats.fraud_marks
    );
    Bench {
        rt,
        pipeline,
        graph: GraphLayer(shared),
        rules,
    }
}

/// Cycles through `items`, one per call.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut at = 0;
    move || {
        let item = &items[at % items.len()];
        at += 1;
        item
    }
}

fn bench(c: &mut Criterion) {
    let Bench {
        rt,
        pipeline,
        graph,
        rules,
    } = setup();
    let mut traffic = Traffic::new(3);
    let bodies: Vec<Vec<u8>> = (0..BODIES).map(|_| traffic.body().into_bytes()).collect();
    let requests: Vec<DecisionRequest> = bodies
        .iter()
        .map(|b| DecisionRequest::from_slice(b).expect("valid"))
        .collect();
    let decisions: Vec<Decision> = requests
        .iter()
        .map(|r| rt.block_on(pipeline.decide(r)).expect("decides"))
        .collect();
    let actions = decisions
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut n, d| {
            *n.entry(d.action.as_str()).or_default() += 1;
            n
        });
    let with_reasons = decisions.iter().filter(|d| !d.reasons.is_empty()).count();
    let scored = decisions
        .iter()
        .filter(|d| d.model_version.is_some())
        .count();
    println!(
        "measured requests: {BODIES}; by action {actions:?}; {with_reasons} with reasons; \
         {scored} scored by the model"
    );
    // The contexts as the rules layer receives them: graph features and model score filled.
    let contexts: Vec<EnrichedContext> = decisions.iter().map(|d| d.context.clone()).collect();

    c.bench_function(
        "full pipeline: validate + decide (six modules, graph, model)",
        |b| {
            let mut next = cycle(&bodies);
            b.iter(|| {
                let req = DecisionRequest::from_slice(black_box(next())).expect("valid");
                rt.block_on(pipeline.decide(&req)).expect("decides")
            })
        },
    );
    c.bench_function("decide only (six modules, graph, model)", |b| {
        let mut next = cycle(&requests);
        b.iter(|| {
            rt.block_on(pipeline.decide(black_box(next())))
                .expect("decides")
        })
    });
    c.bench_function("stage/validate", |b| {
        let mut next = cycle(&bodies);
        b.iter(|| DecisionRequest::from_slice(black_box(next())).expect("valid"))
    });
    c.bench_function("stage/graph score", |b| {
        let mut next = cycle(&contexts);
        b.iter(|| graph.score(black_box(next())))
    });
    let model = pipeline.state.model.load_full().expect("a model is active");
    c.bench_function("stage/model (extract + score)", |b| {
        let mut next = cycle(&contexts);
        b.iter(|| model.probability(black_box(next())))
    });
    c.bench_function("stage/rules layer (six modules)", |b| {
        let mut next = cycle(&contexts);
        b.iter(|| rules.evaluate(black_box(next())))
    });
    // Last: it changes the state the others read (counts grow, links are refreshed).
    c.bench_function("after_commit (velocity record + graph observe)", |b| {
        let mut next = cycle(&decisions);
        b.iter(|| {
            rt.block_on(pipeline.after_commit(black_box(next())))
                .expect("records")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
