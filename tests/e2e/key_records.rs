//! Keys as named records: minted with a name (and perhaps an expiry), listed without their
//! secret, revoked once; a revoked or expired key is refused at once, on every replica; the
//! same from the command line, straight into the database.

use std::time::{Duration, Instant};

use arbiter_engine::keys::hash_secret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Backend, TestDb, TestServer, backends, decision_body, detail, problem};

/// Whether `key` may ask for a decision: 200, or 401 problem+json.
async fn admitted(s: &TestServer, key: &str, request_id: &str) -> bool {
    let r = s
        .post("/v1/decisions", key, &decision_body(request_id))
        .await;
    if r.status() == 200 {
        return true;
    }
    problem(r, 401, "unauthorized").await;
    false
}

/// The listed key named `name`.
fn named<'a>(keys: &'a Value, name: &str) -> &'a Value {
    keys.as_array()
        .expect("a list")
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no key named {name}: {keys}"))
}

#[tokio::test]
async fn keys_are_listed_without_secrets_and_revoked_once() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let minted = s
            .mint(&json!({"name": "checkout", "scopes": ["decide", "orders:write"]}))
            .await;
        let secret = minted["key"].as_str().expect("secret").to_owned();
        let id = minted["id"].as_str().expect("id").to_owned();
        assert_eq!(minted["name"], "checkout");
        assert!(minted["revoked_at"].is_null() && minted["expires_at"].is_null());
        assert!(admitted(&s, &secret, "rec-1").await, "{backend:?}");

        let listed = s
            .call(Method::GET, "/v1/keys", &s.admin_key, None, None)
            .await
            .body;
        let text = listed.to_string();
        for hidden in [&secret, &s.admin_key, &hash_secret(&secret)] {
            assert!(!text.contains(hidden.as_str()), "a secret or hash listed");
        }
        let admin = named(&listed, "first admin");
        assert_eq!(
            (&admin["created_by"], &admin["scopes"]),
            (&json!("bootstrap"), &json!(["admin"]))
        );
        let checkout = named(&listed, "checkout");
        assert_eq!(checkout["id"], id.as_str());
        assert_eq!(
            checkout["created_by"], admin["id"],
            "minted by the admin key"
        );
        assert_eq!(checkout["scopes"], json!(["decide", "orders:write"]));
        assert!(checkout["key"].is_null() && checkout["hash"].is_null());
        // Not yet written, but this replica's own uses are folded into the listing.
        assert!(checkout["last_used_at"].is_string(), "{checkout}");
        assert!(checkout["created_at"].is_string() && checkout["revoked_at"].is_null());

        let revoke = format!("/v1/keys/{id}/revoke");
        let first = s
            .call(Method::POST, &revoke, &s.admin_key, None, None)
            .await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["already_revoked"], false);
        assert!(first.body["revoked_at"].is_string());
        assert!(!admitted(&s, &secret, "rec-2").await, "refused at once");
        let again = s
            .call(Method::POST, &revoke, &s.admin_key, None, None)
            .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.body["already_revoked"], true);
        assert_eq!(again.body["revoked_at"], first.body["revoked_at"]);
        let listed = s
            .call(Method::GET, "/v1/keys", &s.admin_key, None, None)
            .await
            .body;
        assert_eq!(
            named(&listed, "checkout")["revoked_at"],
            first.body["revoked_at"]
        );
        problem(
            s.post("/v1/keys/key_missing/revoke", &s.admin_key, &json!({}))
                .await,
            404,
            "not_found",
        )
        .await;
        // A key is revoked by another: the last admin key cannot lock every operator out.
        let admin_id = named(&listed, "first admin")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let own = format!("/v1/keys/{admin_id}/revoke");
        let refused = problem(
            s.post(&own, &s.admin_key, &json!({})).await,
            409,
            "conflict",
        )
        .await;
        assert!(
            detail(&refused).contains("arbiter keys revoke"),
            "{refused}"
        );
        assert_eq!(
            s.get("/v1/keys", &s.admin_key).await.status(),
            200,
            "still valid"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn a_key_request_is_refused_naming_the_field() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let cases = [
        (json!({"scopes": ["decide"]}), "invalid_value", "`name`"),
        (
            json!({"name": " ", "scopes": ["decide"]}),
            "invalid_value",
            "`name`",
        ),
        (
            json!({"name": "x".repeat(101), "scopes": ["decide"]}),
            "too_long",
            "`name`",
        ),
        (
            json!({"name": "k", "scopes": []}),
            "invalid_value",
            "`scopes`",
        ),
        (
            json!({"name": "k", "scopes": ["decide"], "expires_at": past}),
            "invalid_value",
            "`expires_at`",
        ),
        (
            json!({"name": "k", "scopes": ["decide"], "expires_at": "soon"}),
            "invalid_value",
            "`expires_at`",
        ),
    ];
    for (body, code, field) in cases {
        let v = problem(s.post("/v1/keys", &s.admin_key, &body).await, 422, code).await;
        assert!(detail(&v).contains(field), "{body}: {v}");
    }
    s.mint(&json!({"name": "x".repeat(100), "scopes": ["decide"]}))
        .await;
    let listed = s.admin_get("/v1/keys").await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(2),
        "nothing half-written"
    );
    s.finish().await;
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
        let minted = s
            .mint(&json!({"name": "brief", "scopes": ["decide"], "expires_at": expires}))
            .await;
        let secret = minted["key"].as_str().expect("secret");
        assert!(admitted(&s, secret, "exp-0").await, "{backend:?}");
        let mut n = 0;
        while admitted(&s, secret, &format!("exp-{n}")).await {
            assert!(
                chrono::Utc::now() < expires + chrono::Duration::milliseconds(500),
                "{backend:?}: still admitted after its expiry"
            );
            n += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(chrono::Utc::now() >= expires, "refused before its expiry");
        s.finish().await;
    }
}

