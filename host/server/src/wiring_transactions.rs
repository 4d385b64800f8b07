//! The composition of the transaction core: its services over the one configured store, the
//! risk host asked in process with a time bound, the card channel's webhook secret and the
//! expiry worker (over the database's due queue, or the shared Redis dispatcher with
//! `--redis-url`: see `services::transactions::expiry`). `wiring::build` calls [`build`];
//! nothing else constructs these.
//!
//! Settings are `arbiter serve` flags, each with an environment variable
//! ([`crate::config::TransactionArgs`]); the card channel's signing secret comes from
//! `ARBITER_CARD_WEBHOOK_SECRET` only, else it is generated once into
//! `<data-dir>/card-webhook.secret` (0600). It is never logged.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arbiter_engine::clock::{Clock, SystemClock};
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::due::DueDispatch;
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::risk::RiskFailMode;
use arbiter_transactions::store::TransactionStore;

use crate::config::{FailModeArg, TransactionArgs};
use crate::services::decisions::DecisionService;
use crate::services::transactions::channel::CardChannelSender;
use crate::services::transactions::channel_watch::{ChannelSettler, ChannelWatch};
use crate::services::transactions::expiry::ExpiryWorker;
use crate::services::transactions::risk::InProcessRisk;
use crate::services::transactions::{ChannelParts, TransactionServices};
use crate::wiring_channels::ChannelSetup;

/// The file the generated webhook secret lives in, inside the data directory.
pub const SECRET_FILE: &str = "card-webhook.secret";

/// How the transaction core runs.
#[derive(Clone)]
pub struct TransactionsConfig {
    /// `None`: read or generate `<data-dir>/card-webhook.secret`.
    pub webhook_secret: Option<Vec<u8>>,
    pub webhook_url: Option<String>,
    pub risk_timeout: Duration,
    pub order_fail_mode: RiskFailMode,
    pub payment_fail_mode: RiskFailMode,
    pub order_ttl: Duration,
    pub expiry_interval: Duration,
    /// How often the repair sweep runs when expiries are dispatched through Redis.
    pub expiry_sweep_interval: Duration,
}

impl Default for TransactionsConfig {
    /// The flags' defaults, with the secret read from (or generated into) the data directory.
    fn default() -> TransactionsConfig {
        TransactionsConfig::with_secret(&TransactionArgs::default(), None)
    }
}

impl TransactionsConfig {
    /// The configuration `arbiter serve` was given; the secret from the environment.
    pub fn from_args(args: &TransactionArgs) -> TransactionsConfig {
        let secret = std::env::var("ARBITER_CARD_WEBHOOK_SECRET")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(String::into_bytes);
        TransactionsConfig::with_secret(args, secret)
    }

    /// `args` with `secret` (`None`: the data directory's file).
    fn with_secret(args: &TransactionArgs, secret: Option<Vec<u8>>) -> TransactionsConfig {
        let fail_mode = |m: FailModeArg| match m {
            FailModeArg::Open => RiskFailMode::Open,
            FailModeArg::Closed => RiskFailMode::Closed,
        };
        TransactionsConfig {
            webhook_secret: secret,
            webhook_url: args.card_webhook_url.clone(),
            risk_timeout: Duration::from_millis(args.risk_timeout_ms),
            order_fail_mode: fail_mode(args.order_risk_fail_mode),
            payment_fail_mode: fail_mode(args.payment_risk_fail_mode),
            order_ttl: Duration::from_secs(args.order_ttl_secs),
            expiry_interval: Duration::from_millis(args.expiry_interval_ms),
            expiry_sweep_interval: Duration::from_millis(args.expiry_sweep_ms),
        }
    }
}

/// The card webhook endpoint's secret: the configured one, else the data directory's file
/// (generated on first start).
pub fn card_webhook_secret(
    config: &TransactionsConfig,
    data_dir: &Path,
) -> anyhow::Result<Vec<u8>> {
    match &config.webhook_secret {
        Some(secret) => Ok(secret.clone()),
        None => load_or_create_secret(&data_dir.join(SECRET_FILE)),
    }
}

/// The transaction services over `store`, asking `decisions` for risk; starts the expiry
/// worker, which stops when the returned services are dropped. With `expiry_dispatch` (Redis)
/// order expiries are dispatched through it, with `store`'s due rows as the truth behind it.
/// `secret`: [`card_webhook_secret`].
pub fn build(
    config: &TransactionsConfig,
    secret: Vec<u8>,
    store: Arc<dyn TransactionStore>,
    decisions: Arc<DecisionService>,
    expiry_dispatch: Option<Arc<dyn DueDispatch>>,
    setup: ChannelSetup,
) -> anyhow::Result<TransactionServices> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let risk = Arc::new(InProcessRisk::new(decisions, config.risk_timeout));
    let order_ttl = chrono::Duration::from_std(config.order_ttl).context("order TTL too long")?;
    let orders = OrderService::new(
        store.clone(),
        risk.clone(),
        clock.clone(),
        OrderConfig {
            reservation_ttl: order_ttl,
            risk_fail_mode: config.order_fail_mode,
        },
    );
    let mut payment_config = PaymentConfig::new(secret.clone());
    payment_config.risk_fail_mode = config.payment_fail_mode;
    let channels = Arc::new(setup.channels);
    for name in channels.names() {
        if !payment_config.channels.iter().any(|c| c == name) {
            payment_config.channels.push(name.to_owned());
        }
    }
    let payments = PaymentService::new(store.clone(), risk, clock.clone(), payment_config);
    // Payments open at Alipay or WeChat Pay are closed there before their order is
    // cancelled, and queried when their notification is late.
    let settler = Arc::new(ChannelSettler::new(
        payments.clone(),
        channels.clone(),
        store.clone(),
    ));
    let orders = orders.with_open_payments(settler.clone());
    let watch = (!channels.names().is_empty())
        .then(|| ChannelWatch::spawn(settler.clone(), setup.query_interval, setup.query_after));
    let channel = CardChannelSender::new(
        CardChannel::new(secret),
        store.clone(),
        clock,
        config.webhook_url.clone(),
        setup.simulator.as_ref().map(|s| s.card.clone()),
    );
    let (orders, sweep_every) = match expiry_dispatch {
        Some(dispatch) => (
            orders.with_expiry_dispatch(dispatch),
            Some(config.expiry_sweep_interval),
        ),
        None => (orders, None),
    };
    let expiry = ExpiryWorker::spawn(orders.clone(), config.expiry_interval, sweep_every);
    Ok(TransactionServices::new(
        orders,
        payments,
        channel,
        store,
        (expiry, watch),
        ChannelParts {
            channels,
            settler,
            simulator: setup.simulator,
        },
    ))
}

/// Reads the secret file, or writes a fresh random secret to it (mode 0600) on first start.
/// Neither the secret nor its value ever reaches a log.
fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    crate::private_file::read_or_generate_secret(path, "the card webhook secret", "whsec_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_secret_is_generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(SECRET_FILE);
        let first = load_or_create_secret(&path).expect("generated");
        assert!(first.starts_with(b"whsec_") && first.len() == 6 + 64);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_secret(&path).expect("read back"), first);
    }
}
