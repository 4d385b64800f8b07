//! `/v1/subjects`: a person's data, on their request (GDPR / CCPA). `erase` replaces every
//! identifier of theirs in the stored records by a keyed pseudonym and forgets them in
//! memory (`services::erasure`); `export` gives every stored record about them
//! (`services::subject_export`). Scope `admin`: erasure rewrites what every other role
//! reads, and an export is all of one person's data at once.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::orders::OrderResponse;
use crate::http::params::Query;
use crate::http::payments::PaymentResponse;
use crate::http::problem::ApiError;
use crate::http::refunds::RefundResponse;
use crate::http::snoozes::SnoozeView;
use crate::services::erasure::{ErasureReport, subject_of};
use crate::services::subject_export::SubjectRecords;
use arbiter_engine::feedback::Review;

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

/// The person to export, by exactly one identifier.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    #[param(
        min_length = 1,
        max_length = 256,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub user_id: Option<String>,
    #[param(
        min_length = 1,
        max_length = 320,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub email: Option<String>,
    #[param(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000]*[0-9][^\u0000]*$"
    )]
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectView {
    /// `user_id`, `email` or `phone`.
    pub named_by: String,
    /// Normalised as decisions store it.
    pub value: String,
}

/// An order of theirs with its payments (each with its refunds).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderExport {
    pub order: OrderResponse,
    /// The order request as it was sent: items, device, IP, shipping address.
    #[schema(value_type = Object)]
    pub request: Value,
    pub payments: Vec<PaymentResponse>,
}

/// Everything stored about one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectExport {
    pub subject: SubjectView,
    /// Their identifiers by kind (user, email, phone, device, ip, card, address), as stored.
    pub identifiers: BTreeMap<String, Vec<String>>,
    /// Each decision about them as stored: context, layer results, reasons, versions.
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<Value>,
    /// Their cases in the review queue.
    #[schema(value_type = Vec<Object>)]
    pub reviews: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub labels: Vec<Value>,
    pub orders: Vec<OrderExport>,
    /// Allow, block and watch entries naming one of their identifiers (without who on staff
    /// made them).
    #[schema(value_type = Vec<Object>)]
    pub list_entries: Vec<Value>,
    /// Rules silenced for one of their identifiers.
    #[schema(value_type = Vec<Object>)]
    pub snoozes: Vec<Value>,
}

fn json<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
        .collect()
}

/// A review as the person sees it: the case, its outcome and the reviewer's notes, without
/// who on staff claimed, escalated or resolved it (their data, not the person's).
fn case(review: &Review) -> Value {
    let mut v = without_staff(review, &["resolved_by", "claim"]);
    if let Some(o) = v.as_object_mut() {
        if let Some(Value::Object(r)) = o.get_mut("resolution") {
            r.remove("reviewer");
        }
        if let Some(Value::Object(e)) = o.get_mut("escalation") {
            e.retain(|k, _| k == "at" || k == "note");
        }
    }
    v
}

/// `item` as JSON without the fields that name staff (their data, not the person's).
fn without_staff<T: Serialize>(item: T, fields: &[&str]) -> Value {
    let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        for f in fields {
            o.remove(*f);
        }
    }
    v
}

impl From<SubjectRecords> for SubjectExport {
    fn from(r: SubjectRecords) -> SubjectExport {
        let mut identifiers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (kind, value) in r.identifiers.entities() {
            identifiers
                .entry(kind.as_str().to_owned())
                .or_default()
                .push(value.to_owned());
        }
        SubjectExport {
            subject: SubjectView {
                named_by: r.subject.kind.as_str().to_owned(),
                value: r.subject.value.clone(),
            },
            identifiers,
            decisions: json(&r.decisions),
            reviews: r.reviews.iter().map(case).collect(),
            labels: r
                .labels
                .iter()
                .map(|l| without_staff(l, &["created_by"]))
                .collect(),
            orders: r
                .orders
                .iter()
                .map(|o| OrderExport {
                    order: OrderResponse::from(&o.order),
                    request: serde_json::to_value(&o.order.request).unwrap_or(Value::Null),
                    payments: o
                        .payments
                        .iter()
                        .map(|p| PaymentResponse {
                            refunds: Some(p.refunds.iter().map(RefundResponse::from).collect()),
                            ..PaymentResponse::from(&p.payment)
                        })
                        .collect(),
                })
                .collect(),
            list_entries: r
                .list_entries
                .iter()
                .map(|e| without_staff(e, &["created_by"]))
                .collect(),
            snoozes: r
                .snoozes
                .into_iter()
                .map(|z| without_staff(SnoozeView::from(z), &["created_by"]))
                .collect(),
        }
    }
}

/// Export a person: every stored record about them as JSON — decisions, reviews, labels,
/// orders with payments and refunds, list entries and snoozes naming their identifiers.
/// Found as an erasure finds them (their decisions by the identifier given, then by each of
/// their user ids; their orders by user id). Audited (`subject.export`).
#[utoipa::path(get, path = "/v1/subjects/export", operation_id = "export_subject",
    tag = "subjects", params(SubjectQuery),
    responses((status = 200, body = SubjectExport),
        (status = 422, description = "Not exactly one of user_id, email, phone; or one empty once normalised")))]
pub async fn export(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<SubjectQuery>,
) -> Result<Json<SubjectExport>, ApiError> {
    let subject = subject_of(q.user_id.as_deref(), q.email.as_deref(), q.phone.as_deref())?;
    let records = app.erasure.export(&app, &subject, &caller.actor()).await?;
    Ok(Json(SubjectExport::from(records)))
}
