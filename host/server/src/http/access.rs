//! Who may call each route: one table ([`ROUTES`]) that the authorization layer enforces before
//! a handler or an extractor runs, and that the OpenAPI document's security requirements and
//! 401/403 answers are generated from. A route missing from the table is refused (fail
//! closed); a test checks that the table and the router list the same operations.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use arbiter_engine::keys::Scope;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::SecurityRequirement;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::openapi::{operations_mut, problem};
use crate::http::problem::ApiError;

/// How a route is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: health checks and metrics, for load balancers and scrapers.
    Public,
    /// No key: the channel signs the request and the handler verifies the signature.
    Signed,
    /// A bearer key holding every one of these scopes (`admin` holds them all).
    Key(&'static [Scope]),
    /// A bearer key holding every scope of the first set or every scope of the second: a
    /// route two kinds of callers share (a decision's detail is read by an integration with
    /// `decisions:read` and by a reviewer with `review`).
    KeyOr(&'static [Scope], &'static [Scope]),
}

impl Guard {
    /// The scope sets of which a key must hold one whole set (the route's usual one first);
    /// `None` for a keyless route. Fixed slots, not a list: it runs on every request.
    pub fn alternatives(self) -> Option<(&'static [Scope], Option<&'static [Scope]>)> {
        match self {
            Guard::Public | Guard::Signed => None,
            Guard::Key(all) => Some((all, None)),
            Guard::KeyOr(first, second) => Some((first, Some(second))),
        }
    }
}

const fn key_or(
    method: Method,
    path: &'static str,
    first: &'static [Scope],
    second: &'static [Scope],
) -> RouteAccess {
    RouteAccess {
        method,
        path,
        guard: Guard::KeyOr(first, second),
    }
}

/// One operation and its guard. `path` is the route template as the router declares it.
#[derive(Debug)]
pub struct RouteAccess {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
}

const fn key(method: Method, path: &'static str, scopes: &'static [Scope]) -> RouteAccess {
    RouteAccess {
        method,
        path,
        guard: Guard::Key(scopes),
    }
}

use Scope::{
    Admin, Decide, DecisionsRead, LabelWrite, OrdersWrite, PolicyApprove, PolicyWrite,
    RefundsWrite, Review,
};

