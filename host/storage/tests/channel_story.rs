//! The payment-channel storage of issue 19 on real storage (SQLite; PostgreSQL when
//! `DATABASE_URL` is set): the channel table as the migration seeds it and an operator switches
//! it; what the client needs kept once per payment; the compensation worker's scans find
//! exactly the payments and refunds still open at a channel past the threshold; the book a
//! reconciliation matches a statement against holds a channel's day (issue 20).

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::audit::Actor;
use arbiter_engine::clock::Clock;
use arbiter_transactions::catalogue::Line;
use arbiter_transactions::channels::{
    ClientAction, Created, Notice, NoticeState, PaymentState, RefundState,
};
use arbiter_transactions::ids::IdempotencyKey;
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payment::{CARD, Payment};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::reconciliation::matching::{BookEntry, BookKind};
use arbiter_transactions::status::{PaymentStatus, RefundStatus};
use arbiter_transactions::store::TransactionStore;
use chrono::Duration;
use support::catalogue::{stocked, usd};
use support::clock::TestClock;
use support::risk::ScriptedRisk;

on_every_backend!(the_channel_table_is_seeded_and_switched_by_an_operator);
on_every_backend!(a_client_action_is_kept_once_per_payment);
on_every_backend!(the_scans_find_what_is_still_open_past_the_threshold);
on_every_backend!(the_book_holds_a_channels_day_for_reconciliation);

/// A card payment in PROCESSING of a fresh order, at the clock's now.
async fn processing_payment(
    store: &Arc<dyn TransactionStore>,
    clock: &Arc<TestClock>,
    sku: &str,
) -> (Payment, PaymentService) {
    let risk = Arc::new(ScriptedRisk);
    let orders = OrderService::new(
        Arc::clone(store),
        risk.clone(),
        clock.clone(),
        OrderConfig::default(),
    );
    let payments = PaymentService::new(
        Arc::clone(store),
        risk,
        clock.clone(),
        PaymentConfig::new(b"s".to_vec()),
    );
    let sku = stocked(&**store, sku, 1500, 5).await;
    let order = orders
        .create(
            IdempotencyKey::generate(),
            OrderRequest {
                items: vec![Line { sku, quantity: 1 }],
                user: "alice".into(),
                device: None,
                ip: None,
                shipping: None,
                payment_method: None,
            },
        )
        .await
        .expect("order");
    let p = payments
        .start(&order.id, IdempotencyKey::generate(), CARD)
        .await
        .expect("payment");
    assert_eq!(p.status, PaymentStatus::Processing);
    (p, payments)
}

mod stories {
    use super::*;

    pub async fn the_channel_table_is_seeded_and_switched_by_an_operator(
        store: Arc<dyn TransactionStore>,
    ) {
        let routes = store.channel_routes().await.expect("routes");
        let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["alipay", "wechat", "card"],
            "highest priority first"
        );
        assert!(routes.iter().all(|r| r.enabled));
        let alipay = &routes[0];
        assert_eq!(
            (alipay.methods.as_slice(), alipay.currencies.as_slice()),
            (&["qr".to_owned()][..], &["CNY".to_owned()][..])
        );
        assert_eq!(routes[2].currencies, ["*"]);

