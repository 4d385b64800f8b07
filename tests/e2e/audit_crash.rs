//! The real binary killed with SIGKILL between a change and its audit entry: a trigger holds
//! the audit insert (PostgreSQL sleeps in it; SQLite runs a cross join that never ends), the
//! server is killed while it waits there, and after a restart neither the change nor its
//! entry exists, and the same change then goes through whole.

use std::time::Duration;

use crate::harness::{Backend, TestDb, backends, start_arbiter};
use serde_json::{Value, json};
use sqlx::Connection;

/// Makes the next audit insert wait until the process is gone.
async fn stall_audit_writes(db: &TestDb, backend: &Backend) {
    let sql = match backend {
        Backend::Postgres { .. } => {
            "CREATE FUNCTION audit_stall() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(600); RETURN NEW; END $$; \
             CREATE TRIGGER audit_stall BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_stall();"
        }
        Backend::Sqlite => {
            "CREATE TABLE stall (x INTEGER); \
             INSERT INTO stall WITH RECURSIVE n(x) AS \
             (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) SELECT x FROM n; \
             CREATE TRIGGER audit_stall BEFORE INSERT ON audit_log \
             BEGIN SELECT count(*) FROM stall a, stall b, stall c; END;"
        }
    };
    db.execute(sql).await;
}

/// Whether a server connection is waiting inside the stalled audit insert. PostgreSQL says so;
/// on SQLite the request simply has not answered.
async fn stalled_in_audit(db: &TestDb) -> bool {
    let Some(url) = &db.database_url else {
        return true;
    };
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event = 'PgSleep'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("pg_stat_activity");
    waiting == 1
}

/// After the kill: the database ends the dead server's transaction (PostgreSQL would when the
/// sleep ends; here at once) and the stall goes.
async fn clear_stall(db: &TestDb, backend: &Backend) {
    let sql = match backend {
        Backend::Postgres { .. } => {
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event = 'PgSleep'; \
             DROP TRIGGER audit_stall ON audit_log; DROP FUNCTION audit_stall();"
        }
        Backend::Sqlite => "DROP TRIGGER audit_stall; DROP TABLE stall;",
    };
    db.execute(sql).await;
}

fn entry() -> Value {
    json!({"list": "block", "kind": "ip", "value": "198.51.100.9", "reason": "crash story"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_a_change_and_its_audit_entry_leaves_neither() {
    for backend in backends() {
        let db = TestDb::new(&backend).await;
        let mut bin = start_arbiter(&db, &[], &[]).await;
        let key = db.admin_key();
        let client = reqwest::Client::new();
        stall_audit_writes(&db, &backend).await;

        let request = client
            .post(format!("{}/v1/lists/entries", bin.base))
            .bearer_auth(&key)
            .json(&entry())
            .send();
        let pending = tokio::spawn(request);
        let mut stalled = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if pending.is_finished() {
                break;
            }
            if stalled_in_audit(&db).await {
                stalled = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            stalled && !pending.is_finished(),
            "{backend:?}: the change should be waiting in its audit insert"
        );
        let pid = nix::unistd::Pid::from_raw(bin.child.id().expect("pid") as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill");
        let _ = bin.child.wait().await;
        assert!(
            pending.await.expect("join").is_err(),
            "no answer from a killed server"
        );
        clear_stall(&db, &backend).await;

        let bin = start_arbiter(&db, &[], &[]).await;
        let get = |path: &str| {
            let (client, url, key) = (client.clone(), format!("{}{path}", bin.base), key.clone());
            async move {
                let r = client.get(url).bearer_auth(key).send().await.expect("get");
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.expect("json")
            }
        };
        let listed = "/v1/lists/entries?kind=ip&value=198.51.100.9";
        assert_eq!(
            get(listed).await,
            json!([]),
            "{backend:?}: the change is gone"
        );
        let audited = get("/v1/audit?action=list.add").await;
        assert_eq!(audited["items"], json!([]), "{backend:?}: so is its entry");

        let r = client
            .post(format!("{}/v1/lists/entries", bin.base))
            .bearer_auth(&key)
            .json(&entry())
            .send()
            .await
            .expect("post");
        assert_eq!(
            r.status(),
            201,
            "{backend:?}: the same change goes through whole"
        );
        assert_eq!(get(listed).await.as_array().map(Vec::len), Some(1));
        let audited = get("/v1/audit?action=list.add").await;
        assert_eq!(audited["items"][0]["actor"], "first admin");
        drop(bin);
        db.drop_db().await;
    }
}
