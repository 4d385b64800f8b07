//! Each service's error as an [`ApiError`]: which status and `code` every failure of the
//! domain answers with is decided here, next to the problem rendering in `problem.rs`, and
//! nowhere else.

use axum::http::StatusCode;

use arbiter_engine::RequestError;
use arbiter_engine::store::StoreError;

use crate::http::problem::ApiError;
use crate::services::backtests::BacktestError;
use crate::services::decisions::DecideError;
use crate::services::entity_history::HistoryError;
use crate::services::erasure::ErasureError;
use crate::services::feedback::FeedbackError;
use crate::services::keys::KeyError;
use crate::services::lists::ListError;
use crate::services::policies::PolicyError;
use crate::services::rates::RateError;
use crate::services::snoozes::SnoozeError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::Overloaded(m) => ApiError::QueueFull(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<DecideError> for ApiError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Conflict(id) => ApiError::IdempotencyConflict(id),
            DecideError::Overloaded => ApiError::Overloaded,
            DecideError::Store(s) => s.into(),
            DecideError::Features(m) => ApiError::Unavailable(m),
            DecideError::ShuttingDown => ApiError::Unavailable("shutting down".into()),
        }
    }
}

impl From<RateError> for ApiError {
    fn from(e: RateError) -> Self {
        match e {
            RateError::Invalid(request) => ApiError::Request(request),
            RateError::Store(store) => store.into(),
        }
    }
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            e @ HistoryError::Kind(_) => ApiError::InvalidPath {
                param: "kind".into(),
                message: e.to_string(),
            },
            e @ (HistoryError::Value(_) | HistoryError::RawCardNumber) => ApiError::InvalidPath {
                param: "value".into(),
                message: e.to_string(),
            },
            e @ HistoryError::Cursor => ApiError::InvalidQuery {
                param: "before".into(),
                message: e.to_string(),
            },
            HistoryError::UnknownCursor(id) => ApiError::NotFound {
                what: "decision of this entity",
                id,
            },
            HistoryError::Store(s) => s.into(),
        }
    }
}

impl From<SnoozeError> for ApiError {
    fn from(e: SnoozeError) -> Self {
        match e {
            SnoozeError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field: field.into(),
                message,
            },
            SnoozeError::Entity(list) => list.into(),
            SnoozeError::NotFound(id) => ApiError::NotFound { what: "snooze", id },
            e @ SnoozeError::TooMany => ApiError::Conflict(e.to_string()),
            SnoozeError::Store(s) => s.into(),
        }
    }
}

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field,
                message,
            },
            ListError::TooLong { field, max } => ApiError::TooLong {
                field: field.into(),
                max,
            },
            ListError::RawCardNumber { field } => ApiError::Request(RequestError::RawCardNumber {
                field: field.into(),
                key: false,
            }),
            ListError::NotFound(id) => ApiError::NotFound {
                what: "list entry",
                id,
            },
            e @ ListError::Exists { .. } => ApiError::Conflict(e.to_string()),
            ListError::Store(s) => s.into(),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field,
                message,
            },
            KeyError::TooLong { field, max } => ApiError::TooLong {
                field: field.into(),
                max,
            },
            KeyError::NotFound(id) => ApiError::NotFound { what: "key", id },
            e @ KeyError::RevokesItself(_) => ApiError::Conflict(e.to_string()),
            KeyError::Store(s) => s.into(),
        }
    }
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field,
                message,
            },
            PolicyError::Module(m) if m.is_invalid_module() => {
                ApiError::InvalidModule(m.to_string())
            }
            PolicyError::Module(m) => ApiError::Internal(m.to_string()),
            PolicyError::NotFound { what, id } => ApiError::NotFound { what, id },
            e @ PolicyError::NoRollout { .. } => ApiError::Missing(e.to_string()),
            PolicyError::Conflict(m) => ApiError::Conflict(m),
            PolicyError::Unsafe(m) => ApiError::UnsafeChange(m),
            PolicyError::Guarded(m) => ApiError::ActivationGuarded(m),
            PolicyError::Store(s) => s.into(),
            PolicyError::Runtime(m) => ApiError::Internal(m),
            PolicyError::CompilationsBusy { limit } => ApiError::CompilationsBusy { limit },
            PolicyError::InvalidRules { rendered, errors } => {
                ApiError::InvalidRules { rendered, errors }
            }
        }
    }
}

impl From<BacktestError> for ApiError {
    fn from(e: BacktestError) -> Self {
        match e {
            BacktestError::Spec(s) => ApiError::Invalid {
                code: "invalid_value",
                field: s.field.to_owned(),
                message: s.problem,
            },
            BacktestError::NotFound(id) => ApiError::NotFound {
                what: "backtest",
                id,
            },
            BacktestError::Policy(p) => p.into(),
            BacktestError::Model(m) => m.into(),
            BacktestError::Busy { limit } => ApiError::BacktestsBusy { limit },
            BacktestError::Store(s) => s.into(),
        }
    }
}

impl From<FeedbackError> for ApiError {
    fn from(e: FeedbackError) -> Self {
        match e {
            FeedbackError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field,
                message,
            },
            FeedbackError::TooLong { field, max } => ApiError::TooLong { field, max },
            FeedbackError::NotFound { what, id } => ApiError::NotFound { what, id },
            FeedbackError::Conflict(m) => ApiError::Conflict(m),
            FeedbackError::NeedsScope(scope) => ApiError::Forbidden(scope.as_str()),
            e @ FeedbackError::TooFewLabels { .. } => ApiError::TooFewLabels(e.to_string()),
            FeedbackError::Model(m) => ApiError::Internal(m),
            FeedbackError::Store(s) => s.into(),
        }
    }
}

