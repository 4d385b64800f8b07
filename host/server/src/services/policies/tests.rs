//! The bound on concurrent module compilations, with the real runtime and a SQLite store.

use arbiter_engine::audit::Actor;

use axum::response::IntoResponse;

use crate::config::ServeConfig;
use crate::http::problem::ApiError;

use super::PolicyError;

fn geo_wasm() -> Vec<u8> {
    arbiter_runtime::bundled::find("geo_mismatch")
        .expect("bundled geo_mismatch")
        .component
        .to_vec()
}

#[tokio::test]
async fn an_upload_past_the_compile_bound_is_refused_until_a_slot_frees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = ServeConfig::for_data_dir(dir.path().to_path_buf(), None);
    config.max_compilations = 1;
    let stores = crate::wiring::open_store(&config.storage)
        .await
        .expect("store");
    let app = crate::wiring::build(&config, stores).await.expect("build");
    let policies = &app.policies;

    // A compilation under way holds the only slot.
    let running = policies
        .compile_slots
        .clone()
        .try_acquire_owned()
        .expect("a free slot");
    let refused = policies.upload("geo_copy", geo_wasm(), &Actor::cli()).await;
    let Err(e @ PolicyError::CompilationsBusy { limit: 1 }) = refused else {
        panic!("expected CompilationsBusy");
    };
    let response = ApiError::from(e).into_response();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );

    drop(running);
    let up = policies
        .upload("geo_copy", geo_wasm(), &Actor::cli())
        .await
        .expect("compiled once the slot is free");
    assert!(up.created);
    // The slot is back after the compilation.
    assert_eq!(policies.compile_slots.available_permits(), 1);
}
