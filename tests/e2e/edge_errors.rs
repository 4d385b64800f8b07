//! Refusals made at the HTTP edge are problem+json with a `code` and name what was wrong: query
//! strings, path segments, unknown routes and methods, far-out dates in report windows, a
//! handler that panics, uploads from keys without the scope, policy sets past their size.

use axum::Router;
use axum::routing::get;
use serde_json::json;

use arbiter_host::config::HttpLimits;

use crate::harness::{Backend, TestServer, backends, detail, problem};
use crate::raw_http::{read_response, send};

/// Asserts a 400 naming `param` in its detail.
async fn refused(s: &TestServer, path: &str, code: &str, param: &str) {
    let r = s.get(path, &s.admin_key).await;
    let p = problem(r, 400, code).await;
    let detail = detail(&p);
    assert!(
        detail.contains(&format!("`{param}`")),
        "{path}: names `{param}`: {p}"
    );
}

#[tokio::test]
async fn query_and_path_refusals_are_problem_json_naming_the_parameter() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        for (path, param) in [
            ("/v1/audit?limit=-1", "limit"),
            ("/v1/audit?limit=0", "limit"),
            ("/v1/audit?limit=501", "limit"),
            ("/v1/audit?before=soon", "before"),
            ("/v1/audit?before=0", "before"),
            ("/v1/lists/entries?value=203.0.113.7", "value"),
            ("/v1/lists/entries?kind=shoe", "kind"),
            ("/v1/audit?action=policy.delete", "action"),
            ("/v1/audit?from=%2B200000-01-01T00:00:00Z", "from"),
            (
                "/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
                "to",
            ),
            ("/v1/reviews?limit=99999999999", "limit"),
            ("/v1/reviews?status=all&limit=201", "limit"),
            ("/v1/reviews?status=all&after=not-a-cursor", "after"),
            ("/v1/labels", "decision_id"),
            ("/v1/labels?decision_id=a&decision_id=b", "decision_id"),
            ("/v1/events?limit=-1", "limit"),
            (
                "/v1/reports/outcomes?policy_set_version=x",
                "policy_set_version",
            ),
            // Beyond chrono's range: does not parse.
            (
                "/v1/reports/outcomes?from=%2B275000-01-01T00:00:00Z",
                "from",
            ),
            ("/v1/reports/outcomes?from=+275000-01-01T00:00:00Z", "from"),
            // Parses, but no store compares it correctly.
            (
                "/v1/reports/outcomes?from=%2B200000-01-01T00:00:00Z",
                "from",
            ),
            ("/v1/reports/outcomes?to=%2B200001-01-01T00:00:00Z", "to"),
            // The default window (30 days before `to`) used to overflow and panic.
            ("/v1/reports/outcomes?to=-262143-01-02T00:00:00Z", "to"),
            ("/v1/reports/outcomes?to=0000-12-31T00:00:00Z", "to"),
            // No stored text holds a NUL: PostgreSQL used to fail on it (500).
            ("/v1/audit?actor=a%00b", "actor"),
            ("/v1/labels?decision_id=%00", "decision_id"),
        ] {
            refused(&s, path, "invalid_query", param).await;
        }
        for (path, param) in [
            ("/v1/orders/%FF", "id"),
            ("/v1/decisions/%C3%28", "decision_id"),
            ("/v1/decisions/%00", "decision_id"),
            ("/v1/orders/o%00", "id"),
        ] {
            refused(&s, path, "invalid_path", param).await;
        }
        let fine = s
            .get(
                "/v1/reports/outcomes?from=0001-01-01T00:00:00Z",
                &s.admin_key,
            )
            .await;
        assert_eq!(fine.status(), 200, "{backend:?}: years 1 to 9999 are fine");
        s.finish().await;
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problem_json() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let p = problem(s.get("/v2/nothing", &s.admin_key).await, 404, "not_found").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("/v2/nothing")
    );
    let r = s
        .client
        .delete(s.url("/healthz"))
        .send()
        .await
        .expect("delete");
    assert!(r.headers().get("allow").is_some(), "405 keeps `Allow`");
    problem(r, 405, "method_not_allowed").await;
    s.finish().await;
}