/// Every operation of the API and who may call it.
pub const ROUTES: &[RouteAccess] = &[
    key(Method::POST, "/v1/decisions", &[Decide]),
    // A reviewer (`review`) reads what the console shows: a case's decision and graph.
    key_or(
        Method::GET,
        "/v1/decisions/{decision_id}",
        &[DecisionsRead],
        &[Review],
    ),
    key_or(
        Method::GET,
        "/v1/graph/entities/{kind}/{value}",
        &[DecisionsRead],
        &[Review],
    ),
    key_or(
        Method::GET,
        "/v1/graph/entities/{kind}/{value}/decisions",
        &[DecisionsRead],
        &[Review],
    ),
    // Reviews show the decision with its personal data: the queue needs `review`, or both
    // scopes a reviewer's key held before `review` existed.
    key_or(
        Method::GET,
        "/v1/reviews",
        &[Review],
        &[LabelWrite, DecisionsRead],
    ),
    key_or(
        Method::GET,
        "/v1/reviews/{review_id}",
        &[Review],
        &[LabelWrite, DecisionsRead],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/claim",
        &[Review],
        &[LabelWrite, DecisionsRead],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/{review_id}/claim",
        &[Review],
        &[LabelWrite, DecisionsRead],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/{review_id}/release",
        &[Review],
        &[LabelWrite],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/{review_id}/escalate",
        &[Review],
        &[LabelWrite],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/{review_id}/resolve",
        &[Review],
        &[LabelWrite],
    ),
    key_or(
        Method::POST,
        "/v1/reviews/{review_id}/correct",
        &[Review],
        &[LabelWrite],
    ),
    // A reviewer snoozes a rule from a case; a risk engineer manages them with the rules.
    key_or(Method::POST, "/v1/snoozes", &[Review], &[PolicyWrite]),
    key_or(Method::GET, "/v1/snoozes", &[Review], &[PolicyWrite]),
    key_or(
        Method::DELETE,
        "/v1/snoozes/{id}",
        &[Review],
        &[PolicyWrite],
    ),
    key(Method::POST, "/v1/labels", &[LabelWrite]),
    key(Method::GET, "/v1/labels", &[LabelWrite]),
    key(Method::POST, "/v1/labels/import", &[LabelWrite]),
    key(Method::POST, "/v1/lists/entries", &[PolicyWrite]),
    key(Method::GET, "/v1/lists/entries", &[PolicyWrite]),
    key(Method::DELETE, "/v1/lists/entries/{id}", &[PolicyWrite]),
    key(Method::POST, "/v1/policies/{name}/versions", &[PolicyWrite]),
    key(Method::GET, "/v1/policies/{name}/versions", &[PolicyWrite]),
    key(Method::GET, "/v1/policies", &[PolicyWrite]),
    key(Method::POST, "/v1/rules/{name}/versions", &[PolicyWrite]),
    key(
        Method::GET,
        "/v1/rules/{name}/versions/{version}",
        &[PolicyWrite],
    ),
    key(Method::POST, "/v1/policy-sets", &[PolicyWrite]),
    key(Method::GET, "/v1/policy-sets", &[PolicyWrite]),
    key(Method::GET, "/v1/policy-sets/{version}", &[PolicyWrite]),
    key(
        Method::POST,
        "/v1/policy-sets/{version}/approve",
        &[PolicyApprove],
    ),
    key(
        Method::GET,
        "/v1/policy-sets/{version}/approvals",
        &[PolicyWrite],
    ),
    key(Method::POST, "/v1/rates", &[PolicyWrite]),
    key(Method::GET, "/v1/rates", &[PolicyWrite]),
    key(Method::POST, "/v1/rollouts", &[PolicyWrite]),
    key(Method::GET, "/v1/rollouts/current", &[PolicyWrite]),
    key(Method::POST, "/v1/rollouts/current/promote", &[PolicyWrite]),
    key(Method::POST, "/v1/rollouts/current/live", &[PolicyWrite]),
    key(
        Method::POST,
        "/v1/rollouts/current/rollback",
        &[PolicyWrite],
    ),
    key_or(
        Method::GET,
        "/v1/reports/outcomes",
        &[PolicyWrite],
        &[Review],
    ),
    key(Method::POST, "/v1/backtests", &[PolicyWrite]),
    key(Method::GET, "/v1/backtests", &[PolicyWrite]),
    key(Method::GET, "/v1/backtests/{backtest_id}", &[PolicyWrite]),
    key(
        Method::DELETE,
        "/v1/backtests/{backtest_id}",
        &[PolicyWrite],
    ),
    key(Method::POST, "/v1/models/train", &[Admin]),
    key(Method::GET, "/v1/models/jobs/{job_id}", &[Admin]),
    key(Method::GET, "/v1/models", &[Admin]),
    key(Method::GET, "/v1/models/{version}", &[Admin]),
    key(Method::POST, "/v1/models/{version}/activate", &[Admin]),
    key(Method::POST, "/v1/models/{version}/shadow", &[Admin]),
    key(Method::DELETE, "/v1/models/shadow", &[Admin]),
    key(Method::POST, "/v1/keys", &[Admin]),
    key(Method::GET, "/v1/keys", &[Admin]),
    key(Method::POST, "/v1/keys/{id}/revoke", &[Admin]),
    key(Method::GET, "/v1/audit", &[Admin]),
    key(Method::POST, "/v1/subjects/erase", &[Admin]),
    key(Method::GET, "/v1/subjects/export", &[Admin]),
    key(Method::POST, "/v1/skus", &[Admin]),
    key(Method::PUT, "/v1/skus/{sku}/stock", &[Admin]),
    key(Method::GET, "/v1/skus/{sku}", &[Admin]),
    key(Method::POST, "/v1/orders", &[OrdersWrite]),
    key(Method::GET, "/v1/orders/{id}", &[OrdersWrite]),
    key(Method::POST, "/v1/orders/{id}/cancel", &[OrdersWrite]),
    // Fulfilment is the warehouse's, not the storefront's.
    key(Method::POST, "/v1/orders/{id}/fulfilment", &[Admin]),
    key(Method::POST, "/v1/orders/{id}/payments", &[OrdersWrite]),
    key(Method::GET, "/v1/payments/{id}", &[OrdersWrite]),
    key(Method::POST, "/v1/refunds", &[RefundsWrite]),
    key(Method::GET, "/v1/refunds/{id}", &[RefundsWrite]),
    key(Method::GET, "/v1/ledger/accounts/{name}", &[Admin]),
    key(Method::GET, "/v1/events", &[Admin]),
    key(
        Method::POST,
        "/v1/channels/card/payments/{channel_payment_id}/events",
        &[Admin],
    ),
    key(
        Method::POST,
        "/v1/channels/card/refunds/{channel_refund_id}/events",
        &[Admin],
    ),
    key(Method::GET, "/v1/channels", &[Admin]),
    key(Method::POST, "/v1/reconciliation/statements", &[Admin]),
    key(Method::GET, "/v1/reconciliation/statements/{id}", &[Admin]),
    key(
        Method::POST,
        "/v1/reconciliation/statements/fetch",
        &[Admin],
    ),
    key(Method::POST, "/v1/reconciliation/runs", &[Admin]),
    key(Method::GET, "/v1/reconciliation/issues", &[Admin]),
    key(Method::GET, "/v1/reconciliation/issues/{id}", &[Admin]),
    key(
        Method::POST,
        "/v1/reconciliation/issues/{id}/resolve",
        &[Admin],
    ),
    key(Method::GET, "/v1/reconciliation/days", &[Admin]),
    key(Method::POST, "/v1/channels/{name}/disable", &[Admin]),
    key(Method::POST, "/v1/channels/{name}/enable", &[Admin]),
    key(Method::POST, "/v1/channels/{name}/faults", &[Admin]),
    key(
        Method::POST,
        "/v1/channels/{name}/statement-plants",
        &[Admin],
    ),
    key(
        Method::POST,
        "/v1/channels/alipay/payments/{channel_payment_id}/events",
        &[Admin],
    ),
    key(
        Method::POST,
        "/v1/channels/wechat/payments/{channel_payment_id}/events",
        &[Admin],
    ),
    RouteAccess {
        method: Method::POST,
        path: "/v1/webhooks/card",
        guard: Guard::Signed,
    },
    RouteAccess {
        method: Method::POST,
        path: "/v1/webhooks/alipay",
        guard: Guard::Signed,
    },
    RouteAccess {
        method: Method::POST,
        path: "/v1/webhooks/wechat",
        guard: Guard::Signed,
    },
    RouteAccess {
        method: Method::GET,
        path: "/healthz",
        guard: Guard::Public,
    },
    RouteAccess {
        method: Method::GET,
        path: "/readyz",
        guard: Guard::Public,
    },
    RouteAccess {
        method: Method::GET,
        path: "/metrics",
        guard: Guard::Public,
    },
    RouteAccess {
        method: Method::GET,
        path: "/openapi.json",
        guard: Guard::Public,
    },
];

