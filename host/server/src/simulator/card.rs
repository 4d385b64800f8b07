//! A simulated card acquirer with Stripe's API (`/sim/card/v1/…`): PaymentIntents created,
//! read and cancelled, refunds created and listed, each under Stripe's own ids (`pi_…`,
//! `re_…`) with ours in `metadata`, form-encoded requests authenticated by the account's
//! secret key (`Authorization: Bearer`), an `Idempotency-Key` replaying the first answer,
//! and Stripe's error bodies and codes. On a trigger the buyer confirms (or abandons) the
//! intent and the channel sends its signed event to our webhook — late, twice, concurrently
//! or never; a refund is taken `pending` and reported `succeeded` by event a moment later.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arbiter_engine::money::Money;
use arbiter_transactions::card::{CardChannel, SignedEvent};
use arbiter_transactions::channels::card::{PAYMENT_KEY, REFUND_KEY};
use arbiter_transactions::ids::EventId;
use arbiter_transactions::payment::{EventObject, EventType};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::delivery::{self, Delivery, Outgoing};
use super::statements::Desk;
use super::trades::{Closed, Refunded, Trade, TradeStatus, Trades};
use super::{Reported, SimError};

/// Where the simulated API is mounted.
pub const PREFIX: &str = "/sim/card";

mod reports;

/// What the simulator holds of an intent beside its trade.
#[derive(Debug, Clone)]
struct Intent {
    client_secret: String,
    metadata: BTreeMap<String, String>,
    created: i64,
}

#[derive(Debug, Clone)]
struct StripeRefund {
    intent: String,
    metadata: BTreeMap<String, String>,
    succeeded: bool,
    created: i64,
}

#[derive(Default)]
struct Book {
    intents: HashMap<String, Intent>,
    refunds: HashMap<String, StripeRefund>,
    /// Report runs by id: the UTC day each covers.
    report_runs: HashMap<String, chrono::NaiveDate>,
    /// `Idempotency-Key` → the object it created.
    keys: HashMap<String, String>,
}

pub struct CardSim {
    secret_key: String,
    /// Where the simulated API is reached: report files are served under it.
    api_base: String,
    /// Statement plants and report file tokens.
    pub desk: Desk,
    signer: CardChannel,
    webhook_url: String,
    /// Trades by intent id; their refunds by Stripe refund id.
    trades: Trades,
    book: Mutex<Book>,
    http: reqwest::Client,
    failing: super::Outage,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        json!({"error": {"type": "invalid_request_error", "code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

fn random(n: usize) -> String {
    rand::Rng::sample_iter(rand::rng(), &rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn intent_status(status: TradeStatus) -> &'static str {
    match status {
        TradeStatus::Waiting => "requires_payment_method",
        TradeStatus::Paid => "succeeded",
        TradeStatus::Closed => "canceled",
    }
}

fn minor(m: &Money) -> i64 {
    m.checked_minor_units().unwrap_or_default()
}

/// A form-encoded request body, as Stripe reads it.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `metadata[…]` fields.
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((name.to_owned(), v.clone()))
            })
            .collect()
    }
}

impl CardSim {
    /// A simulated account with secret key `secret_key`, whose events are signed with
    /// `signer`'s webhook secret and posted to `webhook_url`.
    pub fn new(
        secret_key: String,
        signer: CardChannel,
        webhook_url: String,
        http: reqwest::Client,
        api_base: String,
    ) -> CardSim {
        CardSim {
            secret_key,
            api_base,
            desk: Desk::default(),
            signer,
            webhook_url,
            trades: Trades::default(),
            book: Mutex::default(),
            http,
            failing: super::Outage::default(),
        }
    }

    /// The next `calls` API calls answer `503`.
    pub fn fail_next(&self, calls: u32) {
        self.failing.set(calls);
    }

    fn with_book<T>(&self, f: impl FnOnce(&mut Book) -> T) -> T {
        let mut book = self
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut book)
    }

