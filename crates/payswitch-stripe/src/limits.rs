//! Stripe's local limits: the `expires_in` range, the `expires_at` grid and margins, and the
//! minimum charge per settlement currency, checked before any request.

use std::time::Duration;

use payswitch_core::{Currency, Money, PaymentError};

/// The shortest `expires_in` Stripe accepts.
pub(crate) const MIN_EXPIRES_IN: Duration = Duration::from_secs(30 * 60);
/// The longest `expires_in` Stripe accepts.
pub(crate) const MAX_EXPIRES_IN: Duration = Duration::from_secs(24 * 60 * 60);

/// The grid `expires_at` is floored to, so two instances creating one order in the same
/// minute send the same value (and so the same parameters under one idempotency key).
pub(crate) const EXPIRES_AT_GRID_SECS: i64 = 60;
/// The earliest `expires_at` sent, after now: Stripe's 30 minutes plus 5 minutes for latency,
/// retries and clock skew between this host and Stripe.
pub(crate) const EXPIRES_AT_EARLIEST_SECS: i64 = 35 * 60;
/// The latest `expires_at` sent, after now: Stripe's 24 hours minus 5 minutes, likewise.
pub(crate) const EXPIRES_AT_LATEST_SECS: i64 = 23 * 3600 + 55 * 60;

/// The `expires_at` sent for `expires_in` at `now` (Unix seconds): `now + expires_in`
/// floored to the 60 s grid, then kept on the grid inside
/// [now + 35 min, now + 23 h 55 min], a margin inside Stripe's 30 min to 24 h window.
pub(crate) fn expires_at(now: i64, expires_in: Duration) -> i64 {
    let grid = EXPIRES_AT_GRID_SECS;
    let seconds = i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX);
    let floor = |at: i64| at.div_euclid(grid).saturating_mul(grid);
    let earliest = floor(now.saturating_add(EXPIRES_AT_EARLIEST_SECS + grid - 1));
    let latest = floor(now.saturating_add(EXPIRES_AT_LATEST_SECS));
    floor(now.saturating_add(seconds)).clamp(earliest, latest)
}

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

/// Refuses a positive amount below Stripe's minimum charge, before any request — only when
/// it is certain: the charge is in the account's `settlement` currency, whose minimum Stripe
/// applies. A charge in another currency is converted by Stripe at its own rate, so Stripe
/// decides (`amount_too_small` → `AmountTooSmall`).
pub(crate) fn check_minimum_charge(
    amount: Money,
    settlement: Option<Currency>,
) -> Result<(), PaymentError> {
    if settlement != Some(amount.currency()) {
        return Ok(());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_is_on_the_grid_and_inside_the_margins() {
        let now = 1_800_000_030; // 30 s past a grid line
        let minutes = |m: u64| Duration::from_secs(m * 60);
        // Floored to the grid: every instance in the same minute agrees.
        assert_eq!(expires_at(now, minutes(60)), 1_800_003_600);
        assert_eq!(expires_at(now + 29, minutes(60)), 1_800_003_600);
        // 30 min is raised to the first grid line at or after now + 35 min.
        assert_eq!(expires_at(now, minutes(30)), 1_800_002_160);
        assert!(expires_at(now, minutes(30)) - now >= 35 * 60);
        // 24 h is lowered to the last grid line at or before now + 23 h 55 min.
        let latest = expires_at(now, minutes(24 * 60));
        assert!(latest - now <= EXPIRES_AT_LATEST_SECS);
        assert_eq!(latest % 60, 0);
        for offset in 0..120 {
            for expires_in in [MIN_EXPIRES_IN, MAX_EXPIRES_IN, minutes(90)] {
                let at = expires_at(now + offset, expires_in) - (now + offset);
                assert!((EXPIRES_AT_EARLIEST_SECS..=EXPIRES_AT_LATEST_SECS).contains(&at));
            }
        }
    }

    #[test]
    fn the_minimum_is_checked_only_in_the_settlement_currency() {
        let usd = Some(Currency::USD);
        assert!(check_minimum_charge(Money::new(49, Currency::USD), usd).is_err());
        assert!(check_minimum_charge(Money::new(50, Currency::USD), usd).is_ok());
        // Another currency is converted by Stripe; it decides.
        assert!(check_minimum_charge(Money::new(20, Currency::GBP), usd).is_ok());
        // Without a configured settlement currency nothing is refused locally.
        assert!(check_minimum_charge(Money::new(1, Currency::USD), None).is_ok());
        assert!(check_minimum_charge(Money::new(0, Currency::USD), usd).is_ok());
    }
}
