//! `/v1/policies`: upload module versions, list them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::registry::{ModuleKind, PolicyModule};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::http::upload::{Signature, scoped_upload};

/// Largest module upload read (the runtime's cap is checked again with a precise message).
pub const MAX_MODULE_BYTES: usize = 4 << 20;

/// Every WebAssembly file starts with `\0asm`; a large upload that does not is named as not
/// WebAssembly (a native library, an archive) rather than as too large.
const WASM: Signature = Signature {
    magic: b"\0asm",
    refuse: |head, declared, limit| {
        ApiError::InvalidModule(format!(
            "not a WebAssembly file: it starts with {head:02x?}, not `\\0asm` (and its \
             {declared} bytes are over the {limit}-byte cap); build the component with \
             `arbiter policy build`"
        ))
    },
};

/// A module upload by a `policy:write` key: `Content-Type: application/wasm`, at most 4 MiB,
/// refused on the key, scope or declared length before its body is read.
pub struct WasmUpload {
    pub caller: Caller,
    pub bytes: Bytes,
}

impl FromRequest<AppState> for WasmUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (caller, bytes) =
            scoped_upload(req, state, "application/wasm", MAX_MODULE_BYTES, Some(WASM)).await?;
        Ok(WasmUpload { caller, bytes })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModuleView {
    pub name: String,
    pub version: i64,
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    /// `wasm` for an uploaded component, `rules` for one compiled from a rule file
    /// (`GET /v1/rules/{name}/versions/{version}` shows the file).
    #[schema(value_type = String, example = "rules")]
    pub kind: ModuleKind,
}

impl From<PolicyModule> for ModuleView {
    fn from(m: PolicyModule) -> Self {
        ModuleView {
            name: m.name,
            version: m.version,
            sha256: m.sha256,
            size_bytes: m.size_bytes,
            created_at: m.created_at,
            created_by: m.created_by,
            kind: m.kind,
        }
    }
}

/// Upload a module version. It is compiled, checked against the ABI and run on sample
/// contexts before it is accepted; identical bytes return the existing version (200).
#[utoipa::path(post, path = "/v1/policies/{name}/versions", tag = "policies",
    params(("name" = String, Path, pattern = "^[a-z][a-z0-9_-]{0,63}$",
        description = "The module's name: 1 to 64 of a-z, 0-9, `_`, `-`, starting with a letter")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses(
        (status = 201, body = ModuleView), (status = 200, body = ModuleView, description = "Identical bytes: the existing version"),
        (status = 401, description = "No valid key"), (status = 403, description = "Key lacks `policy:write` (refused before the body is read)"),
        (status = 413, description = "Over 4 MiB"), (status = 415, description = "Not application/wasm"),
        (status = 503, description = "`compilations_busy`: the compile bound is reached; retry after `Retry-After`"), (status = 422, description = "invalid_module, with the reason"),
    ))]
pub async fn upload_version(
    State(app): State<AppState>,
    Path(name): Path<String>,
    WasmUpload { caller, bytes }: WasmUpload,
) -> Result<(StatusCode, Json<ModuleView>), ApiError> {
    let up = app
        .policies
        .upload(&name, bytes.to_vec(), &caller.actor())
        .await?;
    let status = if up.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(up.module.into())))
}

/// Every module version, by name then version.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = Vec<ModuleView>)))]
pub async fn list_policies(
    State(app): State<AppState>,
    _: Caller,
) -> Result<Json<Vec<ModuleView>>, ApiError> {
    Ok(Json(
        app.policies
            .modules()
            .await?
            .into_iter()
            .map(ModuleView::from)
            .collect(),
    ))
}

/// The versions of one module, oldest first.
#[utoipa::path(get, path = "/v1/policies/{name}/versions", tag = "policies", params(("name" = String, Path)),
    responses((status = 200, body = Vec<ModuleView>), (status = 404, description = "No such policy")))]
pub async fn list_versions(
    State(app): State<AppState>,
    _: Caller,
    Path(name): Path<String>,
) -> Result<Json<Vec<ModuleView>>, ApiError> {
    Ok(Json(
        app.policies
            .module_versions(&name)
            .await?
            .into_iter()
            .map(ModuleView::from)
            .collect(),
    ))
}
