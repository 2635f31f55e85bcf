//! Stripe's local limits: the `expires_in` range and the minimum charge per currency, checked
//! before any request.

use std::time::Duration;

use payswitch_core::{Currency, Money, PaymentError};

/// The shortest `expires_in` Stripe accepts.
pub(crate) const MIN_EXPIRES_IN: Duration = Duration::from_secs(30 * 60);
/// The longest `expires_in` Stripe accepts.
pub(crate) const MAX_EXPIRES_IN: Duration = Duration::from_secs(24 * 60 * 60);

/// Stripe's minimum charge per currency, in minor units (stripe.com/docs/currencies).
const MINIMUM_CHARGES: &[(&str, i64)] = &[
    ("USD", 50),
    ("AED", 200),
    ("AUD", 50),
    ("BGN", 100),
    ("BRL", 50),
    ("CAD", 50),
    ("CHF", 50),
    ("CZK", 1500),
    ("DKK", 250),
    ("EUR", 50),
    ("GBP", 30),
    ("HKD", 400),
    ("HUF", 17500),
    ("INR", 50),
    ("JPY", 50),
    ("MXN", 1000),
    ("MYR", 200),
    ("NOK", 300),
    ("NZD", 50),
    ("PLN", 200),
    ("RON", 200),
    ("SEK", 300),
    ("SGD", 50),
    ("THB", 1000),
];

/// Stripe's smallest chargeable amount in `currency`, when Stripe publishes one.
///
/// ```
/// use payswitch_core::{Currency, Money};
/// assert_eq!(
///     payswitch_stripe::minimum_charge(Currency::USD),
///     Some(Money::new(50, Currency::USD))
/// );
/// ```
pub fn minimum_charge(currency: Currency) -> Option<Money> {
    MINIMUM_CHARGES
        .iter()
        .find(|(code, _)| *code == currency.code())
        .map(|(_, amount)| Money::new(*amount, currency))
}

/// Refuses a positive amount below Stripe's minimum charge, before any request.
pub(crate) fn check_minimum_charge(amount: Money) -> Result<(), PaymentError> {
    match minimum_charge(amount.currency()) {
        Some(minimum) if amount.amount() > 0 && amount.amount() < minimum.amount() => {
            Err(PaymentError::AmountTooSmall {
                message: format!("Stripe charges at least {minimum}; the total is {amount}"),
                gateway: None,
            })
        }
        Some(_) | None => Ok(()),
    }
}
