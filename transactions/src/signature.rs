//! Stripe-style webhook signatures, as the card channel sends them: the header
//! `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`, the MAC taken over
//! `"{t}.{raw body}"` with the endpoint's secret. Verification runs over the raw bytes before
//! anything parses them, refuses a timestamp outside the tolerance (a replayed capture), accepts
//! any one matching `v1` (Stripe sends several while a secret is rolled), and compares in
//! constant time through `hmac`'s `verify_slice`.

use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Stripe's default: a signature older (or newer) than this is stale.
pub const DEFAULT_TOLERANCE: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    #[error("signature timestamp `{timestamp}` is outside the tolerance at `{now}`")]
    Stale { timestamp: i64, now: i64 },
    #[error("no `v1` signature matches")]
    Mismatch,
}

impl SignatureError {
    /// A short, stable name for metrics labels: `malformed`, `stale` or `mismatch`.
    pub fn reason(&self) -> &'static str {
        match self {
            SignatureError::Malformed(_) => "malformed",
            SignatureError::Stale { .. } => "stale",
            SignatureError::Mismatch => "mismatch",
        }
    }
}

/// The MAC of `"{timestamp}.{body}"`, hex.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The header value for `body` signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// Checks `header` against the raw `body`; returns the signed timestamp.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed("an element without `=`"));
        };
        match key {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed("`t` is not a number"))?;
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed("more than one `t`"));
                }
            }
            // Malformed hex cannot match; skipping it keeps a good `v1` next to it usable.
            "v1" => candidates.extend(hex::decode(value).ok()),
            // Other schemes (`v0`) are ignored, as Stripe's libraries do.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no `t`"))?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed("no `v1`"));
    }
    // `abs_diff` cannot overflow, whatever `t` the sender chose (`i64::MIN` included), and a
    // negative tolerance is no tolerance at all.
    let allowed = u64::try_from(tolerance.num_seconds()).unwrap_or(0);
    if now.abs_diff(timestamp) > allowed {
        return Err(SignatureError::Stale { timestamp, now });
    }
    let expected = mac(secret, timestamp, body);
    if candidates
        .iter()
        .any(|c| expected.clone().verify_slice(c).is_ok())
    {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_700_000_000;

    fn check(header: &str, body: &[u8], now: i64) -> Result<i64, SignatureError> {
        verify(SECRET, header, body, now, DEFAULT_TOLERANCE)
    }

    #[test]
    fn a_signed_body_verifies() {
        let header = sign(SECRET, NOW, BODY);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(check(&header, BODY, NOW + 299), Ok(NOW));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key = "whsec_test", "1700000000.{body}"), computed independently with
        // `printf '%s' "1700000000.$body" | openssl dgst -sha256 -hmac whsec_test`.
        assert_eq!(signature(SECRET, NOW, BODY), KNOWN);
    }
    const KNOWN: &str = "001ce3ef73e456cedaab328328720d3ad59defb8bbd0f1518f46c04ad4ac0bb7";

    #[test]
    fn forged_bodies_and_secrets_are_refused() {
        let header = sign(SECRET, NOW, BODY);
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeeded "}"#;
        assert_eq!(check(&header, tampered, NOW), Err(SignatureError::Mismatch));
        let other_secret = sign(b"whsec_other", NOW, BODY);
        assert_eq!(
            check(&other_secret, BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        // Re-stamping a captured signature with a fresh `t` breaks it.
        let v1 = header
            .split_once(",v1=")
            .map(|(_, v)| v)
            .unwrap_or_default();
        let restamped = format!("t={},v1={v1}", NOW + 60);
        assert_eq!(
            check(&restamped, BODY, NOW + 60),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let header = sign(SECRET, NOW, BODY);
        assert!(matches!(
            check(&header, BODY, NOW + 301),
            Err(SignatureError::Stale { .. })
        ));
        assert!(matches!(
            check(&header, BODY, NOW - 301),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn any_one_of_several_v1_matches() {
        let good = signature(SECRET, NOW, BODY);
        let header = format!("t={NOW},v1={},v1={good},v0=abc", "00".repeat(32));
        assert_eq!(check(&header, BODY, NOW), Ok(NOW));
        let header = format!("t={NOW},v1=zz-not-hex,v1={good}");
        assert_eq!(check(&header, BODY, NOW), Ok(NOW));
        let none = format!("t={NOW},v1={},v1={}", "00".repeat(32), "11".repeat(32));
        assert_eq!(check(&none, BODY, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn timestamps_at_the_edges_of_i64_are_refused_without_overflow() {
        let v1 = format!("v1={}", "00".repeat(32));
        for (t, now) in [
            ("99999999999999999999", NOW),
            ("-99999999999999999999", NOW),
        ] {
            assert!(
                matches!(
                    check(&format!("t={t},{v1}"), BODY, now),
                    Err(SignatureError::Malformed(_))
                ),
                "{t}"
            );
        }
        for (t, now) in [
            (i64::MIN, NOW),
            (i64::MAX, NOW),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
            (0, i64::MIN),
        ] {
            let header = format!("t={t},{v1}");
            assert!(
                matches!(check(&header, BODY, now), Err(SignatureError::Stale { .. })),
                "t={t} now={now}"
            );
            // A correctly signed body with such a `t` is stale too, not a panic.
            let signed = sign(SECRET, t, BODY);
            assert!(
                matches!(check(&signed, BODY, now), Err(SignatureError::Stale { .. })),
                "signed t={t} now={now}"
            );
        }
        // The largest tolerance there is: nothing overflows, a distance within it verifies
        // and one beyond it (all of `i64`) is stale.
        let header = sign(SECRET, 0, BODY);
        assert_eq!(verify(SECRET, &header, BODY, NOW, Duration::MAX), Ok(0));
        let header = sign(SECRET, i64::MIN, BODY);
        assert!(matches!(
            verify(SECRET, &header, BODY, i64::MAX, Duration::MAX),
            Err(SignatureError::Stale { .. })
        ));
        // A negative tolerance accepts nothing but the exact second.
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(
            verify(SECRET, &header, BODY, NOW, Duration::seconds(-5)),
            Ok(NOW)
        );
        assert!(matches!(
            verify(SECRET, &header, BODY, NOW + 1, Duration::seconds(-5)),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in [
            "",
            "t=1",
            "v1=ab",
            "t=x,v1=ab",
            "garbage",
            &format!("t={NOW},t={NOW},v1=ab"),
        ] {
            assert!(
                matches!(check(header, BODY, NOW), Err(SignatureError::Malformed(_))),
                "{header}"
            );
        }
    }
}
