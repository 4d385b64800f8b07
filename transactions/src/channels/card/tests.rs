use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use iso_currency::Currency;
use serde_json::{Value, json};

use super::*;
use crate::card::CardChannel;
use crate::channels::NoticeState;
use crate::ids::{ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId};
use crate::status::{PaymentStatus, RefundStatus};

const SECRET: &[u8] = b"whsec_test";

fn card() -> StripeCard {
    StripeCard::new(CardConfig {
        api_base: "https://stripe.test/".into(),
        secret_key: "sk_test_123".into(),
        webhook_secret: SECRET.to_vec(),
        tolerance: chrono::Duration::minutes(5),
    })
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_990_000, 0).expect("instant")
}

fn eur(cents: i64) -> Money {
    Money::from_minor_units(cents, Currency::EUR)
}

fn payment() -> Payment {
    Payment {
        id: PaymentId::generate(),
        order_id: OrderId::generate(),
        idempotency_key: IdempotencyKey("k".into()),
        body_hash: String::new(),
        channel: CARD.into(),
        channel_payment_id: ChannelPaymentId::generate(),
        status: PaymentStatus::Processing,
        amount: eur(4250),
        risk: None,
        created_at: at(),
        updated_at: at(),
    }
}

fn refund(p: &Payment, cents: i64) -> Refund {
    Refund {
        id: RefundId::generate(),
        payment_id: p.id.clone(),
        idempotency_key: IdempotencyKey("r".into()),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId::generate(),
        status: RefundStatus::Processing,
        amount: eur(cents),
        reason: "returned".into(),
        created_at: at(),
        updated_at: at(),
    }
}

