//! Signing reviewers in and out of the console: an API key holding `review` (or `admin`) is
//! exchanged once for a stored session; every console request then presents the session's
//! cookie, which admits it only while the session and its key are both live, so revoking the
//! key ends its sessions too.

use std::sync::Arc;

use chrono::{Duration, Utc};
use thiserror::Error;

use arbiter_engine::keys::{ApiKey, Scope, hash_secret};
use arbiter_engine::session::ConsoleSession;
use arbiter_engine::store::{Store, StoreError};

use crate::services::keys::KeyService;

#[derive(Debug, Error)]
pub enum SignInError {
    #[error("that is not a live API key")]
    UnknownKey,
    #[error("this API key lacks the `review` scope the console needs")]
    NotAReviewer,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request's signed-in reviewer: the session and the key it acts as.
#[derive(Clone)]
pub struct SignedIn {
    pub session: ConsoleSession,
    pub key: Arc<ApiKey>,
}

pub struct ConsoleSessions {
    store: Arc<dyn Store>,
    keys: Arc<KeyService>,
    /// How long a session lasts (a working day by default).
    ttl: Duration,
}

impl ConsoleSessions {
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyService>, ttl: Duration) -> Self {
        ConsoleSessions { store, keys, ttl }
    }

    /// How long a new session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Exchanges an API key for a session: the cookie secret and the session.
    pub async fn sign_in(&self, api_key: &str) -> Result<(String, ConsoleSession), SignInError> {
        let key = self
            .keys
            .authenticate(api_key.trim())
            .await?
            .ok_or(SignInError::UnknownKey)?;
        if !key.allows(Scope::Review) {
            return Err(SignInError::NotAReviewer);
        }
        let (secret, session) = ConsoleSession::open(&key.id, key.expires_at, self.ttl, Utc::now());
        self.store.insert_session(&session).await?;
        Ok((secret, session))
    }

    /// The reviewer a cookie secret signs in, while its session and key are live.
    pub async fn signed_in(&self, cookie_secret: &str) -> Result<Option<SignedIn>, StoreError> {
        let Some(session) = self.store.get_session(&hash_secret(cookie_secret)).await? else {
            return Ok(None);
        };
        if !session.is_live(Utc::now()) {
            return Ok(None);
        }
        let key = self
            .keys
            .live_by_id(&session.key_id)
            .filter(|k| k.allows(Scope::Review));
        Ok(key.map(|key| SignedIn { session, key }))
    }

    /// Ends the session a cookie secret names.
    pub async fn sign_out(&self, cookie_secret: &str) -> Result<(), StoreError> {
        self.store
            .end_session(&hash_secret(cookie_secret), Utc::now())
            .await?;
        Ok(())
    }
}
