//! The card channel, as Stripe's API speaks it: a payment is a *PaymentIntent* created by us
//! (`POST /v1/payment_intents`, form-encoded, `Authorization: Bearer <secret key>`, an
//! `Idempotency-Key` so a retried create is the same intent), confirmed by the buyer's card
//! form with the intent's `client_secret`, read back (`GET /v1/payment_intents/{id}`),
//! cancelled while unpaid (`POST …/{id}/cancel`), and refunded (`POST /v1/refunds`, read back
//! by listing the intent's refunds). Stripe names intents and refunds with its own ids
//! (`pi_…`, `re_…`), so ours travel in `metadata` (`channel_payment_id`,
//! `channel_refund_id`) — in every answer and every event — and the intent id is kept as the
//! payment's [`Created::reference`].
//!
//! Answers come over TLS from the API host and carry no signature of their own; events come
//! to our webhook signed with the endpoint secret (`Stripe-Signature`, [`event`]), verified
//! over the raw body before anything reads them. Amounts are minor units, currencies lower
//! case.

pub mod event;
pub mod statement;
mod wire;

use chrono::{DateTime, Utc};

use super::{
    Acknowledgement, ChannelError, ChannelRequest, ChannelResponse, ClientAction, Closing, Created,
    HttpMethod, Inbound, Notice, PaymentChannel, PaymentState, RefundState,
};
use crate::payment::{CARD, Payment, Refund};
use wire::{ApiError, Intent, RefundList, StripeRefund, answer, malformed, minor};

/// Stripe's API host.
pub const STRIPE_API: &str = "https://api.stripe.com";
/// The API version every request pins, so an account's default cannot change the shapes read
/// here.
pub const API_VERSION: &str = "2024-06-20";
/// The metadata key that carries our payment's channel id on an intent (and its refunds).
pub const PAYMENT_KEY: &str = "channel_payment_id";
/// The metadata key that carries our refund's channel id on a refund.
pub const REFUND_KEY: &str = "channel_refund_id";

/// What a card merchant account is configured with.
pub struct CardConfig {
    /// The API host: [`STRIPE_API`], or a simulator's.
    pub api_base: String,
    /// The account's secret API key (`sk_…`).
    pub secret_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: Vec<u8>,
    /// How far an event's signed timestamp may be from now.
    pub tolerance: chrono::Duration,
}

/// The card adapter: builds Stripe API requests and reads their answers and the signed events.
pub struct StripeCard {
    config: CardConfig,
}

impl StripeCard {
    pub fn new(config: CardConfig) -> StripeCard {
        StripeCard { config }
    }

    fn request(
        &self,
        method: HttpMethod,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> ChannelRequest {
        let mut headers = vec![
            (
                "authorization".to_owned(),
                format!("Bearer {}", self.config.secret_key),
            ),
            ("stripe-version".to_owned(), API_VERSION.to_owned()),
        ];
        if let Some(key) = idempotency_key {
            headers.push(("idempotency-key".to_owned(), key.to_owned()));
        }
        let mut body = Vec::new();
        if method == HttpMethod::Post {
            headers.push((
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ));
            let mut encoded = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                encoded.append_pair(k, v);
            }
            body = encoded.finish().into_bytes();
        }
        ChannelRequest {
            method,
            url: format!("{}{path}", self.config.api_base.trim_end_matches('/')),
            headers,
            body,
        }
    }
}

/// The intent id, checked to be a Stripe id (letters, digits, `_`) before it goes into a path.
fn intent_id(reference: Option<&str>) -> Result<&str, ChannelError> {
    let id = reference.ok_or(ChannelError::NotAtChannel { channel: CARD })?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(malformed("intent id", format!("`{id}` is not a Stripe id")));
    }
    Ok(id)
}

