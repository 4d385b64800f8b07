//! The composition root: the only place that knows which backend runs and how the pieces fit.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::{ArcSwap, ArcSwapOption};

use arbiter_engine::clock::SystemClock;
use arbiter_engine::lists::ListSnapshot;
use arbiter_engine::pipeline::{ActivePolicy, Pipeline, PipelineState};
use arbiter_engine::policy_set::{PolicySet, Thresholds, Weights};
use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::stages::NoModules;
use arbiter_engine::store::Store;
use arbiter_models::TrainConfig;
use arbiter_runtime::{PolicyRuntime, RuntimeConfig};
use arbiter_storage::{DecisionLog, DecisionLogConfig, Stores};

use crate::app_state::{AppState, Services};
use crate::config::ServeConfig;
use crate::services::backtests::BacktestService;
use crate::services::console_sessions::ConsoleSessions;
use crate::services::decisions::DecisionService;
use crate::services::entity_history::EntityHistory;
use crate::services::feedback::{LabelService, ModelService, ReportService, ReviewService};
use crate::services::graph::GraphService;
use crate::services::keys::KeyService;
use crate::services::lists::ListService;
use crate::services::policies::{ActivationRules, PolicyLimits, PolicyService};
use crate::services::rates::RateService;
use crate::services::snoozes::SnoozeService;

/// Opens the configured store (running migrations), with the transaction core's view of it.
pub async fn open_store(config: &crate::config::StorageArgs) -> anyhow::Result<Stores> {
    crate::private_file::make_private_dir(&config.data_dir).with_context(|| {
        format!(
            "creating data directory {} (owner-only)",
            config.data_dir.display()
        )
    })?;
    arbiter_storage::connect_stores(config.database_url.as_deref(), &config.data_dir)
        .await
        .context("opening the database")
}

/// Builds every service over a store, the transaction core as `config` says.
pub async fn build(config: &ServeConfig, stores: Stores) -> anyhow::Result<AppState> {
    let transactions =
        crate::wiring_transactions::TransactionsConfig::from_args(&config.transactions);
    build_with(config, stores, &transactions).await
}

