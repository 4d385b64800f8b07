//! What can go wrong managing policies.

use thiserror::Error;

use arbiter_engine::store::StoreError;
use arbiter_runtime::ModuleError;

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("field `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Module(#[from] ModuleError),
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    /// Promote or roll back with no rollout in progress.
    #[error(
        "no rollout in progress to {to}; start one with `POST /v1/rollouts` \
         (`arbiter rollout start --set N`)"
    )]
    NoRollout { to: &'static str },
    #[error("{0}")]
    Conflict(String),
    /// A change that would weaken the live rules without evidence (an empty set going live,
    /// an untested promotion).
    #[error("{0}")]
    Unsafe(String),
    /// This deployment's activation rules are not met (a recent backtest, a second key's
    /// approval); no force overrides them.
    #[error("{0}")]
    Guarded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("policy runtime: {0}")]
    Runtime(String),
    #[error("{limit} module compilations are already running")]
    CompilationsBusy { limit: u32 },
    /// A rule file that does not compile; `rendered` shows each problem under its line.
    #[error("{rendered}")]
    InvalidRules {
        rendered: String,
        errors: Vec<arbiter_rules::Located>,
    },
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}
