//! Recording labels: one at a time (`POST /v1/labels`) or a channel's chargeback file. A
//! label names a decision directly or through its order; fraud-like labels mark the
//! decision's entities in the link graph at once, and a later `legit` label withdraws them.

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;

use arbiter_engine::Decision;
use arbiter_engine::feedback::{Label, LabelInsert, LabelKind, LabelSource, NewLabel};
use arbiter_engine::store::Store;

use super::chargebacks::{self, ChargebackRow, ImportReport, RejectedRow};
use super::error::{FeedbackError, invalid};
use super::limits::{MAX_NOTE_CHARS, MAX_REF_CHARS, at_most};
use crate::metrics::names;
use crate::services::graph::GraphService;

/// What a label is about.
pub enum LabelTarget {
    Decision(String),
    Order(String),
}

/// A label as the caller sends it, before validation.
pub struct NewLabelRequest {
    pub decision_id: Option<String>,
    pub order_id: Option<String>,
    pub label: String,
    pub source: String,
    pub note: Option<String>,
}

pub struct LabelService {
    store: Arc<dyn Store>,
    graph: Arc<GraphService>,
}

impl LabelService {
    pub fn new(store: Arc<dyn Store>, graph: Arc<GraphService>) -> Self {
        LabelService { store, graph }
    }

    async fn find(&self, target: &LabelTarget) -> Result<Option<Decision>, FeedbackError> {
        Ok(match target {
            LabelTarget::Decision(id) => self.store.get_decision(id).await?,
            LabelTarget::Order(id) => self.store.decision_for_order(id).await?,
        })
    }

    pub async fn create(&self, req: NewLabelRequest, caller: &str) -> Result<Label, FeedbackError> {
        for (field, value, max) in [
            ("decision_id", req.decision_id.as_deref(), MAX_REF_CHARS),
            ("order_id", req.order_id.as_deref(), MAX_REF_CHARS),
            ("note", req.note.as_deref(), MAX_NOTE_CHARS),
        ] {
            at_most(field, value.unwrap_or_default(), max)?;
        }
        let target = match (req.decision_id, req.order_id) {
            (Some(d), None) => LabelTarget::Decision(d),
            (None, Some(o)) => LabelTarget::Order(o),
            _ => {
                return Err(invalid(
                    "decision_id",
                    "give exactly one of `decision_id` and `order_id`",
                ));
            }
        };
        let kind: LabelKind = req.label.parse().map_err(|m: String| invalid("label", m))?;
        let source: LabelSource = req
            .source
            .parse()
            .map_err(|m: String| invalid("source", m))?;
        let Some(decision) = self.find(&target).await? else {
            return Err(match target {
                LabelTarget::Decision(id) => invalid("decision_id", format!("no decision `{id}`")),
                LabelTarget::Order(id) => {
                    invalid("order_id", format!("no decision names order `{id}`"))
                }
            });
        };
        let label = NewLabel {
            decision_id: decision.decision_id.0.clone(),
            kind,
            source,
            external_id: None,
            note: req.note.filter(|n| !n.is_empty()),
            created_by: caller.to_owned(),
        };
        let stored = match self.store.insert_label(&label).await? {
            LabelInsert::Created(l) | LabelInsert::Duplicate(l) => l,
        };
        self.applied(&decision, kind);
        Ok(stored)
    }

    /// Every label of a decision, oldest first.
    pub async fn history(&self, decision_id: &str) -> Result<Vec<Label>, FeedbackError> {
        Ok(self.store.labels_for_decision(decision_id).await?)
    }

    /// The newest label of a decision is this one: mark or unmark the graph, count it.
    fn applied(&self, decision: &Decision, kind: LabelKind) {
        metrics::counter!(names::LABELS_TOTAL, "label" => kind.as_str()).increment(1);
        self.graph
            .apply_label(&decision.decision_id.0, &decision.context, kind.is_fraud());
    }

    /// Imports a chargeback file: every row is imported, a duplicate, or rejected with why.
    pub async fn import_chargebacks(
        &self,
        file: &[u8],
        caller: &str,
    ) -> Result<ImportReport, FeedbackError> {
        let mut report = ImportReport::default();
        for row in chargebacks::parse(file)? {
            let row = match row {
                Ok(row) => row,
                Err(rejected) => {
                    report.rejected.push(rejected);
                    continue;
                }
            };
            match self.import_row(&row, caller).await? {
                Ok(true) => report.imported += 1,
                Ok(false) => report.duplicates += 1,
                Err(reason) => report.rejected.push(RejectedRow {
                    line: row.line,
                    reason,
                }),
            }
        }
        Ok(report)
    }

    /// `Ok(Ok(true))` imported, `Ok(Ok(false))` a duplicate, `Ok(Err(why))` rejected.
    async fn import_row(
        &self,
        row: &ChargebackRow,
        caller: &str,
    ) -> Result<Result<bool, String>, FeedbackError> {
        let target = match (&row.decision_id, &row.order_id) {
            (Some(d), _) => LabelTarget::Decision(d.clone()),
            (None, Some(o)) => LabelTarget::Order(o.clone()),
            (None, None) => return Ok(Err("neither order_id nor decision_id is given".into())),
        };
        let Some(decision) = self.find(&target).await? else {
            return Ok(Err(match target {
                LabelTarget::Decision(id) => format!("no decision `{id}`"),
                LabelTarget::Order(id) => format!("no decision names order `{id}`"),
            }));
        };
        if let Some((value, currency)) = &row.amount
            && let Some(mismatch) = amount_mismatch(&decision, value, currency)
        {
            return Ok(Err(mismatch));
        }
        let label = NewLabel {
            decision_id: decision.decision_id.0.clone(),
            kind: LabelKind::Chargeback,
            source: LabelSource::Chargeback,
            external_id: Some(row.chargeback_id.clone()),
            note: row.reason.clone(),
            created_by: caller.to_owned(),
        };
        Ok(match self.store.insert_label(&label).await? {
            LabelInsert::Created(_) => {
                self.applied(&decision, LabelKind::Chargeback);
                Ok(true)
            }
            LabelInsert::Duplicate(_) => Ok(false),
        })
    }
}

/// Why a chargeback's amount does not fit the decision, if it does not.
fn amount_mismatch(decision: &Decision, value: &Decimal, currency: &str) -> Option<String> {
    let Some(amount) = &decision.context.amount else {
        return Some(format!(
            "the chargeback is for {value} {currency} but decision `{}` has no amount",
            decision.decision_id
        ));
    };
    // A chargeback may be partial, never more than was paid or in another currency.
    let decided = Decimal::from_str(&amount.value).ok();
    let fits = amount.currency == currency && decided.is_some_and(|d| *value <= d);
    (!fits).then(|| {
        format!(
            "the chargeback is for {value} {currency} but decision `{}` was for {} {}",
            decision.decision_id, amount.value, amount.currency
        )
    })
}