/// The guard of `method` on the route template `path`, if the table lists it.
pub fn guard_of(method: &Method, path: &str) -> Option<Guard> {
    ROUTES
        .iter()
        .find(|r| r.method == *method && r.path == path)
        .map(|r| r.guard)
}

/// The authorization layer: runs after routing (it needs the matched template) and before the
/// handler's extractors, so a caller without the scope is refused before any body is read.
/// The authenticated key travels to the handler as a request extension ([`Caller`]).
pub async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(route) = &matched {
        tracing::Span::current().record("route", route.as_str());
    }
    let guard = matched
        .as_ref()
        .and_then(|m| guard_of(req.method(), m.as_str()));
    let Some(guard) = guard else {
        tracing::error!(
            method = %req.method(),
            route = matched.as_ref().map(MatchedPath::as_str),
            "route missing from the access table; refused"
        );
        return ApiError::Forbidden("admin").into_response();
    };
    if let Some((first, second)) = guard.alternatives() {
        let caller = match Caller::authenticate(req.headers(), &state).await {
            Ok(caller) => caller,
            Err(e) => return e.into_response(),
        };
        let holds = |set: &&[Scope]| set.iter().all(|s| caller.0.allows(*s));
        if !holds(&first) && !second.as_ref().is_some_and(holds) {
            // The first set is the route's usual one; its first missing scope is named.
            let missing = first.iter().find(|s| !caller.0.allows(**s));
            return ApiError::Forbidden(missing.map_or("admin", |s| s.as_str())).into_response();
        }
        req.extensions_mut().insert(caller);
    }
    next.run(req).await
}

