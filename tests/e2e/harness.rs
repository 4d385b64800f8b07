//! Starting servers against each backend, and a small client.

use std::path::PathBuf;

use arbiter_host::config::ServeConfig;
use reqwest::{Client, Response};
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;

/// A storage backend a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

/// SQLite always; PostgreSQL when `DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        out.push(Backend::Postgres { admin_url: url });
    }
    out
}

/// A fresh, empty database of this backend (its own PostgreSQL database).
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: &Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                dir,
                database_url: None,
                pg: None,
            },
            Backend::Postgres { admin_url } => {
                let name = format!("arbiter_e2e_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .expect("DATABASE_URL is set but PostgreSQL is unreachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let url = with_database(admin_url, &name);
                TestDb {
                    dir,
                    database_url: Some(url),
                    pg: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Drops the PostgreSQL database (best effort).
    pub async fn drop_db(self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// `admin_url` with its database name replaced.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// A server running in this process.
pub struct TestServer {
    pub base: String,
    pub admin_key: String,
    pub client: Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub db: Option<TestDb>,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        let db = TestDb::new(backend).await;
        TestServer::start_on(db).await
    }

    pub async fn start_on(db: TestDb) -> TestServer {
        TestServer::start_on_with(db, |_| {}).await
    }

    /// [`TestServer::start`] with the configuration changed first (limits, timeouts).
    pub async fn start_with(
        backend: &Backend,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        let db = TestDb::new(backend).await;
        TestServer::start_on_with(db, configure).await
    }

    /// [`TestServer::start_on`] with the configuration changed first.
    pub async fn start_on_with(db: TestDb, configure: impl FnOnce(&mut ServeConfig)) -> TestServer {
        let mut config = ServeConfig::for_data_dir(db.data_dir(), db.database_url.clone());
        configure(&mut config);
        let store = arbiter_host::wiring::open_store(&config.storage)
            .await
            .expect("open store");
        let state = arbiter_host::wiring::build(&config, store)
            .await
            .expect("build services");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(arbiter_host::serve::serve(listener, state, async {
            let _ = rx.await;
        }));
        let admin_key = std::fs::read_to_string(db.dir.path().join("admin.key"))
            .expect("admin.key written on first start")
            .trim()
            .to_owned();
        TestServer {
            base,
            admin_key,
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

    /// Mints a key with the given scopes through the API.
    pub async fn key(&self, scopes: &[&str]) -> String {
        let r = self
            .post(
                "/v1/keys",
                &self.admin_key,
                &serde_json::json!({ "scopes": scopes }),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.expect("json");
        v["key"].as_str().expect("key").to_owned()
    }
}

/// A valid payment.authorize request.
pub fn decision_body(request_id: &str) -> Value {
    serde_json::json!({"request_id": request_id, "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "USD"},
        "user": {"id": "u-1", "account_age_days": 12, "email": "Ann@Example.com", "phone": "+1 555 123 4567"},
        "device": {"id": "dev-9", "ip": "203.0.113.7", "ip_country": "US", "is_proxy": false},
        "payment": {"method": "card", "card_fingerprint": "fp_7Hc", "card_bin": "411111", "card_country": "US"},
        "shipping": {"address": "1 Main St, Springfield, US", "country": "US"},
        "order_id": "o-42", "attributes": {"promo_code": "WELCOME10"}})
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status for code {code}");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let v: Value = r.json().await.expect("problem json");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["status"], status);
    assert!(v["type"].is_string() && v["title"].is_string() && v["detail"].is_string());
    v
}

/// A real `arbiter serve` process started by [`start_arbiter`].
pub struct Arbiter {
    pub child: tokio::process::Child,
    pub base: String,
    /// Everything it printed, one line per log line.
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Arbiter {
    /// The log lines printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("output").clone()
    }

    /// SIGKILL and reap.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Starts `arbiter serve` on `db` (its data directory, and its PostgreSQL database when it has
/// one) with extra arguments and environment variables, logging JSON at `info`, and waits
/// until it listens. Unlike `crash_durability::start_binary_with` it can set the environment
/// (the transaction core's timers are read from it); like it, it passes neither
/// `DATABASE_URL` nor `REDIS_URL` through, so Redis is exactly what `args` say.
pub async fn start_arbiter(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Arbiter {
    use tokio::io::AsyncBufReadExt;

    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"));
    cmd.arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(db.data_dir())
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = &db.database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().expect("spawn arbiter");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (addr_tx, addr_rx) = oneshot::channel::<String>();
    let mut addr_tx = Some(addr_tx);
    let stdout = child.stdout.take().expect("stdout");
    let sink = output.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("arbiter listening")
                && let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(addr) = v["addr"].as_str()
                && let Some(tx) = addr_tx.take()
            {
                let _ = tx.send(addr.to_owned());
            }
            let mut out = sink.lock().expect("output");
            out.push_str(&line);
            out.push('\n');
        }
    });
    let stderr = child.stderr.take().expect("stderr");
    let sink = output.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut out = sink.lock().expect("output");
            out.push_str(&line);
            out.push('\n');
        }
    });
    let addr = addr_rx.await.unwrap_or_else(|_| {
        panic!(
            "arbiter exited before listening: {}",
            output.lock().expect("output")
        )
    });
    Arbiter {
        child,
        base: format!("http://{addr}"),
        output,
    }
}
