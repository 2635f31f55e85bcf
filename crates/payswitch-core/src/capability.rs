//! What each gateway can do, declared so applications and tests can check before asking.

use serde::Serialize;

/// What a gateway supports. Requests that need something unsupported are refused locally
/// with [`PaymentError::Unsupported`](crate::PaymentError::Unsupported) or listed in
/// [`CheckoutResult::ignored`](crate::CheckoutResult::ignored), never silently changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Line items priced in the request rather than in the gateway's catalog.
    pub custom_priced_items: bool,
    /// More than one line item per checkout.
    pub multiple_line_items: bool,
    /// Quantities above one.
    pub quantities: bool,
    /// Subscription mode.
    pub subscription_mode: bool,
    /// Setup mode (save a payment method without charging).
    pub setup_mode: bool,
    /// `expire_checkout`.
    pub expire: bool,
    /// A discount code applied in the request.
    pub discount_codes: bool,
    /// Letting the customer type a discount code on the page.
    pub customer_discount_entry: bool,
    /// A page language.
    pub locale: bool,
    /// A cancel URL.
    pub cancel_url: bool,
    /// A custom expiry time.
    pub expires_in: bool,
    /// An existing customer by gateway id.
    pub customer_id: bool,
    /// Embedded checkout with a client secret.
    pub embedded_checkout: bool,
    /// Success redirects signed by the gateway (`verify_return` can return `verified: true`).
    pub signed_returns: bool,
    /// Webhook signatures that cover a timestamp, so stale deliveries are refused.
    pub webhook_timestamps: bool,
}

impl Capabilities {
    /// Everything supported (what [`MemoryProvider`](crate::memory::MemoryProvider) offers).
    pub const fn all() -> Self {
        Self {
            custom_priced_items: true,
            multiple_line_items: true,
            quantities: true,
            subscription_mode: true,
            setup_mode: true,
            expire: true,
            discount_codes: true,
            customer_discount_entry: true,
            locale: true,
            cancel_url: true,
            expires_in: true,
            customer_id: true,
            embedded_checkout: true,
            signed_returns: true,
            webhook_timestamps: true,
        }
    }

    /// Nothing supported; set fields from here.
    pub const fn none() -> Self {
        Self {
            custom_priced_items: false,
            multiple_line_items: false,
            quantities: false,
            subscription_mode: false,
            setup_mode: false,
            expire: false,
            discount_codes: false,
            customer_discount_entry: false,
            locale: false,
            cancel_url: false,
            expires_in: false,
            customer_id: false,
            embedded_checkout: false,
            signed_returns: false,
            webhook_timestamps: false,
        }
    }

    /// What both `self` and `other` support: a router over several gateways can promise
    /// only this.
    ///
    /// ```
    /// use payswitch_core::Capabilities;
    /// let mut some = Capabilities::none();
    /// some.expire = true;
    /// assert_eq!(Capabilities::all().intersect(&some), some);
    /// ```
    pub const fn intersect(&self, other: &Capabilities) -> Self {
        Self {
            custom_priced_items: self.custom_priced_items && other.custom_priced_items,
            multiple_line_items: self.multiple_line_items && other.multiple_line_items,
            quantities: self.quantities && other.quantities,
            subscription_mode: self.subscription_mode && other.subscription_mode,
            setup_mode: self.setup_mode && other.setup_mode,
            expire: self.expire && other.expire,
            discount_codes: self.discount_codes && other.discount_codes,
            customer_discount_entry: self.customer_discount_entry && other.customer_discount_entry,
            locale: self.locale && other.locale,
            cancel_url: self.cancel_url && other.cancel_url,
            expires_in: self.expires_in && other.expires_in,
            customer_id: self.customer_id && other.customer_id,
            embedded_checkout: self.embedded_checkout && other.embedded_checkout,
            signed_returns: self.signed_returns && other.signed_returns,
            webhook_timestamps: self.webhook_timestamps && other.webhook_timestamps,
        }
    }
}
