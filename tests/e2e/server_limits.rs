//! The HTTP server's limits against clients that hold what they can: half a header, an idle
//! keep-alive connection, a body that never comes, more requests than the cap, a request
//! still running at shutdown. The server is the real `serve` on `127.0.0.1:0`; these tests
//! touch no storage beyond start-up (and the shutdown test's one decision), so they run on
//! SQLite only. No latency is asserted: each wait that must end has a generous bound.

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::harness::{Backend, TestDb, TestServer, decision_body, detail, problem};
use crate::raw_http::{GENEROUS, expect_closed, read_response, send, still_open};

const SLOW_CLIENTS: usize = 300;

/// `n` connections that each sent the first half of a request header.
async fn half_headers(base: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let start = format!("GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow-{i}: ");
        held.push(send(base, start.as_bytes()).await);
    }
    held
}

async fn healthz_answers(s: &TestServer) {
    let r = s
        .client
        .get(s.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
}

/// A request whose handler has started reading its body and waits for the rest: the `100
/// Continue` proves it is in flight, holding its place under the cap.
async fn held_in_flight(s: &TestServer) -> TcpStream {
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
        s.admin_key
    );
    let mut conn = send(&s.base, head.as_bytes()).await;
    assert_eq!(read_response(&mut conn).await.status, 100);
    conn
}

#[tokio::test]
async fn half_sent_headers_do_not_delay_healthz_and_are_closed_after_the_header_timeout() {
    // A header timeout far longer than the test: /healthz answers while all 300 are held.
    let s = TestServer::start_with(&Backend::Sqlite, |c| {
        c.http.header_timeout_ms = 600_000;
    })
    .await;
    let held = half_headers(&s.base, SLOW_CLIENTS).await;
    healthz_answers(&s).await;
    assert!(held.iter().all(still_open), "all {SLOW_CLIENTS} still held");
    drop(held);
    s.finish().await;

    // A one-second header timeout: the server closes every one of them.
    let s = TestServer::start_with(&Backend::Sqlite, |c| {
        c.http.header_timeout_ms = 1000;
    })
    .await;
    let mut held = half_headers(&s.base, SLOW_CLIENTS).await;
    // And one that never sends a byte: its first request is on the header clock from accept.
    held.push(crate::raw_http::connect(&s.base).await);
    healthz_answers(&s).await;
    for conn in &mut held {
        expect_closed(conn).await;
    }
    healthz_answers(&s).await;
    s.finish().await;
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let s = TestServer::start_with(&Backend::Sqlite, |c| {
        c.http.idle_timeout_ms = 1000;
        c.http.header_timeout_ms = 600_000;
    })
    .await;
    // Kept alive after a response, then idle.
    let mut conn = send(&s.base, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let r = read_response(&mut conn).await;
    assert_eq!(r.status, 200);
    assert_ne!(r.header("connection"), Some("close"));
    expect_closed(&mut conn).await;
    s.finish().await;
}

#[tokio::test]
async fn requests_past_the_in_flight_cap_get_503_with_retry_after() {
    let s = TestServer::start_with(&Backend::Sqlite, |c| c.http.max_in_flight = 2).await;
    let mut held = vec![held_in_flight(&s).await, held_in_flight(&s).await];
    let r = s.get("/v1/audit", &s.admin_key).await;
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let p = problem(r, 503, "overloaded").await;
    assert!(detail(&p).contains('2'), "{p}");
    healthz_answers(&s).await;
    // Once the held requests are answered, their places are free again.
    for conn in &mut held {
        conn.write_all(b"{}").await.expect("rest of body");
        assert_ne!(read_response(conn).await.status, 503);
    }
    assert_eq!(s.get("/v1/audit", &s.admin_key).await.status(), 200);
    s.finish().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes() {
    let s = TestServer::start_with(&Backend::Sqlite, |c| c.http.body_timeout_ms = 1000).await;
    let head = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"request_id\"",
        s.admin_key
    );
    let mut conn = send(&s.base, head.as_bytes()).await;
    let r = read_response(&mut conn).await;
    assert_eq!(r.status, 408, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.json()["code"], "body_timeout");
    expect_closed(&mut conn).await;
    s.finish().await;
}

#[tokio::test]
async fn a_stop_ends_after_the_grace_and_still_flushes_the_decision_log() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let s = TestServer::start_on_with(db, |c| c.http.shutdown_grace_ms = 500).await;
    let d: Value = s
        .post("/v1/decisions", &s.admin_key, &decision_body("grace-1"))
        .await
        .json()
        .await
        .expect("decision");
    let id = d["decision_id"].as_str().expect("id").to_owned();
    let mut held = held_in_flight(&s).await;
    let db = tokio::time::timeout(GENEROUS, s.stop())
        .await
        .expect("the stop ended although a request was still under way");
    expect_closed(&mut held).await;
    let s = TestServer::start_on(db).await;
    let r = s.get(&format!("/v1/decisions/{id}"), &s.admin_key).await;
    assert_eq!(
        r.status(),
        200,
        "the decision made before the stop was kept"
    );
    s.finish().await;
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_until_a_slot_frees() {
    let s = TestServer::start_with(&Backend::Sqlite, |c| {
        c.http.max_connections = 2;
    })
    .await;
    let ask = b"GET /healthz HTTP/1.1\r\nHost: cap\r\n\r\n";
    // Two kept-alive connections take both slots (each answered, so each was accepted).
    let mut first = send(&s.base, ask).await;
    assert_eq!(read_response(&mut first).await.status, 200);
    let mut second = send(&s.base, ask).await;
    assert_eq!(read_response(&mut second).await.status, 200);
    // A third: the kernel completes its handshake, but the server does not take it.
    let mut third = send(&s.base, ask).await;
    let waiting = tokio::spawn(async move {
        let answer = read_response(&mut third).await;
        (answer.status, std::time::Instant::now())
    });
    // A server without the cap answers within microseconds; give it ample time to be wrong.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "the third connection was served past the cap"
    );
    let freed = std::time::Instant::now();
    drop(first);
    let (status, answered) = waiting.await.expect("third client");
    assert_eq!(status, 200, "served once a slot freed");
    assert!(answered >= freed);
    assert!(still_open(&second));
    drop(second);
    s.finish().await;
}
