//! The backtest story: the projection written with each decision, read back page by page with
//! each decision's latest label, and a run's record through its state machine. Written once
//! over `Arc<dyn Store>`, run against SQLite always and PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::Checkpoint;
use arbiter_engine::audit::{AuditFilter, action};
use arbiter_engine::backtest::{
    Backtest, BacktestSpec, BacktestStatus, Cursor, Progress, RecordedDecision, Window,
};
use arbiter_engine::feedback::{LabelKind, LabelSource, NewLabel};
use arbiter_engine::stages::ModelOutcome;
use arbiter_engine::store::Store;
use chrono::{Duration, SubsecRound, Utc};
use support::fixtures::{actor, decision, faulted_decision};

on_every_backend!(each_decision_is_recorded_for_replay_exactly);
on_every_backend!(pages_follow_the_window_and_carry_the_latest_label);
on_every_backend!(a_run_moves_only_from_running_to_one_final_state);
on_every_backend!(runs_whose_process_stopped_are_failed);
on_every_backend!(shadow_results_are_read_back_for_the_rollout_summary);

fn spec() -> BacktestSpec {
    serde_json::from_value(serde_json::json!({
        "candidate": 1,
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-02-01T00:00:00Z"
    }))
    .expect("spec")
}

fn running() -> Backtest {
    Backtest {
        backtest_id: Backtest::generate_id(),
        status: BacktestStatus::Running,
        spec: spec(),
        progress: Progress { read: 0, total: 10 },
        result: None,
        error: None,
        created_by: actor().id,
        created_at: Utc::now().trunc_subsecs(6),
        finished_at: None,
    }
}

fn label(decision_id: &str, kind: LabelKind) -> NewLabel {
    NewLabel {
        decision_id: decision_id.into(),
        kind,
        source: LabelSource::Analyst,
        external_id: None,
        note: None,
    }
}

mod stories {
    use super::*;

    pub async fn each_decision_is_recorded_for_replay_exactly(store: Arc<dyn Store>) {
        let mut d = decision("bt-exact");
        d.layers.model = Some(ModelOutcome {
            version: 7,
            probability: 0.1 + 0.7 * std::f64::consts::FRAC_1_SQRT_2 / 3.0,
        });
        let blocked = {
            let mut b = faulted_decision("bt-blocked");
            b.layers.lists.verdict = Some(arbiter_engine::Action::Reject);
            b
        };
        store
            .insert_decisions(&[d.clone(), blocked.clone()])
            .await
            .expect("insert");
        // A duplicate request writes no second projection.
        let mut again = decision("bt-exact");
        again.created_at = d.created_at;
        store.insert_decisions(&[again]).await.expect("replay");
        let window = Window {
            from: d.created_at - Duration::minutes(1),
            to: d.created_at + Duration::minutes(1),
            checkpoint: None,
        };
        let page = store
            .recorded_page(window, Utc::now(), None, 10)
            .await
            .expect("page");
        assert_eq!(page.len(), 2);
        let page: Vec<_> = page
            .into_iter()
            .map(|row| row.decode().expect("decodes"))
            .collect();
        for original in [&d, &blocked] {
            let (read, label) = page
                .iter()
                .find(|(r, _)| r.decision_id == original.decision_id.0)
                .expect("recorded");
            let mut expected = RecordedDecision::of(original);
            expected.created_at = expected.created_at.trunc_subsecs(6);
            assert_eq!(
                read, &expected,
                "the projection is the decision's replay input"
            );
            assert_eq!(read.score.to_bits(), original.score.to_bits());
            assert_eq!(*label, None);
        }
    }

