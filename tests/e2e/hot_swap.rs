//! Swapping policy sets 100 times while 8 clients decide: no request fails, and every decision
//! names exactly one set version whose rules explain its result.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::harness::{Backend, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swapping_sets_under_load_fails_no_request() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let key = s.key(&["decide", "policy:write"]).await;
    // Two sets with the same geo module and different thresholds: a geo request scores 60,
    // a challenge under set 2 and a reject under set 3.
    for (challenge, reject) in [(40, 80), (1, 2)] {
        let r = s
            .post(
                "/v1/policy-sets",
                &key,
                &json!({"policies": [{"name": "geo_mismatch", "version": 1}],
                "thresholds": {"challenge": challenge, "reject": reject}}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let expected = |version: i64| match version {
        1 | 2 => "challenge",
        3 => "reject",
        other => panic!("unexpected set version {other}"),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (client, url, key, stop) = (
            s.client.clone(),
            s.url("/v1/decisions"),
            key.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut i = 0;
            // Bounded: stops when the swaps are done, or after 20,000 requests.
            while !stop.load(Ordering::Relaxed) && i < 20_000 {
                let mut body = crate::harness::decision_body(&format!("hs-{c}-{i}"));
                // Every entity distinct, so the link graph sees no sharing and the rules alone
                // decide.
                let who = format!("{c}-{i}");
                body["user"]["id"] = json!(format!("user-{who}"));
                body["user"]["email"] = json!(format!("{who}@example.com"));
                body["user"]["phone"] = json!(format!("+1555{c}{i:06}"));
                body["device"]["id"] = json!(format!("dev-{who}"));
                body["payment"]["card_fingerprint"] = json!(format!("fp-{who}"));
                body["shipping"]["address"] = json!(format!("{i} Road {c}, Springfield"));
                body["amount"]["value"] = json!("1500.00");
                body["payment"]["card_country"] = json!("NG");
                body["shipping"]["country"] = json!("GB");
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200, "a request failed during a swap");
                let d: Value = r.json().await.expect("json");
                seen.push((
                    d["policy_set_version"].as_i64().expect("version"),
                    d["action"].as_str().expect("action").to_owned(),
                ));
                i += 1;
            }
            seen
        }));
    }
    for i in 0..100 {
        // Alternate the stable set between 2 and 3 by promoting a 100 % rollout each time.
        let target = if i % 2 == 0 { 3 } else { 2 };
        let r = s
            .post(
                "/v1/rollouts",
                &key,
                &json!({"policy_set_version": target, "percent": 100}),
            )
            .await;
        assert_eq!(r.status(), 201, "swap {i}");
        let r = s
            .client
            .post(s.url("/v1/rollouts/current/promote"))
            .bearer_auth(&key)
            // The swap is the point here, not whether the candidate has served yet.
            .json(&json!({"force": true}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "swap {i}");
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut versions = std::collections::BTreeSet::new();
    for c in clients {
        for (version, action) in c.await.expect("client") {
            assert_eq!(
                action,
                expected(version),
                "set {version} cannot explain `{action}`"
            );
            versions.insert(version);
            total += 1;
        }
    }
    assert!(total > 100, "only {total} decisions");
    assert!(
        versions.contains(&2) && versions.contains(&3),
        "{versions:?}"
    );
    s.finish().await;
}
