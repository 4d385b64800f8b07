//! The access table (`http::access::ROUTES`) walked on a real server: every key route refuses
//! a request without a key (401), refuses every key that lacks one of its scopes (403) and lets
//! a key holding exactly its scopes through (whatever the handler then answers, never 401 or
//! 403). SQLite only: the access layer runs before any handler touches storage.

use arbiter_engine::keys::Scope;
use arbiter_host::http::access::{Guard, ROUTES};
use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, TestServer, problem};

/// `path` with every `{parameter}` filled: a number where the route wants one.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        out.push_str(&rest[..open]);
        out.push_str(if &rest[open..=close] == "{version}" {
            "1"
        } else {
            "x"
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

async fn status(s: &TestServer, method: &Method, path: &str, key: Option<&str>) -> u16 {
    let mut req = s.client.request(method.clone(), s.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if *method != Method::GET && *method != Method::DELETE {
        req = req.json(&json!({}));
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn every_route_refuses_a_missing_key_and_a_missing_scope() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let mut single = Vec::new();
    for scope in Scope::ALL {
        single.push((scope, s.key(&[scope.as_str()]).await));
    }
    let mut checked = 0;
    for route in ROUTES {
        let Guard::Key(scopes) = route.guard else {
            continue;
        };
        let path = concrete(route.path);
        let what = format!("{} {}", route.method, route.path);
        assert_eq!(
            status(&s, &route.method, &path, None).await,
            401,
            "{what} without a key"
        );
        assert_eq!(
            status(&s, &route.method, &path, Some("not-a-key")).await,
            401,
            "{what} with an unknown key"
        );
        for (scope, key) in &single {
            if *scope == Scope::Admin || scopes == [*scope] {
                continue;
            }
            assert_eq!(
                status(&s, &route.method, &path, Some(key)).await,
                403,
                "{what} with only `{}`",
                scope.as_str()
            );
        }
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let holder = s.key(&names).await;
        for key in [holder.as_str(), s.admin_key.as_str()] {
            let answer = status(&s, &route.method, &path, Some(key)).await;
            assert!(
                answer != 401 && answer != 403,
                "{what} with {names:?} (or admin) answered {answer}"
            );
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} key routes in the table");
    s.finish().await;
}

#[tokio::test]
async fn a_decide_key_reads_no_personal_data_and_moves_no_money() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let decide = s.key(&["decide"]).await;
    let answer = s
        .post(
            "/v1/decisions",
            &decide,
            &crate::harness::decision_body("acc-1"),
        )
        .await;
    assert_eq!(answer.status(), 200);
    let id = answer.json::<serde_json::Value>().await.expect("json")["decision_id"]
        .as_str()
        .expect("decision id")
        .to_owned();
    let refused = problem(
        s.get(&format!("/v1/decisions/{id}"), &decide).await,
        403,
        "forbidden",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .expect("detail")
            .contains("decisions:read")
    );
    problem(
        s.post("/v1/orders/ord_x/cancel", &decide, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        s.post("/v1/refunds", &decide, &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let reader = s.key(&["decisions:read"]).await;
    let detail = s.get(&format!("/v1/decisions/{id}"), &reader).await;
    assert_eq!(detail.status(), 200);
    s.finish().await;
}
