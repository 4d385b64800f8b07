//! The transaction core: orders, inventory reservations, payments, refunds and the double-entry
//! ledger, and the card channel's webhook signatures — the first caller of the risk host.
//!
//! A pure domain crate: no HTTP, no SQL. It owns the rules (the state tables in [`status`], the
//! balanced [`ledger::Journal`], the order flow in [`orders`]) and the store traits in
//! [`store`] that `arbiter-storage` implements once per backend. A store writes what a domain
//! step decided, atomically, and re-checks every status it replaces (compare-and-set), so no
//! route and no backend ever assigns a status string.
#![forbid(unsafe_code)]

pub mod card;
pub mod catalogue;
pub mod change;
pub mod channels;
pub mod due;
pub mod error;
pub mod fulfilment;
pub mod ids;
pub mod ledger;
pub mod order;
pub mod orders;
pub mod outbox;
pub mod outbox_relay;
pub mod payment;
pub mod payments;
pub mod reconciliation;
pub mod refunds;
pub mod risk;
pub mod signature;
pub mod status;
pub mod store;
pub mod webhook;

pub use error::TxError;