impl From<arbiter_transactions::TxError> for ApiError {
    fn from(e: arbiter_transactions::TxError) -> Self {
        use arbiter_transactions::TxError;
        let refused = |status, code, e: &TxError| ApiError::Transaction {
            status,
            code,
            message: e.to_string(),
        };
        match e {
            TxError::Store(s) => s.into(),
            TxError::NotFound { entity, id } => ApiError::NotFound { what: entity, id },
            TxError::Invalid { field, reason } => ApiError::Invalid {
                code: "invalid_value",
                field,
                message: reason,
            },
            TxError::Transition(_) => refused(StatusCode::CONFLICT, "illegal_transition", &e),
            TxError::StatusChanged { .. } => refused(StatusCode::CONFLICT, "status_changed", &e),
            // Only left after the service's retries each found refunds still arriving.
            TxError::RefundsChanged { .. } => refused(StatusCode::CONFLICT, "refunds_changed", &e),
            TxError::OutOfStock { .. } => refused(StatusCode::CONFLICT, "out_of_stock", &e),
            TxError::StockBelowCommitted { .. } => {
                refused(StatusCode::CONFLICT, "stock_below_committed", &e)
            }
            TxError::IdempotencyConflict { .. } => {
                refused(StatusCode::CONFLICT, "idempotency_conflict", &e)
            }
            TxError::RefundExceedsCaptured { .. } => {
                refused(StatusCode::CONFLICT, "refund_exceeds_capture", &e)
            }
            TxError::AlreadyApplied { .. } => refused(StatusCode::CONFLICT, "already_applied", &e),
            TxError::EventsExpired { .. } => refused(StatusCode::GONE, "events_expired", &e),
            TxError::StatementExpired { .. } => refused(StatusCode::GONE, "statement_expired", &e),
            TxError::RefundInFlight { .. } => refused(StatusCode::CONFLICT, "refund_in_flight", &e),
            TxError::CurrencyMismatch { .. } => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "currency_mismatch", &e)
            }
            TxError::Overflow { .. } => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "amount_overflow", &e)
            }
            // A journal the domain built unbalanced is a bug, not the caller's fault.
            TxError::UnbalancedJournal { .. } | TxError::InvalidJournal { .. } => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<crate::services::transactions::channels::ChannelCallError> for ApiError {
    fn from(e: crate::services::transactions::channels::ChannelCallError) -> Self {
        use crate::services::transactions::channels::ChannelCallError;
        use arbiter_transactions::channels::ChannelError;
        let refused = |status, code, message: String| ApiError::Transaction {
            status,
            code,
            message,
        };
        match e {
            ChannelCallError::Tx(e) => e.into(),
            ChannelCallError::NotConfigured(_) => ApiError::Missing(e.to_string()),
            ChannelCallError::Unreachable { .. } => refused(
                StatusCode::BAD_GATEWAY,
                "channel_unreachable",
                e.to_string(),
            ),
            ChannelCallError::Channel(ChannelError::Currency { .. }) => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "channel_currency",
                e.to_string(),
            ),
            ChannelCallError::Channel(ChannelError::Refused { .. }) => {
                refused(StatusCode::BAD_GATEWAY, "channel_refused", e.to_string())
            }
            // A key that does not work is ours to fix, not the caller's: logged as a 500.
            ChannelCallError::Channel(ChannelError::Key { .. }) => {
                ApiError::Internal(e.to_string())
            }
            ChannelCallError::Channel(_) => refused(
                StatusCode::BAD_GATEWAY,
                "channel_answer_refused",
                e.to_string(),
            ),
        }
    }
}

impl From<crate::services::reconciliation::StatementImportError> for ApiError {
    fn from(e: crate::services::reconciliation::StatementImportError) -> Self {
        use crate::services::reconciliation::StatementImportError;
        use arbiter_transactions::reconciliation::archive::ImportError;
        match e {
            StatementImportError::Tx(e) => e.into(),
            StatementImportError::Reader(_) => ApiError::Internal(e.to_string()),
            StatementImportError::Import(ImportError::TooLarge { .. }) => {
                ApiError::PayloadTooLarge {
                    limit: arbiter_transactions::reconciliation::archive::MAX_STATEMENT_BYTES,
                }
            }
            StatementImportError::Import(e @ ImportError::UnknownChannel(_)) => {
                ApiError::InvalidQuery {
                    param: "channel".into(),
                    message: e.to_string(),
                }
            }
            // The file's own fault, named by its line: nothing was stored.
            StatementImportError::Import(e @ ImportError::Unreadable(_)) => ApiError::Transaction {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "statement_unreadable",
                message: e.to_string(),
            },
        }
    }
}

impl From<crate::services::reconciliation::StatementFetchError> for ApiError {
    fn from(e: crate::services::reconciliation::StatementFetchError) -> Self {
        use crate::services::reconciliation::StatementFetchError;
        match e {
            StatementFetchError::Channel(e) => e.into(),
            StatementFetchError::Import(e) => e.into(),
        }
    }
}

impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::Invalid { field, message } => ApiError::Invalid {
                code: "invalid_value",
                field: field.into(),
                message,
            },
            ErasureError::Store(s) => s.into(),
            ErasureError::Transactions(t) => t.into(),
        }
    }
}
