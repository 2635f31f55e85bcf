//! What the customer does, from the hosted page, the admin API or a [`crate::SandboxHandle`]:
//! pay with a test card or IBAN (see [`crate::instruments`]), decline and expire, for any
//! gateway.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::gateways;
use crate::instruments::{instrument, Decline, DECLINED_CARD, SUCCESS_CARD};
use crate::lifecycle::{expire_due, flush};
use crate::state::State;

/// Email used when a payment is made without one.
const DEFAULT_EMAIL: &str = "customer@example.com";

/// Pays a Stripe session (`cs_...`) or Creem checkout (`ch_...`).
pub(crate) fn pay(
    app: &Arc<App>,
    id: &str,
    card: Option<&str>,
    email: Option<&str>,
) -> Result<String, SandboxError> {
    let result = {
        let mut state = app.lock();
        expire_due(app, &mut state);
        pay_locked(app, &mut state, id, card, email)
    };
    flush(app);
    result
}

/// Checks the checkout can be paid, reads the test card or IBAN, then lets the gateway charge
/// it: a gateway records a decline its own way (Stripe's failed PaymentIntent) before it
/// answers [`SandboxError::Declined`].
fn pay_locked(
    app: &App,
    state: &mut State,
    id: &str,
    card: Option<&str>,
    email: Option<&str>,
) -> Result<String, SandboxError> {
    let gateway = gateways::check_payable(state, id)?;
    let instrument = instrument(card.unwrap_or(SUCCESS_CARD)).map_err(Decline::into_error)?;
    let email = email.unwrap_or(DEFAULT_EMAIL);
    gateways::complete(app, state, gateway, id, instrument, email)
}

/// Attempts a payment with the declined card.
pub(crate) fn decline(app: &Arc<App>, id: &str) -> Result<(), SandboxError> {
    match pay(app, id, Some(DECLINED_CARD), None) {
        Err(SandboxError::Declined { .. }) => Ok(()),
        Err(other) => Err(other),
        Ok(_) => Ok(()),
    }
}

/// Expires a Stripe session or Creem checkout now.
pub(crate) fn expire(app: &Arc<App>, id: &str) -> Result<(), SandboxError> {
    let result = {
        let mut state = app.lock();
        gateways::expire(app, &mut state, id)
    };
    flush(app);
    result
}
