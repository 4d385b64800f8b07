//! Why a decision request is refused. Each variant names the field at fault; the HTTP edge
//! maps them to problem+json codes in one place.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RequestError {
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("missing required field `{field}`")]
    MissingField { field: String },
    #[error("field `{field}` has the wrong type: {message}")]
    InvalidType { field: String, message: String },
    #[error("field `{field}`: {message}")]
    InvalidValue { field: String, message: String },
    #[error("unknown field `{field}`")]
    UnknownField { field: String },
    #[error("field `{field}` must be a decimal string such as \"129.99\", not a JSON number")]
    AmountNotString { field: String },
    #[error(
        "field `{field}` is not a plain decimal amount such as \"129.99\" (digits and one optional point; no exponent, sign or separators): `{value}`"
    )]
    InvalidAmount { field: String, value: String },
    #[error("field `{field}` must not be negative")]
    NegativeAmount { field: String },
    #[error("field `{field}`: unknown currency `{value}`")]
    UnknownCurrency { field: String, value: String },
    #[error("field `{field}`: {currency} allows at most {allowed} decimal places")]
    TooManyDecimals {
        field: String,
        currency: String,
        allowed: u32,
    },
    #[error(
        "field `event`: unknown event `{value}` (expected one of order.create, payment.authorize, refund.request, account.login, promo.redeem)"
    )]
    UnknownEvent { value: String },
    /// `key`: the card number is in one of the keys of `field`, which is not echoed.
    #[error(
        "{} looks like a raw card number; send card_fingerprint, card_bin and card_country only",
        if *key { format!("a key of field `{field}`") } else { format!("field `{field}`") }
    )]
    RawCardNumber { field: String, key: bool },
    #[error("field `{field}` is out of range: at most {max}")]
    AmountOutOfRange { field: String, max: String },
    #[error("field `{field}` is longer than {max} characters")]
    TooLong { field: String, max: usize },
    #[error("field `{field}` has more than {max} entries")]
    TooMany { field: String, max: usize },
    #[error("field `{field}` nests deeper than {max} levels")]
    TooDeep { field: String, max: usize },
}

impl RequestError {
    /// The field at fault as a dotted path (`device.ip`), or `None` when the body as a whole
    /// is (JSON that does not parse). Every variant answers here, so a caller that maps fields
    /// (the transaction core naming its own hints) never meets one it did not expect.
    pub fn field(&self) -> Option<&str> {
        match self {
            RequestError::InvalidJson(_) => None,
            RequestError::UnknownEvent { .. } => Some("event"),
            RequestError::MissingField { field }
            | RequestError::InvalidType { field, .. }
            | RequestError::InvalidValue { field, .. }
            | RequestError::UnknownField { field }
            | RequestError::AmountNotString { field }
            | RequestError::InvalidAmount { field, .. }
            | RequestError::NegativeAmount { field }
            | RequestError::UnknownCurrency { field, .. }
            | RequestError::TooManyDecimals { field, .. }
            | RequestError::RawCardNumber { field, .. }
            | RequestError::AmountOutOfRange { field, .. }
            | RequestError::TooLong { field, .. }
            | RequestError::TooMany { field, .. }
            | RequestError::TooDeep { field, .. } => Some(field),
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::InvalidJson(_) => "invalid_json",
            RequestError::MissingField { .. } => "missing_field",
            RequestError::InvalidType { .. } => "invalid_type",
            RequestError::InvalidValue { .. } => "invalid_value",
            RequestError::UnknownField { .. } => "unknown_field",
            RequestError::AmountNotString { .. } => "amount_not_string",
            RequestError::InvalidAmount { .. } => "invalid_amount",
            RequestError::NegativeAmount { .. } => "negative_amount",
            RequestError::UnknownCurrency { .. } => "unknown_currency",
            RequestError::TooManyDecimals { .. } => "too_many_decimals",
            RequestError::UnknownEvent { .. } => "unknown_event",
            RequestError::RawCardNumber { .. } => "raw_card_number",
            RequestError::AmountOutOfRange { .. } => "amount_out_of_range",
            RequestError::TooLong { .. } => "too_long",
            RequestError::TooMany { .. } => "too_many",
            RequestError::TooDeep { .. } => "too_deep",
        }
    }
}
