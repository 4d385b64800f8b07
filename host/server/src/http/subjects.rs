//! `/v1/subjects`: a person's data, on their request (GDPR / CCPA). `erase` replaces every
//! identifier of theirs in the stored records by a keyed pseudonym and forgets them in
//! memory (`services::erasure`). Scope `admin`: it rewrites what every other role reads.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;
use crate::services::erasure::{ErasureReport, subject_of};

/// The person, by exactly one identifier, as the decision requests named them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub user_id: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 320,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub email: Option<String>,
    /// Digits with an optional leading `+`; spaces, dashes, dots and parentheses are dropped.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000]*[0-9][^\u0000]*$"
    )]
    pub phone: Option<String>,
}

/// Erase a person: their identifiers (user id, e-mail, phone, devices, IPs, cards, addresses
/// their decisions and orders name) are replaced in every stored record by keyed pseudonyms,
/// so links and labels survive without them; the list entries and snoozes naming them are
/// deleted, their velocity dropped, and the link graph renames their entities. Audited
/// (`subject.erase`, with counts only). Running it again changes nothing more.
#[utoipa::path(post, path = "/v1/subjects/erase", operation_id = "erase_subject",
    tag = "subjects", request_body = SubjectBody,
    responses((status = 200, body = ErasureReport),
        (status = 422, description = "Not exactly one of user_id, email, phone; or one empty once normalised")))]
pub async fn erase(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SubjectBody>,
) -> Result<Json<ErasureReport>, ApiError> {
    let subject = subject_of(
        body.user_id.as_deref(),
        body.email.as_deref(),
        body.phone.as_deref(),
    )?;
    let report = app.erasure.erase(&app, &subject, &caller.actor()).await?;
    Ok(Json(report))
}
