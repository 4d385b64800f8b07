//! Simulated Alipay, WeChat Pay and a Stripe-like card acquirer, for tests and demos
//! (`arbiter serve --channel-simulator`):
//! gateways that speak each channel's real protocol — they check the merchant's signatures
//! and sign their own answers and notifications with platform keys of their own — over trades
//! held in memory, mounted under `/sim/…` beside the API. An admin trigger
//! (`POST /v1/channels/{card,alipay,wechat}/payments/{id}/events`) plays the buyer: the trade is
//! paid (or closes unpaid) and the channel notifies the merchant late, twice, concurrently or
//! never. A trigger can also make the next calls to a gateway fail
//! (`POST /v1/channels/{name}/faults`). Every key is generated at start, the merchant's too, and the server's channel
//! adapters are configured against these gateways; nothing here is used without the flag.

pub mod alipay;
pub mod card;
pub mod delivery;
pub mod statements;
pub mod trades;
pub mod wechat;

use std::sync::Arc;

use arbiter_transactions::card::CardChannel;
use arbiter_transactions::channels::ChannelResponse;
use arbiter_transactions::channels::alipay::platform::AlipayPlatform;
use arbiter_transactions::channels::alipay::{Alipay, AlipayConfig};
use arbiter_transactions::channels::card::{CardConfig, StripeCard};
use arbiter_transactions::channels::keys::SigningKey;
use arbiter_transactions::channels::wechat::platform::WechatPlatform;
use arbiter_transactions::channels::wechat::{ApiV3Key, Wechat, WechatConfig};
use axum::Router;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use self::alipay::AlipaySim;
use self::card::CardSim;
use self::delivery::Attempt;
use self::wechat::WechatSim;

/// Why a trigger could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulated channel holds no such trade")]
    NoSuchTrade,
    #[error("the simulated channel could not sign: {0}")]
    Signing(String),
}

/// What a trigger made the channel do.
#[derive(Debug, Clone, Serialize)]
pub struct Reported {
    /// The notification's id (the same in every copy); empty when none was sent.
    pub notice_id: String,
    /// The trade's status at the channel after the trigger, in the channel's words.
    pub status: String,
    pub attempts: Vec<Attempt>,
}

/// How many of a simulated channel's next protocol calls fail, as a trigger told it.
#[derive(Default)]
pub(crate) struct Outage(std::sync::atomic::AtomicU32);

