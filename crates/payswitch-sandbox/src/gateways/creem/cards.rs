//! The card a Creem subscription keeps on file: which sandbox test card pays the checkout but
//! declines the charges that follow, and what one charge of the card on file does. Pure
//! functions.
//!
//! Creem documents five test cards (success, declined, insufficient funds, incorrect CVC,
//! expired) [confirmed, docs.creem.io/getting-started/test-mode] and none that pays once and
//! fails later; Stripe's `4000 0000 0000 0341` declines at checkout already. The two cards
//! below are the sandbox's own, so a test can reach the dunning path through the real flow
//! (pay the checkout, move the clock). Both are in the sandbox's table of test instruments
//! ([`crate::instruments`]):
//!
//! | card | checkout | charges after it |
//! | --- | --- | --- |
//! | `4000 0099 0000 0004` | paid | every one declined (insufficient funds) |
//! | `4000 0099 0000 0012` | paid | the first declined, the rest paid |

use crate::gateways::creem::objects::CardOnFile;
use crate::instruments::{FIRST_RENEWAL_DECLINED_CARD, RENEWALS_DECLINED_CARD};

/// What one charge of the card on file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChargeOutcome {
    Paid,
    Declined,
}

/// Returns what the subscription paid with `card_digits` (spaces and dashes already removed)
/// does on later charges: the two renewal test cards decline, every other card that paid
/// the checkout pays.
pub(crate) fn card_on_file(card_digits: &str) -> CardOnFile {
    match card_digits {
        RENEWALS_DECLINED_CARD => CardOnFile::DeclinesAlways,
        FIRST_RENEWAL_DECLINED_CARD => CardOnFile::DeclinesOnce,
        _ => CardOnFile::Pays,
    }
}

/// Decides one charge of the card on file: its outcome and what the card does next.
pub(crate) fn charge(card: CardOnFile) -> (ChargeOutcome, CardOnFile) {
    match card {
        CardOnFile::Pays => (ChargeOutcome::Paid, CardOnFile::Pays),
        CardOnFile::DeclinesOnce => (ChargeOutcome::Declined, CardOnFile::Pays),
        CardOnFile::DeclinesAlways => (ChargeOutcome::Declined, CardOnFile::DeclinesAlways),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_cards_decline_as_their_table_says() {
        assert_eq!(card_on_file("4242424242424242"), CardOnFile::Pays);
        let mut card = card_on_file(FIRST_RENEWAL_DECLINED_CARD);
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let (outcome, next) = charge(card);
            outcomes.push(outcome);
            card = next;
        }
        assert_eq!(
            outcomes,
            [
                ChargeOutcome::Declined,
                ChargeOutcome::Paid,
                ChargeOutcome::Paid
            ]
        );
        let card = card_on_file(RENEWALS_DECLINED_CARD);
        assert_eq!(charge(card), (ChargeOutcome::Declined, card));
    }
}
