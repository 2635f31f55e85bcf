//! The storefront's server-side catalog: what is for sale and what it costs.
//!
//! Prices live here, on the server, and nowhere else in the application. The product page
//! only shows them and the checkout form only sends a SKU back, so a customer who edits the
//! form can choose *what* to buy but never *how much* to pay. The gateway charges the price it
//! holds for the SKU (a Stripe Price, a Creem product), which payswitch finds through the
//! configuration's `[catalog]` table; the amounts below must agree with those, and the order
//! is only marked paid when the gateway reports the amount this catalog expects.

use std::collections::BTreeMap;

use payswitch::{Catalog, CheckoutMode, Currency, Money, ProviderKind, SubscriptionItem};

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
pub const OFFERS: [Offer; 3] = [
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
    Offer {
        sku: "team_monthly",
        name: "Team monthly",
        description: "Pro for a whole team, with shared projects; billed monthly.",
        price: Money::new(2900, Currency::USD),
        billing: Billing::Monthly,
    },
];

/// The offer with this SKU, if the storefront sells it.
pub fn find(sku: &str) -> Option<&'static Offer> {
    OFFERS.iter().find(|offer| offer.sku == sku)
}

/// The monthly plans a subscription on `current` can change to: every other monthly offer.
pub fn other_plans(current: &str) -> impl Iterator<Item = &'static Offer> + '_ {
    OFFERS
        .iter()
        .filter(move |offer| offer.billing == Billing::Monthly && offer.sku != current)
}

/// Finds which offer a subscription is on from the gateway's own ids.
///
/// A gateway reports a subscription's plan by its own price or product id (a Stripe
/// `price_…`, a Creem `prod_…`), never by our SKU, and the plan changes when the customer
/// switches; so the account page maps the ids back through the same `[catalog]` the
/// checkouts were opened with.
#[derive(Debug, Clone, Default)]
pub struct PlanIds {
    skus: BTreeMap<String, &'static str>,
}

impl PlanIds {
    /// The ids `catalog` gives the offers on each of `kinds` (in migration mode, the old
    /// gateway's and the new one's). A SKU also names itself, for gateways (like the memory
    /// one in tests) that report the SKU they were given.
    pub fn from_catalog(catalog: &Catalog, kinds: &[ProviderKind]) -> Self {
        let mut skus = BTreeMap::new();
        for offer in &OFFERS {
            skus.insert(offer.sku.to_owned(), offer.sku);
            for kind in kinds {
                if let Some(id) = catalog.resolve(offer.sku, *kind) {
                    skus.insert(id.to_owned(), offer.sku);
                }
            }
        }
        Self { skus }
    }

    /// The offer a gateway's price or product id stands for.
    pub fn offer_of_id(&self, id: &str) -> Option<&'static Offer> {
        self.skus.get(id).and_then(|sku| find(sku))
    }

    /// The offer of a subscription item: by its price id first (the plan on gateways that
    /// price separately), then by its product id.
    pub fn offer_of(&self, item: &SubscriptionItem) -> Option<&'static Offer> {
        [&item.price_id, &item.product_id]
            .into_iter()
            .flatten()
            .find_map(|id| self.offer_of_id(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(price_id: Option<&str>, product_id: Option<&str>) -> SubscriptionItem {
        let mut item = SubscriptionItem::new(1);
        item.price_id = price_id.map(str::to_owned);
        item.product_id = product_id.map(str::to_owned);
        item
    }

    #[test]
    fn plan_ids_map_gateway_ids_back_to_offers() {
        let kind = ProviderKind::new("stripe");
        let other = ProviderKind::new("creem");
        let catalog = Catalog::new()
            .with("pro_monthly", kind, "price_pro")
            .with("team_monthly", kind, "price_team")
            .with("team_monthly", other, "prod_team");
        let plans = PlanIds::from_catalog(&catalog, &[kind, other]);
        let sku = |item| plans.offer_of(&item).map(|offer| offer.sku);
        assert_eq!(
            sku(item(Some("price_team"), Some("prod_x"))),
            Some("team_monthly")
        );
        assert_eq!(sku(item(None, Some("price_pro"))), Some("pro_monthly"));
        // The price decides when both are known: a product can have several prices.
        assert_eq!(
            sku(item(Some("price_pro"), Some("team_monthly"))),
            Some("pro_monthly")
        );
        assert_eq!(sku(item(None, Some("pro_monthly"))), Some("pro_monthly"));
        assert_eq!(sku(item(Some("price_other"), None)), None);
        assert_eq!(sku(item(None, None)), None);
        // Both gateways' ids, as in migration mode.
        assert_eq!(sku(item(None, Some("prod_team"))), Some("team_monthly"));
    }

    #[test]
    fn other_plans_are_the_other_monthly_offers() {
        let others: Vec<&str> = other_plans("pro_monthly").map(|offer| offer.sku).collect();
        assert_eq!(others, ["team_monthly"]);
        let others: Vec<&str> = other_plans("team_monthly").map(|offer| offer.sku).collect();
        assert_eq!(others, ["pro_monthly"]);
    }
}
