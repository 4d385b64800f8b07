//! The transaction core as the host serves it: the domain's order and payment services over
//! the configured store, the risk host asked in process ([`risk`]), the simulated card
//! channel's outgoing side ([`channel`]) and the expiry worker ([`expiry`]: over the database's
//! due queue, or the shared Redis queue with `--redis-url`). Each method here is one use case
//! for one handler; the domain decides, the store applies.

pub mod channel;
pub mod channel_flow;
pub mod channel_watch;
pub mod channels;
pub mod expiry;
pub mod refused_callbacks;
pub mod risk;

use std::sync::Arc;

use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::{Product, SkuView};
use arbiter_transactions::ids::Sku;
use arbiter_transactions::ledger::Account;
use arbiter_transactions::orders::OrderService;
use arbiter_transactions::outbox::{self, EventPage};
use arbiter_transactions::payment::CARD;
use arbiter_transactions::payments::{PaymentService, WebhookReply};
use arbiter_transactions::store::TransactionStore;

use self::channel::CardChannelSender;
use self::channel_watch::{ChannelSettler, ChannelWatch};
use self::channels::PaymentChannels;
use self::expiry::ExpiryWorker;
use self::refused_callbacks::RefusedCallbacks;
use crate::simulator::ChannelSimulator;

pub struct TransactionServices {
    pub orders: OrderService,
    pub payments: PaymentService,
    /// The simulated card acquirer: posts signed webhooks to this server on an admin's request.
    pub channel: CardChannelSender,
    /// The catalogue and ledger reads and writes that need no domain service.
    store: Arc<dyn TransactionStore>,
    /// Where callbacks refused for their signature are counted and logged (never stored).
    refused_callbacks: RefusedCallbacks,
    /// Held, not used: dropping the services (when serving stops) stops the workers.
    _workers: (ExpiryWorker, Option<ChannelWatch>),
    /// Alipay, WeChat Pay: the channels besides the card this server pays through.
    pub channels: Arc<PaymentChannels>,
    /// Queries, closes and refunds at those channels and applies what they answer.
    settler: Arc<ChannelSettler>,
    /// The simulated gateways, with `--channel-simulator`.
    pub simulator: Option<Arc<ChannelSimulator>>,
}

/// The channels besides the card, as the transaction services hold them.
pub struct ChannelParts {
    pub channels: Arc<PaymentChannels>,
    pub settler: Arc<ChannelSettler>,
    pub simulator: Option<Arc<ChannelSimulator>>,
}

impl TransactionServices {
    pub fn new(
        orders: OrderService,
        payments: PaymentService,
        channel: CardChannelSender,
        store: Arc<dyn TransactionStore>,
        workers: (ExpiryWorker, Option<ChannelWatch>),
        parts: ChannelParts,
    ) -> TransactionServices {
        TransactionServices {
            orders,
            payments,
            channel,
            store,
            refused_callbacks: RefusedCallbacks::default(),
            _workers: workers,
            channels: parts.channels,
            settler: parts.settler,
            simulator: parts.simulator,
        }
    }

    /// The card channel's callback: verified and applied by the payment service; one whose
    /// signature failed is counted and logged here, since it is not stored.
    pub async fn card_webhook(
        &self,
        signature: Option<&str>,
        raw: &[u8],
    ) -> Result<WebhookReply, TxError> {
        let reply = self.payments.handle_card_webhook(signature, raw).await?;
        if let Some(reason) = reply.unverified {
            self.refused_callbacks.record(CARD, reason, raw.len());
        }
        Ok(reply)
    }

    /// Creates the SKU (no stock yet) or updates its title and price.
    pub async fn put_product(&self, product: &Product) -> Result<SkuView, TxError> {
        self.store.put_product(product).await
    }

    /// Sets the units owned; never below what is reserved or sold.
    pub async fn set_stock(&self, sku: &Sku, total: i64) -> Result<SkuView, TxError> {
        if total < 0 {
            return Err(TxError::invalid("total", "must not be negative"));
        }
        self.store.set_stock_total(sku, total).await?;
        self.sku(sku).await
    }

    pub async fn sku(&self, sku: &Sku) -> Result<SkuView, TxError> {
        self.store.sku(sku).await?.ok_or_else(|| TxError::NotFound {
            entity: "sku",
            id: sku.0.clone(),
        })
    }

    /// The account's balance per currency (debits positive); empty for an account without
    /// entries.
    pub async fn balance(&self, account: &Account) -> Result<Vec<Money>, TxError> {
        if account.0.trim().is_empty() || account.0.len() > 128 {
            return Err(TxError::invalid("name", "must be 1 to 128 characters"));
        }
        self.store.balance(account).await
    }

    /// A page of the outbox feed: events after `after`, at most `limit` (see
    /// [`arbiter_transactions::outbox::page`]).
    pub async fn events(
        &self,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> Result<EventPage, TxError> {
        outbox::page(self.store.as_ref(), after, limit).await
    }
}
