//! What each gateway can do, declared so applications and tests can check before asking.

use serde::Serialize;

/// Declares [`Capabilities`] from one list of flags, so the struct, [`Capabilities::all`],
/// [`Capabilities::none`] and [`Capabilities::intersect`] can never disagree on a field.
macro_rules! capabilities {
    ($($(#[doc = $doc:literal])+ $field:ident,)+) => {
        /// What a gateway supports. Requests that need something unsupported are refused
        /// locally with [`PaymentError::Unsupported`](crate::PaymentError::Unsupported) (before
        /// any network call) or listed in the result's `ignored`, never silently changed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
        #[non_exhaustive]
        pub struct Capabilities {
            $($(#[doc = $doc])+ pub $field: bool,)+
        }

        impl Capabilities {
            /// Everything supported (what [`MemoryProvider`](crate::memory::MemoryProvider)
            /// offers).
            pub const fn all() -> Self {
                Self { $($field: true,)+ }
            }

            /// Nothing supported; set fields from here.
            pub const fn none() -> Self {
                Self { $($field: false,)+ }
            }

            /// What both `self` and `other` support: a router over several gateways can
            /// promise only this.
            ///
            /// ```
            /// use payswitch_core::Capabilities;
            /// let mut some = Capabilities::none();
            /// some.expire = true;
            /// assert_eq!(Capabilities::all().intersect(&some), some);
            /// ```
            pub const fn intersect(&self, other: &Capabilities) -> Self {
                Self { $($field: self.$field && other.$field,)+ }
            }
        }
    };
}

capabilities! {
    /// Line items priced in the request rather than in the gateway's catalog.
    custom_priced_items,
    /// More than one line item per checkout.
    multiple_line_items,
    /// Quantities above one.
    quantities,
    /// Subscription mode.
    subscription_mode,
    /// Setup mode (save a payment method without charging).
    setup_mode,
    /// `expire_checkout`.
    expire,
    /// A discount code applied in the request.
    discount_codes,
    /// Letting the customer type a discount code on the page.
    customer_discount_entry,
    /// A page language.
    locale,
    /// A cancel URL.
    cancel_url,
    /// A custom expiry time.
    expires_in,
    /// An existing customer by gateway id.
    customer_id,
    /// Embedded checkout with a client secret.
    embedded_checkout,
    /// Success redirects signed by the gateway (`verify_return` can return `verified: true`).
    signed_returns,
    /// Webhook signatures that cover a timestamp, so stale deliveries are refused.
    webhook_timestamps,
    /// `retrieve_subscription` and `list_subscriptions`.
    subscriptions,
    /// `cancel_subscription` with [`CancelAt::PeriodEnd`](crate::CancelAt::PeriodEnd).
    cancel_at_period_end,
    /// `cancel_subscription` with [`CancelAt::Immediately`](crate::CancelAt::Immediately).
    cancel_immediately,
    /// `resume_subscription`: undoing a scheduled cancellation.
    resume_subscription,
    /// `pause_subscription` (and `resume_subscription` of a paused one).
    pause_subscription,
    /// `change_subscription` to another plan.
    change_plan,
    /// `change_subscription` of the quantity (seats).
    change_quantity,
    /// `preview_subscription_change`.
    preview_change,
    /// `create_refund` of a whole payment.
    refunds,
    /// `create_refund` of part of a payment.
    partial_refunds,
    /// `create_portal_session`.
    customer_portal,
    /// A return URL on the customer portal.
    portal_return_url,
    /// `create_customer`, `retrieve_customer` and `find_customer` by email.
    customers,
    /// `find_customer` by the application's user id.
    find_customer_by_app_user,
}
