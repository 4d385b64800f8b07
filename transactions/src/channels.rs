//! Payment channels behind one abstraction, without I/O. A channel adapter here builds the
//! signed requests its channel expects ([`ChannelRequest`]) and reads, after checking their
//! signatures, the answers and the notifications it sends back; the host sends the requests
//! over HTTP and hands the bytes it received to the adapter. So every signature scheme and
//! status table is tested here byte for byte, and no HTTP client lives in the domain.
//!
//! What a channel says is read into the channel-neutral [`PaymentState`], [`RefundState`] and
//! [`Notice`], which the transaction core applies through the same `Change` path whatever the
//! channel (a notification and an active query of the same payment meet there and apply once).

pub mod alipay;
pub mod card;
pub mod keys;
pub mod routing;
pub mod statement;
pub mod wechat;

use arbiter_engine::money::Money;
use chrono::{DateTime, FixedOffset, Utc};

use crate::payment::{Payment, Refund};

/// UTC+8: the time both Chinese channels write their instants in.
pub const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// One payment channel, without I/O: each operation is a signed request for the host to send
/// and a reader of the channel's answer to it, and a notification is verified and read from
/// the bytes that arrived. The host holds one per configured channel behind this trait.
///
/// `reference` is the channel's own id for the payment when the channel assigns one at create
/// ([`Created::reference`]: Stripe's payment intent id); `None` for a channel that keys
/// payments by our `channel_payment_id` (Alipay, WeChat Pay), or when the create was never
/// answered — then a channel that needs it refuses with [`ChannelError::NotAtChannel`].
pub trait PaymentChannel: Send + Sync {
    /// The channel's name: `card`, `alipay`, `wechat`.
    fn name(&self) -> &'static str;

    /// Creates the payment at the channel; `subject` is what the buyer is shown.
    fn create_payment(
        &self,
        payment: &Payment,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;
    fn read_created(&self, response: &ChannelResponse) -> Result<Created, ChannelError>;

    fn query_payment(
        &self,
        payment: &Payment,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;
    fn read_payment_state(&self, response: &ChannelResponse) -> Result<PaymentState, ChannelError>;

    /// Closes an unpaid payment, so that it can no longer be paid.
    fn close_payment(
        &self,
        payment: &Payment,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;
    fn read_closing(&self, response: &ChannelResponse) -> Result<Closing, ChannelError>;

    /// Asks for `refund` of `payment`, keyed by the refund's channel id so a retry is the same
    /// refund.
    fn refund(
        &self,
        refund: &Refund,
        payment: &Payment,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;
    fn read_refund(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError>;

    fn query_refund(
        &self,
        refund: &Refund,
        payment: &Payment,
        reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError>;
    fn read_refund_state(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError>;

    /// A notification, verified before it is read.
    fn notification(
        &self,
        inbound: Inbound<'_>,
        now: DateTime<Utc>,
    ) -> Result<Notice, ChannelError>;

    /// What the channel is answered to a notification: taken, or send it again.
    fn acknowledge(&self, accepted: bool) -> Acknowledgement;

    /// How this channel hands out its statements, if it does.
    fn statements(&self) -> Option<&dyn statement::StatementChannel> {
        None
    }
}

/// A request for the host to send: method, absolute URL, headers and body, already signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRequest {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// What the channel answered to a [`ChannelRequest`], as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ChannelResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A notification as it arrived: headers (lower-case names) and the raw body, unparsed.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Inbound<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the paying client needs once the channel has the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// A code for the buyer to scan (Alipay's pre-created trade, WeChat Pay's Native pay).
    QrCode(String),
    /// A page to send the buyer to.
    Redirect(String),
    /// A secret the client's card form confirms the payment with.
    ClientSecret(String),
}

impl ClientAction {
    /// The stored kind: `qr_code`, `redirect` or `client_secret`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientAction::QrCode(_) => "qr_code",
            ClientAction::Redirect(_) => "redirect",
            ClientAction::ClientSecret(_) => "client_secret",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            ClientAction::QrCode(v) | ClientAction::Redirect(v) | ClientAction::ClientSecret(v) => {
                v
            }
        }
    }

    /// The action stored as `kind` and `value`; `None` for a kind this release does not know.
    pub fn from_stored(kind: &str, value: String) -> Option<ClientAction> {
        match kind {
            "qr_code" => Some(ClientAction::QrCode(value)),
            "redirect" => Some(ClientAction::Redirect(value)),
            "client_secret" => Some(ClientAction::ClientSecret(value)),
            _ => None,
        }
    }
}

/// What the channel answered to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// What the paying client needs.
    pub action: ClientAction,
    /// The channel's own id for the payment, when it assigns one (Stripe's `pi_…`): every
    /// later call about the payment names it.
    pub reference: Option<String>,
}

/// What a close of an unpaid payment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// Closed: it can no longer be paid.
    Closed,
    /// The channel never had it (a code never scanned): nothing can pay it.
    NeverCreated,
    /// The channel will not close it because it is past closing — paid, or already finished:
    /// ask with a query what it became, and follow that (a paid one takes the paid path).
    QueryFirst,
}

/// What a payment is at the channel, read from a query, a close or a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentState {
    /// Created, not paid yet (the buyer has not scanned, or has not confirmed).
    Pending,
    /// Paid: `amount` captured under the channel's own transaction id.
    Paid {
        amount: Money,
        channel_trade_id: String,
    },
    /// Closed unpaid (timed out or closed by us); it can no longer be paid.
    Closed,
    /// The channel does not know it: never paid (a QR code never scanned) or never created.
    Unknown,
}

/// What a refund is at the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    Processing,
    Succeeded {
        amount: Money,
    },
    Failed {
        reason: String,
    },
    /// The channel does not know it.
    Unknown,
}