/// [`build`] with an explicit transaction-core configuration (tests shorten its timers).
pub async fn build_with(
    config: &ServeConfig,
    stores: Stores,
    transactions: &crate::wiring_transactions::TransactionsConfig,
) -> anyhow::Result<AppState> {
    // The recorder first: services take their metric handles when they are made.
    let metrics = crate::metrics::handle();
    if config.relay.decision_events {
        stores.decision_events.enable();
    }
    let store: Arc<dyn Store> = stores.store;
    let keys = Arc::new(KeyService::load(store.clone()).await?);
    if let Some(path) = keys.ensure_admin_key(&config.storage.data_dir).await? {
        // The path only: the key itself never reaches a log.
        tracing::info!(path = %path.display(), "created the first admin key");
    }
    keys.spawn_sync();

    let graph = Arc::new(GraphService::rebuild(&store, config.graph()).await?);
    graph.spawn_maintenance();
    graph.spawn_follower(std::time::Duration::from_millis(config.graph_follow_ms));
    let lists_snapshot = Arc::new(ArcSwap::from_pointee(ListSnapshot::default()));
    let lists = ListService::new(store.clone(), lists_snapshot.clone(), graph.clone());
    let n = lists.reload().await?;
    tracing::info!(entries = n, "list snapshot loaded");

    let runtime = PolicyRuntime::new(RuntimeConfig::default())?;
    // Until the first reload the pipeline would decide with an empty set; nothing serves
    // before `reload` below has swapped in the real one.
    let placeholder = Arc::new(ActivePolicy {
        set: PolicySet {
            version: 0,
            thresholds: Thresholds::default(),
            weights: Weights::default(),
            policies: vec![],
        },
        rules: Arc::new(NoModules),
    });
    let routing = Arc::new(ArcSwap::from_pointee(PolicyRouting::stable_only(
        placeholder,
    )));
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let policies = PolicyService::new(
        store.clone(),
        runtime,
        routing.clone(),
        workers * 2,
        PolicyLimits {
            compilations: config.max_compilations,
            set_modules: config.max_set_modules,
            activation: ActivationRules {
                backtest_within_days: config.require_backtest_days,
                approval: config.require_approval,
            },
        },
    );
    policies
        .reload()
        .await
        .context("loading the active policy set")?;
    let models = ModelService::new(
        store.clone(),
        Arc::new(ArcSwapOption::empty()),
        Arc::new(ArcSwapOption::empty()),
        routing.clone(),
        TrainConfig::default(),
    );
    let (active, shadow) = models.load().await.context("loading the active model")?;
    tracing::info!(active, shadow, "model slots loaded");
    crate::services::feedback::job_liveness::fail_abandoned(store.as_ref())
        .await
        .context("failing training jobs and backtests a stopped process left running")?;
    crate::services::feedback::job_liveness::spawn_sweep(store.clone());
    let (velocity, redis_velocity) = crate::services::replication::velocity(
        config.redis_url.as_deref(),
        &config.redis_prefix,
        config.velocity_max_bytes(),
    )
    .await
    .context("connecting the velocity store")?;
    let erasure = crate::services::erasure::ErasureService::new(
        crate::services::erasure::load_key(&config.storage.data_dir)
            .context("loading the erasure key")?,
        velocity.clone(),
        stores.transactions.clone(),
    );
    erasure
        .prime(store.as_ref())
        .await
        .context("reading the newest erasure")?;
    let backtests = BacktestService::new(
        store.clone(),
        policies.clone(),
        lists_snapshot.clone(),
        config.backtest_limits(),
    );
    let rates = Arc::new(RateService::new(store.clone()));
    let rate_version = rates.reload().await.context("loading the rate table")?;
    tracing::info!(rate_version, "rate table loaded");
    let snoozes = Arc::new(SnoozeService::new(store.clone()));
    let snoozed = snoozes.reload().await.context("loading rule snoozes")?;
    tracing::info!(snoozed, "rule snoozes loaded");
    let state = PipelineState {
        lists: lists_snapshot,
        policy: routing,
        model: models.active_slot(),
        shadow_model: models.shadow_slot(),
        rates: rates.slot(),
        snoozes: snoozes.slot(),
    };
    let pipeline = Arc::new(Pipeline::new(
        state,
        velocity,
        Some(Arc::new(graph.layer())),
        Arc::new(SystemClock),
    ));
    let log = DecisionLog::spawn(
        store.clone(),
        DecisionLogConfig {
            capacity: config.log_queue,
            max_batch: config.log_batch,
        },
    );
    let decisions = Arc::new(DecisionService::new(
        pipeline,
        store.clone(),
        log,
        policies.clone(),
        graph.heads().clone(),
    ));
    // The database's due rows stay the truth either way; with Redis they are dispatched
    // through a queue every replica shares (see `services::transactions::expiry`).
    let expiry_dispatch = crate::services::transactions::expiry::dispatcher(
        config.redis_url.as_deref(),
        &config.redis_prefix,
    )
    .context("configuring the order expiry queue")?;
    // Labels addressed by order read the order's decision of record from the same store.
    let labels = LabelService::new(store.clone(), graph.clone(), stores.transactions.clone());
    let public_url = config
        .channels
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let card_secret =
        crate::wiring_transactions::card_webhook_secret(transactions, &config.storage.data_dir)?;
    let channels = crate::wiring_channels::build(&config.channels, &public_url, &card_secret)?;
    let recon_store = stores.transactions.clone();
    let relay = crate::services::outbox_relay::OutboxRelay::start(
        stores.transactions.clone(),
        &config.relay,
    )
    .await
    .context("starting the outbox relay")?;
    let retention =
        crate::services::retention::Retention::start(store.clone(), config.retention).await;
    let outbox_retention = crate::services::outbox_retention::OutboxRetention::spawn(
        stores.transactions.clone(),
        config.relay.outbox_retention(),
        relay.is_some(),
    );
    let transactions = crate::wiring_transactions::build(
        transactions,
        card_secret,
        stores.transactions,
        decisions.clone(),
        expiry_dispatch,
        channels,
    )?;
    let reconciliation = reconciliation(config, recon_store, transactions.channels.clone());
    let console = ConsoleSessions::new(
        store.clone(),
        keys.clone(),
        config.reviews.console_session(),
    );
    let app = AppState(Arc::new(Services {
        decisions,
        transactions,
        policies,
        lists,
        keys,
        reviews: ReviewService::new(
            store.clone(),
            graph.clone(),
            config.reviews.sla(),
            config.reviews.lease(),
        ),
        history: EntityHistory::new(store.clone(), graph.heads().clone()),
        labels,
        models,
        rates,
        reconciliation,
        relay,
        outbox_retention,
        retention,
        erasure,
        snoozes,
        console,
        console_secure_cookie: config.reviews.console_secure_cookie,
        reports: ReportService::new(store.clone()),
        backtests,
        graph,
        store,
        metrics,
        redis_velocity,
        http: config.http,
        replication: std::sync::OnceLock::new(),
    }));
    if let Some(url) = config.redis_url.as_deref() {
        let replication =
            crate::services::replication::Replication::start(&app, url, &config.redis_prefix)
                .await
                .context("starting change notifications")?;
        let _ = app.replication.set(replication);
    }
    crate::services::gauges::spawn(Arc::downgrade(&app.0));
    Ok(app)
}

/// Reconciliation over the transaction store, with its daily job when `--recon-at` is given.
fn reconciliation(
    config: &ServeConfig,
    store: Arc<dyn arbiter_transactions::store::TransactionStore>,
    channels: Arc<crate::services::transactions::channels::PaymentChannels>,
) -> crate::services::reconciliation::ReconService {
    use crate::services::reconciliation::{ReconService, daily::DailyJob};
    let fees = config.recon.fees.schedules();
    let service = ReconService::new(store.clone(), fees.clone(), channels.clone());
    match config.recon.recon_at {
        Some(at) => service.with_daily_job(DailyJob::spawn(store, channels, fees, at)),
        None => service,
    }
}
