//! The transaction core over HTTP, on every backend: catalogue and stock, orders with their
//! risk decision, payments settled by the card channel's signed webhooks, refunds, the ledger,
//! fulfilment and its revenue, the outbox feed, the expiry worker and `arbiter ledger check`.

mod backup;
mod calls;
mod channel_forgeries;
mod channel_recovery;
mod channel_routing;
mod channels;
mod erasure;
mod erasure_cli;
mod events;
mod expiry;
mod flow;
mod fulfilment;
mod labels;
mod ledger_cli;
mod nats_refusals;
mod nats_relay;
mod nats_relay_replicas;
mod recon_channels;
mod recon_daily;
mod recon_ledger;
mod recon_tickets;
mod reconciliation;
mod refusals;
mod retention;
mod statement_refusals;
mod statement_retention;
mod statements;
mod stock;
mod text_columns;
mod webhook_flood;
mod webhooks;
