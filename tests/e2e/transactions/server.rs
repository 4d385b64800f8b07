//! A server with an explicit transaction-core configuration (a known webhook secret, short
//! timers), and the calls the stories make.

use arbiter_host::config::ServeConfig;
use arbiter_host::wiring_transactions::TransactionsConfig;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::harness::{Backend, TestDb};

/// The webhook secret every test server shares with the tests that forge or age signatures.
pub const SECRET: &[u8] = b"whsec_e2e_test";

/// The test configuration: a known secret, an expiry worker that looks every 100 ms.
pub fn config() -> TransactionsConfig {
    TransactionsConfig {
        webhook_secret: Some(SECRET.to_vec()),
        expiry_interval: std::time::Duration::from_millis(100),
        ..TransactionsConfig::default()
    }
}

pub struct TxServer {
    pub base: String,
    pub admin: String,
    pub client: Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    db: Option<TestDb>,
}

/// A response's status and JSON body (`Null` when it had none).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl TxServer {
    pub async fn start(backend: &Backend, tx: TransactionsConfig) -> TxServer {
        TxServer::start_on(TestDb::new(backend).await, tx).await
    }

    pub async fn start_on(db: TestDb, tx: TransactionsConfig) -> TxServer {
        let config = ServeConfig::for_data_dir(db.data_dir(), db.database_url.clone());
        let stores = arbiter_host::wiring::open_store(&config.storage)
            .await
            .expect("open store");
        let state = arbiter_host::wiring::build_with(&config, stores, &tx)
            .await
            .expect("build services");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(arbiter_host::serve::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let admin = std::fs::read_to_string(db.dir.path().join("admin.key"))
            .expect("admin.key")
            .trim()
            .to_owned();
        TxServer {
            base,
            admin,
            client: Client::new(),
            shutdown: Some(stop),
            task: Some(task),
            db: Some(db),
        }
    }

    /// Graceful stop; returns the database.
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        self.db.take().expect("db")
    }

    pub async fn finish(self) {
        self.stop().await.drop_db().await;
    }

    /// The database it serves from (its data directory, and its PostgreSQL URL if any).
    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("db until stopped")
    }

    /// One call: `key` as bearer, `idempotency` as `Idempotency-Key`, `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        idempotency: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(k) = idempotency {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    pub async fn get(&self, path: &str) -> Value {
        let a = self.call(Method::GET, path, &self.admin, None, None).await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.body);
        a.body
    }

    /// A key with only the `decide` scope: what a checkout caller holds.
    pub async fn checkout_key(&self) -> String {
        let a = self
            .call(
                Method::POST,
                "/v1/keys",
                &self.admin,
                None,
                Some(&json!({"scopes": ["decide"]})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["key"].as_str().expect("key").to_owned()
    }

    /// A SKU priced `price` USD with `units` in stock.
    pub async fn sku(&self, sku: &str, price: &str, units: i64) {
        let a = self
            .call(
                Method::POST,
                "/v1/skus",
                &self.admin,
                None,
                Some(&json!({"sku": sku, "title": format!("Item {sku}"),
                    "price": {"value": price, "currency": "USD"}})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let a = self
            .call(
                Method::PUT,
                &format!("/v1/skus/{sku}/stock"),
                &self.admin,
                None,
                Some(&json!({"total": units})),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }

    pub async fn order(
        &self,
        key: &str,
        idempotency: &str,
        user: &str,
        sku: &str,
        qty: u32,
    ) -> Answer {
        self.call(
            Method::POST,
            "/v1/orders",
            key,
            Some(idempotency),
            Some(&order_body(user, sku, qty)),
        )
        .await
    }

    /// Starts paying `order_id` by card; returns the payment.
    pub async fn pay(&self, key: &str, order_id: &str) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/v1/orders/{order_id}/payments"),
                key,
                Some(&format!("pay-{order_id}")),
                Some(&json!({"channel": "card"})),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body
    }

    /// Has the card channel post its webhook for a payment (`payments`) or refund (`refunds`).
    pub async fn channel(&self, what: &str, channel_id: &str, trigger: Value) -> Value {
        let a = self
            .call(
                Method::POST,
                &format!("/v1/channels/card/{what}/{channel_id}/events"),
                &self.admin,
                None,
                Some(&trigger),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    /// The account's USD balance, `"0"` when it has none.
    pub async fn balance(&self, account: &str) -> String {
        let v = self.get(&format!("/v1/ledger/accounts/{account}")).await;
        v["balances"]
            .as_array()
            .expect("balances")
            .iter()
            .find(|b| b["currency"] == "USD")
            .and_then(|b| b["value"].as_str())
            .unwrap_or("0")
            .to_owned()
    }

    /// A paid order of `qty` × `sku` for `user`: (order, payment).
    pub async fn paid_order(&self, key: &str, user: &str, sku: &str, qty: u32) -> (Value, Value) {
        let order = self
            .order(key, &format!("o-{user}-{sku}"), user, sku, qty)
            .await;
        assert_eq!(order.status, 201, "{}", order.body);
        let id = order.body["id"].as_str().expect("id").to_owned();
        let payment = self.pay(key, &id).await;
        let cpi = payment["channel_payment_id"].as_str().expect("cpi");
        let sent = self
            .channel("payments", cpi, json!({"outcome": "succeeded"}))
            .await;
        assert_eq!(sent["attempts"][0]["answer"], "applied", "{sent}");
        (self.get(&format!("/v1/orders/{id}")).await, payment)
    }
}

pub fn order_body(user: &str, sku: &str, qty: u32) -> Value {
    json!({"items": [{"sku": sku, "qty": qty}], "user": user, "device": format!("dev-{user}"),
        "ip": "203.0.113.7", "shipping": {"address": "1 Main St, Springfield", "country": "US"},
        "payment_method": "card"})
}
