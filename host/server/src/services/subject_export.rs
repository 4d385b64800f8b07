//! Exporting a person's records (GDPR Art. 15 / 20, CCPA access): every stored decision
//! about them, its review and labels, their orders with payments and refunds, and the list
//! entries and snoozes naming their identifiers — found as an erasure finds them
//! (`ErasureStore::subject_identifiers`), so what an export shows is what an erasure would
//! replace. Audited (`subject.export`): who read whose records, by pseudonym and counts.

use std::collections::BTreeMap;

use arbiter_engine::Decision;
use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::erasure::{Identifiers, Subject};
use arbiter_engine::feedback::{Label, Review};
use arbiter_engine::lists::ListEntry;
use arbiter_engine::snooze::RuleSnooze;
use arbiter_engine::store::SnoozeFilter;
use arbiter_transactions::ids::OrderId;
use arbiter_transactions::order::Order;
use arbiter_transactions::payment::{Payment, Refund};

use crate::app_state::Services;
use crate::services::erasure::{ErasureError, ErasureService};

/// Snoozes read per entity (an entity is rarely snoozed more than a few times).
const SNOOZES_PER_ENTITY: u32 = 500;

/// A payment of theirs with its refunds.
pub struct PaymentRecords {
    pub payment: Payment,
    pub refunds: Vec<Refund>,
}

/// An order of theirs with its payments.
pub struct OrderRecords {
    pub order: Order,
    pub payments: Vec<PaymentRecords>,
}

/// Everything stored about one person.
pub struct SubjectRecords {
    pub subject: Subject,
    pub identifiers: Identifiers,
    pub decisions: Vec<Decision>,
    pub reviews: Vec<Review>,
    pub labels: Vec<Label>,
    pub orders: Vec<OrderRecords>,
    pub list_entries: Vec<ListEntry>,
    pub snoozes: Vec<RuleSnooze>,
}

impl SubjectRecords {
    fn counts(&self) -> BTreeMap<&'static str, usize> {
        BTreeMap::from([
            ("decisions", self.decisions.len()),
            ("reviews", self.reviews.len()),
            ("labels", self.labels.len()),
            ("orders", self.orders.len()),
            ("list_entries", self.list_entries.len()),
            ("snoozes", self.snoozes.len()),
        ])
    }
}

impl ErasureService {
    /// Reads everything stored about `subject`, and audits that `actor` did.
    pub async fn export(
        &self,
        app: &Services,
        subject: &Subject,
        actor: &Actor,
    ) -> Result<SubjectRecords, ErasureError> {
        let _one_at_a_time = self.exclusive().await;
        let store = app.store.as_ref();
        let identifiers = store.subject_identifiers(subject).await?;
        let mut decisions = Vec::with_capacity(identifiers.decisions.len());
        let mut labels = Vec::new();
        for id in &identifiers.decisions {
            if let Some(d) = store.get_decision(id).await? {
                decisions.push(d);
            }
            labels.extend(store.labels_for_decision(id).await?);
        }
        let ids: Vec<String> = identifiers.decisions.iter().cloned().collect();
        let reviews = store.reviews_of(&ids).await?;
        let mut orders = Vec::with_capacity(identifiers.orders.len());
        for id in &identifiers.orders {
            let id = OrderId::from(id.as_str());
            let Some(order) = self.transactions().order(&id).await? else {
                continue;
            };
            let mut payments = Vec::new();
            for payment in self.transactions().payments_of(&id).await? {
                let refunds = self.transactions().refunds_of(&payment.id).await?;
                payments.push(PaymentRecords { payment, refunds });
            }
            orders.push(OrderRecords { order, payments });
        }
        let mut list_entries = Vec::new();
        let mut snoozes = Vec::new();
        for (kind, value) in identifiers.entities() {
            list_entries.extend(store.find_list_entries(Some(kind), Some(value)).await?);
            let filter = SnoozeFilter {
                kind: Some(kind),
                value: Some(value.to_owned()),
                ..SnoozeFilter::default()
            };
            snoozes.extend(store.list_snoozes(&filter, SNOOZES_PER_ENTITY).await?);
        }
        let records = SubjectRecords {
            subject: subject.clone(),
            identifiers,
            decisions,
            reviews,
            labels,
            orders,
            list_entries,
            snoozes,
        };
        let pseudonym = self.pseudonym(&subject.value);
        let audit = AuditRecord::subject_exported(subject, &pseudonym, &records.counts());
        store.audit_export(audit, actor).await?;
        Ok(records)
    }
}
