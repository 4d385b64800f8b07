//! The decision request: its wire shape and the validation that turns raw bytes into a
//! [`DecisionRequest`] or a [`RequestError`] naming the field at fault.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::error::RequestError;
use crate::money::{Money, MoneyWire};
use crate::screen::screen_json;

pub mod limits;

pub use limits::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestWire {
    request_id: String,
    event: String,
    amount: Option<MoneyWire>,
    user: UserWire,
    device: Option<DeviceWire>,
    payment: Option<PaymentWire>,
    shipping: Option<ShippingWire>,
    order_id: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserWire {
    id: String,
    account_age_days: Option<u32>,
    email: Option<String>,
    phone: Option<String>,
}

/// The device a request came from.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeviceWire {
    pub id: Option<String>,
    pub ip: Option<String>,
    pub ip_country: Option<String>,
    /// Absent and `null` both mean "not known to be a proxy", as an absent optional field
    /// and `null` mean the same everywhere else in the request.
    #[serde(default, deserialize_with = "null_is_false")]
    pub is_proxy: bool,
}

fn null_is_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// How the customer pays. Never a raw card number.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PaymentWire {
    pub method: Option<String>,
    pub card_fingerprint: Option<String>,
    pub card_bin: Option<String>,
    pub card_country: Option<String>,
}

/// Where the goods go.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShippingWire {
    pub address: Option<String>,
    pub country: Option<String>,
}

/// A validated decision request.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRequest {
    pub request_id: String,
    pub checkpoint: Checkpoint,
    pub amount: Option<Money>,
    pub user_id: String,
    pub account_age_days: Option<u32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub device: DeviceWire,
    pub payment: PaymentWire,
    pub shipping: ShippingWire,
    pub order_id: Option<String>,
    pub attributes: BTreeMap<String, Value>,
    /// SHA-256 of the canonical JSON of the body: same body, same hash, whatever the key order.
    pub body_hash: String,
}

impl DecisionRequest {
    /// Validates a raw request body. The screen runs first (a card number in any string, key
    /// or number, even JSON-escaped; a NUL character), so such a payload is refused, naming
    /// the field, before anything else looks at it.
    pub fn from_slice(body: &[u8]) -> Result<DecisionRequest, RequestError> {
        screen_json(body)?;
        let mut value: Value =
            serde_json::from_slice(body).map_err(|e| RequestError::InvalidJson(e.to_string()))?;
        crate::json_numbers::integral_as_integer(&mut value);
        DecisionRequest::from_value(value)
    }

    /// Validates an already parsed JSON value (no screen: use [`Self::from_slice`] at the edge).
    pub fn from_value(value: Value) -> Result<DecisionRequest, RequestError> {
        if !value.is_object() {
            return Err(RequestError::InvalidType {
                field: "body".into(),
                message: "expected a JSON object".into(),
            });
        }
        if value.pointer("/amount/value").is_some_and(Value::is_number) {
            return Err(RequestError::AmountNotString {
                field: "amount.value".into(),
            });
        }
        let body_hash = canonical_hash(&value);
        // The plain decode first; only a body it refuses is decoded again with the path
        // tracked, to name the field (tracking costs on every body, refusals are rare).
        let wire = match RequestWire::deserialize(&value) {
            Ok(wire) => wire,
            Err(_) => serde_path_to_error::deserialize::<_, RequestWire>(&value)
                .map_err(|e| shape_error(&e))?,
        };
        build(wire, body_hash)
    }
}

/// SHA-256 of the value written with object keys sorted at every level, so the hash does not
/// depend on key order or whitespace — whichever `Map` ordering serde_json was built with (a
/// dependency enabling `preserve_order` would otherwise change it silently).
fn canonical_hash(value: &Value) -> String {
    // Strings and scalars are written by serde_json's own compact writer (what `Value`'s
    // `Display` prints), straight into one buffer: no copy of a key, no string per scalar.
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (k, inner)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    compact(k, out);
                    out.push(b':');
                    write(inner, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => compact(scalar, out),
        }
    }
    fn compact(v: &(impl serde::Serialize + ?Sized), out: &mut Vec<u8>) {
        // Infallible here: a Vec takes every write, and a `Value` holds no non-finite number
        // and no non-string key.
        let _ = serde_json::to_writer(&mut *out, v);
    }
    let mut out = Vec::with_capacity(1024);
    write(value, &mut out);
    hex::encode(Sha256::digest(&out))
}

fn build(wire: RequestWire, body_hash: String) -> Result<DecisionRequest, RequestError> {
    limits::check(&wire)?;
    let request_id = wire.request_id.trim().to_owned();
    if request_id.is_empty() {
        return Err(RequestError::InvalidValue {
            field: "request_id".into(),
            message: "must not be empty".into(),
        });
    }
    let checkpoint = Checkpoint::parse(&wire.event).ok_or_else(|| RequestError::UnknownEvent {
        value: wire.event.clone(),
    })?;
    let user_id = wire.user.id.trim().to_owned();
    if user_id.is_empty() {
        return Err(RequestError::InvalidValue {
            field: "user.id".into(),
            message: "must not be empty".into(),
        });
    }
    let amount = match &wire.amount {
        Some(m) => Some(Money::parse("amount", m)?),
        None if checkpoint.requires_amount() => {
            return Err(RequestError::MissingField {
                field: "amount".into(),
            });
        }
        None => None,
    };
    if let Some(ip) = wire.device.as_ref().and_then(|d| d.ip.as_deref())
        && crate::normalize::ip(ip).is_none()
    {
        return Err(RequestError::InvalidValue {
            field: "device.ip".into(),
            message: format!("`{ip}` is not an IP address"),
        });
    }
    Ok(DecisionRequest {
        request_id,
        checkpoint,
        amount,
        user_id,
        account_age_days: wire.user.account_age_days,
        email: wire.user.email,
        phone: wire.user.phone,
        device: wire.device.unwrap_or_default(),
        payment: wire.payment.unwrap_or_default(),
        shipping: wire.shipping.unwrap_or_default(),
        order_id: wire.order_id,
        attributes: wire.attributes,
        body_hash,
    })
}

/// Turns serde's shape errors into errors that name the field by its dotted path.
fn shape_error(e: &serde_path_to_error::Error<serde_json::Error>) -> RequestError {
    let path = e.path().to_string();
    let message = e.inner().to_string();
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = backticked(&message, "missing field `") {
        return RequestError::MissingField { field: join(name) };
    }
    if let Some(name) = backticked(&message, "unknown field `") {
        // serde_path_to_error already pushed the unknown key onto the path.
        let field = if path.ends_with(name) {
            path.clone()
        } else {
            join(name)
        };
        return RequestError::UnknownField { field };
    }
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    RequestError::InvalidType {
        field: path,
        message,
    }
}

fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests;
