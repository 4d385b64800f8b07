//! What the rule compiler must know about this host: the runtime's verdict limits and fuel
//! budget, and the largest context the decision request's limits let the runtime encode
//! (for the compiled file's worst-case fuel). The server and `arbiter rule` both use this,
//! so a file the CLI accepts is one the server accepts.

use arbiter_engine::lists::ListKind;
use arbiter_engine::request::limits as request;
use arbiter_rules::CompileOptions;
use arbiter_rules::codegen::Bounds;
use arbiter_rules::layout::text;
use arbiter_rules::verdict::VerdictLimits;
use arbiter_runtime::RuntimeConfig;

/// UTF-8 bytes of a character at most.
const BYTES_PER_CHAR: u64 = 4;
/// Full case folding of an e-mail address can turn one character into three (`ß` is `ss`
/// already; some ligatures fold to three letters).
const FOLDING_GROWTH: u64 = 3;

/// The options for compiling rule files for a runtime configured with `config`.
pub fn compile_options(config: &RuntimeConfig) -> CompileOptions {
    CompileOptions {
        limits: VerdictLimits {
            max_reasons: u32::try_from(arbiter_runtime::MAX_REASONS).unwrap_or(u32::MAX),
            max_detail_bytes: u32::try_from(arbiter_runtime::MAX_REASON_DETAIL_BYTES)
                .unwrap_or(u32::MAX),
        },
        bounds: bounds(),
        fuel_per_call: config.fuel_per_call,
    }
}

fn chars(n: usize) -> u64 {
    n as u64 * BYTES_PER_CHAR
}

/// The longest value of each text of the context layout, from the request's limits.
fn bounds() -> Bounds {
    let mut text_bytes = [0u64; text::COUNT];
    text_bytes[text::REQUEST_ID] = chars(request::MAX_REQUEST_ID_CHARS);
    text_bytes[text::USER_ID] = chars(request::MAX_ID_CHARS);
    // An ISO 4217 code.
    text_bytes[text::CURRENCY] = 3;
    text_bytes[text::EMAIL] = chars(request::MAX_EMAIL_CHARS) * FOLDING_GROWTH;
    text_bytes[text::EMAIL_DOMAIN] = chars(request::MAX_EMAIL_CHARS) * FOLDING_GROWTH;
    text_bytes[text::PHONE] = chars(request::MAX_PHONE_CHARS);
    text_bytes[text::DEVICE_ID] = chars(request::MAX_ID_CHARS);
    text_bytes[text::IP] = chars(request::MAX_IP_CHARS);
    text_bytes[text::IP_COUNTRY] = chars(request::MAX_COUNTRY_CHARS);
    text_bytes[text::PAYMENT_METHOD] = chars(request::MAX_METHOD_CHARS);
    text_bytes[text::CARD_FINGERPRINT] = chars(request::MAX_ID_CHARS);
    text_bytes[text::CARD_BIN] = chars(request::MAX_CARD_BIN_CHARS);
    text_bytes[text::CARD_COUNTRY] = chars(request::MAX_COUNTRY_CHARS);
    // SHA-256 in hex.
    text_bytes[text::SHIPPING_ADDRESS_HASH] = 64;
    text_bytes[text::SHIPPING_COUNTRY] = chars(request::MAX_COUNTRY_CHARS);
    text_bytes[text::ORDER_ID] = chars(request::MAX_ID_CHARS);
    Bounds {
        text_bytes,
        attributes: request::MAX_ATTRIBUTES as u64,
        attribute_key_bytes: chars(request::MAX_ATTRIBUTE_KEY_CHARS),
        // A non-string value arrives as its JSON text, which only the body limit bounds;
        // the language reads at most `MAX_TEXT_BYTES` of any text anyway.
        attribute_value_bytes: crate::http::MAX_BODY_BYTES as u64,
        watch_hits: ListKind::ALL.len() as u64,
        // `list.watch.<kind>`.
        watch_hit_bytes: 32,
    }
}
