//! Scale-out: three `arbiter` processes on one PostgreSQL database and one Redis (its own key
//! prefix). Velocity is counted once per request whichever replica served it; a block-list
//! entry, a rate table or a rule snooze made on one replica is in force on the others within
//! a second; killing a replica
//! under load loses nothing that was acknowledged. Needs `DATABASE_URL` and `REDIS_URL` (CI
//! sets both); without them it says so and does nothing.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Arbiter, Backend, TestDb, decision_body, start_arbiter};

async fn decide(client: &reqwest::Client, base: &str, key: &str, body: &Value) -> Value {
    let r = client
        .post(format!("{base}/v1/decisions"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn detail(client: &reqwest::Client, base: &str, key: &str, id: &str) -> Value {
    client
        .get(format!("{base}/v1/decisions/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

/// A payment by `user` with `card`, otherwise unremarkable.
fn payment(id: &str, user: &str, card: &str) -> Value {
    let mut v = decision_body(id);
    v["user"]["id"] = json!(user);
    v["payment"]["card_fingerprint"] = json!(card);
    v["amount"] = json!({"value": "12.00", "currency": "USD"});
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_share_counters_and_changes_and_survive_a_kill() {
    let (Ok(pg), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL")) else {
        eprintln!("replicas: needs DATABASE_URL and REDIS_URL; not run");
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
    // One after the other: the first start seeds policy set 1.
    let mut replicas: Vec<Arbiter> = Vec::new();
    for _ in 0..3 {
        replicas.push(start_arbiter(&db, &args, &[]).await);
    }
    let key = db.admin_key();
    let client = reqwest::Client::new();
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    for replica in &replicas {
        let ready = replica.readyz().await;
        assert_eq!(ready["status"], "ready", "{ready}");
    }

    // One card, twelve payments spread over the three replicas: the thirteenth sees twelve.
    for i in 0..12 {
        let body = payment(&format!("v-{i}"), &format!("v-user-{i}"), "shared-card");
        decide(&client, &bases[i % 3], &key, &body).await;
    }
    let d = decide(
        &client,
        &bases[1],
        &key,
        &payment("v-12", "v-user-12", "shared-card"),
    )
    .await;
    let seen = detail(
        &client,
        &bases[1],
        &key,
        d["decision_id"].as_str().expect("id"),
    )
    .await;
    assert_eq!(
        seen["context"]["velocity"]["card"]["count_1h"], 12,
        "every replica's payments are counted once: {}",
        seen["context"]["velocity"]
    );
    assert!(
        seen["layers"]["velocity_degraded"].is_null(),
        "{}",
        seen["layers"]
    );

    // A block-list entry on replica 1 is enforced by replicas 2 and 3 within a second.
    let r = client
        .post(format!("{}/v1/lists/entries", bases[0]))
        .bearer_auth(&key)
        .json(&json!({"list": "block", "kind": "user", "value": "mallory", "reason": "ring"}))
        .send()
        .await
        .expect("block");
    assert_eq!(r.status(), 201);
    let blocked_at = Instant::now();
    for base in &bases[1..] {
        let mut n = 0;
        loop {
            n += 1;
            let d = decide(
                &client,
                base,
                &key,
                &payment(&format!("b-{base}-{n}"), "mallory", "m-card"),
            )
            .await;
            if d["action"] == "reject" {
                break;
            }
            assert!(
                blocked_at.elapsed() < Duration::from_secs(1),
                "{base} still accepts a blocked user after {:?}",
                blocked_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // A rate table set on replica 1 converts yen on replicas 2 and 3 within a second.
    let r = client
        .post(format!("{}/v1/rates", bases[0]))
        .bearer_auth(&key)
        .json(&json!({"reporting_currency": "USD", "rates": {"JPY": "0.0067"}}))
        .send()
        .await
        .expect("rates");
    assert_eq!(r.status(), 201);
    let rated_at = Instant::now();
    for base in &bases[1..] {
        let mut n = 0;
        loop {
            n += 1;
            let mut body = payment(&format!("fx-{base}-{n}"), "yen-buyer", "y-card");
            body["amount"] = json!({"value": "5000", "currency": "JPY"});
            let id = decide(&client, base, &key, &body).await["decision_id"]
                .as_str()
                .expect("id")
                .to_owned();
            let d = detail(&client, base, &key, &id).await;
            if d["context"]["amount"]["reporting"]["value"] == "33.50" {
                break;
            }
            assert!(
                rated_at.elapsed() < Duration::from_secs(1),
                "{base} still has no JPY rate after {:?}",
                rated_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // A rule snoozed on replica 1 stops counting for that user on replicas 2 and 3 within a
    // second (the proxy rule: a proxied payment of 480 USD).
    let r = client
        .post(format!("{}/v1/snoozes", bases[0]))
        .bearer_auth(&key)
        .json(
            &json!({"rule": "proxy_high_value", "kind": "user", "value": "vpn-user",
            "reason": "travels with a VPN"}),
        )
        .send()
        .await
        .expect("snooze");
    assert_eq!(r.status(), 201);
    let snoozed_at = Instant::now();
    for base in &bases[1..] {
        let mut n = 0;
        loop {
            n += 1;
            let mut body = payment(&format!("snz-{base}-{n}"), "vpn-user", "v-card");
            body["amount"] = json!({"value": "480.00", "currency": "USD"});
            body["device"]["is_proxy"] = json!(true);
            let id = decide(&client, base, &key, &body).await["decision_id"]
                .as_str()
                .expect("id")
                .to_owned();
            let d = detail(&client, base, &key, &id).await;
            if d["context"]["snoozed_rules"] == json!(["proxy_high_value"]) {
                break;
            }
            assert!(
                snoozed_at.elapsed() < Duration::from_secs(1),
                "{base} still counts the snoozed rule after {:?}",
                snoozed_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // Load on all three; replica 3 is killed halfway. Replicas 1 and 2 keep serving, and every
    // acknowledged decision (from any replica) is in the shared log.
    let mut tasks = Vec::new();
    for (w, base) in bases.iter().enumerate() {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut failed = 0;
            for i in 0..60 {
                let body = payment(&format!("k-{w}-{i}"), &format!("k-user-{w}"), "k-card");
                match client
                    .post(format!("{base}/v1/decisions"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.expect("json");
                        acked.push(v["decision_id"].as_str().expect("id").to_owned());
                    }
                    _ => failed += 1,
                }
            }
            (w, acked, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut killed = replicas.pop().expect("replica 3");
    killed.child.start_kill().expect("kill");
    let _ = killed.child.wait().await;
    let mut all = Vec::new();
    for t in tasks {
        let (w, acked, failed) = t.await.expect("join");
        if w < 2 {
            assert_eq!(failed, 0, "replica {} kept serving", w + 1);
            assert_eq!(acked.len(), 60);
        }
        all.extend(acked);
    }
    for id in &all {
        let d = detail(&client, &bases[0], &key, id).await;
        assert_eq!(
            d["decision_id"],
            id.as_str(),
            "acknowledged decision {id} is stored"
        );
    }
    for mut r in replicas {
        let _ = r.child.start_kill();
        let _ = r.child.wait().await;
    }
    db.drop_db().await;
}

#[tokio::test]
async fn redis_down_at_start_degrades_instead_of_failing() {
    let db = TestDb::new(&Backend::Sqlite).await;
    // Nothing listens on port 1: the replica must start, say it is degraded, and decide
    // with its own counters, marking each decision.
    let args = [
        "--redis-url",
        "redis://127.0.0.1:1",
        "--redis-prefix",
        "arbiter-down:",
    ];
    let bin = start_arbiter(&db, &args, &[]).await;
    let key = db.admin_key();
    let client = reqwest::Client::new();
    let ready = bin.readyz().await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["redis"]["velocity_shared"], false, "{ready}");
    for i in 0..3 {
        decide(
            &client,
            &bin.base,
            &key,
            &payment(&format!("d-{i}"), "d-user", "d-card"),
        )
        .await;
    }
    let d = decide(
        &client,
        &bin.base,
        &key,
        &payment("d-3", "d-user", "d-card"),
    )
    .await;
    let seen = detail(
        &client,
        &bin.base,
        &key,
        d["decision_id"].as_str().expect("id"),
    )
    .await;
    assert_eq!(
        seen["layers"]["velocity_degraded"], true,
        "{}",
        seen["layers"]
    );
    assert_eq!(
        seen["context"]["velocity"]["card"]["count_1h"], 3,
        "the fallback still counts this replica's traffic"
    );
}