#[tokio::test]
async fn a_panicking_handler_answers_500_problem_json_and_the_server_goes_on() {
    let router = Router::new()
        .route(
            "/boom",
            get(|| async {
                if true {
                    panic!("secret detail");
                }
                "unreachable"
            }),
        )
        .route("/fine", get(|| async { "fine" }));
    let app = arbiter_host::http::edge::wrap(router, &HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(arbiter_host::serve::serve_router(
        listener,
        app,
        HttpLimits::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let r = client
            .get(format!("{base}/boom"))
            .send()
            .await
            .expect("an answer, not a dropped connection");
        let p = problem(r, 500, "internal").await;
        assert!(!p.to_string().contains("secret"), "{p}");
    }
    let fine = client
        .get(format!("{base}/fine"))
        .send()
        .await
        .expect("fine");
    assert_eq!(fine.status(), 200);
    let _ = stop.send(());
    server.await.expect("server task").expect("server result");
}

#[tokio::test]
async fn uploads_without_the_scope_are_refused_before_their_body_is_read() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let decide = s.key(&["decide"]).await;
    let writer = s.key(&["policy:write", "label:write"]).await;
    // Headers announcing megabytes, and no body at all: only an answer that needs none of it
    // can come back.
    for (path, content_type, key, status, code) in [
        (
            "/v1/policies/big/versions",
            "application/wasm",
            &decide,
            403,
            "forbidden",
        ),
        ("/v1/labels/import", "text/csv", &decide, 403, "forbidden"),
        (
            "/v1/policies/big/versions",
            "application/wasm",
            &writer,
            413,
            "payload_too_large",
        ),
        (
            "/v1/labels/import",
            "text/csv",
            &writer,
            413,
            "payload_too_large",
        ),
        (
            "/v1/labels/import",
            "text/csv",
            &"wrong".to_owned(),
            401,
            "unauthorized",
        ),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: {content_type}\r\nContent-Length: 9000000\r\n\r\n"
        );
        let mut conn = send(&s.base, head.as_bytes()).await;
        let r = read_response(&mut conn).await;
        assert_eq!(r.status, status, "{path} {code}: {r:?}");
        assert_eq!(r.json()["code"], code);
    }
    s.finish().await;
}

#[tokio::test]
async fn a_policy_set_past_the_module_limit_is_refused_naming_the_entry() {
    let s = TestServer::start_with(&Backend::Sqlite, |c| c.max_set_modules = 2).await;
    let key = s.key(&["policy:write"]).await;
    let modules: Vec<_> = ["geo_mismatch", "card_testing", "promo_abuse"]
        .iter()
        .map(|n| json!({"name": n, "version": 1}))
        .collect();
    let body = json!({"policies": modules, "thresholds": {"challenge": 50, "reject": 80}});
    let p = problem(
        s.post("/v1/policy-sets", &key, &body).await,
        422,
        "invalid_value",
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`policies[2]`"),
        "{p}"
    );
    let two = json!({"policies": &modules[..2], "thresholds": {"challenge": 50, "reject": 80}});
    assert_eq!(s.post("/v1/policy-sets", &key, &two).await.status(), 201);
    s.finish().await;
}

/// A JSON number with a zero fraction is an integer (as JSON Schema, and so the API document,
/// says): `1.0` is taken where an integer is; `1.5` is refused naming the field.
#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_an_integer() {
    let s = TestServer::start(&Backend::Sqlite).await;
    let set = |version: serde_json::Value| {
        json!({"policies": [{"name": "geo_mismatch", "version": version}],
            "thresholds": {"challenge": 1.0, "reject": 2}})
    };
    let r = s
        .post("/v1/policy-sets", &s.admin_key, &set(json!(1.0)))
        .await;
    assert_eq!(r.status(), 201);
    let p = problem(
        s.post("/v1/policy-sets", &s.admin_key, &set(json!(1.5)))
            .await,
        422,
        "invalid_value",
    )
    .await;
    assert!(detail(&p).contains("policies[0].version"), "{p}");
    s.finish().await;
}
