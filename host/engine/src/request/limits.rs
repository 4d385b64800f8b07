//! The size limits of a decision request, each enforced by an error that names the field and
//! the limit. They bound what one request can make us store (the decision log keeps the
//! context), index (lists, velocity, the link graph key on these values) and echo back; the
//! body as a whole is also capped in bytes at the HTTP edge. Lengths count characters.

use serde_json::Value;

use super::RequestWire;
use crate::error::RequestError;
use crate::field_path::{Step, render};

/// `request_id`.
pub const MAX_REQUEST_ID_CHARS: usize = 128;
/// `user.id`, `device.id`, `order_id`, `payment.card_fingerprint`.
pub const MAX_ID_CHARS: usize = 128;
/// `user.email` (the longest address SMTP carries).
pub const MAX_EMAIL_CHARS: usize = 254;
/// `user.phone`.
pub const MAX_PHONE_CHARS: usize = 32;
/// `device.ip`, before it is parsed.
pub const MAX_IP_CHARS: usize = 64;
/// `device.ip_country`, `payment.card_country`, `shipping.country`.
pub const MAX_COUNTRY_CHARS: usize = 8;
/// `payment.card_bin` (an issuer identification number has at most 8 digits).
pub const MAX_CARD_BIN_CHARS: usize = 8;
/// `payment.method`.
pub const MAX_METHOD_CHARS: usize = 32;
/// `shipping.address`.
pub const MAX_ADDRESS_CHARS: usize = 512;
/// Entries in `attributes`, and in any object or array inside an attribute value.
pub const MAX_ATTRIBUTES: usize = 64;
/// An attribute key, at any depth.
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
/// A string inside an attribute value.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1024;
/// Levels of objects and arrays inside an attribute value (`{"a": {"b": [1]}}` is 2).
pub const MAX_ATTRIBUTE_DEPTH: usize = 4;

/// Checks every limit; the first one exceeded is the error.
pub(super) fn check(wire: &RequestWire) -> Result<(), RequestError> {
    let fields: [(&str, Option<&str>, usize); 14] = [
        (
            "request_id",
            Some(wire.request_id.as_str()),
            MAX_REQUEST_ID_CHARS,
        ),
        ("user.id", Some(wire.user.id.as_str()), MAX_ID_CHARS),
        ("user.email", wire.user.email.as_deref(), MAX_EMAIL_CHARS),
        ("user.phone", wire.user.phone.as_deref(), MAX_PHONE_CHARS),
        (
            "device.id",
            wire.device.as_ref().and_then(|d| d.id.as_deref()),
            MAX_ID_CHARS,
        ),
        (
            "device.ip",
            wire.device.as_ref().and_then(|d| d.ip.as_deref()),
            MAX_IP_CHARS,
        ),
        (
            "device.ip_country",
            wire.device.as_ref().and_then(|d| d.ip_country.as_deref()),
            MAX_COUNTRY_CHARS,
        ),
        (
            "payment.method",
            wire.payment.as_ref().and_then(|p| p.method.as_deref()),
            MAX_METHOD_CHARS,
        ),
        (
            "payment.card_fingerprint",
            wire.payment
                .as_ref()
                .and_then(|p| p.card_fingerprint.as_deref()),
            MAX_ID_CHARS,
        ),
        (
            "payment.card_bin",
            wire.payment.as_ref().and_then(|p| p.card_bin.as_deref()),
            MAX_CARD_BIN_CHARS,
        ),
        (
            "payment.card_country",
            wire.payment
                .as_ref()
                .and_then(|p| p.card_country.as_deref()),
            MAX_COUNTRY_CHARS,
        ),
        (
            "shipping.address",
            wire.shipping.as_ref().and_then(|s| s.address.as_deref()),
            MAX_ADDRESS_CHARS,
        ),
        (
            "shipping.country",
            wire.shipping.as_ref().and_then(|s| s.country.as_deref()),
            MAX_COUNTRY_CHARS,
        ),
        ("order_id", wire.order_id.as_deref(), MAX_ID_CHARS),
    ];
    for (field, value, max) in fields {
        if let Some(v) = value {
            at_most(field, v, max)?;
        }
    }
    if wire.attributes.len() > MAX_ATTRIBUTES {
        return Err(RequestError::TooMany {
            field: "attributes".into(),
            max: MAX_ATTRIBUTES,
        });
    }
    let mut path = Vec::with_capacity(MAX_ATTRIBUTE_DEPTH + 2);
    path.push(Step::Key("attributes"));
    for (key, value) in &wire.attributes {
        path.push(Step::Key(key));
        attribute_key(key, &path)?;
        attribute_value(value, &mut path, 0)?;
        path.pop();
    }
    Ok(())
}

/// Whether `value` has more than `max` characters: every length limit of the service counts
/// characters this way. `len()` first: a string of at most `max` bytes has at most `max`
/// characters, so the common case never walks the string.
pub fn longer_than(value: &str, max: usize) -> bool {
    value.len() > max && value.chars().count() > max
}

fn at_most(field: &str, value: &str, max: usize) -> Result<(), RequestError> {
    if longer_than(value, max) {
        return Err(RequestError::TooLong {
            field: field.to_owned(),
            max,
        });
    }
    Ok(())
}

fn attribute_key(key: &str, path: &[Step<'_>]) -> Result<(), RequestError> {
    if longer_than(key, MAX_ATTRIBUTE_KEY_CHARS) {
        return Err(RequestError::TooLong {
            field: render(path),
            max: MAX_ATTRIBUTE_KEY_CHARS,
        });
    }
    Ok(())
}

/// Checks one attribute value found at `path`, `depth` containers deep.
fn attribute_value<'a>(
    value: &'a Value,
    path: &mut Vec<Step<'a>>,
    depth: usize,
) -> Result<(), RequestError> {
    let container = |len: usize, path: &[Step<'_>]| {
        if depth + 1 > MAX_ATTRIBUTE_DEPTH {
            return Err(RequestError::TooDeep {
                field: render(path),
                max: MAX_ATTRIBUTE_DEPTH,
            });
        }
        if len > MAX_ATTRIBUTES {
            return Err(RequestError::TooMany {
                field: render(path),
                max: MAX_ATTRIBUTES,
            });
        }
        Ok(())
    };
    match value {
        Value::String(s) => {
            if longer_than(s, MAX_ATTRIBUTE_VALUE_CHARS) {
                return Err(RequestError::TooLong {
                    field: render(path),
                    max: MAX_ATTRIBUTE_VALUE_CHARS,
                });
            }
            Ok(())
        }
        Value::Array(items) => {
            container(items.len(), path)?;
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                attribute_value(item, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            container(map.len(), path)?;
            for (key, item) in map {
                path.push(Step::Key(key));
                attribute_key(key, path)?;
                attribute_value(item, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}
