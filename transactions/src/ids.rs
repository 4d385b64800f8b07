//! Identifier newtypes, so an order id is never passed where a payment id belongs. Generated
//! ids are a type prefix and a UUIDv7 (time-ordered, so they index well), e.g. `ord_0190…`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> $name {
                $name(format!(concat!($prefix, "_{}"), uuid::Uuid::now_v7().simple()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_owned())
            }
        }
    };
}

id_type!(
    /// An order.
    OrderId, "ord"
);
id_type!(
    /// A payment of an order.
    PaymentId, "pay"
);
id_type!(
    /// A refund of a payment.
    RefundId, "rfd"
);
id_type!(
    /// A stock reservation (one per order; standalone ones for tests and admin use).
    ReservationId, "rsv"
);
id_type!(
    /// A ledger journal.
    JournalId, "jnl"
);
id_type!(
    /// The channel's id for a payment (Stripe's payment intent id).
    ChannelPaymentId, "pi"
);
id_type!(
    /// The channel's id for a refund.
    ChannelRefundId, "re"
);
id_type!(
    /// A stock-keeping unit, chosen by the catalogue's owner (never generated in practice).
    Sku, "sku"
);
id_type!(
    /// A client's `Idempotency-Key`.
    IdempotencyKey, "idem"
);
id_type!(
    /// A channel event's id (`evt_…`): applied at most once.
    EventId, "evt"
);
