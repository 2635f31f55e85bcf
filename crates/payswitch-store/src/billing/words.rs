//! Statuses as the schema spells them: the same snake_case words the model serializes to,
//! and a gateway's own word for a status payswitch does not know.

use payswitch_core::{
    CheckoutMode, CheckoutStatus, PaymentStatus, RefundReason, RefundStatus, SubscriptionStatus,
};

/// The serialized word of a variant added to the model after this crate (the model's enums
/// are non-exhaustive): it is stored as a gateway word payswitch does not know.
fn serialized_word(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => "unknown".to_owned(),
    }
}

/// The stored word for a subscription status.
pub(crate) fn subscription_status(status: &SubscriptionStatus) -> String {
    match status {
        SubscriptionStatus::Trialing => "trialing".into(),
        SubscriptionStatus::Active => "active".into(),
        SubscriptionStatus::PastDue => "past_due".into(),
        SubscriptionStatus::Paused => "paused".into(),
        SubscriptionStatus::Canceled => "canceled".into(),
        SubscriptionStatus::Unpaid => "unpaid".into(),
        SubscriptionStatus::Incomplete => "incomplete".into(),
        SubscriptionStatus::Expired => "expired".into(),
        SubscriptionStatus::Other(word) => format!("other:{word}"),
        newer => format!("other:{}", serialized_word(newer)),
    }
}

/// A subscription status back from its stored word.
pub(crate) fn parse_subscription_status(word: &str) -> SubscriptionStatus {
    match word {
        "trialing" => SubscriptionStatus::Trialing,
        "active" => SubscriptionStatus::Active,
        "past_due" => SubscriptionStatus::PastDue,
        "paused" => SubscriptionStatus::Paused,
        "canceled" => SubscriptionStatus::Canceled,
        "unpaid" => SubscriptionStatus::Unpaid,
        "incomplete" => SubscriptionStatus::Incomplete,
        "expired" => SubscriptionStatus::Expired,
        other => SubscriptionStatus::Other(other.strip_prefix("other:").unwrap_or(other).into()),
    }
}

/// The stored word for a checkout status.
pub(crate) fn checkout_status(status: CheckoutStatus) -> &'static str {
    match status {
        CheckoutStatus::Open => "open",
        CheckoutStatus::Complete => "complete",
        CheckoutStatus::Expired => "expired",
    }
}

/// A checkout status back from its stored word (an unknown word reads as open, the state
/// that grants nothing).
pub(crate) fn parse_checkout_status(word: &str) -> CheckoutStatus {
    match word {
        "complete" => CheckoutStatus::Complete,
        "expired" => CheckoutStatus::Expired,
        _ => CheckoutStatus::Open,
    }
}

/// The stored word for a payment status.
pub(crate) fn payment_status(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Paid => "paid",
        PaymentStatus::Unpaid => "unpaid",
        PaymentStatus::NoPaymentRequired => "no_payment_required",
    }
}

/// A payment status back from its stored word (an unknown word reads as unpaid).
pub(crate) fn parse_payment_status(word: &str) -> PaymentStatus {
    match word {
        "paid" => PaymentStatus::Paid,
        "no_payment_required" => PaymentStatus::NoPaymentRequired,
        _ => PaymentStatus::Unpaid,
    }
}

/// The stored word for a checkout mode.
pub(crate) fn checkout_mode(mode: CheckoutMode) -> &'static str {
    match mode {
        CheckoutMode::Payment => "payment",
        CheckoutMode::Subscription => "subscription",
        CheckoutMode::Setup => "setup",
    }
}

/// A checkout mode back from its stored word.
pub(crate) fn parse_checkout_mode(word: &str) -> Option<CheckoutMode> {
    match word {
        "payment" => Some(CheckoutMode::Payment),
        "subscription" => Some(CheckoutMode::Subscription),
        "setup" => Some(CheckoutMode::Setup),
        _ => None,
    }
}

/// The stored word for a refund status.
pub(crate) fn refund_status(status: &RefundStatus) -> String {
    match status {
        RefundStatus::Pending => "pending".into(),
        RefundStatus::RequiresAction => "requires_action".into(),
        RefundStatus::Succeeded => "succeeded".into(),
        RefundStatus::Failed => "failed".into(),
        RefundStatus::Canceled => "canceled".into(),
        RefundStatus::Other(word) => format!("other:{word}"),
        newer => format!("other:{}", serialized_word(newer)),
    }
}

/// A refund status back from its stored word.
pub(crate) fn parse_refund_status(word: &str) -> RefundStatus {
    match word {
        "pending" => RefundStatus::Pending,
        "requires_action" => RefundStatus::RequiresAction,
        "succeeded" => RefundStatus::Succeeded,
        "failed" => RefundStatus::Failed,
        "canceled" => RefundStatus::Canceled,
        other => RefundStatus::Other(other.strip_prefix("other:").unwrap_or(other).into()),
    }
}

/// The stored word for a refund reason.
pub(crate) fn refund_reason(reason: &RefundReason) -> String {
    match reason {
        RefundReason::Duplicate => "duplicate".into(),
        RefundReason::Fraudulent => "fraudulent".into(),
        RefundReason::RequestedByCustomer => "requested_by_customer".into(),
        RefundReason::Other(word) => format!("other:{word}"),
        newer => format!("other:{}", serialized_word(newer)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        for status in [
            SubscriptionStatus::Trialing,
            SubscriptionStatus::Active,
            SubscriptionStatus::PastDue,
            SubscriptionStatus::Paused,
            SubscriptionStatus::Canceled,
            SubscriptionStatus::Unpaid,
            SubscriptionStatus::Incomplete,
            SubscriptionStatus::Expired,
            SubscriptionStatus::Other("active".into()),
        ] {
            assert_eq!(
                parse_subscription_status(&subscription_status(&status)),
                status
            );
        }
        for status in [
            RefundStatus::Pending,
            RefundStatus::RequiresAction,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
            RefundStatus::Canceled,
            RefundStatus::Other("x".into()),
        ] {
            assert_eq!(parse_refund_status(&refund_status(&status)), status);
        }
        for status in [
            CheckoutStatus::Open,
            CheckoutStatus::Complete,
            CheckoutStatus::Expired,
        ] {
            assert_eq!(parse_checkout_status(checkout_status(status)), status);
        }
        for status in [
            PaymentStatus::Paid,
            PaymentStatus::Unpaid,
            PaymentStatus::NoPaymentRequired,
        ] {
            assert_eq!(parse_payment_status(payment_status(status)), status);
        }
        for mode in [
            CheckoutMode::Payment,
            CheckoutMode::Subscription,
            CheckoutMode::Setup,
        ] {
            assert_eq!(parse_checkout_mode(checkout_mode(mode)), Some(mode));
        }
    }
}