    /// The intent our payment `channel_payment_id` was created as, if it was.
    pub fn intent_of(&self, channel_payment_id: &str) -> Option<String> {
        self.with_book(|b| {
            b.intents
                .iter()
                .find(|(_, i)| {
                    i.metadata.get(PAYMENT_KEY).map(String::as_str) == Some(channel_payment_id)
                })
                .map(|(id, _)| id.clone())
        })
    }

    /// The Stripe refund our refund `channel_refund_id` was taken as, and its intent.
    pub fn refund_of(&self, channel_refund_id: &str) -> Option<(String, String)> {
        self.with_book(|b| {
            b.refunds
                .iter()
                .find(|(_, r)| {
                    r.metadata.get(REFUND_KEY).map(String::as_str) == Some(channel_refund_id)
                })
                .map(|(id, r)| (r.intent.clone(), id.clone()))
        })
    }

    fn intent_json(&self, id: &str, trade: &Trade, intent: &Intent) -> Value {
        let paid = trade.status == TradeStatus::Paid;
        json!({
            "id": id, "object": "payment_intent",
            "amount": minor(&trade.amount),
            "amount_received": if paid { minor(&trade.amount) } else { 0 },
            "currency": trade.amount.currency.code().to_ascii_lowercase(),
            "status": intent_status(trade.status),
            "client_secret": intent.client_secret,
            "description": trade.subject,
            "metadata": intent.metadata,
            "created": intent.created,
            "livemode": false,
        })
    }

    fn refund_json(&self, id: &str, refund: &StripeRefund, amount: &Money) -> Value {
        json!({
            "id": id, "object": "refund",
            "amount": minor(amount),
            "currency": amount.currency.code().to_ascii_lowercase(),
            "payment_intent": refund.intent,
            "status": if refund.succeeded { "succeeded" } else { "pending" },
            "metadata": refund.metadata,
            "created": refund.created,
        })
    }