/// The OpenAPI document's security requirements and 401/403 answers, from [`ROUTES`]: a key
/// route requires the bearer scheme with its scopes (one requirement per alternative set, which
/// OpenAPI reads as "any of") and answers 401 (no or unknown key) and 403 (a scope missing); a
/// public or signed route requires no key.
pub fn document(doc: &mut OpenApi) {
    for (method, path, operation) in operations_mut(doc) {
        let Some((first, second)) = guard_of(&method, path).and_then(Guard::alternatives) else {
            operation.security = Some(vec![SecurityRequirement::default()]);
            continue;
        };
        let requirements = std::iter::once(first)
            .chain(second)
            .map(|set| SecurityRequirement::new("bearer", set.iter().map(|s| s.as_str())))
            .collect();
        operation.security = Some(requirements);
        let answers = &mut operation.responses.responses;
        answers.insert("401".into(), problem("No key, or an unknown one").into());
        answers.insert("403".into(), problem("The key lacks a scope").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the router serves, as (method, template), from its OpenAPI document.
    fn served() -> Vec<(Method, String)> {
        let (_, doc) = crate::http::api();
        let mut out = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ] {
                if op.is_some() {
                    out.push((method, path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_table_and_the_router_list_the_same_operations() {
        let served = served();
        for (method, path) in &served {
            assert!(
                guard_of(method, path).is_some(),
                "{method} {path} is served but not in the access table"
            );
        }
        for route in ROUTES {
            if route.path == "/openapi.json" {
                continue;
            }
            assert!(
                served
                    .iter()
                    .any(|(m, p)| *m == route.method && p == route.path),
                "{} {} is in the access table but not served",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn the_document_states_each_operations_scopes_and_refusals() {
        let (_, doc) = crate::http::api();
        let json = serde_json::to_value(&doc).expect("document");
        let detail = &json["paths"]["/v1/decisions/{decision_id}"]["get"];
        assert_eq!(
            detail["security"],
            serde_json::json!([{"bearer": ["decisions:read"]}, {"bearer": ["review"]}])
        );
        assert!(detail["responses"]["401"].is_object());
        assert!(detail["responses"]["403"].is_object());
        let queue = &json["paths"]["/v1/reviews"]["get"];
        assert_eq!(
            queue["security"],
            serde_json::json!([{"bearer": ["review"]}, {"bearer": ["label:write", "decisions:read"]}])
        );
        let webhook = &json["paths"]["/v1/webhooks/card"]["post"];
        assert_eq!(webhook["security"], serde_json::json!([{}]));
        assert!(webhook["responses"]["401"].is_null());
    }
}
