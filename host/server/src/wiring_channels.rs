//! The payment channels' composition: the card (Stripe API), Alipay and WeChat Pay adapters
//! from their flags and key files ([`crate::config::ChannelArgs`]), or all three against the
//! simulated gateways with `--channel-simulator`. A private key (or APIv3 key) file that others may read is refused,
//! as is a channel named without every file it needs; what is wrong is said, never a key.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use arbiter_transactions::channels::PaymentChannel;
use arbiter_transactions::channels::alipay::{self, Alipay, AlipayConfig};
use arbiter_transactions::channels::card::{self, CardConfig, StripeCard};
use arbiter_transactions::channels::keys::{SigningKey, VerifyingKey};
use arbiter_transactions::channels::wechat::{self, ApiV3Key, Wechat, WechatConfig};

use crate::config::ChannelArgs;
use crate::services::transactions::channels::PaymentChannels;
use crate::simulator::{self, ChannelSimulator};

/// The channels as configured, for the transaction core's wiring.
pub struct ChannelSetup {
    pub channels: PaymentChannels,
    /// The simulated gateways, with `--channel-simulator`.
    pub simulator: Option<Arc<ChannelSimulator>>,
    /// How often the compensation worker looks, and how old a `PROCESSING` payment must be
    /// before it asks the channel.
    pub query_interval: Duration,
    pub query_after: Duration,
}

/// The configured channels, and the simulator when they run against it. `public_url`: where
/// the channels reach this server; `card_webhook_secret`: the card webhook endpoint's secret.
pub fn build(
    args: &ChannelArgs,
    public_url: &str,
    card_webhook_secret: &[u8],
) -> anyhow::Result<ChannelSetup> {
    let (channels, simulator) = adapters(args, public_url, card_webhook_secret)?;
    Ok(ChannelSetup {
        channels,
        simulator,
        query_interval: Duration::from_millis(args.channel_query_interval_ms),
        query_after: Duration::from_secs(args.channel_query_after_secs),
    })
}

fn adapters(
    args: &ChannelArgs,
    public_url: &str,
    card_webhook_secret: &[u8],
) -> anyhow::Result<(PaymentChannels, Option<Arc<ChannelSimulator>>)> {
    let public_url = public_url.trim_end_matches('/');
    if args.channel_simulator {
        if args.alipay_app_id.is_some()
            || args.wechat_mchid.is_some()
            || args.card_api_key_file.is_some()
        {
            bail!(
                "--channel-simulator configures the card, Alipay and WeChat Pay itself: drop \
                 their flags"
            );
        }
        let (sim, simulated) = simulator::start(public_url, card_webhook_secret)?;
        tracing::warn!(
            "paying through SIMULATED card, Alipay and WeChat Pay gateways (--channel-simulator)"
        );
        let adapters: Vec<Arc<dyn PaymentChannel>> = vec![
            Arc::new(simulated.card),
            Arc::new(simulated.alipay),
            Arc::new(simulated.wechat),
        ];
        return Ok((PaymentChannels::new(adapters), Some(Arc::new(sim))));
    }
    let mut adapters: Vec<Arc<dyn PaymentChannel>> = Vec::new();
    if let Some(key_file) = &args.card_api_key_file {
        adapters.push(Arc::new(StripeCard::new(CardConfig {
            api_base: args
                .card_api_url
                .clone()
                .unwrap_or_else(|| card::STRIPE_API.to_owned()),
            secret_key: read_secret(key_file)?.trim().to_owned(),
            webhook_secret: card_webhook_secret.to_vec(),
            tolerance: arbiter_transactions::signature::DEFAULT_TOLERANCE,
        })));
    }
    if let Some(app_id) = &args.alipay_app_id {
        adapters.push(Arc::new(alipay_from_files(args, app_id, public_url)?));
    }
    if let Some(mchid) = &args.wechat_mchid {
        let wechat = Arc::new(wechat_from_files(args, mchid, public_url)?);
        if let Some(dir) = &args.wechat_platform_keys_dir {
            spawn_platform_key_reload(dir.clone(), &wechat);
        }
        adapters.push(wechat);
    }
    Ok((PaymentChannels::new(adapters), None))
}

fn needed<'a>(value: &'a Option<PathBuf>, flag: &str, channel: &str) -> anyhow::Result<&'a Path> {
    value
        .as_deref()
        .with_context(|| format!("{channel} is configured but {flag} is missing"))
}

