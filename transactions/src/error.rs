//! The crate's one error enum: what a transaction-core step refuses, and why. Storage failures
//! arrive wrapped as [`TxError::Store`]; everything else is a domain refusal that changed
//! nothing.

use arbiter_engine::store::StoreError;

use crate::status::TransitionError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The status moved under us: a concurrent step replaced it first. Nothing was written.
    #[error("while moving {entity} `{id}` from `{expected}`: its status is now `{actual}`")]
    StatusChanged {
        entity: &'static str,
        id: String,
        expected: String,
        actual: String,
    },
    /// A payment gained refunds after the domain read them for a decision that depends on them
    /// (the revenue of `FULFILLED`): decide again from what is stored now. Nothing was written.
    #[error("payment `{payment}` has {actual} refunds, the decision read {expected}")]
    RefundsChanged {
        payment: String,
        expected: u64,
        actual: u64,
    },
    #[error("{entity} `{id}` not found")]
    NotFound { entity: &'static str, id: String },
    #[error("sku `{sku}` has {available} available, {wanted} wanted")]
    OutOfStock {
        sku: String,
        available: i64,
        wanted: i64,
    },
    #[error(
        "stock total `{total}` for sku `{sku}` is below the {committed} units reserved or sold"
    )]
    StockBelowCommitted {
        sku: String,
        total: i64,
        committed: i64,
    },
    #[error("idempotency key `{key}` was used with a different request")]
    IdempotencyConflict { key: String },
    #[error("journal `{kind}` does not balance in `{currency}`")]
    UnbalancedJournal { kind: String, currency: String },
    #[error("journal `{kind}` is invalid: {reason}")]
    InvalidJournal { kind: String, reason: String },
    #[error("invalid `{field}`: {reason}")]
    Invalid { field: String, reason: String },
    #[error("amount overflow in `{what}`")]
    Overflow { what: String },
    #[error("currency mismatch in `{what}`: `{left}` and `{right}`")]
    CurrencyMismatch {
        what: String,
        left: String,
        right: String,
    },
    #[error("refund of `{requested}` exceeds the `{remaining}` left of the captured amount")]
    RefundExceedsCaptured {
        requested: String,
        remaining: String,
    },
    /// An order cannot be `FULFILLED` while one of its refunds is still at the channel: the
    /// revenue it recognises (captured less refunded) is not known until the channel answers.
    #[error("order `{order}` has refund `{refund}` in flight: fulfil it once the refund settles")]
    RefundInFlight { order: String, refund: String },
    /// A feed position whose following events retention deleted: resuming from where the
    /// feed starts now would skip them.
    #[error(
        "the events after `{after}` were deleted by retention: the feed starts after `{starts_after}`"
    )]
    EventsExpired { after: i64, starts_after: i64 },
    /// The statement's file and rows were taken by retention: a day cannot be matched without
    /// them.
    #[error(
        "the statement `{id}` of {channel} {date} expired at {at}: its file and rows are gone; \
         import the file again to reconcile the day"
    )]
    StatementExpired {
        id: String,
        channel: String,
        date: String,
        at: String,
    },
    /// The event id was applied before: applying it again changes nothing.
    #[error("event `{event_id}` was already applied")]
    AlreadyApplied { event_id: String },
}

impl TxError {
    /// An invalid-input refusal naming `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> TxError {
        TxError::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}
