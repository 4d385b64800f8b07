//! RSA keys as the channels hand them out, and SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256),
//! the signature Alipay's RSA2 and WeChat Pay's API v3 both use. Keys come as PEM (`PRIVATE KEY`
//! for PKCS#8, `RSA PRIVATE KEY` for PKCS#1, `PUBLIC KEY` for SubjectPublicKeyInfo, `RSA PUBLIC
//! KEY` for PKCS#1) or as the bare base64 of the DER that Alipay's key tool prints.
//!
//! The arithmetic is AWS-LC's (`aws-lc-rs`): constant-time private-key operations, which the
//! pure-Rust `rsa` crate does not promise (RUSTSEC-2023-0071), and key generation for the
//! simulated channels, which `ring` lacks. No key's content is ever printed: the `Debug` forms
//! say only what the key is.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::ChannelError;

/// A merchant's (or, in a simulator, a platform's) private key.
pub struct SigningKey {
    pair: KeyPair,
}

/// A public key that signatures are checked with: the platform's, or a merchant's. Parsed
/// once; 2048 to 8192 bits.
#[derive(Clone)]
pub struct VerifyingKey {
    key: ParsedPublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey(RSA {} bits)",
            self.pair.public_modulus_len() * 8
        )
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyingKey(RSA)")
    }
}

fn key_error(what: &'static str, reason: impl Into<String>) -> ChannelError {
    ChannelError::Key {
        what,
        reason: reason.into(),
    }
}

/// PEM with Unix line endings, as key files are written and as the SDKs expect them.
fn pem_lf(tag: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The DER inside `text` and the PEM label it carried (`None` for bare base64).
fn der_of(what: &'static str, text: &str) -> Result<(Vec<u8>, Option<String>), ChannelError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let pem = pem::parse(text).map_err(|e| key_error(what, format!("not PEM: {e}")))?;
        return Ok((pem.contents().to_vec(), Some(pem.tag().to_owned())));
    }
    let bare: String = text.split_whitespace().collect();
    let der = STANDARD
        .decode(bare)
        .map_err(|_| key_error(what, "neither PEM nor base64"))?;
    Ok((der, None))
}

impl SigningKey {
    /// Reads a private key: PKCS#8 or PKCS#1, PEM or bare base64. `what` names the key in
    /// errors (`"Alipay app private key"`).
    pub fn parse(what: &'static str, text: &str) -> Result<SigningKey, ChannelError> {
        let (der, tag) = der_of(what, text)?;
        let pair = match tag.as_deref() {
            Some("PRIVATE KEY") => KeyPair::from_pkcs8(&der),
            Some("RSA PRIVATE KEY") => KeyPair::from_der(&der),
            Some(other) => return Err(key_error(what, format!("a `{other}`, not a private key"))),
            None => KeyPair::from_pkcs8(&der).or_else(|_| KeyPair::from_der(&der)),
        }
        .map_err(|e| key_error(what, format!("not an RSA private key ({e})")))?;
        if pair.public_modulus_len() < 256 {
            return Err(key_error(what, "shorter than 2048 bits"));
        }
        Ok(SigningKey { pair })
    }

    /// A new 2048-bit key, for a simulated channel's platform key.
    pub fn generate() -> Result<SigningKey, ChannelError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| key_error("generated key", "key generation failed"))?;
        Ok(SigningKey { pair })
    }

    /// SHA256withRSA of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ChannelError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| key_error("signing key", "signing failed"))?;
        Ok(signature)
    }

    /// [`SigningKey::sign`], base64 (standard alphabet, padded), as both channels send it.
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, ChannelError> {
        Ok(STANDARD.encode(self.sign(message)?))
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, ChannelError> {
        VerifyingKey::from_der("public half", self.pair.public_key().as_ref())
    }

    /// The key as PKCS#8 PEM: what a simulator hands to tests and to an independent SDK.
    pub fn to_pkcs8_pem(&self) -> Result<String, ChannelError> {
        let der: Pkcs8V1Der<'_> = self
            .pair
            .as_der()
            .map_err(|_| key_error("signing key", "cannot be encoded"))?;
        Ok(pem_lf("PRIVATE KEY", der.as_ref()))
    }
}

impl VerifyingKey {
    /// Reads a public key: SubjectPublicKeyInfo or PKCS#1, PEM or bare base64.
    pub fn parse(what: &'static str, text: &str) -> Result<VerifyingKey, ChannelError> {
        let (der, tag) = der_of(what, text)?;
        if let Some(other) = tag
            .as_deref()
            .filter(|t| !matches!(*t, "PUBLIC KEY" | "RSA PUBLIC KEY"))
        {
            return Err(key_error(what, format!("a `{other}`, not a public key")));
        }
        VerifyingKey::from_der(what, &der)
    }

    /// From SubjectPublicKeyInfo or PKCS#1 DER; kept as SubjectPublicKeyInfo.
    fn from_der(what: &'static str, der: &[u8]) -> Result<VerifyingKey, ChannelError> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| {
            key_error(what, format!("not an RSA public key ({e})"))
        };
        let spki: PublicKeyX509Der<'_> = aws_lc_rs::rsa::PublicKey::from_der(der)
            .map_err(rejected)?
            .as_der()
            .map_err(|_| key_error(what, "cannot be encoded"))?;
        let key =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref()).map_err(rejected)?;
        Ok(VerifyingKey { key })
    }

    /// Whether `signature` is this key's SHA256withRSA signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    /// [`VerifyingKey::verify`] of a base64 signature; malformed base64 does not verify.
    pub fn verify_base64(&self, message: &[u8], signature: &str) -> bool {
        STANDARD
            .decode(signature.trim())
            .is_ok_and(|s| self.verify(message, &s))
    }

    /// The key as SubjectPublicKeyInfo PEM (`PUBLIC KEY`), as the channels publish theirs.
    pub fn to_pem(&self) -> String {
        pem_lf("PUBLIC KEY", self.key.as_ref())
    }
}
