//! What every end-to-end test starts from, one purpose a file: the backends and a fresh
//! database of a test's own ([`db`]), a server in this process with an optional
//! transaction-core configuration ([`server`]), the real `arbiter serve` binary ([`binary`]),
//! a client of such processes by base URL ([`api`]), NATS for the outbox relay ([`nats`]), the problem+json assertion
//! ([`problem`]) and the request bodies tests share ([`bodies`]).

mod api;
mod binary;
mod bodies;
mod db;
mod nats;
mod problem;
mod server;

pub use api::Api;
pub use binary::{Arbiter, start_arbiter};
pub use bodies::decision_body;
pub use db::{Backend, TestDb, backends};
pub use nats::{OwnNats, Received, consume, nats_url};
pub use problem::{detail, problem};
pub use server::{Answer, TestServer};
