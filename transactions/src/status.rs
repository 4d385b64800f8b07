//! The state machines — order, payment, refund, reconciliation ticket — each as ONE transition table, and the
//! [`Transition`] value that is the only way to ask a store to change a status. A `Transition`
//! can only be built from its table, so an illegal one is a [`TransitionError`] before anything
//! is written; the store then re-checks `from` (compare-and-set) so a concurrent step cannot be
//! overwritten.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A status of one state machine.
pub trait Status: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// `order`, `payment` or `refund`, for errors and history rows.
    const ENTITY: &'static str;
    /// Every status, for parsing and exhaustive tests.
    const ALL: &'static [Self];
    /// The table: the statuses reachable from `self` in one step.
    fn next(self) -> &'static [Self];
    /// The stored name.
    fn as_str(self) -> &'static str;

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// `from → to` if the table allows it.
    fn to(self, to: Self) -> Result<Transition<Self>, TransitionError> {
        if self.next().contains(&to) {
            Ok(Transition { from: self, to })
        } else {
            Err(TransitionError {
                entity: Self::ENTITY,
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

/// A step the table allows. Fields are private: the only constructor is [`Status::to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<S: Status> {
    from: S,
    to: S,
}

impl<S: Status> Transition<S> {
    pub fn from(&self) -> S {
        self.from
    }
    pub fn to(&self) -> S {
        self.to
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {entity} transition `{from}` → `{to}`")]
pub struct TransitionError {
    pub entity: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident, $entity:literal,
     { $($variant:ident = $text:literal => [$($next:ident),*]),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),+ }

        impl Status for $name {
            const ENTITY: &'static str = $entity;
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn next(self) -> &'static [Self] {
                match self { $($name::$variant => &[$($name::$next),*]),+ }
            }
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum!(
    /// An order. `CREATING` holds a reservation while the risk host is asked; a crash there is
    /// healed by the expiry job (`CREATING → CANCELLED`).
    OrderStatus, "order", {
        Creating = "CREATING" => [PendingPayment, Rejected, Cancelled],
        PendingPayment = "PENDING_PAYMENT" => [Paid, Cancelled],
        Paid = "PAID" => [Fulfilling],
        Fulfilling = "FULFILLING" => [Fulfilled],
        Fulfilled = "FULFILLED" => [Done],
        Done = "DONE" => [],
        Rejected = "REJECTED" => [],
        // A payment that succeeds after cancellation is refunded: the only way out of CANCELLED.
        Cancelled = "CANCELLED" => [CancelledAfterPay],
        CancelledAfterPay = "CANCELLED_AFTER_PAY" => [],
    }
);

status_enum!(
    /// A payment at its channel.
    PaymentStatus, "payment", {
        Init = "INIT" => [Processing, Failed],
        Processing = "PROCESSING" => [Succeeded, Failed],
        Succeeded = "SUCCEEDED" => [],
        Failed = "FAILED" => [],
    }
);

status_enum!(
    /// A refund at its channel.
    RefundStatus, "refund", {
        Requested = "REQUESTED" => [Processing, Failed],
        Processing = "PROCESSING" => [Succeeded, Failed],
        Succeeded = "SUCCEEDED" => [],
        Failed = "FAILED" => [],
    }
);

status_enum!(
    /// A reconciliation difference ticket: open until a person resolves it with a note, or a
    /// later run of the same day no longer finds the difference (a late or corrected statement).
    TicketStatus, "reconciliation ticket", {
        Open = "OPEN" => [Resolved, Cleared],
        Resolved = "RESOLVED" => [],
        Cleared = "CLEARED" => [],
    }
);

impl OrderStatus {
    /// Unpaid and still holding its reservation: cancellable by the user or the expiry job.
    pub fn is_unpaid(self) -> bool {
        matches!(self, OrderStatus::Creating | OrderStatus::PendingPayment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_pair<S: Status>() -> impl Iterator<Item = (S, S)> {
        S::ALL
            .iter()
            .flat_map(|a| S::ALL.iter().map(move |b| (*a, *b)))
    }

    #[test]
    fn the_order_table_is_the_designed_one() {
        use OrderStatus::*;
        let happy = [Creating, PendingPayment, Paid, Fulfilling, Fulfilled, Done];
        for pair in happy.windows(2) {
            let t = pair[0].to(pair[1]).expect("happy path is legal");
            assert_eq!((t.from(), t.to()), (pair[0], pair[1]));
        }
        assert!(Creating.to(Rejected).is_ok());
        assert!(PendingPayment.to(Cancelled).is_ok());
        assert!(Cancelled.to(CancelledAfterPay).is_ok());
        let err = Paid
            .to(Cancelled)
            .expect_err("a paid order is not cancelled");
        assert_eq!(
            err.to_string(),
            "illegal order transition `PAID` → `CANCELLED`"
        );
        assert!(PendingPayment.to(Done).is_err(), "no skipping");
        assert!(Rejected.is_final() && Done.is_final() && CancelledAfterPay.is_final());
    }

    #[test]
    fn no_status_moves_to_itself_and_names_round_trip() {
        fn check<S: Status>() {
            for (a, b) in every_pair::<S>() {
                if a == b {
                    assert!(a.to(b).is_err(), "{a:?} → itself");
                }
                assert_eq!(a.to(b).is_ok(), a.next().contains(&b));
            }
            for s in S::ALL {
                assert_eq!(S::parse(s.as_str()), Some(*s));
            }
            assert_eq!(S::parse("nonsense"), None);
        }
        check::<OrderStatus>();
        check::<PaymentStatus>();
        check::<RefundStatus>();
    }

    #[test]
    fn payment_and_refund_tables() {
        use PaymentStatus as P;
        assert!(P::Init.to(P::Processing).is_ok());
        assert!(P::Processing.to(P::Succeeded).is_ok());
        assert!(P::Processing.to(P::Failed).is_ok());
        assert!(P::Succeeded.to(P::Failed).is_err());
        assert!(
            P::Failed.to(P::Succeeded).is_err(),
            "a failed payment stays failed"
        );
        use RefundStatus as R;
        assert!(R::Requested.to(R::Processing).is_ok());
        assert!(R::Processing.to(R::Succeeded).is_ok());
        assert!(R::Succeeded.to(R::Processing).is_err());
    }

    #[test]
    fn serde_uses_the_stored_names() {
        let json = serde_json::to_string(&OrderStatus::CancelledAfterPay).expect("serialises");
        assert_eq!(json, "\"CANCELLED_AFTER_PAY\"");
        assert_eq!(OrderStatus::PendingPayment.to_string(), "PENDING_PAYMENT");
    }
}
