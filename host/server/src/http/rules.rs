//! `/v1/rules`: rule files (`policies/RULES.md`) compiled by the server into policy modules.
//!
//! A rule file is text; the server parses, type-checks and compiles it into an
//! `arbiter:policy@2` component, validates that like any upload and stores it as the next
//! version of the module `name`, with the text beside it. From there it is a module like any
//! other: named in policy sets, shadowed, rolled out, backtested.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::registry::ModuleKind;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::policies::ModuleView;
use crate::http::problem::ApiError;
use crate::http::upload::scoped_upload;

/// Largest rule file read: far above any real file (a 500-rule file is about 100 KiB).
pub const MAX_RULE_FILE_BYTES: usize = 256 << 10;

/// A rule file upload by a `policy:write` key: `Content-Type: text/plain`, UTF-8, at most
/// 256 KiB, refused on the key, scope or declared length before its body is read.
pub struct RuleFileUpload {
    pub caller: Caller,
    pub text: String,
}

impl FromRequest<AppState> for RuleFileUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (caller, bytes): (Caller, Bytes) =
            scoped_upload(req, state, "text/plain", MAX_RULE_FILE_BYTES, None).await?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| ApiError::Invalid {
            code: "invalid_value",
            field: "body".into(),
            message: format!(
                "a rule file is UTF-8 text; byte {} is not",
                e.utf8_error().valid_up_to()
            ),
        })?;
        if text.contains('\0') {
            return Err(ApiError::Invalid {
                code: "invalid_value",
                field: "body".into(),
                message: "a rule file cannot hold a NUL character".into(),
            });
        }
        Ok(RuleFileUpload { caller, text })
    }
}

/// A module compiled from a rule file, with the file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleVersionView {
    #[serde(flatten)]
    pub module: ModuleView,
    /// The rule file as uploaded.
    pub source: String,
}

/// Compile a rule file into the next version of module `name`. The file is parsed, type
/// checked and compiled by the server, then validated like any module upload; the same text
/// again returns the existing version (200).
#[utoipa::path(post, path = "/v1/rules/{name}/versions", tag = "policies",
    params(("name" = String, Path, pattern = "^[a-z][a-z0-9_-]{0,63}$",
        description = "The module's name: 1 to 64 of a-z, 0-9, `_`, `-`, starting with a letter")),
    request_body(content = String, content_type = "text/plain",
        description = "A rule file (policies/RULES.md), UTF-8"),
    responses(
        (status = 201, body = RuleVersionView), (status = 200, body = RuleVersionView, description = "The same text: the existing version"),
        (status = 401, description = "No valid key"), (status = 403, description = "Key lacks `policy:write` (refused before the body is read)"),
        (status = 413, description = "Over 256 KiB"), (status = 415, description = "Not text/plain"),
        (status = 422, description = "`invalid_rules`: every problem with its line, column and message in `errors`, rendered under its source line in `detail`"),
        (status = 503, description = "`compilations_busy`: the compile bound is reached; retry after `Retry-After`"),
    ))]
pub async fn upload_rules(
    State(app): State<AppState>,
    Path(name): Path<String>,
    RuleFileUpload { caller, text }: RuleFileUpload,
) -> Result<(StatusCode, Json<RuleVersionView>), ApiError> {
    let (up, text) = app
        .policies
        .upload_rules(&name, text, &caller.actor())
        .await?;
    let status = if up.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RuleVersionView {
            module: up.module.into(),
            source: text,
        }),
    ))
}

/// One version of a module compiled from a rule file, with the file.
#[utoipa::path(get, path = "/v1/rules/{name}/versions/{version}", tag = "policies",
    params(("name" = String, Path), ("version" = i64, Path, minimum = 1)),
    responses((status = 200, body = RuleVersionView),
        (status = 404, description = "No such version, or it was uploaded as WebAssembly")))]
pub async fn get_rules(
    State(app): State<AppState>,
    _: Caller,
    Path((name, version)): Path<(String, i64)>,
) -> Result<Json<RuleVersionView>, ApiError> {
    let (module, source) = app.policies.module_with_source(&name, version).await?;
    match (module.kind, source) {
        (ModuleKind::Rules, Some(source)) => Ok(Json(RuleVersionView {
            module: module.into(),
            source,
        })),
        _ => Err(ApiError::NotFound {
            what: "rule file",
            id: format!("{name}@{version}"),
        }),
    }
}