/// A verified notification, channel-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The channel's id of this notification (a duplicate repeats it).
    pub notice_id: String,
    /// Our payment's id at the channel (`out_trade_no`).
    pub channel_payment_id: String,
    pub state: NoticeState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeState {
    Payment(PaymentState),
    /// A refund of the payment, by our refund's id at the channel.
    Refund {
        channel_refund_id: String,
        state: RefundState,
    },
    /// A refund of the payment changed, without saying enough to apply (Alipay's
    /// notification carries the payment's refunded total, not this refund's amount): query it.
    RefundChanged {
        channel_refund_id: String,
    },
}

/// What the channel is answered to a notification: its own form of "received" or "try again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Why a channel's answer or notification was not accepted, or a request not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A configured key that cannot be used; names which one, never its content.
    #[error("the {what} cannot be used: {reason}")]
    Key { what: &'static str, reason: String },
    /// The signature does not verify with the channel's key: forged, tampered or misrouted.
    #[error("{channel}: the signature does not verify")]
    BadSignature { channel: &'static str },
    /// Signed with a key we do not hold: a platform key rotated in that is not configured yet,
    /// or a forgery. Names the serial (public), never a key.
    #[error("{channel}: no platform key with serial `{serial}`")]
    UnknownKey {
        channel: &'static str,
        serial: String,
    },
    /// Signed, but not for us (another merchant's app id) or outside the time tolerance.
    #[error("{channel}: {reason}")]
    NotForUs {
        channel: &'static str,
        reason: String,
    },
    /// Not in the channel's format.
    #[error("{channel}: malformed {what}: {reason}")]
    Malformed {
        channel: &'static str,
        what: &'static str,
        reason: String,
    },
    /// The channel refused the request, with its own code and message.
    #[error("{channel} refused the request: {code} {message}")]
    Refused {
        channel: &'static str,
        code: String,
        message: String,
    },
    /// The channel does not take this currency.
    #[error("{channel} does not take `{currency}`")]
    Currency {
        channel: &'static str,
        currency: String,
    },
    /// The channel names payments by its own id, and never answered this one's create: it
    /// holds nothing the buyer could pay (they never got what the create returns).
    #[error("{channel} never answered the payment's create: it has no id there")]
    NotAtChannel { channel: &'static str },
}

impl ChannelError {
    /// A short, stable name for metrics labels and the callback log.
    pub fn reason(&self) -> &'static str {
        match self {
            ChannelError::Key { .. } => "key",
            ChannelError::BadSignature { .. } => "bad_signature",
            ChannelError::UnknownKey { .. } => "unknown_key",
            ChannelError::NotForUs { .. } => "not_for_us",
            ChannelError::Malformed { .. } => "malformed",
            ChannelError::Refused { .. } => "refused",
            ChannelError::Currency { .. } => "currency",
            ChannelError::NotAtChannel { .. } => "not_at_channel",
        }
    }
}
