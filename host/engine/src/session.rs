//! Console sessions: a reviewer signs in to the console once with an API key holding `review`
//! and then works with a cookie. The cookie holds a random session secret, never the key, and
//! only its SHA-256 is stored (like a key's), so neither the cookie nor the table can be used
//! as an API key. Each session carries its own CSRF token, which every form posts back.
//! Stored, not signed, so a sign-out ends it on every replica at once.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

use crate::keys::hash_secret;

/// One signed-in console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 of the cookie's secret, hex.
    pub id_hash: String,
    /// The API key the reviewer signed in with: every action is that key's.
    pub key_id: String,
    /// The synchroniser token every form of this session carries.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set by a sign-out.
    pub ended_at: Option<DateTime<Utc>>,
}

impl ConsoleSession {
    /// A new session for `key_id`, lasting `ttl` (never past `key_expires_at`); the cookie
    /// secret to hand to the browser once, and the record to store.
    pub fn open(
        key_id: &str,
        key_expires_at: Option<DateTime<Utc>>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> (String, ConsoleSession) {
        let secret = format!("cs_{}", random_hex());
        let expires_at = key_expires_at.map_or(now + ttl, |k| k.min(now + ttl));
        let session = ConsoleSession {
            id_hash: hash_secret(&secret),
            key_id: key_id.to_owned(),
            csrf: random_hex(),
            created_at: now,
            expires_at,
            ended_at: None,
        };
        (secret, session)
    }

    /// Whether the session still admits its holder at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_hides_its_secret_and_ends_with_the_key() {
        let now = Utc::now();
        let (secret, s) = ConsoleSession::open("key_1", None, Duration::hours(8), now);
        assert!(secret.starts_with("cs_"));
        assert_ne!(s.id_hash, secret, "only the hash is kept");
        assert_eq!(s.id_hash, hash_secret(&secret));
        assert_ne!(s.csrf, secret);
        assert!(s.is_live(now) && !s.is_live(now + Duration::hours(8)));
        let soon = now + Duration::minutes(5);
        let (_, capped) = ConsoleSession::open("key_1", Some(soon), Duration::hours(8), now);
        assert_eq!(capped.expires_at, soon, "never outlives its key");
        let (other, _) = ConsoleSession::open("key_1", None, Duration::hours(8), now);
        assert_ne!(other, secret);
    }
}
