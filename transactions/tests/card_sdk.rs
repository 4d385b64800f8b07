//! The card adapter against an independent implementation: Stripe's own Python library
//! (`stripe` on PyPI), run from the Python that `CHANNEL_SDKS_PYTHON` names. Checked:
//!
//! - our PaymentIntent create and refund requests carry exactly the form fields the library
//!   encodes for the same parameters (its `_api_encode`, what it sends on the wire);
//! - an event our simulated channel signs is accepted by `stripe.Webhook.construct_event` (the
//!   check a Stripe merchant runs), with our ids found in its metadata;
//! - an event signed by the library's own signer is accepted by our adapter, and one signed with
//!   another secret is refused by both.

mod support;

use arbiter_engine::money::Money;
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::channels::card::{CardConfig, StripeCard};
use arbiter_transactions::channels::{
    ChannelError, Inbound, NoticeState, PaymentChannel, PaymentState,
};
use arbiter_transactions::ids::{
    ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId,
};
use arbiter_transactions::payment::{CARD, Payment, Refund};
use arbiter_transactions::status::{PaymentStatus, RefundStatus};
use chrono::Utc;
use iso_currency::Currency;
use serde_json::{Value, json};

const SECRET: &str = "whsec_sdk_cross_check";

const SDK_SCRIPT: &str = r#"
import json, sys, time
import stripe
from stripe._encode import _api_encode

req = json.load(sys.stdin)
out = {}

# 1. What the library sends for the same parameters.
out["create_form"] = [[k, str(v)] for k, v in _api_encode(req["create_params"])]
out["refund_form"] = [[k, str(v)] for k, v in _api_encode(req["refund_params"])]

# 2. Our signed event, checked as a merchant checks it.
ours = req["our_event"]
event = stripe.Webhook.construct_event(ours["body"], ours["signature"], req["secret"])
out["event_type"] = event["type"]
out["event_metadata"] = event.to_dict()["data"]["object"]["metadata"]
try:
    stripe.Webhook.construct_event(ours["body"], ours["signature"], "whsec_another")
    out["other_secret_refused"] = False
except stripe.SignatureVerificationError:
    out["other_secret_refused"] = True

# 3. An event signed by the library's own signer.
body = json.dumps(req["their_event"])
t = int(time.time())
sig = stripe.WebhookSignature._compute_signature("%d.%s" % (t, body), req["secret"])
out["theirs"] = {"body": body, "signature": "t=%d,v1=%s" % (t, sig)}
json.dump(out, sys.stdout)
"#;

fn pairs(form: &[u8]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(form).into_owned().collect();
    pairs.sort();
    pairs
}

fn sdk_pairs(v: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = v
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p[0].as_str().expect("k").to_owned(),
                p[1].as_str().expect("v").to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn requests_and_events_agree_with_stripes_library() {
    let card = StripeCard::new(CardConfig {
        api_base: "https://api.stripe.com".into(),
        secret_key: "sk_test_sdk".into(),
        webhook_secret: SECRET.as_bytes().to_vec(),
        tolerance: chrono::Duration::minutes(5),
    });
    let now = Utc::now();
    let payment = Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: CARD.into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: Money::from_minor_units(4_250, Currency::EUR),
        risk: None,
        created_at: now,
        updated_at: now,
    };
    let refund = Refund {
        id: RefundId::generate(),
        payment_id: payment.id.clone(),
        idempotency_key: IdempotencyKey("r".into()),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId::generate(),
        status: RefundStatus::Processing,
        amount: Money::from_minor_units(1_000, Currency::EUR),
        reason: "returned".into(),
        created_at: now,
        updated_at: now,
    };
    let subject = "Order 7 — Tee & mug";
    let create = card.create_payment(&payment, subject, now).expect("create");
    let refund_request = card
        .refund(&refund, &payment, Some("pi_3SdkIntent"), now)
        .expect("refund");
    let our_event = CardChannel::new(SECRET.as_bytes().to_vec()).intent_event(
        &payment,
        Some("pi_3SdkIntent"),
        true,
        now,
    );
    let their_event = json!({
        "id": "evt_py", "object": "event", "type": "payment_intent.succeeded",
        "created": now.timestamp(),
        "data": {"object": {"id": "pi_3SdkIntent", "object": "payment_intent",
                            "amount": 4250, "amount_received": 4250, "currency": "eur",
                            "status": "succeeded",
                            "metadata": {"channel_payment_id": payment.channel_payment_id.0}}},
    });
    let Some(out) = support::run(
        "stripe",
        SDK_SCRIPT,
        &json!({
            "secret": SECRET,
            "create_params": {
                "amount": 4250, "currency": "eur", "description": subject,
                "payment_method_types": ["card"],
                "metadata": {"channel_payment_id": payment.channel_payment_id.0,
                             "payment_id": payment.id.as_str()},
            },
            "refund_params": {
                "payment_intent": "pi_3SdkIntent", "amount": 1000,
                "reason": "requested_by_customer",
                "metadata": {"channel_refund_id": refund.channel_refund_id.0,
                             "refund_id": refund.id.as_str()},
            },
            "our_event": {
                "body": String::from_utf8(our_event.body.clone()).expect("utf-8"),
                "signature": our_event.signature,
            },
            "their_event": their_event,
        }),
    ) else {
        return;
    };

    assert_eq!(
        pairs(&create.body),
        sdk_pairs(&out["create_form"]),
        "the create's form is what Stripe's library sends"
    );
    assert_eq!(
        pairs(&refund_request.body),
        sdk_pairs(&out["refund_form"]),
        "the refund's form is what Stripe's library sends"
    );

    assert_eq!(out["event_type"], "payment_intent.succeeded");
    assert_eq!(
        out["event_metadata"]["channel_payment_id"],
        payment.channel_payment_id.0.as_str()
    );
    assert_eq!(out["other_secret_refused"], true);

    let theirs = &out["theirs"];
    let body = theirs["body"].as_str().expect("body").as_bytes().to_vec();
    let read = |signature: &str| {
        let headers = vec![("stripe-signature".to_owned(), signature.to_owned())];
        card.notification(
            Inbound {
                headers: &headers,
                body: &body,
            },
            Utc::now(),
        )
    };
    let notice = read(theirs["signature"].as_str().expect("signature")).expect("accepted");
    assert_eq!(notice.channel_payment_id, payment.channel_payment_id.0);
    assert!(matches!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid { .. })
    ));
    let forged =
        arbiter_transactions::signature::sign(b"whsec_another", Utc::now().timestamp(), &body);
    assert_eq!(
        read(&forged),
        Err(ChannelError::BadSignature { channel: CARD })
    );
}