    pub async fn pages_follow_the_window_and_carry_the_latest_label(store: Arc<dyn Store>) {
        let base = Utc::now().trunc_subsecs(6) - Duration::days(3);
        let mut batch = Vec::new();
        for i in 0..7 {
            let mut d = decision(&format!("bt-page-{i}"));
            // Two decisions share an instant: the cursor breaks the tie by id.
            d.created_at = base + Duration::minutes(i64::from(i / 2 * 10));
            if i == 6 {
                d.context.checkpoint = Checkpoint::OrderCreate;
            }
            batch.push(d);
        }
        let mut outside = decision("bt-page-late");
        outside.created_at = base + Duration::days(2);
        batch.push(outside);
        store.insert_decisions(&batch).await.expect("insert");
        let ids: Vec<String> = batch.iter().map(|d| d.decision_id.0.clone()).collect();
        let a = actor();
        store
            .insert_label(&label(&ids[1], LabelKind::Legit), &a)
            .await
            .expect("label");
        store
            .insert_label(&label(&ids[1], LabelKind::Chargeback), &a)
            .await
            .expect("a later label supersedes");
        store
            .insert_label(&label(&ids[2], LabelKind::Fraud), &a)
            .await
            .expect("label");
        let as_of = Utc::now();
        store
            .insert_label(&label(&ids[3], LabelKind::Fraud), &a)
            .await
            .expect("a label after the run started");

        let window = Window {
            from: base,
            to: base + Duration::days(1),
            checkpoint: None,
        };
        let mut read = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = store
                .recorded_page(window, as_of, cursor.as_ref(), 3)
                .await
                .expect("page");
            let Some(last) = page.last() else { break };
            cursor = Some((last.created_at, last.decision_id.clone()));
            read.extend(page);
        }
        let mut expected: Vec<&str> = ids[..7].iter().map(String::as_str).collect();
        expected.sort_by_key(|id| {
            let d = batch.iter().find(|d| d.decision_id.0 == *id).expect("id");
            (d.created_at, d.decision_id.0.clone())
        });
        let got: Vec<&str> = read.iter().map(|r| r.decision_id.as_str()).collect();
        assert_eq!(got, expected, "every decision in the window once, in order");
        let label_of = |id: &str| read.iter().find(|r| r.decision_id == id).map(|r| r.label);
        assert_eq!(label_of(&ids[1]), Some(Some(LabelKind::Chargeback)));
        assert_eq!(label_of(&ids[2]), Some(Some(LabelKind::Fraud)));
        assert_eq!(label_of(&ids[3]), Some(None), "given after the run started");

