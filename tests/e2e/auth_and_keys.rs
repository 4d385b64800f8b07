//! Keys: the first-start admin key, minting through the API, hashed storage.

use serde_json::{Value, json};

use crate::harness::{TestServer, backends, problem};

#[tokio::test]
async fn admin_key_file_is_private_and_keys_can_be_minted() {
    use std::os::unix::fs::PermissionsExt;
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let path = s.db().dir.path().join("admin.key");
        let mode = std::fs::metadata(&path)
            .expect("admin.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{backend:?}");

        let r = s
            .post(
                "/v1/keys",
                &s.admin_key,
                &json!({"name": "checkout", "scopes": ["decide", "policy:write"]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let k: Value = r.json().await.expect("json");
        assert!(k["id"].as_str().expect("id").starts_with("key_"));
        assert_eq!(k["scopes"], json!(["decide", "policy:write"]));
        assert_eq!(k["name"], "checkout");
        let secret = k["key"].as_str().expect("key");
        let r = s
            .post(
                "/v1/decisions",
                secret,
                &crate::harness::decision_body("key-1"),
            )
            .await;
        assert_eq!(r.status(), 200);

        let v = problem(
            s.post(
                "/v1/keys",
                &s.admin_key,
                &json!({"name": "k", "scopes": ["root"]}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        assert!(v["detail"].as_str().expect("detail").contains("`root`"));
        problem(
            s.post(
                "/v1/keys",
                &s.admin_key,
                &json!({"name": "k", "scopes": []}),
            )
            .await,
            422,
            "invalid_value",
        )
        .await;
        problem(
            s.post(
                "/v1/keys",
                secret,
                &json!({"name": "k", "scopes": ["admin"]}),
            )
            .await,
            403,
            "forbidden",
        )
        .await;
        s.finish().await;
    }
}

#[tokio::test]
async fn restart_keeps_keys_and_does_not_mint_a_second_admin() {
    for backend in backends() {
        let s = TestServer::start(&backend).await;
        let admin = s.admin_key.clone();
        let db = s.stop().await;
        let s = TestServer::start_on(db).await;
        assert_eq!(s.admin_key, admin, "{backend:?}");
        let r = s
            .post(
                "/v1/keys",
                &admin,
                &json!({"name": "k", "scopes": ["decide"]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        s.finish().await;
    }
}
