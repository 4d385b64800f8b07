//! Row types of the transaction core's tables and their conversion to domain values, shared by
//! both backends (generic over the timestamp column type, as in `rows`). Money is read from
//! integer minor units and an ISO 4217 code; a row that does not convert is
//! [`StoreError::Corrupt`], never a panic.

use arbiter_engine::money::Money;
use arbiter_engine::store::StoreError;
use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::{
    Line, Product, Reservation, ReservationStatus, SkuView, StockLevel,
};
use arbiter_transactions::due::DueItem;
use arbiter_transactions::ids::{IdempotencyKey, JournalId, OrderId, ReservationId, Sku};
use arbiter_transactions::ledger::{Account, Balance, Entry, Journal};
use arbiter_transactions::order::{HistoryEntry, NewOrder, Order, OrderItem};
use arbiter_transactions::outbox::OutboxEvent;
use arbiter_transactions::risk::{RiskAction, RiskFailMode, RiskRecord};
use arbiter_transactions::status::{OrderStatus, Status};
use chrono::{DateTime, SubsecRound, Utc};

use crate::columns::from_json;
use crate::error::store_error;
use crate::rows::StoredTime;

/// A sqlx error as the transaction core's error.
pub(crate) fn db(e: sqlx::Error) -> TxError {
    TxError::Store(store_error(e))
}

/// A timestamp cut to the microsecond both backends keep, as a write's read-back returns it.
pub(crate) fn stored_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Money as minor units for a column; an amount finer than the currency allows is refused.
pub(crate) fn minor(m: &Money, what: &str) -> Result<i64, TxError> {
    m.checked_minor_units().ok_or_else(|| TxError::Overflow {
        what: what.to_owned(),
    })
}