        let orders = Window {
            checkpoint: Some(Checkpoint::OrderCreate),
            ..window
        };
        let page = store
            .recorded_page(orders, as_of, None, 10)
            .await
            .expect("page");
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].decision_id, ids[6]);

        let mark = store.window_watermark(window, as_of).await.expect("mark");
        assert_eq!(mark.decisions, 7);
        assert_eq!(mark.labels, 3, "two on one decision, one on another");
        assert_eq!(
            mark.last_decision_id.as_deref(),
            ids[..7].iter().max().map(String::as_str)
        );
        assert!(mark.last_label_at.is_some_and(|t| t <= as_of));
    }

    pub async fn a_run_moves_only_from_running_to_one_final_state(store: Arc<dyn Store>) {
        let a = actor();
        let b = running();
        store.insert_backtest(&b, &a).await.expect("insert");
        assert_eq!(
            store.get_backtest(&b.backtest_id).await.expect("get"),
            Some(b.clone())
        );
        assert!(store.running_backtests().await.expect("count") >= 1);
        let progress = Progress { read: 4, total: 10 };
        assert!(
            store
                .backtest_progress(&b.backtest_id, progress, Utc::now())
                .await
                .expect("progress")
        );
        let cancelled = store
            .cancel_backtest(&b.backtest_id, &a)
            .await
            .expect("cancel")
            .expect("exists");
        assert_eq!(cancelled.status, BacktestStatus::Cancelled);
        assert_eq!(cancelled.progress, progress);
        assert!(cancelled.finished_at.is_some());
        // The worker finds out at its next progress write, and its late end changes nothing.
        assert!(
            !store
                .backtest_progress(&b.backtest_id, progress, Utc::now())
                .await
                .expect("progress")
        );
        assert!(
            !store
                .finish_backtest(&b.backtest_id, BacktestStatus::Failed, None, Some("late"))
                .await
                .expect("finish")
        );
        let again = store
            .cancel_backtest(&b.backtest_id, &a)
            .await
            .expect("cancel")
            .expect("exists");
        assert_eq!(again, cancelled, "a second cancel changes nothing");
        assert_eq!(
            store.cancel_backtest("bt_none", &a).await.expect("cancel"),
            None
        );
        assert!(
            store
                .finish_backtest(&b.backtest_id, BacktestStatus::Running, None, None)
                .await
                .is_err(),
            "running is not an end"
        );

        let c = running();
        store.insert_backtest(&c, &a).await.expect("insert");
        assert!(
            store
                .finish_backtest(
                    &c.backtest_id,
                    BacktestStatus::Failed,
                    None,
                    Some("no such set")
                )
                .await
                .expect("finish")
        );
        assert_eq!(
            store.latest_succeeded_backtest(1).await.expect("latest"),
            None,
            "failed and cancelled runs do not count"
        );
        let d = running();
        store.insert_backtest(&d, &a).await.expect("insert");
        let result = arbiter_engine::backtest::BacktestResult {
            fingerprint: arbiter_engine::backtest::Fingerprint {
                id: "f".into(),
                candidate_modules: vec!["geo@1:ab".into()],
                baseline_modules: None,
                decisions: 3,
                last_decision_id: None,
                labels: 0,
                last_label_at: None,
                as_of: Utc::now().trunc_subsecs(6),
            },
            report: arbiter_engine::backtest::Report::build(&[]),
            elapsed_ms: 5,
            reading_ms: 3,
            waiting_ms: 1,
        };
        assert!(
            store
                .finish_backtest(
                    &d.backtest_id,
                    BacktestStatus::Succeeded,
                    Some(&result),
                    None
                )
                .await
                .expect("finish")
        );
        let latest = store
            .latest_succeeded_backtest(1)
            .await
            .expect("latest")
            .expect("one succeeded");
        assert_eq!(latest.backtest_id, d.backtest_id);
        assert_eq!(latest.result, Some(result), "the report reads back whole");
        assert_eq!(
            store.latest_succeeded_backtest(2).await.expect("latest"),
            None
        );
        let failed = store
            .get_backtest(&c.backtest_id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(failed.error.as_deref(), Some("no such set"));

        let listed = store.list_backtests(None, 10).await.expect("list");
        let ids: Vec<&str> = listed.iter().map(|b| b.backtest_id.as_str()).collect();
        let (pc, pb) = (
            ids.iter().position(|i| *i == c.backtest_id).expect("c"),
            ids.iter().position(|i| *i == b.backtest_id).expect("b"),
        );
        assert!(pc < pb, "newest first");
        let older = store
            .list_backtests(Some(&c.backtest_id), 10)
            .await
            .expect("list");
        assert!(older.iter().all(|x| x.backtest_id < c.backtest_id));

        let audit = store
            .list_audit(&AuditFilter::default(), 50)
            .await
            .expect("audit");
        let of = |act: &str| {
            audit
                .iter()
                .filter(|e| e.action == act && e.target == b.backtest_id)
                .count()
        };
        assert_eq!(of(action::BACKTEST_START), 1);
        assert_eq!(
            of(action::BACKTEST_CANCEL),
            1,
            "the second cancel is not audited"
        );
    }

    pub async fn shadow_results_are_read_back_for_the_rollout_summary(store: Arc<dyn Store>) {
        let since = Utc::now().trunc_subsecs(6) - Duration::seconds(1);
        let mut shadowed = decision("bt-shadow-1");
        let mut quiet = shadowed.layers.rules[0].clone();
        quiet.name = "quiet".into();
        quiet.action = arbiter_engine::Action::None;
        quiet.score = 0.0;
        quiet.reasons.clear();
        shadowed.shadow = Some(arbiter_engine::decision::ShadowResult {
            policy_set_version: 5,
            action: arbiter_engine::Action::Reject,
            score: 88.5,
            reasons: Vec::new(),
            rules: vec![shadowed.layers.rules[0].clone(), quiet],
        });
        let mut live = decision("bt-shadow-2");
        live.policy_set_version = 5;
        let other = decision("bt-shadow-3");
        store
            .insert_decisions(&[shadowed.clone(), live, other])
            .await
            .expect("insert");
        store
            .insert_label(&label(&shadowed.decision_id.0, LabelKind::Fraud), &actor())
            .await
            .expect("label");
        let rows = store
            .shadow_page(5, since, Utc::now(), None, 10)
            .await
            .expect("page");
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.decision_id, shadowed.decision_id.0);
        assert_eq!(
            (r.action, r.shadow_action, r.shadow_score),
            (
                arbiter_engine::Action::Challenge,
                arbiter_engine::Action::Reject,
                88.5
            )
        );
        assert_eq!(
            r.hits,
            ["velocity"],
            "a module that found nothing is no hit"
        );
        assert_eq!(r.amount, Some(("EUR".to_owned(), 12_999)));
        assert_eq!(r.label, Some(LabelKind::Fraud));
        assert!(
            store
                .shadow_page(6, since, Utc::now(), None, 10)
                .await
                .expect("page")
                .is_empty()
        );
        assert_eq!(
            store.served_decisions(5, since).await.expect("count"),
            2,
            "one live, one shadow"
        );
        assert_eq!(
            store.served_decisions(5, Utc::now()).await.expect("count"),
            0
        );
    }

    pub async fn runs_whose_process_stopped_are_failed(store: Arc<dyn Store>) {
        let a = actor();
        let mut stale = running();
        stale.created_at -= Duration::minutes(10);
        store.insert_backtest(&stale, &a).await.expect("insert");
        let fresh = running();
        store.insert_backtest(&fresh, &a).await.expect("insert");
        let failed = store
            .fail_abandoned_backtests(Utc::now() - Duration::minutes(1), "the process stopped")
            .await
            .expect("sweep");
        assert!(failed.contains(&stale.backtest_id));
        assert!(!failed.contains(&fresh.backtest_id));
        let s = store
            .get_backtest(&stale.backtest_id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(s.status, BacktestStatus::Failed);
        assert_eq!(s.error.as_deref(), Some("the process stopped"));
    }
}
