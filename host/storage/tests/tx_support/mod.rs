//! What the transaction-core storage stories share: every configured backend as an
//! `Arc<dyn TransactionStore>` (SQLite always, PostgreSQL in a database of its own when
//! `DATABASE_URL` is set), a scripted risk host, a settable clock and catalogue builders.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use arbiter_engine::clock::Clock;
use arbiter_engine::money::Money;
use arbiter_storage::{PgStore, SqliteStore};
use arbiter_transactions::catalogue::Product;
use arbiter_transactions::ids::Sku;
use arbiter_transactions::risk::{RiskAction, RiskClient, RiskError, RiskRequest, RiskVerdict};
use arbiter_transactions::store::TransactionStore;
use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};

#[path = "../support/backends.rs"]
pub mod backends;

pub struct TxDb {
    pub name: &'static str,
    pub store: Arc<dyn TransactionStore>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<backends::PgDatabase>,
}

/// Every configured backend, each with an empty, migrated database.
pub async fn tx_backends() -> Vec<TxDb> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(&dir.path().join("arbiter.db"))
        .await
        .expect("open SQLite");
    let mut dbs = vec![TxDb {
        name: "sqlite",
        store: Arc::new(sqlite),
        _dir: Some(dir),
        _pg: None,
    }];
    if let Some(url) = backends::postgres_url() {
        let db = backends::PgDatabase::create(&url).await;
        let options = sqlx::postgres::PgConnectOptions::from_str(&db.url).expect("test URL");
        let store = PgStore::connect(options)
            .await
            .expect("connect to PostgreSQL");
        dbs.push(TxDb {
            name: "postgres",
            store: Arc::new(store),
            _dir: None,
            _pg: Some(db),
        });
    }
    dbs
}

/// Two stores on one database, as two replicas see it: each with its own pool and its own
/// group-commit writers.
pub struct TxReplicas {
    pub name: &'static str,
    pub a: Arc<dyn TransactionStore>,
    pub b: Arc<dyn TransactionStore>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<backends::PgDatabase>,
}

/// Every configured backend, each as two replicas of one empty, migrated database.
pub async fn tx_replicas() -> Vec<TxReplicas> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("arbiter.db");
    let a = SqliteStore::open(&path).await.expect("open SQLite");
    let b = SqliteStore::open(&path).await.expect("open SQLite again");
    let mut pairs = vec![TxReplicas {
        name: "sqlite",
        a: Arc::new(a),
        b: Arc::new(b),
        _dir: Some(dir),
        _pg: None,
    }];
    if let Some(url) = backends::postgres_url() {
        let db = backends::PgDatabase::create(&url).await;
        let options = sqlx::postgres::PgConnectOptions::from_str(&db.url).expect("test URL");
        let a = PgStore::connect(options.clone()).await.expect("connect");
        let b = PgStore::connect(options).await.expect("connect again");
        pairs.push(TxReplicas {
            name: "postgres",
            a: Arc::new(a),
            b: Arc::new(b),
            _dir: None,
            _pg: Some(db),
        });
    }
    pairs
}

/// Runs `stories::$story(Arc<dyn TransactionStore>)` against every backend.
#[macro_export]
macro_rules! on_every_tx_backend {
    ($story:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $story() {
            for db in tx_support::tx_backends().await {
                eprintln!("{}: {}", stringify!($story), db.name);
                stories::$story(std::sync::Arc::clone(&db.store)).await;
            }
        }
    };
}

pub fn usd(minor: i64) -> Money {
    Money::from_stored(minor, "USD").expect("USD")
}

/// A SKU priced `price_minor` cents with `units` in stock.
pub async fn stocked(store: &dyn TransactionStore, sku: &str, price_minor: i64, units: i64) -> Sku {
    let sku = Sku::from(sku);
    let product =
        Product::new(sku.clone(), format!("{sku} title"), usd(price_minor)).expect("valid product");
    store.put_product(&product).await.expect("put product");
    store.set_stock_total(&sku, units).await.expect("set stock");
    sku
}

/// A risk host that answers by user: `reject…`, `challenge…`, `timeout…` (an error), else
/// accept. Decision ids are `dec_<request id>`.
pub struct ScriptedRisk;

#[async_trait]
impl RiskClient for ScriptedRisk {
    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError> {
        let action = match request.user_id.as_str() {
            u if u.starts_with("reject") => RiskAction::Reject,
            u if u.starts_with("challenge") => RiskAction::Challenge,
            u if u.starts_with("timeout") => return Err(RiskError::Timeout),
            _ => RiskAction::Accept,
        };
        Ok(RiskVerdict {
            action,
            decision_id: format!("dec_{}", request.request_id),
        })
    }
}

/// A clock the test moves.
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(Utc::now().trunc_subsecs(6))))
    }
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}
