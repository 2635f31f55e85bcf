//! What the customer does, from the hosted page, the admin API or a [`crate::SandboxHandle`]:
//! the test-card rules, pay, decline and expire, for any gateway.

use std::sync::Arc;

use crate::app::App;
use crate::error::SandboxError;
use crate::gateways;
use crate::lifecycle::{expire_due, flush};
use crate::state::State;

/// Email used when a payment is made without one.
const DEFAULT_EMAIL: &str = "customer@example.com";

/// Card used when a payment is made without one.
const SUCCESS_CARD: &str = "4242424242424242";

/// Card that is always declined.
const DECLINED_CARD: &str = "4000000000000002";

/// What each test card does: `None` pays, `Some((code, message))` declines.
const TEST_CARDS: &[(&str, Option<(&str, &str)>)] = &[
    ("4242424242424242", None),
    ("5555555555554444", None),
    ("4000056655665556", None),
    // Sandbox-only: pay the checkout, then decline a subscription's later charges (every one,
    // or the first only). Gateways that keep a card on file read them (Creem's `cards.rs`).
    ("4000009900000004", None),
    ("4000009900000012", None),
    (
        "4000000000000002",
        Some(("generic_decline", "Your card was declined.")),
    ),
    (
        "4000000000009995",
        Some(("insufficient_funds", "Your card has insufficient funds.")),
    ),
    (
        "4000000000000069",
        Some(("expired_card", "Your card has expired.")),
    ),
    (
        "4000000000000127",
        Some(("incorrect_cvc", "Your card's security code is incorrect.")),
    ),
];

/// Returns a card number without its spaces and dashes.
fn card_digits(card: &str) -> String {
    card.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

/// Decides what a test card does: `Ok` pays, `Err((code, message))` declines. Spaces and
/// dashes are ignored; an unknown number is `incorrect_number`.
pub(crate) fn card_outcome(card: &str) -> Result<(), (&'static str, &'static str)> {
    let digits = card_digits(card);
    match TEST_CARDS.iter().find(|(number, _)| *number == digits) {
        Some((_, None)) => Ok(()),
        Some((_, Some(decline))) => Err(*decline),
        None => Err(("incorrect_number", "Your card number is incorrect.")),
    }
}

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

/// Checks the checkout can be paid, then applies the card.
fn pay_locked(
    app: &App,
    state: &mut State,
    id: &str,
    card: Option<&str>,
    email: Option<&str>,
) -> Result<String, SandboxError> {
    let gateway = gateways::check_payable(state, id)?;
    let card = card.unwrap_or(SUCCESS_CARD);
    if let Err((code, message)) = card_outcome(card) {
        return Err(SandboxError::Declined {
            code: code.to_owned(),
            message: message.to_owned(),
        });
    }
    let email = email.unwrap_or(DEFAULT_EMAIL);
    gateways::complete(app, state, gateway, id, email, &card_digits(card))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_pay_or_decline_with_stripes_codes() {
        assert_eq!(card_outcome("4242 4242 4242 4242"), Ok(()));
        assert_eq!(card_outcome("5555-5555-5555-4444"), Ok(()));
        assert_eq!(
            card_outcome(DECLINED_CARD),
            Err(("generic_decline", "Your card was declined."))
        );
        assert_eq!(
            card_outcome("4000000000000127").map_err(|(code, _)| code),
            Err("incorrect_cvc")
        );
        assert_eq!(
            card_outcome("1234").map_err(|(code, _)| code),
            Err("incorrect_number")
        );
    }
}
