//! Recording labels: one at a time (`POST /v1/labels`) or a channel's chargeback file. A
//! label names a decision directly or through its order; fraud-like labels mark the
//! decision's entities in the link graph at once, and a later `legit` label withdraws them.
//!
//! An order is the transaction core's: its label lands on the decision the core recorded for
//! it ([`decision_of_record`]), never on one a caller posted to the decision API naming the
//! order id. A chargeback id is recorded once: again for the same decision it is a duplicate,
//! for another decision a conflict (409; a rejected row in a file), never a silent duplicate.

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;

use arbiter_engine::Decision;
use arbiter_engine::audit::Actor;
use arbiter_engine::feedback::{Label, LabelInsert, LabelKind, LabelSource, NewLabel};
use arbiter_engine::store::{Store, StoreError};
use arbiter_transactions::TxError;
use arbiter_transactions::ids::OrderId;
use arbiter_transactions::risk::decision_of_record;
use arbiter_transactions::store::TransactionStore;

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
    /// The channel's chargeback id (source `chargeback` only): recorded once.
    pub chargeback_id: Option<String>,
}

pub struct LabelService {
    store: Arc<dyn Store>,
    graph: Arc<GraphService>,
    /// The transaction core's orders and payments, where an order's decision of record is read.
    orders: Arc<dyn TransactionStore>,
}

/// What became of a chargeback's label.
enum Recorded {
    Created(Label),
    /// The chargeback id was recorded before, for this same decision: the stored label.
    Duplicate(Label),
    /// The chargeback id was recorded before for another decision: why, naming both.
    Conflict(String),
    /// The decision went between reading it and labelling it (retention): why.
    Gone(String),
}

impl LabelService {
    pub fn new(
        store: Arc<dyn Store>,
        graph: Arc<GraphService>,
        orders: Arc<dyn TransactionStore>,
    ) -> Self {
        LabelService {
            store,
            graph,
            orders,
        }
    }

    /// The decision labelled, or why there is none (naming what was asked for).
    async fn find(&self, target: &LabelTarget) -> Result<Result<Decision, String>, FeedbackError> {
        let decision_id = match target {
            LabelTarget::Decision(id) => id.clone(),
            LabelTarget::Order(id) => {
                let order_id = OrderId::from(id.as_str());
                let Some(order) = self.orders.order(&order_id).await.map_err(tx_error)? else {
                    return Ok(Err(format!(
                        "no order `{id}` (a decision posted to the decision API is labelled by \
                         its `decision_id`)"
                    )));
                };
                let payments = self.orders.payments_of(&order_id).await.map_err(tx_error)?;
                match decision_of_record(&order, &payments) {
                    Some(d) => d.to_owned(),
                    None => {
                        return Ok(Err(format!(
                            "order `{id}` has no risk decision recorded (its risk host failed)"
                        )));
                    }
                }
            }
        };
        Ok(match self.store.get_decision(&decision_id).await? {
            Some(decision) => Ok(decision),
            None => Err(format!("no decision `{decision_id}`")),
        })
    }

    /// Stores `label`; a chargeback id recorded before is a duplicate or a conflict.
    async fn record(&self, label: &NewLabel, actor: &Actor) -> Result<Recorded, FeedbackError> {
        Ok(match self.store.insert_label(label, actor).await? {
            LabelInsert::Created(l) => Recorded::Created(l),
            LabelInsert::Duplicate(l) if l.decision_id == label.decision_id => {
                Recorded::Duplicate(l)
            }
            LabelInsert::Duplicate(l) => {
                let why = format!(
                    "chargeback `{}` was recorded for decision `{}`, not `{}`",
                    l.external_id.as_deref().unwrap_or_default(),
                    l.decision_id,
                    label.decision_id
                );
                Recorded::Conflict(why)
            }
            LabelInsert::NoDecision => {
                Recorded::Gone(format!("no decision `{}`", label.decision_id))
            }
        })
    }

    pub async fn create(
        &self,
        req: NewLabelRequest,
        actor: &Actor,
    ) -> Result<Label, FeedbackError> {
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
        let external_id = req.chargeback_id.filter(|c| !c.trim().is_empty());
        if external_id.is_some() && source != LabelSource::Chargeback {
            return Err(invalid(
                "chargeback_id",
                "goes with `\"source\": \"chargeback\"` only",
            ));
        }
        let field = match target {
            LabelTarget::Decision(_) => "decision_id",
            LabelTarget::Order(_) => "order_id",
        };
        let decision = self
            .find(&target)
            .await?
            .map_err(|why| invalid(field, why))?;
        let label = NewLabel {
            decision_id: decision.decision_id.0.clone(),
            kind,
            source,
            external_id,
            note: req.note.filter(|n| !n.is_empty()),
        };
        match self.record(&label, actor).await? {
            Recorded::Created(stored) => {
                self.applied(&decision, kind).await;
                Ok(stored)
            }
            // The same chargeback again: answered with what is stored, applied once.
            Recorded::Duplicate(stored) => Ok(stored),
            Recorded::Conflict(why) => Err(FeedbackError::Conflict(why)),
            Recorded::Gone(why) => Err(invalid(field, why)),
        }
    }

    /// Every label of a decision, oldest first.
    pub async fn history(&self, decision_id: &str) -> Result<Vec<Label>, FeedbackError> {
        Ok(self.store.labels_for_decision(decision_id).await?)
    }

    /// The newest label of a decision is this one: mark or unmark the graph, count it.
    async fn applied(&self, decision: &Decision, kind: LabelKind) {
        metrics::counter!(names::LABELS_TOTAL, "label" => kind.as_str()).increment(1);
        self.graph.apply_label(decision, kind).await;
    }

    /// Imports a chargeback file: every row is imported, a duplicate, or rejected with why.
    pub async fn import_chargebacks(
        &self,
        file: &[u8],
        actor: &Actor,
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
            match self.import_row(&row, actor).await? {
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
        actor: &Actor,
    ) -> Result<Result<bool, String>, FeedbackError> {
        let target = match (&row.decision_id, &row.order_id) {
            (Some(d), _) => LabelTarget::Decision(d.clone()),
            (None, Some(o)) => LabelTarget::Order(o.clone()),
            (None, None) => return Ok(Err("neither order_id nor decision_id is given".into())),
        };
        let decision = match self.find(&target).await? {
            Ok(decision) => decision,
            Err(why) => return Ok(Err(why)),
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
        };
        Ok(match self.record(&label, actor).await? {
            Recorded::Created(_) => {
                self.applied(&decision, LabelKind::Chargeback).await;
                Ok(true)
            }
            Recorded::Duplicate(_) => Ok(false),
            Recorded::Conflict(why) | Recorded::Gone(why) => Err(why),
        })
    }
}

/// A transaction-store failure while reading an order: a storage failure of the feedback loop.
fn tx_error(e: TxError) -> FeedbackError {
    match e {
        TxError::Store(s) => FeedbackError::Store(s),
        other => FeedbackError::Store(StoreError::Backend(other.to_string())),
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
