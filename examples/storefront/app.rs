//! What every handler shares: the gateway, the orders and the store they live in, and the
//! storefront's own address.

use std::sync::Arc;

use payswitch::store::Store;
use payswitch::CheckoutProvider;

use crate::catalog::PlanIds;
use crate::orders::Orders;
use crate::processing::Wake;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct App {
    /// The gateway, chosen from configuration at start (in migration mode, the router over
    /// the old gateway and the new one).
    pub gateway: Arc<dyn CheckoutProvider>,
    /// What the pages call the gateway: its name, or "creem (stripe retiring)".
    pub gateway_label: Arc<str>,
    /// The orders, in the store's database.
    pub orders: Orders,
    /// This storefront's own URL as the customer's browser reaches it, without a trailing
    /// slash; the gateway sends the customer back to it.
    pub public_url: String,
    /// The gateways' ids of the plans, to tell which offer a subscription is on.
    pub plans: Arc<PlanIds>,
    /// Wakes the inbox's processing when a webhook is recorded.
    pub wake: Wake,
}

impl App {
    /// The gateway's name (or the migration's), for the pages' footer and messages.
    pub fn gateway_name(&self) -> &str {
        &self.gateway_label
    }

    /// The store: the webhook inbox and the billing records.
    pub fn store(&self) -> &Store {
        self.orders.store()
    }

    /// The account page of an order, as an absolute URL (the portal's return URL).
    pub fn account_url(&self, order_id: &str) -> String {
        format!("{}{}", self.public_url, account_path(order_id))
    }
}

/// The account page of an order, as a path.
pub fn account_path(order_id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect();
    format!("/account/{encoded}")
}
