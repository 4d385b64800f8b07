//! JSON numbers as JSON Schema reads them: `14.0` is an integer (JSON Schema 2020-12, which
//! OpenAPI 3.1 uses, counts any number with a zero fractional part as one). serde refuses a
//! float where it expects an integer, so a body is passed through [`integral_as_integer`]
//! before it is deserialised: a client that writes `2.0` for a quantity is answered as one
//! that writes `2`, as the API document promises.

use serde_json::{Number, Value};

/// Rewrites, in place, every float with a zero fractional part that an `i64` or `u64` holds
/// exactly as that integer. Other numbers are left as they are (a float stays a float where a
/// float is expected).
pub fn integral_as_integer(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(integer) = integral(n) {
                *n = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_as_integer),
        Value::Object(fields) => fields.values_mut().for_each(integral_as_integer),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// The integer `n` spells, when it is a float with no fractional part inside the integer
/// range (2^63 and beyond are not exact as floats, so the bounds are exclusive).
fn integral(n: &Number) -> Option<Number> {
    let f = n.as_f64().filter(|_| n.is_f64())?;
    if f.fract() != 0.0 || !f.is_finite() {
        return None;
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (0.0..2.0 * TWO_63).contains(&f) {
        Some(Number::from(f as u64))
    } else if (-TWO_63..0.0).contains(&f) {
        Some(Number::from(f as i64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_floats_become_integers_and_the_rest_stays() {
        let mut v = json!({"qty": 14.0, "neg": -3.0, "ratio": 0.5, "big": 1e300,
            "items": [{"n": 2.0}], "name": "2.0", "zero": -0.0, "already": 7});
        integral_as_integer(&mut v);
        assert_eq!(
            v,
            json!({"qty": 14, "neg": -3, "ratio": 0.5, "big": 1e300,
                "items": [{"n": 2}], "name": "2.0", "zero": 0, "already": 7})
        );
        assert!(v["qty"].is_u64() && v["neg"].is_i64() && v["big"].is_f64());
    }
}