pub(crate) fn money(minor: i64, code: &str) -> Result<Money, StoreError> {
    Money::from_stored(minor, code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown currency `{code}`")))
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

fn quantity(q: i64) -> Result<u32, StoreError> {
    u32::try_from(q).map_err(|_| StoreError::Corrupt(format!("quantity `{q}`")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct SkuRow {
    sku: String,
    title: String,
    price_minor: i64,
    currency: String,
    total: i64,
    reserved: i64,
    sold: i64,
}

impl SkuRow {
    pub fn into_view(self) -> Result<SkuView, StoreError> {
        Ok(SkuView {
            product: Product {
                sku: Sku(self.sku),
                title: self.title,
                price: money(self.price_minor, &self.currency)?,
            },
            stock: StockLevel {
                total: self.total,
                reserved: self.reserved,
                sold: self.sold,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LineRow {
    sku: String,
    quantity: i64,
}

impl LineRow {
    pub fn into_line(self) -> Result<Line, StoreError> {
        Ok(Line {
            sku: Sku(self.sku),
            quantity: quantity(self.quantity)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReservationRow<T> {
    id: String,
    status: String,
    expires_at: T,
}

impl<T: StoredTime> ReservationRow<T> {
    pub fn into_reservation(self, lines: Vec<LineRow>) -> Result<Reservation, StoreError> {
        Ok(Reservation {
            status: ReservationStatus::parse(&self.status)
                .ok_or_else(|| corrupt("reservation status", &self.status))?,
            id: ReservationId(self.id),
            lines: lines
                .into_iter()
                .map(LineRow::into_line)
                .collect::<Result<_, _>>()?,
            expires_at: self.expires_at.into_utc()?,
        })
    }
}

/// The columns of an [`OrderRow`].
pub(crate) const ORDER_COLUMNS: &str = "id, idempotency_key, body_hash, status, request, \
    total_minor, currency, reservation_id, challenge_required, risk_action, risk_decision_id, \
    risk_fault, risk_fail_mode, expires_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow<T> {
    id: String,
    idempotency_key: String,
    body_hash: String,
    status: String,
    request: String,
    total_minor: i64,
    currency: String,
    reservation_id: String,
    challenge_required: bool,
    risk_action: Option<String>,
    risk_decision_id: Option<String>,
    risk_fault: Option<String>,
    risk_fail_mode: Option<String>,
    expires_at: T,
    created_at: T,
    updated_at: T,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    sku: String,
    quantity: i64,
    unit_price_minor: i64,
    currency: String,
}

impl<T: StoredTime> OrderRow<T> {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn into_order(self, items: Vec<ItemRow>) -> Result<Order, StoreError> {
        let risk = risk_record(
            self.risk_action,
            self.risk_decision_id,
            self.risk_fault,
            self.risk_fail_mode,
        )?;
        let items = items
            .into_iter()
            .map(|i| {
                Ok(OrderItem {
                    sku: Sku(i.sku),
                    quantity: quantity(i.quantity)?,
                    unit_price: money(i.unit_price_minor, &i.currency)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Order {
            status: OrderStatus::parse(&self.status)
                .ok_or_else(|| corrupt("order status", &self.status))?,
            id: OrderId(self.id),
            idempotency_key: IdempotencyKey(self.idempotency_key),
            body_hash: self.body_hash,
            request: from_json(&self.request, "order request")?,
            items,
            total: money(self.total_minor, &self.currency)?,
            reservation_id: ReservationId(self.reservation_id),
            challenge_required: self.challenge_required,
            risk,
            expires_at: self.expires_at.into_utc()?,
            created_at: self.created_at.into_utc()?,
            updated_at: self.updated_at.into_utc()?,
        })
    }
}

/// The order `create_order` has just inserted, exactly as reading it back would return it
/// (timestamps to the microsecond, money at its currency's scale), without the two reads.
pub(crate) fn inserted_order(order: &NewOrder) -> Result<Order, TxError> {
    let stored = |m: &Money, what: &str| -> Result<Money, TxError> {
        Ok(money(minor(m, what)?, m.currency.code())?)
    };
    let items = order
        .items
        .iter()
        .map(|i| {
            Ok(OrderItem {
                sku: i.sku.clone(),
                quantity: i.quantity,
                unit_price: stored(&i.unit_price, "unit price")?,
            })
        })
        .collect::<Result<_, TxError>>()?;
    let created_at = stored_time(order.created_at);
    Ok(Order {
        id: order.id.clone(),
        idempotency_key: order.idempotency_key.clone(),
        body_hash: order.body_hash.clone(),
        status: OrderStatus::Creating,
        request: order.request.clone(),
        items,
        total: stored(&order.total, "order total")?,
        reservation_id: order.reservation_id.clone(),
        challenge_required: false,
        risk: None,
        expires_at: stored_time(order.expires_at),
        created_at,
        updated_at: created_at,
    })
}

/// The risk columns of an order or payment; no action means the host was not asked yet.
pub(crate) fn risk_record(
    action: Option<String>,
    decision_id: Option<String>,
    fault: Option<String>,
    fail_mode: Option<String>,
) -> Result<Option<RiskRecord>, StoreError> {
    let Some(action) = action else {
        return Ok(None);
    };
    Ok(Some(RiskRecord {
        action: RiskAction::parse(&action).ok_or_else(|| corrupt("risk action", &action))?,
        decision_id,
        fault,
        fail_mode: fail_mode
            .map(|m| RiskFailMode::parse(&m).ok_or_else(|| corrupt("fail mode", &m)))
            .transpose()?,
    }))
}

#[derive(sqlx::FromRow)]
pub(crate) struct HistoryRow<T> {
    from_status: Option<String>,
    to_status: String,
    note: String,
    at: T,
}

impl<T: StoredTime> HistoryRow<T> {
    pub fn into_entry(self) -> Result<HistoryEntry, StoreError> {
        Ok(HistoryEntry {
            from: self.from_status,
            to: self.to_status,
            note: self.note,
            at: self.at.into_utc()?,
        })
    }
}

/// One outbox row as the event feed hands it out.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow<T> {
    id: i64,
    topic: String,
    payload: String,
    created_at: T,
}

impl<T: StoredTime> OutboxRow<T> {
    pub fn into_event(self) -> Result<OutboxEvent, StoreError> {
        Ok(OutboxEvent {
            id: self.id,
            topic: self.topic,
            payload: from_json(&self.payload, "outbox payload")?,
            created_at: self.created_at.into_utc()?,
        })
    }
}

/// One ledger entry joined with its journal, in journal then line order.
#[derive(sqlx::FromRow)]
pub(crate) struct JournalEntryRow<T> {
    id: String,
    kind: String,
    reference: String,
    created_at: T,
    account: String,
    amount_minor: i64,
    currency: String,
}

/// Groups joined rows (ordered by journal) into journals.
pub(crate) fn journals<T: StoredTime>(
    rows: Vec<JournalEntryRow<T>>,
) -> Result<Vec<Journal>, StoreError> {
    let mut out: Vec<Journal> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut head: Option<JournalEntryRow<T>> = None;
    for row in rows {
        if head.as_ref().is_some_and(|h| h.id != row.id) {
            out.extend(
                head.take()
                    .map(|h| h.into_journal(std::mem::take(&mut entries)))
                    .transpose()?,
            );
        }
        entries.push(Entry {
            account: Account(row.account.clone()),
            amount: money(row.amount_minor, &row.currency)?,
        });
        if head.is_none() {
            head = Some(row);
        }
    }
    out.extend(head.map(|h| h.into_journal(entries)).transpose()?);
    Ok(out)
}

impl<T: StoredTime> JournalEntryRow<T> {
    fn into_journal(self, entries: Vec<Entry>) -> Result<Journal, StoreError> {
        Ok(Journal::stored(
            JournalId(self.id),
            self.kind,
            self.reference,
            entries,
            self.created_at.into_utc()?,
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct BalanceRow {
    account: String,
    currency: String,
    balance_minor: i64,
}

impl BalanceRow {
    pub fn into_balance(self) -> Result<Balance, StoreError> {
        Ok(Balance {
            amount: money(self.balance_minor, &self.currency)?,
            account: Account(self.account),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DueRow<T> {
    kind: String,
    key: String,
    due_at: T,
}

impl<T: StoredTime> DueRow<T> {
    pub fn into_item(self) -> Result<DueItem, StoreError> {
        Ok(DueItem {
            kind: self.kind,
            key: self.key,
            due_at: self.due_at.into_utc()?,
        })
    }
}

/// The net change of each (account, currency) a journal makes, in key order: balances are
/// updated in that order by every writer, so two journals never deadlock on them.
pub(crate) fn balance_deltas(journal: &Journal) -> Result<Vec<(String, String, i64)>, TxError> {
    let mut deltas: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for e in journal.entries() {
        let key = (e.account.0.clone(), e.amount.currency.code().to_owned());
        let sum = deltas.entry(key).or_insert(0);
        *sum = sum
            .checked_add(minor(&e.amount, "ledger entry")?)
            .ok_or_else(|| TxError::Overflow {
                what: "ledger balance".into(),
            })?;
    }
    Ok(deltas.into_iter().map(|((a, c), d)| (a, c, d)).collect())
}

/// `StatusChanged` for an entity whose compare-and-set matched no row, or `NotFound` when the
/// row is missing.
pub(crate) fn moved(
    entity: &'static str,
    id: &str,
    expected: &str,
    actual: Option<String>,
) -> TxError {
    match actual {
        Some(actual) => TxError::StatusChanged {
            entity,
            id: id.to_owned(),
            expected: expected.to_owned(),
            actual,
        },
        None => TxError::NotFound {
            entity,
            id: id.to_owned(),
        },
    }
}
