//! What a start leaves behind and cleans up: owner-only files, no secret in the log, and no
//! training job left `running` by a process that died.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{JobStatus, TrainingJob};
use serde_json::Value;

use crate::harness::{Backend, TestDb, TestServer, backends, start_arbiter};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn a_start_fails_the_training_jobs_a_crash_left_running() {
    for backend in backends() {
        let db = TestDb::new(&backend).await;
        let config =
            arbiter_host::config::ServeConfig::for_data_dir(db.data_dir(), db.database_url.clone());
        let stores = arbiter_host::wiring::open_store(&config.storage)
            .await
            .expect("open store");
        // What a process killed mid-training leaves: `running`, its last heartbeat long ago.
        let job = TrainingJob {
            job_id: TrainingJob::generate_id(),
            status: JobStatus::Running,
            created_by: "key_gone".into(),
            created_at: chrono::Utc::now() - chrono::Duration::minutes(10),
            finished_at: None,
            model_version: None,
            error: None,
        };
        stores
            .store
            .insert_job(&job, &Actor::cli())
            .await
            .expect("insert job");
        drop(stores);
        let s = TestServer::start_on(db).await;
        let read: Value = s
            .get(&format!("/v1/models/jobs/{}", job.job_id), &s.admin_key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(read["status"], "failed", "{backend:?}: {read}");
        assert!(
            read["error"]
                .as_str()
                .is_some_and(|e| e.contains("interrupted")),
            "{read}"
        );
        assert!(read["finished_at"].is_string(), "{read}");
        s.finish().await;
    }
}

#[tokio::test]
async fn the_data_directory_is_private_and_the_log_hides_the_redis_password() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let data = db.data_dir();
    // As an operator's `mkdir` leaves it (umask 022): the start must tighten it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Port 1 refuses at once: Redis is unreachable at start, which is when the URL is logged.
    let arbiter = start_arbiter(
        &db,
        &["--redis-url", "redis://:hunter2-e2e@127.0.0.1:1/0"],
        &[],
    )
    .await;
    let health = reqwest::get(format!("{}/healthz", arbiter.base))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in [
        "admin.key",
        "card-webhook.secret",
        "arbiter.db",
        "arbiter.db-wal",
        "arbiter.db-shm",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let output = arbiter.output();
    arbiter.kill().await;
    assert!(
        output.contains("127.0.0.1:1"),
        "the log names the Redis it could not reach: {output}"
    );
    assert!(!output.contains("hunter2"), "password in the log: {output}");
}