impl PaymentChannel for StripeCard {
    fn name(&self) -> &'static str {
        CARD
    }

    fn statements(&self) -> Option<&dyn super::statement::StatementChannel> {
        Some(self)
    }

    /// `POST /v1/payment_intents` for the payment's exact amount, keyed by its channel id.
    fn create_payment(
        &self,
        payment: &Payment,
        subject: &str,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let amount = minor(&payment.amount)?.to_string();
        let currency = payment.amount.currency.code().to_ascii_lowercase();
        let form = [
            ("amount", amount.as_str()),
            ("currency", &currency),
            ("description", subject),
            ("payment_method_types[0]", "card"),
            (
                "metadata[channel_payment_id]",
                &payment.channel_payment_id.0,
            ),
            ("metadata[payment_id]", payment.id.as_str()),
        ];
        Ok(self.request(
            HttpMethod::Post,
            "/v1/payment_intents",
            &form,
            Some(&payment.channel_payment_id.0),
        ))
    }

    /// The intent: its `client_secret` for the card form, its id for every later call.
    fn read_created(&self, response: &ChannelResponse) -> Result<Created, ChannelError> {
        let intent: Intent = answer(response)?.map_err(ApiError::refused)?;
        let secret = intent
            .client_secret
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("intent", "no `client_secret`"))?;
        Ok(Created {
            action: ClientAction::ClientSecret(secret),
            reference: Some(intent.id),
        })
    }

    fn query_payment(
        &self,
        _payment: &Payment,
        reference: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let id = intent_id(reference)?;
        Ok(self.request(
            HttpMethod::Get,
            &format!("/v1/payment_intents/{id}"),
            &[],
            None,
        ))
    }

    fn read_payment_state(&self, response: &ChannelResponse) -> Result<PaymentState, ChannelError> {
        match answer::<Intent>(response)? {
            Ok(intent) => intent.state(),
            Err(e) if e.is("resource_missing") => Ok(PaymentState::Unknown),
            Err(e) => Err(e.refused()),
        }
    }

    /// `POST /v1/payment_intents/{id}/cancel`: an intent not yet paid can no longer be.
    fn close_payment(
        &self,
        _payment: &Payment,
        reference: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let id = intent_id(reference)?;
        Ok(self.request(
            HttpMethod::Post,
            &format!("/v1/payment_intents/{id}/cancel"),
            &[("cancellation_reason", "abandoned")],
            None,
        ))
    }

    fn read_closing(&self, response: &ChannelResponse) -> Result<Closing, ChannelError> {
        match answer::<Intent>(response)? {
            Ok(intent) if intent.status == "canceled" => Ok(Closing::Closed),
            Ok(intent) => Err(malformed(
                "cancel answer",
                format!("the intent is `{}`", intent.status),
            )),
            Err(e) if e.is("resource_missing") => Ok(Closing::NeverCreated),
            // Succeeded (or processing, or already cancelled): what it is, a query says.
            Err(e) if e.is("payment_intent_unexpected_state") => Ok(Closing::QueryFirst),
            Err(e) => Err(e.refused()),
        }
    }

    /// `POST /v1/refunds` of the intent, keyed by our refund's channel id.
    fn refund(
        &self,
        refund: &Refund,
        _payment: &Payment,
        reference: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let id = intent_id(reference)?;
        let amount = minor(&refund.amount)?.to_string();
        let form = [
            ("payment_intent", id),
            ("amount", &amount),
            ("reason", "requested_by_customer"),
            ("metadata[channel_refund_id]", &refund.channel_refund_id.0),
            ("metadata[refund_id]", refund.id.as_str()),
        ];
        Ok(self.request(
            HttpMethod::Post,
            "/v1/refunds",
            &form,
            Some(&refund.channel_refund_id.0),
        ))
    }

    fn read_refund(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        let answered: StripeRefund = answer(response)?.map_err(ApiError::refused)?;
        if answered.metadata.get(REFUND_KEY) != Some(&refund.channel_refund_id.0) {
            return Err(malformed("refund", "another refund's answer"));
        }
        answered.state()
    }

    /// `GET /v1/refunds?payment_intent=…`: the intent's refunds, ours found by its metadata.
    fn query_refund(
        &self,
        _refund: &Refund,
        _payment: &Payment,
        reference: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let id = intent_id(reference)?;
        Ok(self.request(
            HttpMethod::Get,
            &format!("/v1/refunds?payment_intent={id}&limit=100"),
            &[],
            None,
        ))
    }

    fn read_refund_state(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        let list: RefundList = answer(response)?.map_err(ApiError::refused)?;
        match list
            .data
            .iter()
            .find(|r| r.metadata.get(REFUND_KEY) == Some(&refund.channel_refund_id.0))
        {
            Some(found) => found.state(),
            // A refund list is at most 100 long; an intent is refunded a few times at most.
            None if list.has_more => Err(malformed("refund list", "more than 100 refunds")),
            None => Ok(RefundState::Unknown),
        }
    }

    /// An event, its `Stripe-Signature` verified over the raw body first.
    fn notification(
        &self,
        inbound: Inbound<'_>,
        now: DateTime<Utc>,
    ) -> Result<Notice, ChannelError> {
        event::read(
            &self.config.webhook_secret,
            self.config.tolerance,
            inbound.header("stripe-signature"),
            inbound.body,
            now,
        )
        .map_err(event::EventError::into_channel_error)
    }

    /// Stripe reads only the status: any 2xx is delivered, anything else is retried.
    fn acknowledge(&self, accepted: bool) -> Acknowledgement {
        Acknowledgement {
            status: if accepted { 200 } else { 400 },
            content_type: "application/json",
            body: format!(r#"{{"received":{accepted}}}"#).into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests;
