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

/// What an upload's first bytes must be, so a body over the size cap can be named for what
/// it is rather than for its size (a native library pushed as a module is the mistake to
/// name). `refuse` gets the first bytes seen and the declared length.
#[derive(Clone, Copy)]
pub struct Signature {
    pub magic: &'static [u8],
    pub refuse: fn(head: &[u8], declared: u64, limit: usize) -> ApiError,
}

/// The refusal of a body over the size cap: 413, unless its first frame (waited for at most a
/// second) shows it does not start as `signature` says.
async fn oversize(
    body: axum::body::Body,
    declared: u64,
    limit: usize,
    signature: Option<Signature>,
) -> ApiError {
    use http_body_util::BodyExt;
    let Some(signature) = signature else {
        return ApiError::PayloadTooLarge { limit };
    };
    let mut body = body;
    let first = tokio::time::timeout(std::time::Duration::from_secs(1), body.frame()).await;
    let head: Vec<u8> = match first {
        Ok(Some(Ok(frame))) => frame
            .into_data()
            .map(|data| data.iter().take(signature.magic.len()).copied().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if head.len() == signature.magic.len() && head != signature.magic {
        return (signature.refuse)(&head, declared, limit);
    }
    ApiError::PayloadTooLarge { limit }
}

/// An upload's caller and its body (`content_type`, at most `limit` bytes, starting as
/// `signature` says when one is given).
pub async fn scoped_upload(
    req: Request,
    state: &AppState,
    content_type: &'static str,
    limit: usize,
    signature: Option<Signature>,
) -> Result<(Caller, Bytes), ApiError> {
    let (mut parts, body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|n| *n > limit as u64) {
        return Err(oversize(body, declared, limit, signature).await);
    }
    let bytes = typed_upload(Request::from_parts(parts, body), content_type, limit).await?;
    Ok((caller, bytes))
}