/// A secret's file: readable by its owner only.
fn read_secret(path: &Path) -> anyhow::Result<String> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} may be read by others (mode {:o}): make it 0600",
            path.display(),
            mode & 0o777
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn read_public(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn alipay_from_files(args: &ChannelArgs, app_id: &str, public_url: &str) -> anyhow::Result<Alipay> {
    let key_file = needed(&args.alipay_app_key_file, "--alipay-app-key-file", "Alipay")?;
    let public_file = needed(
        &args.alipay_public_key_file,
        "--alipay-public-key-file",
        "Alipay",
    )?;
    Ok(Alipay::new(AlipayConfig {
        app_id: app_id.to_owned(),
        gateway: args
            .alipay_gateway
            .clone()
            .unwrap_or_else(|| alipay::GATEWAY.to_owned()),
        notify_url: format!("{public_url}/v1/webhooks/alipay"),
        app_key: SigningKey::parse("Alipay app private key", &read_secret(key_file)?)?,
        platform_key: VerifyingKey::parse("Alipay public key", &read_public(public_file)?)?,
    }))
}

fn wechat_from_files(args: &ChannelArgs, mchid: &str, public_url: &str) -> anyhow::Result<Wechat> {
    let channel = "WeChat Pay";
    let appid = args
        .wechat_appid
        .clone()
        .context("WeChat Pay is configured but --wechat-appid is missing")?;
    let serial = args
        .wechat_merchant_serial
        .clone()
        .context("WeChat Pay is configured but --wechat-merchant-serial is missing")?;
    let key_file = needed(
        &args.wechat_merchant_key_file,
        "--wechat-merchant-key-file",
        channel,
    )?;
    let apiv3_file = needed(
        &args.wechat_apiv3_key_file,
        "--wechat-apiv3-key-file",
        channel,
    )?;
    let keys_dir = needed(
        &args.wechat_platform_keys_dir,
        "--wechat-platform-keys-dir",
        channel,
    )?;
    Ok(Wechat::new(WechatConfig {
        mchid: mchid.to_owned(),
        appid,
        base_url: args
            .wechat_base_url
            .clone()
            .unwrap_or_else(|| wechat::BASE_URL.to_owned()),
        notify_url: format!("{public_url}/v1/webhooks/wechat"),
        merchant_serial: serial,
        merchant_key: SigningKey::parse("WeChat Pay merchant key", &read_secret(key_file)?)?,
        apiv3_key: ApiV3Key::parse(&read_secret(apiv3_file)?)?,
        platform_keys: platform_keys(keys_dir)?,
    }))
}

/// How often WeChat Pay's platform keys directory is read again.
const PLATFORM_KEY_RELOAD: Duration = Duration::from_secs(60);

/// Reads the platform keys directory again every minute and swaps in what it holds when the
/// serials changed, so a key rotated in (or retired) needs no restart. A directory that cannot
/// be read, or holds no key, keeps the keys in use (and says so). Stops with the adapter.
fn spawn_platform_key_reload(dir: PathBuf, wechat: &Arc<Wechat>) {
    let wechat = Arc::downgrade(wechat);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PLATFORM_KEY_RELOAD);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(wechat) = wechat.upgrade() else {
                return;
            };
            reload_platform_keys(&dir, &wechat);
        }
    });
}

/// One reload: the serials now held.
pub fn reload_platform_keys(dir: &Path, wechat: &Wechat) -> Vec<String> {
    match platform_keys(dir) {
        Ok(keys) => {
            let mut serials: Vec<&str> = keys.iter().map(|(s, _)| s.as_str()).collect();
            serials.sort_unstable();
            let mut held = wechat.platform_serials();
            held.sort_unstable();
            if serials != held {
                let now = wechat.replace_platform_keys(keys);
                tracing::info!(serials = ?now, "WeChat Pay platform keys reloaded");
                return now;
            }
            held
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "WeChat Pay platform keys not reloaded; the ones in use stay");
            wechat.platform_serials()
        }
    }
}