        let actor = Actor::cli();
        let off = store
            .switch_channel("alipay", false, "outage", &actor)
            .await
            .expect("switch")
            .expect("known");
        assert!(!off.enabled);
        assert_eq!(off.updated_by, actor.name);
        let again = store.channel_routes().await.expect("routes");
        assert!(
            !again
                .iter()
                .find(|r| r.name == "alipay")
                .expect("alipay")
                .enabled
        );
        assert!(
            store
                .switch_channel("paypal", false, "x", &actor)
                .await
                .expect("switch")
                .is_none(),
            "an unknown channel changes nothing"
        );
    }

    pub async fn a_client_action_is_kept_once_per_payment(store: Arc<dyn TransactionStore>) {
        let clock = TestClock::new();
        let (p, _) = processing_payment(&store, &clock, "CA").await;
        assert_eq!(store.channel_created(&p.id).await.expect("read"), None);
        let first = Created {
            action: ClientAction::ClientSecret("pi_3Abc_secret_1".into()),
            reference: Some("pi_3Abc".into()),
        };
        store
            .save_channel_created(&p.id, &first, clock.now())
            .await
            .expect("save");
        let second = Created {
            action: ClientAction::QrCode("https://qr.alipay.com/second".into()),
            reference: None,
        };
        store
            .save_channel_created(&p.id, &second, clock.now())
            .await
            .expect("save again");
        assert_eq!(
            store.channel_created(&p.id).await.expect("read"),
            Some(first)
        );
        // A channel that names payments by ours keeps no reference.
        let (q, _) = processing_payment(&store, &clock, "CB").await;
        store
            .save_channel_created(&q.id, &second, clock.now())
            .await
            .expect("save");
        assert_eq!(
            store.channel_created(&q.id).await.expect("read"),
            Some(second)
        );
    }

    pub async fn the_scans_find_what_is_still_open_past_the_threshold(
        store: Arc<dyn TransactionStore>,
    ) {
        let clock = TestClock::new();
        let (old, payments) = processing_payment(&store, &clock, "OLD").await;
        clock.advance(Duration::minutes(10));
        let (new, _) = processing_payment(&store, &clock, "NEW").await;
        let before = clock.now() - Duration::minutes(5);
        let open = store
            .processing_payments(CARD, before, 10)
            .await
            .expect("scan");
        let ids: Vec<_> = open.iter().map(|p| p.id.clone()).collect();
        assert!(ids.contains(&old.id) && !ids.contains(&new.id), "{ids:?}");
        assert!(
            store
                .processing_payments("alipay", before, 10)
                .await
                .expect("scan")
                .is_empty(),
            "another channel's only"
        );

        // Paid, then a refund asked for: open at the channel until it reports.
        let paid = Notice {
            notice_id: "evt_paid".into(),
            channel_payment_id: new.channel_payment_id.0.clone(),
            state: NoticeState::Payment(PaymentState::Paid {
                amount: new.amount,
                channel_trade_id: "pi".into(),
            }),
        };
        payments
            .apply_notice(CARD, &paid, b"{}")
            .await
            .expect("paid");
        let refund = payments
            .request_refund(&new.id, IdempotencyKey::generate(), usd(500), "story")
            .await
            .expect("refund");
        assert_eq!(refund.status, RefundStatus::Processing);
        let scan = |at| {
            let store = &store;
            async move { store.processing_refunds(CARD, at, 10).await.expect("scan") }
        };
        assert!(
            scan(clock.now()).await.is_empty(),
            "not past the threshold yet"
        );
        clock.advance(Duration::minutes(10));
        let open: Vec<_> = scan(clock.now()).await.into_iter().map(|r| r.id).collect();
        assert_eq!(open, vec![refund.id]);
        assert!(
            store
                .processing_refunds("wechat", clock.now(), 10)
                .await
                .expect("scan")
                .is_empty()
        );
    }

    pub async fn the_book_holds_a_channels_day_for_reconciliation(
        store: Arc<dyn TransactionStore>,
    ) {
        let clock = TestClock::new();
        let (paid, payments) = processing_payment(&store, &clock, "BK1").await;
        let reference = Created {
            action: ClientAction::ClientSecret("pi_3Bk_secret".into()),
            reference: Some("pi_3Bk".into()),
        };
        store
            .save_channel_created(&paid.id, &reference, clock.now())
            .await
            .expect("created");
        let notice = |id: &str, state| Notice {
            notice_id: id.into(),
            channel_payment_id: paid.channel_payment_id.0.clone(),
            state,
        };
        let captured = notice(
            "evt_bk_paid",
            NoticeState::Payment(PaymentState::Paid {
                amount: paid.amount,
                channel_trade_id: "pi_3Bk".into(),
            }),
        );
        payments
            .apply_notice(CARD, &captured, b"{}")
            .await
            .expect("paid");
        let refund = payments
            .request_refund(&paid.id, IdempotencyKey::generate(), usd(500), "story")
            .await
            .expect("refund");
        let refunded = notice(
            "evt_bk_refund",
            NoticeState::Refund {
                channel_refund_id: refund.channel_refund_id.0.clone(),
                state: RefundState::Succeeded { amount: usd(500) },
            },
        );
        payments
            .apply_notice(CARD, &refunded, b"{}")
            .await
            .expect("refunded");
        let (open, _) = processing_payment(&store, &clock, "BK2").await;

        let now = clock.now();
        let mut book = store
            .book(CARD, now - Duration::hours(1), now + Duration::hours(1))
            .await
            .expect("book");
        book.sort_by(|a, b| a.our_ref.cmp(&b.our_ref));
        let mut want = vec![
            BookEntry {
                kind: BookKind::Capture,
                our_ref: paid.channel_payment_id.0.clone(),
                channel_txn_id: Some("pi_3Bk".into()),
                amount: paid.amount,
                done: true,
                at: now,
            },
            BookEntry {
                kind: BookKind::Refund,
                our_ref: refund.channel_refund_id.0.clone(),
                channel_txn_id: None,
                amount: usd(-500),
                done: true,
                at: now,
            },
            BookEntry {
                kind: BookKind::Capture,
                our_ref: open.channel_payment_id.0.clone(),
                channel_txn_id: None,
                amount: open.amount,
                done: false,
                at: now,
            },
        ];
        want.sort_by(|a, b| a.our_ref.cmp(&b.our_ref));
        assert_eq!(book, want);
        assert!(
            store
                .book("alipay", now - Duration::hours(1), now + Duration::hours(1))
                .await
                .expect("book")
                .is_empty(),
            "another channel's only"
        );
        // A later window: what succeeded today is not in it; what is still open since
        // yesterday is.
        let tomorrow = store
            .book(CARD, now + Duration::hours(2), now + Duration::hours(26))
            .await
            .expect("book");
        let refs: Vec<&str> = tomorrow.iter().map(|e| e.our_ref.as_str()).collect();
        assert_eq!(refs, vec![open.channel_payment_id.0.as_str()]);
    }
}
