//! Uploads (a policy module, a chargeback file) checked before a byte of their body is read:
//! the key and its scope (by the access layer, `access`, before any extractor runs) and the
//! declared length (here). A caller without the scope cannot make the server read megabytes
//! only to be refused.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request};
use axum::http::header::CONTENT_LENGTH;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::typed_upload;
use crate::http::problem::ApiError;

/// The refusal of a module upload over the size cap: 413, unless its first bytes show it is
/// not WebAssembly at all (a native library, a zip), which is the mistake to name. Only
/// the first frame the client sent is looked at, for at most a second.
async fn not_wasm(body: axum::body::Body, declared: u64, limit: usize) -> ApiError {
    use http_body_util::BodyExt;
    let mut body = body;
    let first = tokio::time::timeout(std::time::Duration::from_secs(1), body.frame()).await;
    let head: Vec<u8> = match first {
        Ok(Some(Ok(frame))) => frame
            .into_data()
            .map(|data| data.iter().take(4).copied().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if head.len() == 4 && head != b"\0asm" {
        return ApiError::InvalidModule(format!(
            "not a WebAssembly file: it starts with {head:02x?}, not `\\0asm` (and its \
             {declared} bytes are over the {limit}-byte cap); build the component with \
             `arbiter policy build`"
        ));
    }
    ApiError::PayloadTooLarge { limit }
}

/// An upload's caller and its body (`content_type`, at most `limit` bytes).
pub async fn scoped_upload(
    req: Request,
    state: &AppState,
    content_type: &'static str,
    limit: usize,
) -> Result<(Caller, Bytes), ApiError> {
    let (mut parts, body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|n| *n > limit as u64) {
        if content_type == "application/wasm" {
            return Err(not_wasm(body, declared, limit).await);
        }
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = typed_upload(Request::from_parts(parts, body), content_type, limit).await?;
    Ok((caller, bytes))
}
