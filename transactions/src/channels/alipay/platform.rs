//! Alipay's side of the protocol, for the simulated channel and for tests: answers and
//! notifications signed with the platform key, and the gateway's check of a merchant's signed
//! request.

use serde_json::Value;

use super::sign_content;
use crate::channels::keys::{SigningKey, VerifyingKey};
use crate::channels::{ChannelError, ChannelResponse};

pub struct AlipayPlatform {
    key: SigningKey,
}

impl AlipayPlatform {
    pub fn new(key: SigningKey) -> AlipayPlatform {
        AlipayPlatform { key }
    }

    /// The answer to `method`: `{"<method>_response": node, "sign": …}`, the signature over
    /// the node's text exactly as written into the answer.
    pub fn answer(&self, method: &str, node: &Value) -> Result<ChannelResponse, ChannelError> {
        let node = node.to_string();
        let sign = self.key.sign_base64(node.as_bytes())?;
        let name = format!("{}_response", method.replace('.', "_"));
        let body = format!(
            "{{{}:{node},\"sign\":{}}}",
            Value::String(name),
            Value::String(sign)
        );
        Ok(ChannelResponse {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=utf-8".into(),
            )],
            body: body.into_bytes(),
        })
    }

    /// A notification's form body: `params`, `sign_type=RSA2`, and the signature over the sign
    /// content without either.
    pub fn notification(&self, params: &[(&str, &str)]) -> Result<Vec<u8>, ChannelError> {
        let content = sign_content(params.iter().copied(), &["sign", "sign_type"]);
        let sign = self.key.sign_base64(content.as_bytes())?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            form.append_pair(k, v);
        }
        form.append_pair("sign_type", "RSA2");
        form.append_pair("sign", &sign);
        Ok(form.finish().into_bytes())
    }

    /// The gateway's check of a merchant's request form: its parameters when `merchant`'s key
    /// signed them (RSA2), `None` otherwise.
    pub fn verify_request(merchant: &VerifyingKey, form: &[u8]) -> Option<Vec<(String, String)>> {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(form).into_owned().collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if get("sign_type") != Some("RSA2") {
            return None;
        }
        let content = sign_content(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &["sign"],
        );
        merchant
            .verify_base64(content.as_bytes(), get("sign")?)
            .then_some(params)
    }
}
