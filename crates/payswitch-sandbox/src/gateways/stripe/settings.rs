//! Checks the sandbox's Stripe settings before it starts.

use crate::config::Config;
use crate::error::SandboxError;
use crate::gateways::stripe::currencies::settlement_minimum;

/// Refuses a settlement currency Stripe publishes no minimum charge for.
///
/// # Errors
/// [`SandboxError::Config`] naming the currency.
pub(crate) fn check(config: &Config) -> Result<(), SandboxError> {
    if settlement_minimum(&config.stripe_settlement_currency).is_none() {
        return Err(SandboxError::Config(format!(
            "stripe_settlement_currency: {} is not a currency Stripe settles in with a \
             published minimum charge (usd, aed, aud, bgn, brl, cad, chf, czk, dkk, eur, gbp, \
             hkd, huf, inr, jpy, mxn, myr, nok, nzd, pln, ron, sek, sgd, thb)",
            config.stripe_settlement_currency
        )));
    }
    Ok(())
}
