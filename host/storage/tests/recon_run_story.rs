//! Reconciliation runs on real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): every
//! difference is one ticket per day however often the day is run, a later run clears what it
//! no longer finds, a person resolves a ticket once with a note; a statement's fees and payout
//! are posted once — also when two runs race — and a corrected statement of the day replaces
//! them exactly.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::audit::Actor;
use arbiter_transactions::TxError;
use arbiter_transactions::ledger::Account;
use arbiter_transactions::reconciliation::archive::{Imported, StoredStatement, prepare};
use arbiter_transactions::reconciliation::matching::{Difference, DifferenceKind, Outcome};
use arbiter_transactions::reconciliation::settlement::{Settlement, day_results};
use arbiter_transactions::reconciliation::tickets::{NewRun, TicketFilter};
use arbiter_transactions::status::TicketStatus;
use arbiter_transactions::store::TransactionStore;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use support::catalogue::usd;

on_every_backend!(a_difference_is_one_ticket_until_resolved_or_no_longer_found);
on_every_backend!(a_statement_is_settled_once_and_a_corrected_one_replaces_it);
on_every_backend!(a_days_claim_goes_to_one_holder_and_is_taken_over_only_when_it_lapses);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")
}

/// A card statement: a payment of 100.00 with its fee of 3.20 and the payout of the rest.
fn statement(fee: &str, payout: &str) -> Vec<u8> {
    format!(
        "id,type,source,amount,fee,net,currency,created,reporting_category\n\
         txn_1,charge,ch_1,100.00,{fee},{net},usd,2026-12-06 10:00:00,charge\n\
         txn_2,payout,po_1,-{payout},0.00,-{payout},usd,2026-12-06 23:00:00,payout\n",
        net = "100.00".parse::<Decimal>().expect("d") - fee.parse::<Decimal>().expect("fee"),
    )
    .into_bytes()
}

async fn import(
    store: &Arc<dyn TransactionStore>,
    bytes: Vec<u8>,
) -> (StoredStatement, Settlement) {
    let prepared = prepare("card", day(), bytes, "admin", Utc::now()).expect("reads");
    let settlement = Settlement::of("card", &prepared.rows);
    match store
        .import_statement(&prepared, &Actor::cli())
        .await
        .expect("import")
    {
        Imported::New(s) => (s, settlement),
        Imported::Existing(s) => panic!("a new file: {s:?}"),
    }
}

fn difference(kind: DifferenceKind, reference: &str) -> Difference {
    Difference {
        kind,
        reference: reference.to_owned(),
        line: Some(2),
        detail: format!("{} of {reference}", kind.as_str()),
    }
}

fn run(statement: &StoredStatement, settlement: &Settlement, found: Vec<Difference>) -> NewRun {
    NewRun::new(
        "card",
        day(),
        &statement.id,
        Outcome {
            rows: 1,
            matched: 1 - found.len().min(1),
            pending: 0,
            differences: found,
        },
        settlement.clone(),
        Utc::now(),
    )
}

mod stories {
    pub use super::claims::a_days_claim_goes_to_one_holder_and_is_taken_over_only_when_it_lapses;
    use super::*;

    pub async fn a_difference_is_one_ticket_until_resolved_or_no_longer_found(
        store: Arc<dyn TransactionStore>,
    ) {
        let (statement, settlement) = import(&store, statement("3.20", "96.80")).await;
        let two = vec![
            difference(DifferenceKind::AmountMismatch, "pay_a"),
            difference(DifferenceKind::MissingChannel, "pay_b"),
        ];
        let first = store
            .record_run(&run(&statement, &settlement, two.clone()), &Actor::cli())
            .await
            .expect("first run");
        assert_eq!((first.opened, first.cleared), (2, 0));
        let again = store
            .record_run(&run(&statement, &settlement, two), &Actor::cli())
            .await
            .expect("the same day again");
        assert_eq!(
            (again.opened, again.cleared),
            (0, 0),
            "a difference is one ticket per day"
        );

        let open = TicketFilter {
            status: Some(TicketStatus::Open),
            ..TicketFilter::default()
        };
        let tickets = store.tickets(&open, 50).await.expect("list");
        assert_eq!(tickets.len(), 2);
        assert!(tickets[0].id > tickets[1].id, "newest first");
        let missing = tickets
            .iter()
            .find(|t| t.kind == DifferenceKind::MissingChannel)
            .expect("missing_channel ticket")
            .clone();
        assert_eq!(
            (missing.reference.as_str(), missing.line, missing.date),
            ("pay_b", Some(2), day())
        );

        // The statement is corrected at the channel: the next run finds only the amount.
        let later = store
            .record_run(
                &run(
                    &statement,
                    &settlement,
                    vec![difference(DifferenceKind::AmountMismatch, "pay_a")],
                ),
                &Actor::cli(),
            )
            .await
            .expect("later run");
        assert_eq!((later.opened, later.cleared), (0, 1));
        let cleared = store
            .ticket(&missing.id)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(cleared.status, TicketStatus::Cleared);
        assert!(
            cleared
                .closed_by
                .as_deref()
                .is_some_and(|by| by.starts_with("rr_"))
        );

        let amount = store.tickets(&open, 50).await.expect("list").remove(0);
        assert_eq!(amount.kind, DifferenceKind::AmountMismatch);
        let person = Actor {
            id: "key_ops".into(),
            name: "ops".into(),
        };
        let resolved = store
            .resolve_ticket(&amount.id, "refunded the 0.50 by hand", &person, Utc::now())
            .await
            .expect("resolve");
        assert_eq!(resolved.status, TicketStatus::Resolved);
        assert_eq!(resolved.note.as_deref(), Some("refunded the 0.50 by hand"));
        assert_eq!(resolved.closed_by.as_deref(), Some(person.name.as_str()));
        let twice = store
            .resolve_ticket(&amount.id, "again", &person, Utc::now())
            .await
            .expect_err("resolved once");
        assert!(
            matches!(&twice, TxError::StatusChanged { actual, .. } if actual == "RESOLVED"),
            "{twice:?}"
        );
        let unknown = store
            .resolve_ticket("rt_none", "x", &person, Utc::now())
            .await
            .expect_err("no such ticket");
        assert!(matches!(unknown, TxError::NotFound { .. }), "{unknown:?}");
        // A resolved difference found again stays resolved: it is not reopened.
        store
            .record_run(
                &run(
                    &statement,
                    &settlement,
                    vec![difference(DifferenceKind::AmountMismatch, "pay_a")],
                ),
                &Actor::cli(),
            )
            .await
            .expect("run after resolution");
        assert!(store.tickets(&open, 50).await.expect("list").is_empty());
        let by_kind = TicketFilter {
            kind: Some(DifferenceKind::AmountMismatch),
            channel: Some("card".into()),
            date: Some(day()),
            ..TicketFilter::default()
        };
        assert_eq!(store.tickets(&by_kind, 50).await.expect("list").len(), 1);
        let page = TicketFilter {
            before: Some(tickets[0].id.clone()),
            ..TicketFilter::default()
        };
        assert_eq!(
            store.tickets(&page, 50).await.expect("page"),
            vec![
                store
                    .ticket(&tickets[1].id)
                    .await
                    .expect("read")
                    .expect("held")
            ]
        );
        assert!(
            store.clean_days().await.expect("days").is_empty(),
            "the day had differences"
        );
    }

