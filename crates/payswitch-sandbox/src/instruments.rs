//! The test payment instruments a customer pays with on the hosted page, the admin API or a
//! [`SandboxHandle`](crate::SandboxHandle): Stripe's documented test card numbers and SEPA
//! Direct Debit test IBANs, and what charging each one does. Every gateway reads them here;
//! what a gateway makes of a decline (events, objects) is its own business.
//!
//! Sources: Stripe's testing page (docs.stripe.com/testing): the "Declined payments" table
//! (error code and decline code per card), "Decline after attaching" (`4000 0000 0000 0341`:
//! attaching succeeds, every charge fails) and the SEPA Direct Debit table for Germany (each
//! IBAN's `processing` → `succeeded` / `requires_payment_method` transition, some "after at
//! least three minutes").

use crate::error::SandboxError;

/// Why a charge was declined, in Stripe's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decline {
    /// Stripe's error `code`: `card_declined`, `expired_card`, `incorrect_cvc`,
    /// `processing_error`, `incorrect_number`; for a bank debit, its `failure_code`.
    pub(crate) code: &'static str,
    /// Stripe's `decline_code`, where its test table gives one (`generic_decline`, …).
    pub(crate) decline_code: Option<&'static str>,
    /// The message shown to the customer.
    pub(crate) message: &'static str,
}

impl Decline {
    /// The most specific reason: the decline code when there is one, else the error code.
    pub(crate) fn reason(&self) -> &'static str {
        self.decline_code.unwrap_or(self.code)
    }

    /// The admin error for this decline; the session or checkout stays open.
    pub(crate) fn into_error(self) -> SandboxError {
        SandboxError::Declined {
            code: self.reason().to_owned(),
            message: self.message.to_owned(),
        }
    }
}

/// What charging a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CardCharges {
    /// Every charge succeeds.
    Succeed,
    /// The card is declined, and cannot be attached to a customer either.
    Decline(Decline),
    /// Attaching it to a customer succeeds; every charge fails (`4000 0000 0000 0341`).
    DeclineAfterAttach(Decline),
}

/// One of Stripe's test card numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestCard {
    pub(crate) number: &'static str,
    /// `visa`, `mastercard`.
    pub(crate) brand: &'static str,
    /// `credit` or `debit`.
    pub(crate) funding: &'static str,
    pub(crate) charges: CardCharges,
}

impl TestCard {
    /// The last four digits, as `card.last4` shows them.
    pub(crate) fn last4(&self) -> &'static str {
        self.number
            .get(self.number.len().saturating_sub(4)..)
            .unwrap_or(self.number)
    }
}

/// How a SEPA Direct Debit ends once it leaves `processing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DebitResult {
    /// The PaymentIntent moves to `succeeded`.
    Succeeds,
    /// The PaymentIntent moves back to `requires_payment_method`; the charge fails.
    Fails(Decline),
}

/// One of Stripe's SEPA Direct Debit test IBANs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestIban {
    pub(crate) iban: &'static str,
    /// The German bank code (Bankleitzahl) inside the IBAN.
    pub(crate) bank_code: &'static str,
    pub(crate) country: &'static str,
    pub(crate) result: DebitResult,
    /// Sandbox seconds from confirmation to the result: 0 settles at the clock's next step
    /// (Stripe gives no delay), 180 for Stripe's "after at least three minutes".
    pub(crate) settles_after: i64,
}

impl TestIban {
    /// The last four characters, as `sepa_debit.last4` shows them.
    pub(crate) fn last4(&self) -> &'static str {
        self.iban
            .get(self.iban.len().saturating_sub(4)..)
            .unwrap_or(self.iban)
    }
}

