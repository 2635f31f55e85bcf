//! What every gateway's checkout shares, whatever its wire: the lifecycle status, why one
//! cannot be paid, what the hosted page shows, and the email rule customers must pass.

/// Lifecycle shared by Stripe sessions and Creem checkouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckoutStatus {
    /// Can be paid: Stripe `open`, Creem `pending`.
    Open,
    /// Paid: Stripe `complete`, Creem `completed`.
    Complete,
    /// Expired: `expired` on both.
    Expired,
}

/// Why a checkout can no longer be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotPayable {
    /// It was paid already.
    AlreadyPaid,
    /// It expired, or its expiry time has passed.
    Expired,
}

impl NotPayable {
    /// The reason shown to the admin API and in [`crate::SandboxError::NotPayable`].
    pub(crate) fn reason(self) -> &'static str {
        match self {
            NotPayable::AlreadyPaid => "it is already paid",
            NotPayable::Expired => "it has expired",
        }
    }
}

/// Decides whether a checkout with this status and expiry can be paid at `now`; each
/// gateway's payability function reads its own object and asks this.
pub(crate) fn payable(status: CheckoutStatus, expires_at: i64, now: i64) -> Result<(), NotPayable> {
    match status {
        CheckoutStatus::Open if expires_at > now => Ok(()),
        CheckoutStatus::Complete => Err(NotPayable::AlreadyPaid),
        CheckoutStatus::Open | CheckoutStatus::Expired => Err(NotPayable::Expired),
    }
}

/// What the hosted page shows for one checkout, gateway-independent.
#[derive(Debug, Clone)]
pub(crate) struct PageView {
    /// Session or checkout id.
    pub(crate) id: String,
    /// Gateway name shown under the title.
    pub(crate) gateway_label: &'static str,
    /// (name, quantity, unit amount) per line.
    pub(crate) items: Vec<(String, i64, i64)>,
    /// Currency code of every amount.
    pub(crate) currency: String,
    /// Decimals of the gateway's wire amounts in this currency (Stripe's ISK has 2).
    pub(crate) exponent: u32,
    /// Lines between the items and the total, e.g. ("Discount", -500) or ("Tax", 210).
    pub(crate) adjustments: Vec<(String, i64)>,
    /// Total in minor units.
    pub(crate) total: i64,
    /// Lifecycle status.
    pub(crate) status: CheckoutStatus,
    /// Email to prefill.
    pub(crate) email: Option<String>,
    /// Where "Cancel" goes; the page shows a notice when `None`.
    pub(crate) cancel_url: Option<String>,
}

/// True for something that looks like `local@domain`.
pub(crate) fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payable_only_while_open_and_not_yet_due() {
        assert_eq!(payable(CheckoutStatus::Open, 11, 10), Ok(()));
        assert_eq!(
            payable(CheckoutStatus::Open, 10, 10),
            Err(NotPayable::Expired)
        );
        assert_eq!(
            payable(CheckoutStatus::Expired, 11, 10),
            Err(NotPayable::Expired)
        );
        assert_eq!(
            payable(CheckoutStatus::Complete, 11, 10),
            Err(NotPayable::AlreadyPaid)
        );
    }

    #[test]
    fn email_needs_a_local_part_and_a_dotted_domain() {
        assert!(plausible_email("a@b.co"));
        assert!(!plausible_email("@b.co"));
        assert!(!plausible_email("a@bco"));
        assert!(!plausible_email("a b@c.co"));
    }
}