    pub async fn a_statement_is_settled_once_and_a_corrected_one_replaces_it(
        store: Arc<dyn TransactionStore>,
    ) {
        let (first, settlement) = import(&store, statement("3.20", "96.80")).await;
        // Two runs of the same statement at the same moment: one posts the settlement.
        let (a, b, cli) = (
            run(&first, &settlement, vec![]),
            run(&first, &settlement, vec![]),
            Actor::cli(),
        );
        let (x, y) = tokio::join!(store.record_run(&a, &cli), store.record_run(&b, &cli));
        let settled = [x.expect("x"), y.expect("y")]
            .iter()
            .filter(|r| r.settled)
            .count();
        assert_eq!(settled, 1, "a statement is settled once");
        assert_eq!(
            store.balance(&Account::channel_fees()).await.expect("fees"),
            vec![usd(320)]
        );
        assert_eq!(
            store.balance(&Account::bank()).await.expect("bank"),
            vec![usd(9_680)]
        );
        assert_eq!(
            store
                .balance(&Account::channel_clearing("card"))
                .await
                .expect("clearing"),
            vec![usd(-10_000)],
            "the fee and the payout of a payment the book does not hold here"
        );
        assert_eq!(
            store.clean_days().await.expect("days"),
            vec![("card".to_owned(), day())]
        );

        // The channel sends a corrected statement: a fee of 3.00, a payout of 97.00.
        let (corrected, settlement) = import(&store, statement("3.00", "97.00")).await;
        let replaced = store
            .record_run(&run(&corrected, &settlement, vec![]), &Actor::cli())
            .await
            .expect("corrected run");
        assert!(replaced.settled);
        assert_eq!(
            store.balance(&Account::channel_fees()).await.expect("fees"),
            vec![usd(300)]
        );
        assert_eq!(
            store.balance(&Account::bank()).await.expect("bank"),
            vec![usd(9_700)]
        );
        let journals = store.day_journals("card", day()).await.expect("day");
        assert_eq!(journals.len(), 6, "two posted, reversed, posted again");
        let results = day_results(&journals, "card", day());
        assert_eq!(results[0].fees, Decimal::new(300, 2));
        assert_eq!(results[0].paid_out, Decimal::new(9_700, 2));
        assert!(store.check_ledger().await.expect("check").is_sound());
        // The first statement again changes nothing: the day is settled from the corrected one
        // until a run of another statement replaces it.
        let none = store
            .record_run(&run(&corrected, &settlement, vec![]), &Actor::cli())
            .await
            .expect("again");
        assert!(!none.settled);
        assert!(
            store
                .day_journals("card", day().succ_opt().expect("next"))
                .await
                .expect("next day")
                .is_empty()
        );
    }
}

mod claims {
    use super::*;
    use chrono::Duration;

    pub async fn a_days_claim_goes_to_one_holder_and_is_taken_over_only_when_it_lapses(
        store: Arc<dyn TransactionStore>,
    ) {
        let now = Utc::now();
        let name = "recon:card:2026-12-06";
        let until = now + Duration::minutes(15);
        let (a, b) = tokio::join!(
            store.claim_job(name, "replica-a", until, now),
            store.claim_job(name, "replica-b", until, now)
        );
        assert_eq!(
            [a.expect("a"), b.expect("b")]
                .iter()
                .filter(|t| **t)
                .count(),
            1,
            "one holder"
        );
        assert!(
            !store
                .claim_job(name, "replica-c", until, now + Duration::minutes(14))
                .await
                .expect("held")
        );
        // The holder died: once the claim lapses another takes it, and finishes it.
        let later = now + Duration::minutes(16);
        assert!(
            store
                .claim_job(name, "replica-c", later + Duration::minutes(15), later)
                .await
                .expect("lapsed")
        );
        store
            .finish_job(name, "replica-c", later)
            .await
            .expect("finish");
        let much_later = now + Duration::days(2);
        assert!(
            !store
                .claim_job(name, "replica-a", much_later, much_later)
                .await
                .expect("done"),
            "a done claim is never taken again"
        );
    }
}
