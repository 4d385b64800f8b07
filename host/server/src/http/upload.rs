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
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let bytes = typed_upload(Request::from_parts(parts, body), content_type, limit).await?;
    Ok((caller, bytes))
}
