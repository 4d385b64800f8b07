//! The Arbiter risk host: the HTTP edge, the services behind it, the composition root and the
//! command line.
//!
//! Domain logic lives in `arbiter-engine`; storage backends in `arbiter-storage`. This crate
//! wires them together ([`wiring`]), serves HTTP ([`serve`], [`http`]) and owns the one place
//! where errors become status codes ([`http::problem`]).

// The workspace denies unsafe code; only the policy runtime may override that, once.
#![forbid(unsafe_code)]

pub mod app_state;
pub mod backtest_cli;
pub mod backup_cli;
pub mod channels_cli;
pub mod cli;
pub mod config;
pub mod console;
pub mod http;
pub mod ledger_check;
pub mod metrics;
pub mod policy_build;
pub mod private_file;
pub mod rates_cli;
pub mod recon_cli;
pub mod remote;
pub mod rule_cli;
pub mod serve;
pub mod services;
pub mod simulator;
pub mod subjects_cli;
pub mod telemetry;
pub mod wiring;
pub mod wiring_channels;
pub mod wiring_transactions;
