//! The transaction core over HTTP, on every backend: catalogue and stock, orders with their
//! risk decision, payments settled by the card channel's signed webhooks, refunds, the ledger,
//! the expiry worker and `arbiter ledger check`.

mod expiry;
mod flow;
mod ledger_cli;
mod server;
mod stock;
mod webhooks;
