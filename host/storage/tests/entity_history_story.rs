//! An entity's decisions, written once over `Arc<dyn Store>` and run against SQLite always and
//! PostgreSQL when `DATABASE_URL` is set: a walk along a kind's chain from a stored decision
//! gives its decisions newest first, bounded, each with its columns and context, and ends at a
//! decision that names no previous one or at one that was never stored.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::Decision;
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::Store;

on_every_backend!(an_entitys_chain_is_walked_newest_first);

/// A decision for `user` from `device`, linked to the previous ones given.
fn decision(
    request_id: &str,
    user: &str,
    device: &str,
    prev_user: Option<&Decision>,
    prev_device: Option<&Decision>,
) -> Decision {
    let mut d = support::fixtures::decision(request_id);
    d.context.user_id = user.into();
    d.context.device_id = Some(device.into());
    d.chain.user = prev_user.map(|p| p.decision_id.0.clone());
    d.chain.device = prev_device.map(|p| p.decision_id.0.clone());
    d
}

mod stories {
    use super::*;

    async fn ids(
        store: &Arc<dyn Store>,
        kind: ListKind,
        from: &Decision,
        limit: u32,
    ) -> Vec<String> {
        store
            .entity_decisions(kind, &from.decision_id.0, limit)
            .await
            .expect("walk")
            .into_iter()
            .map(|p| p.decision_id)
            .collect()
    }

    pub async fn an_entitys_chain_is_walked_newest_first(store: Arc<dyn Store>) {
        let d1 = decision("ch-1", "u-1", "dev-a", None, None);
        let d2 = decision("ch-2", "u-1", "dev-b", Some(&d1), None);
        let d3 = decision("ch-3", "u-2", "dev-a", None, Some(&d1));
        let d4 = decision("ch-4", "u-1", "dev-a", Some(&d2), Some(&d3));
        store
            .insert_decisions(std::slice::from_ref(&d1))
            .await
            .expect("first");
        store
            .insert_decisions(&[d2.clone(), d3.clone(), d4.clone()])
            .await
            .expect("batch");
        let id = |d: &Decision| d.decision_id.0.clone();

        assert_eq!(
            ids(&store, ListKind::User, &d4, 10).await,
            [id(&d4), id(&d2), id(&d1)]
        );
        assert_eq!(
            ids(&store, ListKind::Device, &d4, 10).await,
            [id(&d4), id(&d3), id(&d1)]
        );
        assert_eq!(
            ids(&store, ListKind::User, &d4, 2).await,
            [id(&d4), id(&d2)],
            "bounded"
        );
        assert_eq!(
            ids(&store, ListKind::User, &d1, 10).await,
            [id(&d1)],
            "seen first"
        );
        assert_eq!(
            ids(&store, ListKind::Email, &d4, 10).await,
            [id(&d4)],
            "no e-mail link"
        );

        // A link to a decision that was never stored ends the walk there.
        let lost = decision("ch-lost", "u-1", "dev-a", None, None);
        let d5 = decision("ch-5", "u-1", "dev-a", Some(&lost), None);
        store
            .insert_decisions(std::slice::from_ref(&d5))
            .await
            .expect("d5");
        assert_eq!(ids(&store, ListKind::User, &d5, 10).await, [id(&d5)]);
        let never = store
            .entity_decisions(ListKind::User, &lost.decision_id.0, 10)
            .await
            .expect("walk");
        assert!(never.is_empty());

        // What the usual behaviour reads: the context as stored, with the columns, and the
        // chain kept in the stored decision.
        let past = store
            .entity_decisions(ListKind::User, &d3.decision_id.0, 1)
            .await
            .expect("d3");
        assert_eq!(past[0].context.device_id.as_deref(), Some("dev-a"));
        assert_eq!(past[0].context.amount, d3.context.amount);
        assert_eq!((past[0].action, past[0].score), (d3.action, d3.score));
        assert_eq!(
            past[0].created_at.timestamp_micros(),
            d3.created_at.timestamp_micros()
        );
        let stored = store
            .get_decision(&d4.decision_id.0)
            .await
            .expect("get")
            .expect("d4");
        assert_eq!(stored.chain, d4.chain);
    }
}
