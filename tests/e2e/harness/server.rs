//! The real router served in this process on `127.0.0.1:0`, over a test's database, and the
//! calls a test makes to it.

use arbiter_host::config::ServeConfig;
use arbiter_host::wiring_transactions::TransactionsConfig;
use reqwest::{Client, Method, Response};
use serde_json::Value;
use tokio::sync::oneshot;

use super::db::{Backend, TestDb};

/// A server running in this process.
pub struct TestServer {
    pub base: String,
    pub admin_key: String,
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

impl TestServer {
    /// A server on a fresh database of `backend`, configured as `arbiter serve` is by default.
    pub async fn start(backend: &Backend) -> TestServer {
        TestServer::start_on(TestDb::new(backend).await).await
    }

    /// [`TestServer::start`] on a database the test already has (a restart, a seeded one).
    pub async fn start_on(db: TestDb) -> TestServer {
        TestServer::launch(db, |_| {}, None).await
    }

    /// [`TestServer::start`] with the configuration changed first (limits, timeouts).
    pub async fn start_with(
        backend: &Backend,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        TestServer::launch(TestDb::new(backend).await, configure, None).await
    }

    /// [`TestServer::start_on`] with the configuration changed first.
    pub async fn start_on_with(db: TestDb, configure: impl FnOnce(&mut ServeConfig)) -> TestServer {
        TestServer::launch(db, configure, None).await
    }

    /// [`TestServer::start`] with an explicit transaction-core configuration (a known webhook
    /// secret, short timers) in place of the one the flags and environment give.
    pub async fn start_with_transactions(
        backend: &Backend,
        transactions: TransactionsConfig,
    ) -> TestServer {
        TestServer::launch(TestDb::new(backend).await, |_| {}, Some(transactions)).await
    }

    /// [`TestServer::start_with`] and an explicit transaction-core configuration.
    pub async fn start_configured(
        backend: &Backend,
        configure: impl FnOnce(&mut ServeConfig),
        transactions: TransactionsConfig,
    ) -> TestServer {
        TestServer::launch(TestDb::new(backend).await, configure, Some(transactions)).await
    }

    /// Every start ends here: opens the store, builds the services, binds port 0 first and
    /// then spawns the server, so it is listening when this returns.
    async fn launch(
        db: TestDb,
        configure: impl FnOnce(&mut ServeConfig),
        transactions: Option<TransactionsConfig>,
    ) -> TestServer {
        let mut config = ServeConfig::for_data_dir(db.data_dir(), db.database_url.clone());
        configure(&mut config);
        // Bound first, as `arbiter serve` does, so the services know the address the
        // channels notify.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        config.listen = listener.local_addr().expect("addr");
        let stores = arbiter_host::wiring::open_store(&config.storage)
            .await
            .expect("open store");
        let state = match &transactions {
            Some(transactions) => {
                arbiter_host::wiring::build_with(&config, stores, transactions).await
            }
            None => arbiter_host::wiring::build(&config, stores).await,
        }
        .expect("build services");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(arbiter_host::serve::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            admin_key: db.admin_key(),
            client: Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            db: Some(db),
        }
    }

    /// Graceful stop; returns the database so a restart can reuse it.
    pub async fn stop(mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
        self.db.take().expect("db")
    }

    /// Stops and drops the database.
    pub async fn finish(self) {
        self.stop().await.drop_db().await;
    }

    /// The database it serves from (its data directory, and its PostgreSQL URL if any).
    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("db until stopped")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(&self, path: &str, key: &str, body: Vec<u8>) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    /// One call read to the end: `key` as bearer, `idempotency` as `Idempotency-Key`, `body`
    /// as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        idempotency: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(key);
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

    /// `GET path` with the admin key, which must answer 200; its JSON body.
    pub async fn admin_get(&self, path: &str) -> Value {
        let a = self
            .call(Method::GET, path, &self.admin_key, None, None)
            .await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.body);
        a.body
    }

    /// A series of `/metrics` (`name{labels}`) as a number, 0 before its first value.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Mints a key with the given scopes through the API, named after them.
    pub async fn key(&self, scopes: &[&str]) -> String {
        let name = format!("test {}", scopes.join(" "));
        let body = serde_json::json!({ "name": name, "scopes": scopes });
        self.mint(&body).await["key"]
            .as_str()
            .expect("key")
            .to_owned()
    }

    /// Mints a key from a `POST /v1/keys` body, which must answer 201; the answer.
    pub async fn mint(&self, body: &Value) -> Value {
        let a = self
            .call(Method::POST, "/v1/keys", &self.admin_key, None, Some(body))
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body
    }
}