/// Every `<serial>.pem` in `dir`: the platform keys by serial.
fn platform_keys(dir: &Path) -> anyhow::Result<Vec<(String, VerifyingKey)>> {
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let (Some(serial), Some("pem")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        let key = VerifyingKey::parse("WeChat Pay platform key", &read_public(&path)?)?;
        keys.push((serial.to_owned(), key));
    }
    if keys.is_empty() {
        bail!("{} holds no platform key (`<serial>.pem`)", dir.display());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str, mode: u32) {
        std::fs::write(path, text).expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn channels_come_from_owner_only_key_files_and_say_what_is_missing() {
        let dir = tempfile::tempdir().expect("tmp");
        let key = SigningKey::generate().expect("key");
        let platform = SigningKey::generate().expect("key");
        let (key_file, public_file) = (dir.path().join("app.pem"), dir.path().join("alipay.pem"));
        write(&key_file, &key.to_pkcs8_pem().expect("pem"), 0o644);
        write(
            &public_file,
            &platform.verifying_key().expect("public").to_pem(),
            0o644,
        );
        let mut args = ChannelArgs {
            alipay_app_id: Some("2021000000000001".into()),
            alipay_app_key_file: Some(key_file.clone()),
            ..ChannelArgs::default()
        };
        let missing = build(&args, "https://shop.test", b"whsec")
            .err()
            .expect("refused");
        assert!(
            missing.to_string().contains("--alipay-public-key-file"),
            "{missing:#}"
        );
        args.alipay_public_key_file = Some(public_file);
        let open = build(&args, "https://shop.test", b"whsec")
            .err()
            .expect("refused");
        assert!(format!("{open:#}").contains("make it 0600"), "{open:#}");
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let setup = build(&args, "https://shop.test/", b"whsec").expect("configured");
        assert_eq!(setup.channels.names(), vec!["alipay"]);
        assert!(setup.simulator.is_none());

        // The card's API key: a secret file like the others.
        let card_key = dir.path().join("stripe.key");
        write(&card_key, "sk_test_123\n", 0o640);
        args.card_api_key_file = Some(card_key.clone());
        let open = build(&args, "https://shop.test", b"whsec")
            .err()
            .expect("refused");
        assert!(format!("{open:#}").contains("make it 0600"), "{open:#}");
        std::fs::set_permissions(&card_key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let setup = build(&args, "https://shop.test", b"whsec").expect("configured");
        assert_eq!(setup.channels.names(), vec!["alipay", "card"]);
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;

    #[test]
    fn a_platform_key_dropped_into_the_directory_is_taken_without_a_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys_dir = dir.path().join("platform");
        std::fs::create_dir(&keys_dir).expect("mkdir");
        let public = |k: &SigningKey| k.verifying_key().expect("public").to_pem();
        let (first, second) = (
            SigningKey::generate().expect("key"),
            SigningKey::generate().expect("key"),
        );
        std::fs::write(keys_dir.join("PUB_KEY_ID_A.pem"), public(&first)).expect("write");
        let secret = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            path
        };
        let args = ChannelArgs {
            wechat_mchid: Some("1900000109".into()),
            wechat_appid: Some("wx1".into()),
            wechat_merchant_serial: Some("SERIAL".into()),
            wechat_merchant_key_file: Some(secret(
                "merchant.pem",
                &SigningKey::generate()
                    .expect("key")
                    .to_pkcs8_pem()
                    .expect("pem"),
            )),
            wechat_apiv3_key_file: Some(secret("apiv3", "0123456789abcdef0123456789ABCDEF")),
            wechat_platform_keys_dir: Some(keys_dir.clone()),
            ..ChannelArgs::default()
        };
        let wechat =
            wechat_from_files(&args, "1900000109", "https://shop.test").expect("configured");
        assert_eq!(wechat.platform_serials(), vec!["PUB_KEY_ID_A".to_owned()]);
        assert_eq!(
            reload_platform_keys(&keys_dir, &wechat),
            vec!["PUB_KEY_ID_A".to_owned()]
        );
        std::fs::write(keys_dir.join("PUB_KEY_ID_B.pem"), public(&second)).expect("write");
        let mut now = reload_platform_keys(&keys_dir, &wechat);
        now.sort();
        assert_eq!(
            now,
            vec!["PUB_KEY_ID_A".to_owned(), "PUB_KEY_ID_B".to_owned()]
        );
        // An emptied directory keeps the keys in use.
        std::fs::remove_file(keys_dir.join("PUB_KEY_ID_A.pem")).expect("rm");
        std::fs::remove_file(keys_dir.join("PUB_KEY_ID_B.pem")).expect("rm");
        assert_eq!(reload_platform_keys(&keys_dir, &wechat).len(), 2);
    }
}