    /// `/sim/card/v1/{*rest}`: every route of the simulated API.
    pub async fn api(
        State(sim): State<Arc<CardSim>>,
        method: Method,
        headers: HeaderMap,
        Path(rest): Path<String>,
        RawQuery(query): RawQuery,
        body: Bytes,
    ) -> Response {
        if sim.failing.take() {
            return super::outage();
        }
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer != Some(sim.secret_key.as_str()) {
            let body = json!({"error": {"type": "invalid_request_error",
                                        "message": "Invalid API Key provided"}});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        let form = Form(url::form_urlencoded::parse(&body).into_owned().collect());
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let parts: Vec<&str> = rest.split('/').collect();
        match (method.as_str(), parts.as_slice()) {
            ("POST", ["payment_intents"]) => sim.create_intent(&form, key),
            ("GET", ["payment_intents", id]) => sim.read_intent(id),
            ("POST", ["payment_intents", id, "cancel"]) => sim.cancel_intent(id),
            ("POST", ["refunds"]) => sim.create_refund(&form, key),
            ("GET", ["refunds"]) => sim.list_refunds(query.as_deref().unwrap_or_default()),
            ("POST", ["reporting", "report_runs"]) => sim.create_report_run(&form),
            ("GET", ["reporting", "report_runs", id]) => sim.read_report_run(id),
            ("GET", ["files", id, "contents"]) => sim.report_file(id),
            _ => error(StatusCode::NOT_FOUND, "resource_missing", "not simulated"),
        }
    }

    /// The object an `Idempotency-Key` created before: its first answer is replayed.
    fn replayed(&self, key: Option<&String>) -> Option<String> {
        key.and_then(|k| self.with_book(|b| b.keys.get(k).cloned()))
    }

    fn create_intent(&self, form: &Form, key: Option<String>) -> Response {
        if let Some(id) = self.replayed(key.as_ref()) {
            return self.read_intent(&id);
        }
        let amount = form
            .get("amount")
            .and_then(|a| a.parse::<i64>().ok())
            .filter(|a| *a > 0)
            .zip(form.get("currency"))
            .and_then(|(a, c)| Money::from_stored(a, &c.to_ascii_uppercase()));
        let Some(amount) = amount else {
            return error(
                StatusCode::BAD_REQUEST,
                "parameter_invalid_integer",
                "amount and currency are required",
            );
        };
        let id = format!("pi_sim{}", uuid::Uuid::now_v7().simple());
        let intent = Intent {
            client_secret: format!("{id}_secret_{}", random(24)),
            metadata: form.metadata(),
            created: Utc::now().timestamp(),
        };
        let Some(trade) = self.trades.open(
            &id,
            amount,
            &self.webhook_url,
            form.get("description").unwrap_or_default(),
        ) else {
            return error(StatusCode::CONFLICT, "idempotency_error", "reused id");
        };
        let body = self.intent_json(&id, &trade, &intent);
        self.with_book(|b| {
            b.intents.insert(id.clone(), intent);
            if let Some(key) = key {
                b.keys.insert(key, id.clone());
            }
        });
        axum::Json(body).into_response()
    }

    fn read_intent(&self, id: &str) -> Response {
        let intent = self.with_book(|b| b.intents.get(id).cloned());
        match (self.trades.get(id), intent) {
            (Some(trade), Some(intent)) => {
                axum::Json(self.intent_json(id, &trade, &intent)).into_response()
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "resource_missing",
                &format!("No such payment_intent: '{id}'"),
            ),
        }
    }

    fn cancel_intent(&self, id: &str) -> Response {
        let unexpected = || {
            error(
                StatusCode::BAD_REQUEST,
                "payment_intent_unexpected_state",
                "You cannot cancel this PaymentIntent because of its status.",
            )
        };
        if self
            .trades
            .get(id)
            .is_some_and(|t| t.status == TradeStatus::Closed)
        {
            return unexpected();
        }
        match self.trades.close(id) {
            Closed::NoSuchTrade => self.read_intent(id),
            Closed::AlreadyPaid => unexpected(),
            Closed::Closed => self.read_intent(id),
        }
    }

    fn create_refund(self: &Arc<Self>, form: &Form, key: Option<String>) -> Response {
        if let Some(id) = self.replayed(key.as_ref()) {
            return self.read_refund(&id);
        }
        let Some(intent) = form.get("payment_intent") else {
            return error(
                StatusCode::BAD_REQUEST,
                "parameter_missing",
                "payment_intent",
            );
        };
        let Some(trade) = self.trades.get(intent) else {
            return error(
                StatusCode::NOT_FOUND,
                "resource_missing",
                &format!("No such payment_intent: '{intent}'"),
            );
        };
        let amount = match form.get("amount") {
            None => trade.amount,
            Some(a) => match a.parse::<i64>() {
                Ok(a) if a > 0 => Money::from_minor_units(a, trade.amount.currency),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "parameter_invalid_integer",
                        "amount",
                    );
                }
            },
        };
        let id = format!("re_sim{}", uuid::Uuid::now_v7().simple());
        match self.trades.refund(intent, &id, amount) {
            Refunded::NoSuchTrade => {
                error(StatusCode::NOT_FOUND, "resource_missing", "no such intent")
            }
            Refunded::NotPaid => error(
                StatusCode::BAD_REQUEST,
                "payment_intent_unexpected_state",
                "This PaymentIntent has no successful charge to refund.",
            ),
            Refunded::Exceeds => error(
                StatusCode::BAD_REQUEST,
                "amount_too_large",
                "Refund amount is greater than unrefunded amount on charge.",
            ),
            Refunded::New(_) | Refunded::Repeat(_) => {
                let refund = StripeRefund {
                    intent: intent.to_owned(),
                    metadata: form.metadata(),
                    succeeded: false,
                    created: Utc::now().timestamp(),
                };
                let body = self.refund_json(&id, &refund, &amount);
                self.with_book(|b| {
                    b.refunds.insert(id.clone(), refund);
                    if let Some(key) = key {
                        b.keys.insert(key, id.clone());
                    }
                });
                // Card refunds settle a moment later, reported by `refund.updated`.
                let sim = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    if let Some(event) = sim.settle_refund(&id) {
                        delivery::post(&sim.http, &sim.outgoing(&event)).await;
                    }
                });
                axum::Json(body).into_response()
            }
        }
    }

    fn read_refund(&self, id: &str) -> Response {
        let found = self.with_book(|b| b.refunds.get(id).cloned());
        let amount = found
            .as_ref()
            .and_then(|r| self.trades.refund_of(&r.intent, id))
            .map(|r| r.amount);
        match (found, amount) {
            (Some(refund), Some(amount)) => {
                axum::Json(self.refund_json(id, &refund, &amount)).into_response()
            }
            _ => error(StatusCode::NOT_FOUND, "resource_missing", "No such refund"),
        }
    }

    /// `GET /v1/refunds?payment_intent=…`: the intent's refunds, newest first.
    fn list_refunds(&self, query: &str) -> Response {
        let intent = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "payment_intent")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let Some(trade) = self.trades.get(&intent) else {
            return error(
                StatusCode::NOT_FOUND,
                "resource_missing",
                "No such payment_intent",
            );
        };
        let mut refunds: Vec<(String, StripeRefund)> = self.with_book(|b| {
            b.refunds
                .iter()
                .filter(|(_, r)| r.intent == intent)
                .map(|(id, r)| (id.clone(), r.clone()))
                .collect()
        });
        refunds.sort_by(|a, b| b.1.created.cmp(&a.1.created).then(b.0.cmp(&a.0)));
        let data: Vec<Value> = refunds
            .iter()
            .filter_map(|(id, r)| {
                let taken = trade.refunds.iter().find(|t| &t.number == id)?;
                Some(self.refund_json(id, r, &taken.amount))
            })
            .collect();
        axum::Json(json!({"object": "list", "data": data, "has_more": false,
                          "url": "/v1/refunds"}))
        .into_response()
    }

    /// Marks refund `id` succeeded; its `refund.updated` event.
    fn settle_refund(&self, id: &str) -> Option<SignedEvent> {
        let refund = self.with_book(|b| {
            let r = b.refunds.get_mut(id)?;
            r.succeeded = true;
            Some(r.clone())
        })?;
        let taken = self.trades.refund_of(&refund.intent, id)?;
        let object = EventObject {
            id: id.to_owned(),
            payment_intent: Some(refund.intent.clone()),
            amount: minor(&taken.amount),
            currency: taken.amount.currency.code().to_ascii_lowercase(),
            status: "succeeded".into(),
            metadata: refund.metadata.clone(),
        };
        Some(
            self.signer
                .event(EventType::RefundUpdated, object, Utc::now()),
        )
    }

    fn outgoing(&self, event: &SignedEvent) -> Outgoing {
        Outgoing {
            url: self.webhook_url.clone(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("stripe-signature".into(), event.signature.clone()),
            ],
            body: event.body.clone(),
        }
    }

    /// The buyer confirmed the intent with their card (`paid`) or abandoned it (it is
    /// cancelled); the event (of the type returned) delivered as `delivery` says. Applies to an intent still waiting;
    /// one already paid or cancelled reports what it is.
    pub async fn report(
        &self,
        intent: &str,
        paid: bool,
        delivery: Delivery,
    ) -> Result<(EventType, Reported), SimError> {
        let trade = self
            .trades
            .settle(intent, paid)
            .ok_or(SimError::NoSuchTrade)?;
        let metadata = self
            .with_book(|b| b.intents.get(intent).map(|i| i.metadata.clone()))
            .ok_or(SimError::NoSuchTrade)?;
        tokio::time::sleep(delivery.delay).await;
        let (kind, status) = match trade.status {
            TradeStatus::Paid => (EventType::PaymentSucceeded, "succeeded"),
            TradeStatus::Closed | TradeStatus::Waiting => (EventType::PaymentCanceled, "canceled"),
        };
        let object = EventObject {
            id: intent.to_owned(),
            payment_intent: None,
            amount: minor(&trade.amount),
            currency: trade.amount.currency.code().to_ascii_lowercase(),
            status: status.into(),
            metadata,
        };
        let event = self.signer.event(kind, object, Utc::now());
        let EventId(notice_id) = event.event.id.clone();
        let attempts = delivery::deliver(&self.http, self.outgoing(&event), delivery).await;
        Ok((
            kind,
            Reported {
                notice_id,
                status: status.to_owned(),
                attempts,
            },
        ))
    }
}
