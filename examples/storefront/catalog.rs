//! The storefront's server-side catalog: what is for sale and what it costs.
//!
//! Prices live here, on the server, and nowhere else in the application. The product page
//! only shows them and the checkout form only sends a SKU back, so a customer who edits the
//! form can choose *what* to buy but never *how much* to pay. The gateway charges the price it
//! holds for the SKU (a Stripe Price, a Creem product), which payswitch finds through the
//! configuration's `[catalog]` table; the amounts below must agree with those, and the order
//! is only marked paid when the gateway reports the amount this catalog expects.

use payswitch::{CheckoutMode, Currency, Money};

/// How an offer bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// Paid once.
    OneTime,
    /// Paid every month until cancelled.
    Monthly,
}

/// One thing the storefront sells.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// The logical SKU: the form field, the order's product and the `[catalog]` key.
    pub sku: &'static str,
    /// What the customer sees.
    pub name: &'static str,
    /// A sentence about it.
    pub description: &'static str,
    /// The price of one unit (one month for subscriptions).
    pub price: Money,
    /// One-time or monthly.
    pub billing: Billing,
}

impl Offer {
    /// The checkout mode this offer needs.
    pub fn mode(&self) -> CheckoutMode {
        match self.billing {
            Billing::OneTime => CheckoutMode::Payment,
            Billing::Monthly => CheckoutMode::Subscription,
        }
    }

    /// The label of the offer's button, e.g. "Buy Pro licence".
    pub fn action(&self) -> String {
        match self.billing {
            Billing::OneTime => format!("Buy {}", self.name),
            Billing::Monthly => format!("Subscribe to {}", self.name),
        }
    }
}

/// Everything for sale.
pub const OFFERS: [Offer; 2] = [
    Offer {
        sku: "pro_licence",
        name: "Pro licence",
        description: "A perpetual licence for one seat, with a year of updates.",
        price: Money::new(4900, Currency::USD),
        billing: Billing::OneTime,
    },
    Offer {
        sku: "pro_monthly",
        name: "Pro monthly",
        description: "Every Pro feature, billed monthly; cancel at any time.",
        price: Money::new(900, Currency::USD),
        billing: Billing::Monthly,
    },
];

/// The offer with this SKU, if the storefront sells it.
pub fn find(sku: &str) -> Option<&'static Offer> {
    OFFERS.iter().find(|offer| offer.sku == sku)
}
