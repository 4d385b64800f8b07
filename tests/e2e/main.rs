//! End-to-end tests: the real router served on `127.0.0.1:0` (or the real binary) against real
//! storage — SQLite always, PostgreSQL whenever `DATABASE_URL` is set (CI always sets it).

mod harness;

mod access;
mod audit_crash;
mod auth_and_keys;
mod backtests;
mod cli;
mod console;
mod crash_durability;
mod customer_history;
mod db_outage;
mod decisions;
mod edge_errors;
mod erasure_replicas;
mod errors;
mod feedback;
mod graph;
mod graph_replicas;
mod hostile_input;
mod hot_swap;
mod input_limits;
mod key_records;
mod lists;
mod model_loop;
mod operability;
mod operations;
mod policies;
mod rates;
mod raw_http;
mod redis_command;
mod redis_expiry;
mod redis_outage;
mod replicas;
mod review_queue;
mod rules;
mod server_limits;
mod snoozes;
mod start_hygiene;
mod tcp_proxy;
mod transactions;
