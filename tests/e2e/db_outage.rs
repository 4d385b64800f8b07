//! PostgreSQL briefly unreachable: decisions are refused with 503 and `Retry-After` rather
//! than acknowledged without being logged; once it is back they are served again, every
//! decision that was acknowledged is stored, and a refused request retried with its request
//! id is decided exactly once.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Backend, TestDb, TestServer, decision_body, problem};
use crate::tcp_proxy::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_refused_with_503_and_loses_nothing() {
    let Ok(pg) = std::env::var("DATABASE_URL") else {
        eprintln!("db_outage: needs DATABASE_URL; not run");
        return;
    };
    let mut db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    let url = db.database_url.clone().expect("pg url");
    // postgres://user@host:port/db → the same through the proxy.
    let after_at = url.split_once('@').expect("user@host").1;
    let host_port = after_at.split('/').next().expect("host:port").to_owned();
    let proxy = Proxy::start(host_port.clone()).await;
    db.database_url = Some(url.replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1));
    let s = TestServer::start_on(db).await;

    let mut acked = Vec::new();
    for i in 0..5 {
        let r = s
            .post(
                "/v1/decisions",
                &s.admin_key,
                &decision_body(&format!("o-{i}")),
            )
            .await;
        assert_eq!(r.status(), 200);
        acked.push(r.json::<Value>().await.expect("json")["decision_id"].clone());
    }
    proxy.cut();
    let r = s
        .post("/v1/decisions", &s.admin_key, &decision_body("o-during"))
        .await;
    let retry = r.headers().get("retry-after").cloned();
    problem(r, 503, "database_unavailable").await;
    assert!(retry.is_some(), "503 carries Retry-After");
    proxy.pass();
    // Back: the pool reconnects on its own.
    let started = Instant::now();
    loop {
        let r = s
            .post("/v1/decisions", &s.admin_key, &decision_body("o-after"))
            .await;
        if r.status() == 200 {
            acked.push(r.json::<Value>().await.expect("json")["decision_id"].clone());
            break;
        }
        assert_eq!(r.status(), 503, "only 503 while reconnecting");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the service did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &acked {
        let r = s
            .get(
                &format!("/v1/decisions/{}", id.as_str().expect("id")),
                &s.admin_key,
            )
            .await;
        assert_eq!(r.status(), 200, "acknowledged {id} is stored");
    }
    // A refused request may still have reached the log before the connection dropped (the
    // 503 says "not acknowledged", not "not written"); retrying it with the same request id
    // is always safe: it is decided once, whichever happened.
    let first = s
        .post("/v1/decisions", &s.admin_key, &decision_body("o-during"))
        .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("json");
    let again = s
        .post("/v1/decisions", &s.admin_key, &decision_body("o-during"))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(first["decision_id"], again["decision_id"]);
    s.finish().await;
}
