//! A person erased on one replica is forgotten by the others (issue 22): two `arbiter`
//! processes on one PostgreSQL database and one Redis; the second replica's link graph knows
//! the person's device from following the first; after an erasure on the first, the second
//! names that device by its pseudonym (found by hashing its own entities: the notification
//! and the audit entry carry pseudonyms only) and the real value is a stranger there. Needs
//! `DATABASE_URL` and `REDIS_URL` (CI sets both).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Api, Backend, TestDb, decision_body, start_arbiter};

impl Api {
    /// `GET /v1/graph/entities/{kind}/{value}` on `base`: the status.
    async fn entity_status(&self, base: &str, kind: &str, value: &str) -> u16 {
        self.client
            .get(format!("{base}/v1/graph/entities/{kind}/{value}"))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("send")
            .status()
            .as_u16()
    }

    /// Waits until `base`'s graph answers `status` for the entity.
    async fn until_entity(&self, base: &str, kind: &str, value: &str, status: u16) {
        let started = Instant::now();
        while self.entity_status(base, kind, value).await != status {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{base}: {kind} `{value}` never answered {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_on_one_replica_renames_the_entities_in_the_others() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("erasure across replicas: needs DATABASE_URL and REDIS_URL; not run");
        return;
    };
    let db = TestDb::new(&Backend::Postgres { admin_url: pg }).await;
    let prefix = format!("arbiter-e2e-{}:", uuid::Uuid::now_v7().simple());
    let args = [
        "--redis-url",
        redis.as_str(),
        "--redis-prefix",
        prefix.as_str(),
    ];
    // Both read the data directory's erasure key (the first generates it).
    let a = start_arbiter(&db, &args, &[]).await;
    let b = start_arbiter(&db, &args, &[]).await;
    let api = Api::new(db.admin_key());

    let mut body = decision_body("er-rep-1");
    body["user"]["id"] = json!("er-rep-user");
    body["user"]["email"] = json!("er-rep@mail.test");
    body["device"]["id"] = json!("er-rep-device");
    let decided = api.decide(&a.base, &body).await;
    let id = decided["decision_id"].as_str().expect("id").to_owned();
    // The second replica learns the device by following the first.
    api.until_entity(&b.base, "device", "er-rep-device", 200)
        .await;

    let r = api
        .client
        .post(format!("{}/v1/subjects/erase", a.base))
        .bearer_auth(&api.key)
        .json(&json!({"email": "er-rep@mail.test"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("json");
    assert!(
        report["graph_entities_renamed"].as_u64() >= Some(1),
        "{report}"
    );
    let stored = api.detail(&a.base, &id).await;
    let pseudonym = stored["context"]["device_id"]
        .as_str()
        .expect("device")
        .to_owned();
    assert!(pseudonym.starts_with("erased:"), "{stored}");

    api.until_entity(&b.base, "device", &pseudonym, 200).await;
    assert_eq!(
        api.entity_status(&b.base, "device", "er-rep-device").await,
        404,
        "the real value is a stranger on the other replica too"
    );
    // The audit entry the other replica read names entities by pseudonym only.
    let audit: Value = api
        .client
        .get(format!("{}/v1/audit?action=subject.erase", b.base))
        .bearer_auth(&api.key)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let text = audit.to_string();
    assert!(text.contains(&pseudonym), "{text}");
    for value in ["er-rep-device", "er-rep-user", "er-rep@mail.test"] {
        assert!(!text.contains(value), "{value} in {text}");
    }
}
