//! Checkout line items as Stripe reports them.

use payswitch_core::{Money, Recurring};
use serde::Serialize;

/// One line of a checkout session, from `GET /v1/checkout/sessions/{id}/line_items`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckoutLineItem {
    /// The line item id (`li_…`).
    pub id: String,
    /// What the customer saw, usually the product name.
    pub description: Option<String>,
    /// How many.
    pub quantity: Option<u64>,
    /// The Stripe price id (`price_…`), also for prices created inline with `price_data`.
    pub price_id: Option<String>,
    /// The Stripe product id (`prod_…`).
    pub product_id: Option<String>,
    /// The price of one unit, when the price has a fixed unit amount.
    pub unit_amount: Option<Money>,
    /// The billing period of a recurring price.
    pub recurring: Option<Recurring>,
    /// The total before discounts and taxes.
    pub amount_subtotal: Money,
    /// The discount applied.
    pub amount_discount: Money,
    /// The tax applied.
    pub amount_tax: Money,
    /// The total after discounts and taxes.
    pub amount_total: Money,
    /// Stripe's own `item` object.
    pub raw: serde_json::Value,
}

/// One page of line items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LineItemsPage {
    /// The items on this page, in Stripe's order.
    pub data: Vec<CheckoutLineItem>,
    /// True when more items follow; pass the last id as `starting_after` to get them.
    pub has_more: bool,
}

impl LineItemsPage {
    /// The id to pass as `starting_after` for the next page, when there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        if self.has_more {
            self.data.last().map(|item| item.id.as_str())
        } else {
            None
        }
    }
}
