//! The HTTP edge: routes, extractors and the problem+json mapping. Handlers extract, call one
//! service method and map the result; nothing else happens here.

pub mod access;
pub mod audit;
pub mod auth;
pub mod backtests;
pub mod body;
pub mod body_deadline;
pub mod channel_table;
pub mod channels;
pub mod contract;
pub mod decisions;
pub mod edge;
pub mod entity_decisions;
pub mod events;
pub mod explanation_views;
pub mod fulfilment;
pub mod graph;
pub mod idempotency;
pub mod keys;
pub mod labels;
pub mod ledger;
pub mod links;
pub mod lists;
pub mod models;
pub mod names;
pub mod openapi;
pub mod operations;
pub mod orders;
pub mod params;
pub mod payments;
pub mod policies;
pub mod policy_sets;
pub mod problem;
mod problem_from;
pub mod rates;
pub mod recon_days;
pub mod recon_issues;
pub mod recon_runs;
pub mod refunds;
pub mod reports;
pub mod review_actions;
pub mod review_views;
pub mod reviews;
pub mod rollouts;
pub mod rules;
pub mod skus;
pub mod snoozes;
pub mod statements;
pub mod subjects;
pub mod transaction_views;
pub mod upload;
pub mod usual_views;
pub mod webhooks;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app_state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API routes and the OpenAPI document, from the same declarations.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(decisions::create_decision))
        .routes(routes!(decisions::get_decision))
        .routes(routes!(lists::create_entry, lists::find_entries))
        .routes(routes!(lists::delete_entry))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(policies::upload_version, policies::list_versions))
        .routes(routes!(policies::list_policies))
        .routes(routes!(rules::upload_rules))
        .routes(routes!(rules::get_rules))
        .routes(routes!(policy_sets::create_set, policy_sets::list_sets))
        .routes(routes!(policy_sets::get_set))
        .routes(routes!(policy_sets::approve_set))
        .routes(routes!(policy_sets::approvals))
        .routes(routes!(rates::set, rates::current))
        .routes(routes!(rollouts::start))
        .routes(routes!(rollouts::current))
        .routes(routes!(rollouts::promote))
        .routes(routes!(rollouts::go_live))
        .routes(routes!(rollouts::rollback))
        .routes(routes!(audit::list))
        .routes(routes!(graph::entity))
        .routes(routes!(entity_decisions::list))
        .routes(routes!(reviews::queue))
        .routes(routes!(reviews::case))
        .routes(routes!(reviews::claim_next))
        .routes(routes!(review_actions::claim))
        .routes(routes!(review_actions::release))
        .routes(routes!(review_actions::escalate))
        .routes(routes!(review_actions::resolve))
        .routes(routes!(review_actions::correct))
        .routes(routes!(snoozes::create, snoozes::list))
        .routes(routes!(snoozes::revoke))
        .routes(routes!(subjects::erase))
        .routes(routes!(subjects::export))
        .routes(routes!(labels::create, labels::history))
        .routes(routes!(labels::import))
        .routes(routes!(models::train))
        .routes(routes!(models::job))
        .routes(routes!(models::list))
        .routes(routes!(models::get))
        .routes(routes!(models::activate))
        .routes(routes!(models::shadow))
        .routes(routes!(models::stop_shadow))
        .routes(routes!(reports::outcomes))
        .routes(routes!(backtests::start, backtests::list))
        .routes(routes!(backtests::get, backtests::cancel))
        .routes(routes!(skus::put_sku))
        .routes(routes!(skus::put_stock))
        .routes(routes!(skus::get_sku))
        .routes(routes!(orders::create_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::cancel_order))
        .routes(routes!(fulfilment::fulfil_order))
        .routes(routes!(payments::start_payment))
        .routes(routes!(payments::get_payment))
        .routes(routes!(refunds::request_refund))
        .routes(routes!(refunds::get_refund))
        .routes(routes!(webhooks::card_webhook))
        .routes(routes!(webhooks::alipay_webhook))
        .routes(routes!(webhooks::wechat_webhook))
        .routes(routes!(ledger::account))
        .routes(routes!(events::list_events))
        .routes(routes!(channels::payment_event))
        .routes(routes!(channels::refund_event))
        .routes(routes!(channel_table::list))
        .routes(routes!(channel_table::disable))
        .routes(routes!(channel_table::enable))
        .routes(routes!(statements::import))
        .routes(routes!(statements::get))
        .routes(routes!(statements::fetch))
        .routes(routes!(recon_runs::run))
        .routes(routes!(recon_issues::list))
        .routes(routes!(recon_issues::get))
        .routes(routes!(recon_issues::resolve))
        .routes(routes!(recon_days::list))
        .routes(routes!(channels::faults))
        .routes(routes!(channels::statement_plants))
        .routes(routes!(channels::alipay_buyer))
        .routes(routes!(channels::wechat_buyer))
        .routes(routes!(operations::healthz))
        .routes(routes!(operations::readyz))
        .routes(routes!(operations::metrics))
        .split_for_parts();
    access::document(&mut doc);
    contract::document(&mut doc);
    links::document(&mut doc);
    (router, doc)
}

/// The complete service: API, `/openapi.json`, and the edge layers ([`edge`]) sized by the
/// state's HTTP limits.
pub fn router(state: AppState) -> Router {
    let limits = state.http;
    let (api, doc) = api();
    // Serialised once: every request for the document gets the same bytes.
    let doc = axum::body::Bytes::from(links::served(&doc).to_string());
    let app = api
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc,
                    )
                }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        // The console authenticates by session cookie, not by the API's access table.
        .merge(crate::console::router())
        .with_state(state.clone());
    // The simulated gateways authenticate the merchant by signature, as real ones do.
    let app = match &state.transactions.simulator {
        Some(sim) => app.merge(sim.router()),
        None => app,
    };
    edge::wrap(app, &limits)
}
