//! `arbiter serve` flags for the payment channels. A channel is configured when its merchant
//! id (for the card: its API key file) is given, and then needs every key file it names;
//! private keys, the card API key and the APIv3 key are read from files only their owner may
//! read (0600), never from flags, and never logged. `--channel-simulator` configures all three
//! against simulated gateways in this process instead, with keys generated at start (for
//! tests and demos). Without its API key the card channel still takes its signed webhooks,
//! but creates nothing at the acquirer and is not queried or closed there.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct ChannelArgs {
    /// Run simulated Alipay, WeChat Pay and card (Stripe API) gateways in this server (under
    /// `/sim/…`) and pay through them: every key is generated at start. For tests and demos
    /// only.
    #[arg(long, env = "ARBITER_CHANNEL_SIMULATOR")]
    pub channel_simulator: bool,
    /// This server's base URL as the channels reach it (their notifications go to
    /// `<url>/v1/webhooks/<channel>`). Default: `http://` and the listening address.
    #[arg(long, env = "ARBITER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a payment may stay `PROCESSING` at a channel with an API before the channel
    /// is asked what became of it (a notification may have been lost).
    #[arg(long, env = "ARBITER_CHANNEL_QUERY_AFTER_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub channel_query_after_secs: u64,
    /// How often the compensation worker looks for such payments.
    #[arg(long, env = "ARBITER_CHANNEL_QUERY_INTERVAL_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub channel_query_interval_ms: u64,

    /// Card: the acquirer's API host (Stripe's API). Default: `https://api.stripe.com`.
    #[arg(long, env = "ARBITER_CARD_API_URL")]
    pub card_api_url: Option<String>,
    /// Card: the account's secret API key (`sk_…`), mode 0600; configures the card channel's
    /// API (payment intents, cancels, refunds, queries).
    #[arg(long, env = "ARBITER_CARD_API_KEY_FILE")]
    pub card_api_key_file: Option<PathBuf>,

    /// Alipay: the app's id on the open platform; configures Alipay.
    #[arg(long, env = "ARBITER_ALIPAY_APP_ID")]
    pub alipay_app_id: Option<String>,
    /// Alipay: the gateway (the sandbox's for testing). Default: production.
    #[arg(long, env = "ARBITER_ALIPAY_GATEWAY")]
    pub alipay_gateway: Option<String>,
    /// Alipay: the app's private key (PKCS#8 or PKCS#1, PEM or bare base64), mode 0600.
    #[arg(long, env = "ARBITER_ALIPAY_APP_KEY_FILE")]
    pub alipay_app_key_file: Option<PathBuf>,
    /// Alipay: Alipay's public key, which answers and notifications are checked with.
    #[arg(long, env = "ARBITER_ALIPAY_PUBLIC_KEY_FILE")]
    pub alipay_public_key_file: Option<PathBuf>,

    /// WeChat Pay: the merchant id (`mchid`); configures WeChat Pay.
    #[arg(long, env = "ARBITER_WECHAT_MCHID")]
    pub wechat_mchid: Option<String>,
    /// WeChat Pay: the app id the payments are for.
    #[arg(long, env = "ARBITER_WECHAT_APPID")]
    pub wechat_appid: Option<String>,
    /// WeChat Pay: the API host. Default: production.
    #[arg(long, env = "ARBITER_WECHAT_BASE_URL")]
    pub wechat_base_url: Option<String>,
    /// WeChat Pay: the serial of the merchant API certificate the key belongs to.
    #[arg(long, env = "ARBITER_WECHAT_MERCHANT_SERIAL")]
    pub wechat_merchant_serial: Option<String>,
    /// WeChat Pay: the merchant API private key (PEM), mode 0600.
    #[arg(long, env = "ARBITER_WECHAT_MERCHANT_KEY_FILE")]
    pub wechat_merchant_key_file: Option<PathBuf>,
    /// WeChat Pay: the APIv3 key (32 characters), mode 0600.
    #[arg(long, env = "ARBITER_WECHAT_APIV3_KEY_FILE")]
    pub wechat_apiv3_key_file: Option<PathBuf>,
    /// WeChat Pay: a directory of the platform's public keys, one `<serial>.pem` each (two
    /// during a rotation).
    #[arg(long, env = "ARBITER_WECHAT_PLATFORM_KEYS_DIR")]
    pub wechat_platform_keys_dir: Option<PathBuf>,
}