fn answer(status: u16, body: Value) -> ChannelResponse {
    ChannelResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn error(status: u16, code: &str) -> ChannelResponse {
    answer(
        status,
        json!({"error": {"type": "invalid_request_error", "code": code, "message": "m"}}),
    )
}

fn intent(status: &str, received: i64) -> Value {
    json!({"id": "pi_3Abc", "object": "payment_intent", "amount": 4250,
           "amount_received": received, "currency": "eur", "status": status,
           "client_secret": "pi_3Abc_secret_xyz", "metadata": {"channel_payment_id": "pi_ours"}})
}

fn form(request: &ChannelRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn header<'a>(request: &'a ChannelRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_payment_is_created_as_an_intent_keyed_by_our_id_and_answered_with_its_client_secret() {
    let (c, p) = (card(), payment());
    let request = c.create_payment(&p, "Order 1", at()).expect("request");
    assert_eq!(request.method, HttpMethod::Post);
    assert_eq!(request.url, "https://stripe.test/v1/payment_intents");
    assert_eq!(
        header(&request, "authorization"),
        Some("Bearer sk_test_123")
    );
    assert_eq!(header(&request, "stripe-version"), Some(API_VERSION));
    assert_eq!(
        header(&request, "idempotency-key"),
        Some(p.channel_payment_id.0.as_str())
    );
    let form = form(&request);
    for (k, v) in [
        ("amount", "4250"),
        ("currency", "eur"),
        ("description", "Order 1"),
        ("payment_method_types[0]", "card"),
        (
            "metadata[channel_payment_id]",
            p.channel_payment_id.0.as_str(),
        ),
        ("metadata[payment_id]", p.id.as_str()),
    ] {
        assert!(
            form.contains(&(k.to_owned(), v.to_owned())),
            "{k}={v} in {form:?}"
        );
    }
    assert_eq!(
        c.read_created(&answer(200, intent("requires_payment_method", 0))),
        Ok(Created {
            action: ClientAction::ClientSecret("pi_3Abc_secret_xyz".into()),
            reference: Some("pi_3Abc".into()),
        })
    );
    let mut no_secret = intent("requires_payment_method", 0);
    no_secret["client_secret"] = Value::Null;
    assert!(matches!(
        c.read_created(&answer(200, no_secret)),
        Err(ChannelError::Malformed { .. })
    ));
    assert_eq!(
        c.read_created(&error(402, "card_declined")),
        Err(ChannelError::Refused {
            channel: CARD,
            code: "card_declined".into(),
            message: "m".into()
        })
    );
    // A gateway's bare 502 is not Stripe's word on anything.
    assert!(matches!(
        c.read_created(&ChannelResponse {
            status: 502,
            headers: vec![],
            body: b"Bad Gateway".to_vec()
        }),
        Err(ChannelError::Refused { .. })
    ));
}

#[test]
fn an_intent_is_read_and_closed_by_stripes_id_and_its_statuses_mapped() {
    let (c, p) = (card(), payment());
    let query = c.query_payment(&p, Some("pi_3Abc"), at()).expect("query");
    assert_eq!(
        (query.method, query.url.as_str()),
        (
            HttpMethod::Get,
            "https://stripe.test/v1/payment_intents/pi_3Abc"
        )
    );
    assert!(query.body.is_empty());
    assert_eq!(
        c.query_payment(&p, None, at()),
        Err(ChannelError::NotAtChannel { channel: CARD })
    );
    assert!(matches!(
        c.query_payment(&p, Some("pi_1/../../v1/charges"), at()),
        Err(ChannelError::Malformed { .. })
    ));
    let state =
        |status: &str, received| c.read_payment_state(&answer(200, intent(status, received)));
    assert_eq!(
        state("succeeded", 4250),
        Ok(PaymentState::Paid {
            amount: eur(4250),
            channel_trade_id: "pi_3Abc".into()
        })
    );
    assert_eq!(state("canceled", 0), Ok(PaymentState::Closed));
    for waiting in [
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
    ] {
        assert_eq!(state(waiting, 0), Ok(PaymentState::Pending), "{waiting}");
    }
    assert_eq!(
        c.read_payment_state(&error(404, "resource_missing")),
        Ok(PaymentState::Unknown)
    );

    let close = c.close_payment(&p, Some("pi_3Abc"), at()).expect("close");
    assert_eq!(
        close.url,
        "https://stripe.test/v1/payment_intents/pi_3Abc/cancel"
    );
    assert_eq!(
        form(&close),
        vec![("cancellation_reason".into(), "abandoned".into())]
    );
    assert_eq!(
        c.read_closing(&answer(200, intent("canceled", 0))),
        Ok(Closing::Closed)
    );
    assert_eq!(
        c.read_closing(&error(400, "payment_intent_unexpected_state")),
        Ok(Closing::QueryFirst)
    );
    assert_eq!(
        c.read_closing(&error(404, "resource_missing")),
        Ok(Closing::NeverCreated)
    );
    assert!(matches!(
        c.read_closing(&error(401, "api_key_expired")),
        Err(ChannelError::Refused { .. })
    ));
}

#[test]
fn a_refund_is_keyed_by_our_id_and_found_again_by_its_metadata() {
    let (c, p) = (card(), payment());
    let r = refund(&p, 1000);
    let request = c.refund(&r, &p, Some("pi_3Abc"), at()).expect("refund");
    assert_eq!(request.url, "https://stripe.test/v1/refunds");
    assert_eq!(
        header(&request, "idempotency-key"),
        Some(r.channel_refund_id.0.as_str())
    );
    let form = form(&request);
    assert!(form.contains(&("payment_intent".into(), "pi_3Abc".into())));
    assert!(form.contains(&("amount".into(), "1000".into())));
    assert!(form.contains(&(
        "metadata[channel_refund_id]".into(),
        r.channel_refund_id.0.clone()
    )));
    let stripe_refund = |ours: &str, status: &str| {
        json!({"id": "re_3Xyz", "object": "refund", "amount": 1000, "currency": "eur",
               "payment_intent": "pi_3Abc", "status": status,
               "metadata": {"channel_refund_id": ours}})
    };
    let ours = r.channel_refund_id.0.as_str();
    assert_eq!(
        c.read_refund(&r, &answer(200, stripe_refund(ours, "succeeded"))),
        Ok(RefundState::Succeeded { amount: eur(1000) })
    );
    assert_eq!(
        c.read_refund(&r, &answer(200, stripe_refund(ours, "pending"))),
        Ok(RefundState::Processing)
    );
    assert!(matches!(
        c.read_refund(
            &r,
            &answer(200, stripe_refund("re_someone_else", "succeeded"))
        ),
        Err(ChannelError::Malformed { .. })
    ));

    let query = c
        .query_refund(&r, &p, Some("pi_3Abc"), at())
        .expect("query");
    assert_eq!(
        query.url,
        "https://stripe.test/v1/refunds?payment_intent=pi_3Abc&limit=100"
    );
    let list = |data: Vec<Value>| {
        answer(
            200,
            json!({"object": "list", "data": data, "has_more": false}),
        )
    };
    assert_eq!(
        c.read_refund_state(
            &r,
            &list(vec![
                stripe_refund("re_other", "succeeded"),
                stripe_refund(ours, "failed")
            ])
        ),
        Ok(RefundState::Failed {
            reason: "refund status `failed`".into()
        })
    );
    assert_eq!(
        c.read_refund_state(&r, &list(vec![stripe_refund("re_other", "succeeded")])),
        Ok(RefundState::Unknown)
    );
    assert_eq!(
        c.refund(&r, &p, None, at()),
        Err(ChannelError::NotAtChannel { channel: CARD })
    );
}

#[test]
fn an_event_is_verified_first_and_names_our_payment_through_its_metadata() {
    let (c, p) = (card(), payment());
    let read = |signed: &crate::card::SignedEvent, now| {
        let headers = vec![("stripe-signature".to_owned(), signed.signature.clone())];
        c.notification(
            Inbound {
                headers: &headers,
                body: &signed.body,
            },
            now,
        )
    };
    let signer = CardChannel::new(SECRET.to_vec());
    let paid = signer.intent_event(&p, Some("pi_3Abc"), true, at());
    let notice = read(&paid, at()).expect("verified");
    assert_eq!(notice.channel_payment_id, p.channel_payment_id.0);
    assert_eq!(
        notice.state,
        NoticeState::Payment(PaymentState::Paid {
            amount: eur(4250),
            channel_trade_id: "pi_3Abc".into()
        })
    );
    // Without metadata (an event under our own id), the object's id is ours.
    let legacy = read(&signer.payment_event(&p, true, at()), at()).expect("verified");
    assert_eq!(legacy.channel_payment_id, p.channel_payment_id.0);

    let r = refund(&p, 1000);
    let refunded = signer.stripe_refund_event(&r, &p, Some(("pi_3Abc", "re_3Xyz")), true, at());
    let notice = read(&refunded, at()).expect("verified");
    assert_eq!(
        (notice.channel_payment_id.as_str(), notice.state),
        (
            p.channel_payment_id.0.as_str(),
            NoticeState::Refund {
                channel_refund_id: r.channel_refund_id.0.clone(),
                state: RefundState::Succeeded { amount: eur(1000) }
            }
        )
    );

    let forged =
        CardChannel::new(b"whsec_other".to_vec()).intent_event(&p, Some("pi_3Abc"), true, at());
    assert_eq!(
        read(&forged, at()),
        Err(ChannelError::BadSignature { channel: CARD })
    );
    assert!(matches!(
        read(&paid, at() + chrono::Duration::minutes(6)),
        Err(ChannelError::NotForUs { .. })
    ));
    let mut tampered = paid.clone();
    tampered.body = String::from_utf8(tampered.body)
        .expect("utf-8")
        .replace("4250", "1")
        .into_bytes();
    assert_eq!(
        read(&tampered, at()),
        Err(ChannelError::BadSignature { channel: CARD })
    );
    assert_eq!(c.acknowledge(true).status, 200);
    assert_eq!(c.acknowledge(false).status, 400);
}