impl Outage {
    pub(crate) fn set(&self, calls: u32) {
        self.0.store(calls, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this call fails (and one fewer will).
    pub(crate) fn take(&self) -> bool {
        self.0
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
    }
}

/// What a channel in an outage answers: `503`, unsigned.
pub(crate) fn outage() -> Response {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "simulated outage",
    )
        .into_response()
}

/// A [`ChannelResponse`] as an HTTP response.
pub(crate) fn channel_response(r: ChannelResponse) -> Response {
    let status = axum::http::StatusCode::from_u16(r.status).unwrap_or(axum::http::StatusCode::OK);
    let mut response = (status, r.body).into_response();
    for (name, value) in r.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(name),
            axum::http::HeaderValue::try_from(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The simulated channels.
pub struct ChannelSimulator {
    pub alipay: Arc<AlipaySim>,
    pub wechat: Arc<WechatSim>,
    pub card: Arc<CardSim>,
}

/// The adapters a merchant holds for the simulated channels.
pub struct SimulatedAdapters {
    pub alipay: Alipay,
    pub wechat: Wechat,
    pub card: StripeCard,
}

/// The simulator with fresh keys, and the adapters a merchant at `public_url` (where this
/// server is reached) would hold for it; the card events are signed with `card_webhook_secret`
/// (the server's own, as a Stripe account shares it with the endpoint).
pub fn start(
    public_url: &str,
    card_webhook_secret: &[u8],
) -> anyhow::Result<(ChannelSimulator, SimulatedAdapters)> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default();

    let (app_key, alipay_key) = (SigningKey::generate()?, SigningKey::generate()?);
    let (app_public, alipay_public) = (app_key.verifying_key()?, alipay_key.verifying_key()?);
    let app_id = "2021000000000000".to_owned();
    let alipay_sim = AlipaySim::new(
        app_id.clone(),
        AlipayPlatform::new(alipay_key),
        app_public,
        http.clone(),
        public_url,
    );
    let alipay = Alipay::new(AlipayConfig {
        app_id,
        gateway: format!("{public_url}/sim/alipay/gateway.do"),
        notify_url: format!("{public_url}/v1/webhooks/alipay"),
        app_key,
        platform_key: alipay_public,
    });

    let (merchant_key, wechat_key) = (SigningKey::generate()?, SigningKey::generate()?);
    let (merchant_public, wechat_public) =
        (merchant_key.verifying_key()?, wechat_key.verifying_key()?);
    let apiv3: String = rand::Rng::sample_iter(rand::rng(), &rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let mchid = "1900000000".to_owned();
    let serial = "PUB_KEY_ID_SIMULATED000000000000001".to_owned();
    let wechat_sim = WechatSim::new(
        mchid.clone(),
        WechatPlatform::new(serial.clone(), wechat_key, ApiV3Key::parse(&apiv3)?),
        merchant_public,
        http,
        public_url,
    );
    let wechat = Wechat::new(WechatConfig {
        mchid,
        appid: "wxsimulated00000".into(),
        base_url: format!("{public_url}{}", wechat::PREFIX),
        notify_url: format!("{public_url}/v1/webhooks/wechat"),
        merchant_serial: "SIMULATEDMERCHANTSERIAL".into(),
        merchant_key,
        apiv3_key: ApiV3Key::parse(&apiv3)?,
        platform_keys: vec![(serial, wechat_public)],
    });
    let card_key: String = format!(
        "sk_test_sim{}",
        rand::Rng::sample_iter(rand::rng(), &rand::distr::Alphanumeric)
            .take(24)
            .map(char::from)
            .collect::<String>()
    );
    let card_sim = CardSim::new(
        card_key.clone(),
        CardChannel::new(card_webhook_secret.to_vec()),
        format!("{public_url}/v1/webhooks/card"),
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
        format!("{public_url}{}", card::PREFIX),
    );
    let card = StripeCard::new(CardConfig {
        api_base: format!("{public_url}{}", card::PREFIX),
        secret_key: card_key,
        webhook_secret: card_webhook_secret.to_vec(),
        tolerance: arbiter_transactions::signature::DEFAULT_TOLERANCE,
    });
    Ok((
        ChannelSimulator {
            alipay: Arc::new(alipay_sim),
            wechat: Arc::new(wechat_sim),
            card: Arc::new(card_sim),
        },
        SimulatedAdapters {
            alipay,
            wechat,
            card,
        },
    ))
}

impl ChannelSimulator {
    /// Plays the buyer at `channel`'s gateway; `None` for a channel not simulated.
    pub async fn report(
        &self,
        channel: &str,
        id: &str,
        paid: bool,
        delivery: delivery::Delivery,
    ) -> Option<Result<Reported, SimError>> {
        Some(match channel {
            "alipay" => self.alipay.report(id, paid, delivery).await,
            "wechat" => self.wechat.report(id, paid, delivery).await,
            _ => return None,
        })
    }

    /// Makes `channel`'s gateway fail its next `calls` calls; `false` for a channel not
    /// simulated.
    pub fn fail_next(&self, channel: &str, calls: u32) -> bool {
        match channel {
            "alipay" => self.alipay.fail_next(calls),
            "wechat" => self.wechat.fail_next(calls),
            "card" => self.card.fail_next(calls),
            _ => return false,
        }
        true
    }

    /// Plants differences in `channel`'s next statements (replacing those planted before);
    /// `false` for a channel not simulated.
    pub fn plant(&self, channel: &str, plants: Vec<statements::Plant>) -> bool {
        let desk = match channel {
            "alipay" => &self.alipay.desk,
            "wechat" => &self.wechat.desk,
            "card" => &self.card.desk,
            _ => return false,
        };
        desk.plants.set(plants);
        true
    }

    /// The gateways' routes, under `/sim/…`: outside the API (no key, no OpenAPI entry), since
    /// they authenticate the merchant by signature as the real ones do.
    pub fn router(&self) -> Router {
        let alipay = Router::new()
            .route(
                "/sim/alipay/gateway.do",
                axum::routing::post(AlipaySim::gateway),
            )
            .route(
                "/sim/alipay/bills/{token}",
                axum::routing::get(AlipaySim::bill),
            )
            .with_state(self.alipay.clone());
        let wechat = Router::new()
            .route(
                &format!("{}/v3/{{*rest}}", wechat::PREFIX),
                axum::routing::any(WechatSim::api),
            )
            .with_state(self.wechat.clone());
        let card = Router::new()
            .route(
                &format!("{}/v1/{{*rest}}", card::PREFIX),
                axum::routing::any(CardSim::api),
            )
            .with_state(self.card.clone());
        alipay.merge(wechat).merge(card)
    }
}
