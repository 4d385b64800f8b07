//! Channel statements for reconciliation (issue 20) on real storage (SQLite; PostgreSQL when
//! `DATABASE_URL` is set): a statement is archived byte for byte with the rows it read; the
//! same file again — one after the other or at the same moment — is the statement already held.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::audit::Actor;
use arbiter_transactions::reconciliation::archive::{Imported, prepare};
use arbiter_transactions::store::TransactionStore;
use chrono::{NaiveDate, Utc};

on_every_backend!(a_statement_is_archived_unchanged_with_its_rows);
on_every_backend!(the_same_file_twice_is_one_statement);
on_every_backend!(the_same_file_for_another_day_is_another_statement);
on_every_backend!(a_statements_rows_stream_in_byte_order_of_our_ids);

fn card_statement(tag: &str) -> Vec<u8> {
    support::statements::card_statement(tag, "2026-12-06")
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")
}

mod stories {
    pub use super::byte_order::a_statements_rows_stream_in_byte_order_of_our_ids;
    pub use super::other_days::the_same_file_for_another_day_is_another_statement;
    use super::*;

    pub async fn a_statement_is_archived_unchanged_with_its_rows(store: Arc<dyn TransactionStore>) {
        let bytes = card_statement("a");
        let prepared = prepare("card", day(), bytes.clone(), "admin", Utc::now()).expect("reads");
        let Imported::New(stored) = store
            .import_statement(&prepared, &Actor::cli())
            .await
            .expect("import")
        else {
            panic!("a new file is a new statement");
        };
        assert_eq!(
            (stored.row_count, stored.size_bytes, stored.date),
            (3, bytes.len() as u64, day())
        );
        assert_eq!(
            store.statement(&stored.id).await.expect("read"),
            Some(stored.clone()),
            "read back as stored (times to the microsecond)"
        );
        assert_eq!(
            store.statement_content(&stored.id).await.expect("read"),
            Some(bytes),
            "the file, byte for byte"
        );
        assert_eq!(
            store.statement_rows(&stored.id).await.expect("rows"),
            prepared.rows
        );
        assert_eq!(store.statement("st_none").await.expect("read"), None);
    }

    pub async fn the_same_file_twice_is_one_statement(store: Arc<dyn TransactionStore>) {
        let bytes = card_statement("b");
        let import = |store: Arc<dyn TransactionStore>, bytes: Vec<u8>| async move {
            let prepared = prepare("card", day(), bytes, "admin", Utc::now()).expect("reads");
            store
                .import_statement(&prepared, &Actor::cli())
                .await
                .expect("import")
        };
        let first = import(store.clone(), bytes.clone()).await;
        let Imported::New(first) = first else {
            panic!("first import: {first:?}");
        };
        let again = import(store.clone(), bytes.clone()).await;
        assert_eq!(again, Imported::Existing(first.clone()));

        // Another file at the same moment from two callers: one statement, the other told so.
        let other = card_statement("c");
        let (x, y) = tokio::join!(
            import(store.clone(), other.clone()),
            import(store.clone(), other.clone())
        );
        let ids: Vec<&str> = [&x, &y]
            .iter()
            .map(|i| match i {
                Imported::New(s) | Imported::Existing(s) => s.id.as_str(),
            })
            .collect();
        assert_eq!(ids[0], ids[1], "{x:?} {y:?}");
        assert_eq!(
            [&x, &y]
                .iter()
                .filter(|i| matches!(i, Imported::New(_)))
                .count(),
            1
        );
        let held = match &x {
            Imported::New(s) | Imported::Existing(s) => s.id.clone(),
        };
        assert_eq!(store.statement_rows(&held).await.expect("rows").len(), 3);
    }
}

mod other_days {
    use super::*;

    /// Two days without movements write the same bytes; each is its own statement.
    pub async fn the_same_file_for_another_day_is_another_statement(
        store: Arc<dyn TransactionStore>,
    ) {
        let empty = b"id,type,source,amount,fee,net,currency,created,reporting_category\n".to_vec();
        let mut ids = Vec::new();
        for date in [day(), day().succ_opt().expect("next")] {
            let prepared =
                prepare("card", date, empty.clone(), "admin", Utc::now()).expect("reads");
            match store
                .import_statement(&prepared, &Actor::cli())
                .await
                .expect("import")
            {
                Imported::New(s) => ids.push(s.id),
                Imported::Existing(s) => panic!("another day: {s:?}"),
            }
        }
        assert_ne!(ids[0], ids[1]);
        let next = store
            .statement_of_day("card", day().succ_opt().expect("next"))
            .await
            .expect("read")
            .expect("held");
        assert_eq!(next.id, ids[1]);
    }
}

mod byte_order {
    use super::*;

    /// The run merges the rows with the book by comparing our ids byte for byte: the cursor
    /// must give them in that order, whatever the database's locale would say.
    pub async fn a_statements_rows_stream_in_byte_order_of_our_ids(
        store: Arc<dyn TransactionStore>,
    ) {
        let ours = ["b", "B", "a_2", "a-1", "a1", "Ab", "a 3", "é"];
        let mut csv = String::from(
            "id,type,source,amount,fee,net,currency,created,reporting_category,payment_metadata[channel_payment_id]\n",
        );
        for (i, our) in ours.iter().enumerate() {
            csv.push_str(&format!(
                "txn_{i},charge,ch_{i},1.00,0.00,1.00,usd,2026-12-06 10:00:00,charge,{our}\n"
            ));
        }
        csv.push_str("txn_none,charge,ch_none,1.00,0.00,1.00,usd,2026-12-06 10:00:00,charge,\n");
        let prepared =
            prepare("card", day(), csv.into_bytes(), "admin", Utc::now()).expect("reads");
        let Imported::New(stored) = store
            .import_statement(&prepared, &Actor::cli())
            .await
            .expect("import")
        else {
            panic!("new");
        };
        let mut stream = store.stream_statement_rows(&stored.id);
        let mut streamed = Vec::new();
        while let Some(row) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            streamed.push(row.expect("row").our_ref);
        }
        let mut ids: Vec<String> = streamed.iter().flatten().cloned().collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "byte order");
        ids.dedup();
        assert_eq!(ids.len(), ours.len());
        assert_eq!(streamed.iter().filter(|o| o.is_none()).count(), 1);
    }
}
