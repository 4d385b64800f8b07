//! Two replicas on one database (SQLite: two stores on one file; PostgreSQL when
//! `DATABASE_URL` is set: two pools) take the same idempotency keys at the same time, as a
//! client retrying through a load balancer does. Each replica has its own group-commit writer,
//! so two writes with one key can both find it unused and race to insert: the key's unique
//! index lets one through, and the other rolls back to its savepoint — reservation included —
//! and answers with the order that won (still `CREATING` if the winner is still asking the
//! risk host).

mod support;

use std::sync::Arc;

use arbiter_transactions::catalogue::Line;
use arbiter_transactions::ids::IdempotencyKey;
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::status::OrderStatus;
use arbiter_transactions::store::TransactionStore;
use support::catalogue::stocked;
use support::clock::TestClock;
use support::risk::ScriptedRisk;

/// Keys, each sent to both replicas at once.
const KEYS: usize = 30;

fn service(store: &Arc<dyn TransactionStore>) -> OrderService {
    OrderService::new(
        Arc::clone(store),
        Arc::new(ScriptedRisk),
        TestClock::new(),
        OrderConfig::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_sent_to_two_replicas_at_once_is_one_order_and_one_reservation() {
    for db in support::backends::backends().await {
        eprintln!("backend: {}", db.name);
        let replica = db.replica().await;
        let sku = stocked(&*db.transactions, "TWIN", 500, 100).await;
        let (a, b) = (service(&db.transactions), service(&replica.transactions));
        let mut tasks = tokio::task::JoinSet::new();
        for k in 0..KEYS {
            for orders in [a.clone(), b.clone()] {
                let request = OrderRequest {
                    items: vec![Line {
                        sku: sku.clone(),
                        quantity: 1,
                    }],
                    user: format!("buyer-{k}"),
                    device: None,
                    ip: None,
                    shipping: None,
                    payment_method: None,
                };
                tasks.spawn(async move {
                    let key = IdempotencyKey::from(format!("twin-{k}").as_str());
                    (k, orders.create(key, request).await)
                });
            }
        }
        let mut answers: Vec<Vec<String>> = vec![Vec::new(); KEYS];
        while let Some(done) = tasks.join_next().await {
            let (k, created) = done.expect("task");
            let order = created.unwrap_or_else(|e| panic!("key {k}: {e}"));
            // The replica that lost may answer while the winner still asks the risk host: the
            // order as it stands then, which a client reads again for its final status.
            assert!(
                matches!(
                    order.status,
                    OrderStatus::PendingPayment | OrderStatus::Creating
                ),
                "key {k}: {:?}",
                order.status
            );
            answers[k].push(order.id.0);
        }
        for (k, ids) in answers.iter().enumerate() {
            assert_eq!(ids.len(), 2);
            assert_eq!(
                ids[0], ids[1],
                "key {k}: both replicas answer the one order"
            );
            let view = a.get(&ids[0].as_str().into()).await.expect("order");
            assert_eq!(view.order.status, OrderStatus::PendingPayment);
            let created = view.history.iter().filter(|h| h.to == "CREATING").count();
            assert_eq!(created, 1, "key {k}: created once");
        }
        let stock = replica
            .transactions
            .sku(&sku)
            .await
            .expect("read")
            .expect("sku")
            .stock;
        assert_eq!(stock.reserved, KEYS as i64, "one reservation per key");
    }
}
