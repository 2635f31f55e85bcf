//! What every handler shares: the gateway, the orders and the storefront's own address.

use std::sync::Arc;

use payswitch::CheckoutProvider;

use crate::catalog::PlanIds;
use crate::orders::Orders;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct App {
    /// The gateway, chosen from configuration at start.
    pub gateway: Arc<dyn CheckoutProvider>,
    /// The orders.
    pub orders: Arc<Orders>,
    /// This storefront's own URL as the customer's browser reaches it, without a trailing
    /// slash; the gateway sends the customer back to it.
    pub public_url: String,
    /// The gateway's ids of the plans, to tell which offer a subscription is on.
    pub plans: Arc<PlanIds>,
}

impl App {
    /// The gateway's name, for the pages' footer.
    pub fn gateway_name(&self) -> &'static str {
        self.gateway.kind().name()
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