/// Runs `arbiter keys <args>` on `s`'s database; its status, stdout and stderr.
async fn keys_cli(s: &TestServer, args: &[&str]) -> (bool, String, String) {
    let db = s.db();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_arbiter"));
    cmd.arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(db.data_dir())
        .env_remove("DATABASE_URL");
    if let Some(url) = &db.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().await.expect("run arbiter");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn keys_are_listed_created_and_revoked_from_the_command_line() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let (ok, secret, err) =
            keys_cli(&s, &["create", "--name", "from cli", "--scope", "decide"]).await;
        assert!(ok, "{backend:?}: {err}");
        let secret = secret.trim();
        assert!(
            admitted(&s, secret, "cli-1").await,
            "a new key works at once"
        );

        let (ok, out, err) = keys_cli(&s, &["list"]).await;
        assert!(ok, "{err}");
        assert!(!out.contains(secret));
        let listed: Value = serde_json::from_str(&out).expect("json list");
        let key = named(&listed, "from cli");
        assert_eq!(
            (&key["created_by"], &key["scopes"]),
            (&json!("cli"), &json!(["decide"]))
        );
        let id = key["id"].as_str().expect("id");

        let (ok, out, err) = keys_cli(&s, &["revoke", id]).await;
        assert!(ok, "{err}");
        let revoked: Value = serde_json::from_str(&out).expect("json key");
        assert_eq!(revoked["already_revoked"], false);
        assert!(revoked["revoked_at"].is_string());
        // The running server did not make the change: its sync reloads the keys within 5 s.
        let since = Instant::now();
        let mut n = 0;
        while admitted(&s, secret, &format!("cli-r-{n}")).await {
            assert!(since.elapsed() < Duration::from_secs(7), "still admitted");
            n += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (ok, out, _) = keys_cli(&s, &["revoke", id]).await;
        assert!(ok);
        let again: Value = serde_json::from_str(&out).expect("json key");
        assert_eq!(again["already_revoked"], true);
        assert_eq!(again["revoked_at"], revoked["revoked_at"]);

        let (ok, _, err) = keys_cli(&s, &["revoke", "key_missing"]).await;
        assert!(!ok && err.contains("`key_missing` not found"), "{err}");
        let (ok, _, err) = keys_cli(&s, &["create", "--scope", "decide"]).await;
        assert!(!ok && err.contains("--name"), "{err}");
        let (ok, _, err) = keys_cli(&s, &["create", "--name", "", "--scope", "decide"]).await;
        assert!(!ok && err.contains("`name`"), "{err}");
        s.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_revoked_on_one_replica_is_refused_by_the_other() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("key replicas: needs DATABASE_URL and REDIS_URL; not run");
        return;
    };
    let db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    let prefix = format!("arbiter-e2e-{}:", uuid::Uuid::now_v7().simple());
    let args = ["--redis-url", &redis, "--redis-prefix", &prefix];
    let one = crate::harness::start_arbiter(&db, &args, &[]).await;
    let two = crate::harness::start_arbiter(&db, &args, &[]).await;
    let admin = db.admin_key();
    let client = reqwest::Client::new();
    for replica in [&one, &two] {
        let ready = replica.readyz().await;
        assert_eq!(ready["status"], "ready", "{ready}");
    }
    let decide = |base: &str, key: &str| {
        client
            .post(format!("{base}/v1/decisions"))
            .bearer_auth(key)
            .json(&decision_body(&uuid::Uuid::now_v7().to_string()))
            .send()
    };
    let minted: Value = client
        .post(format!("{}/v1/keys", one.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "shared", "scopes": ["decide"]}))
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("json");
    let secret = minted["key"].as_str().expect("secret");
    let id = minted["id"].as_str().expect("id");
    let r = decide(&two.base, secret).await.expect("decide");
    assert_eq!(r.status(), 200, "the other replica knows the new key");

    let r = client
        .post(format!("{}/v1/keys/{id}/revoke", one.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let revoked_at = Instant::now();
    loop {
        let r = decide(&two.base, secret).await.expect("decide");
        if r.status() == 401 {
            break;
        }
        assert_eq!(r.status(), 200);
        assert!(
            revoked_at.elapsed() < Duration::from_millis(1500),
            "the other replica still admits a revoked key after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((one, two));
    db.drop_db().await;
}