/// A test instrument: a card, or a bank account debited by SEPA Direct Debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instrument {
    Card(&'static TestCard),
    SepaDebit(&'static TestIban),
}

/// What charging an instrument does right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charged {
    /// Paid at once.
    Paid,
    /// A debit started: `processing` until `settles_after` seconds have passed.
    Processing(&'static TestIban),
    /// Declined; nothing was paid.
    Declined(Decline),
}

impl Instrument {
    /// What charging it does now.
    pub(crate) fn charge(self) -> Charged {
        match self {
            Instrument::Card(card) => match card.charges {
                CardCharges::Succeed => Charged::Paid,
                CardCharges::Decline(decline) | CardCharges::DeclineAfterAttach(decline) => {
                    Charged::Declined(decline)
                }
            },
            Instrument::SepaDebit(iban) => Charged::Processing(iban),
        }
    }

    /// Whether it can be saved to a customer for later charges (a subscription with nothing
    /// due today): Stripe refuses to attach the cards of its decline table.
    pub(crate) fn attach(self) -> Result<(), Decline> {
        match self {
            Instrument::Card(card) => match card.charges {
                CardCharges::Decline(decline) => Err(decline),
                CardCharges::Succeed | CardCharges::DeclineAfterAttach(_) => Ok(()),
            },
            Instrument::SepaDebit(_) => Ok(()),
        }
    }
}

/// The card used when a payment names none.
pub(crate) const SUCCESS_CARD: &str = "4242424242424242";

/// The card that is always declined.
pub(crate) const DECLINED_CARD: &str = "4000000000000002";

/// Sandbox-only: pays the checkout, then declines every later charge of a card kept on file.
pub(crate) const RENEWALS_DECLINED_CARD: &str = "4000009900000004";

/// Sandbox-only: pays the checkout, declines the first later charge of a card kept on file,
/// then pays.
pub(crate) const FIRST_RENEWAL_DECLINED_CARD: &str = "4000009900000012";

/// What a number that is not a test card gets.
pub(crate) const INCORRECT_NUMBER: Decline = Decline {
    code: "incorrect_number",
    decline_code: None,
    message: "Your card number is incorrect.",
};

const fn declined(decline_code: &'static str, message: &'static str) -> Decline {
    Decline {
        code: "card_declined",
        decline_code: Some(decline_code),
        message,
    }
}

const GENERIC_DECLINE: Decline = declined("generic_decline", "Your card was declined.");

const fn card(number: &'static str, brand: &'static str, charges: CardCharges) -> TestCard {
    TestCard {
        number,
        brand,
        funding: "credit",
        charges,
    }
}

/// Stripe's best-known test card: a Visa that always pays.
const VISA: TestCard = card("4242424242424242", "visa", CardCharges::Succeed);

/// The instrument of a payment that named no stored PaymentMethod (a direct PaymentIntent
/// confirm with a test token the sandbox did not store).
pub(crate) const DEFAULT_CARD: Instrument = Instrument::Card(&VISA);

/// Stripe's test cards the sandbox knows.
static TEST_CARDS: &[TestCard] = &[
    VISA,
    TestCard {
        number: "4000056655665556",
        brand: "visa",
        funding: "debit",
        charges: CardCharges::Succeed,
    },
    card("5555555555554444", "mastercard", CardCharges::Succeed),
    card("371449635398431", "amex", CardCharges::Succeed),
    // Sandbox-only: pay the checkout, then decline a subscription's later charges (every one,
    // or the first only). Gateways that keep a card on file read them (Creem's `cards.rs`);
    // for a Stripe checkout they pay like any other card.
    card(RENEWALS_DECLINED_CARD, "visa", CardCharges::Succeed),
    card(FIRST_RENEWAL_DECLINED_CARD, "visa", CardCharges::Succeed),
    card(
        "4000000000000002",
        "visa",
        CardCharges::Decline(GENERIC_DECLINE),
    ),
    card(
        "4000000000009995",
        "visa",
        CardCharges::Decline(declined(
            "insufficient_funds",
            "Your card has insufficient funds.",
        )),
    ),
    card(
        "4000000000009987",
        "visa",
        CardCharges::Decline(declined("lost_card", "Your card was declined.")),
    ),
    card(
        "4000000000009979",
        "visa",
        CardCharges::Decline(declined("stolen_card", "Your card was declined.")),
    ),
    card(
        "4000000000000069",
        "visa",
        CardCharges::Decline(Decline {
            code: "expired_card",
            decline_code: None,
            message: "Your card has expired.",
        }),
    ),
    card(
        "4000000000000127",
        "visa",
        CardCharges::Decline(Decline {
            code: "incorrect_cvc",
            decline_code: None,
            message: "Your card's security code is incorrect.",
        }),
    ),
    card(
        "4000000000000119",
        "visa",
        CardCharges::Decline(Decline {
            code: "processing_error",
            decline_code: None,
            message: "An error occurred while processing your card. Try again in a little bit.",
        }),
    ),
    card(
        "4000000000000341",
        "visa",
        CardCharges::DeclineAfterAttach(GENERIC_DECLINE),
    ),
];

/// A failed SEPA debit without a specific reason: Stripe's table names no failure code for
/// `DE62…`/`DE78…`, so the sandbox uses the generic one (inferred).
const DEBIT_FAILED: Decline = Decline {
    code: "generic_could_not_process",
    decline_code: None,
    message: "The payment could not be processed by the customer's bank.",
};

/// Three minutes, Stripe's "after at least three minutes".
const DELAYED: i64 = 3 * 60;

const fn iban(iban: &'static str, result: DebitResult, settles_after: i64) -> TestIban {
    TestIban {
        iban,
        bank_code: "37040044",
        country: "DE",
        result,
        settles_after,
    }
}

/// Stripe's German SEPA Direct Debit test IBANs the sandbox knows.
static TEST_IBANS: &[TestIban] = &[
    iban("DE89370400440532013000", DebitResult::Succeeds, 0),
    iban("DE08370400440532013003", DebitResult::Succeeds, DELAYED),
    iban(
        "DE62370400440532013001",
        DebitResult::Fails(DEBIT_FAILED),
        0,
    ),
    iban(
        "DE78370400440532013004",
        DebitResult::Fails(DEBIT_FAILED),
        DELAYED,
    ),
    iban(
        "DE65370400440002222227",
        DebitResult::Fails(Decline {
            code: "insufficient_funds",
            decline_code: None,
            message: "The customer's account has insufficient funds to cover this payment.",
        }),
        0,
    ),
];

/// Reads what the customer typed: a test card number or test IBAN, spaces and dashes ignored,
/// IBAN letters in any case.
///
/// # Errors
/// `incorrect_number` for anything else, as Stripe's page answers an unknown number.
pub(crate) fn instrument(typed: &str) -> Result<Instrument, Decline> {
    let compact: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some(card) = TEST_CARDS.iter().find(|card| card.number == compact) {
        return Ok(Instrument::Card(card));
    }
    if let Some(iban) = TEST_IBANS.iter().find(|iban| iban.iban == compact) {
        return Ok(Instrument::SepaDebit(iban));
    }
    Err(INCORRECT_NUMBER)
}

/// Finds a test card by its number, for Stripe's test PaymentMethod tokens (`pm_card_visa`).
pub(crate) fn card_by_number(number: &str) -> Option<Instrument> {
    TEST_CARDS
        .iter()
        .find(|card| card.number == number)
        .map(Instrument::Card)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(typed: &str) -> Charged {
        instrument(typed).expect("a test instrument").charge()
    }

    #[test]
    fn cards_pay_or_decline_with_stripes_codes() {
        assert_eq!(charge("4242 4242 4242 4242"), Charged::Paid);
        assert_eq!(charge("5555-5555-5555-4444"), Charged::Paid);
        let Charged::Declined(decline) = charge(DECLINED_CARD) else {
            panic!("declined");
        };
        assert_eq!(
            (decline.code, decline.reason(), decline.message),
            (
                "card_declined",
                "generic_decline",
                "Your card was declined."
            )
        );
        let Charged::Declined(expired) = charge("4000000000000069") else {
            panic!("declined");
        };
        assert_eq!((expired.code, expired.decline_code), ("expired_card", None));
        assert_eq!(charge("4000 0099 0000 0004"), Charged::Paid);
        assert_eq!(charge(FIRST_RENEWAL_DECLINED_CARD), Charged::Paid);
        let Charged::Declined(cvc) = charge("4000000000000127") else {
            panic!("declined");
        };
        assert_eq!(cvc.reason(), "incorrect_cvc");
        assert_eq!(instrument("1234").map(|_| ()), Err(INCORRECT_NUMBER));
        assert_eq!(
            instrument("4242424242424241").map(|_| ()),
            Err(INCORRECT_NUMBER)
        );
    }

    #[test]
    fn the_attach_then_fail_card_attaches_but_never_pays() {
        let card = instrument("4000 0000 0000 0341").expect("known");
        assert_eq!(card.attach(), Ok(()));
        assert!(
            matches!(card.charge(), Charged::Declined(decline) if decline.reason() == "generic_decline")
        );
        let declined = instrument(DECLINED_CARD).expect("known");
        assert!(declined.attach().is_err());
        assert_eq!(instrument(SUCCESS_CARD).expect("known").attach(), Ok(()));
    }

    #[test]
    fn ibans_start_a_debit_that_settles_as_the_table_says() {
        let Charged::Processing(quick) = charge("de89 3704 0044 0532 0130 00") else {
            panic!("processing");
        };
        assert_eq!(
            (quick.result, quick.settles_after),
            (DebitResult::Succeeds, 0)
        );
        assert_eq!(quick.last4(), "3000");
        let Charged::Processing(slow) = charge("DE78370400440532013004") else {
            panic!("processing");
        };
        assert!(matches!(slow.result, DebitResult::Fails(_)));
        assert_eq!(slow.settles_after, 180);
        let Charged::Processing(poor) = charge("DE65370400440002222227") else {
            panic!("processing");
        };
        assert_eq!(
            poor.result,
            DebitResult::Fails(Decline {
                code: "insufficient_funds",
                decline_code: None,
                message: "The customer's account has insufficient funds to cover this payment.",
            })
        );
    }
}
