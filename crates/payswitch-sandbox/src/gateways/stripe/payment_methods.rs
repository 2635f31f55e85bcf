//! Stripe's test PaymentMethods (`pm_card_visa`, `pm_card_chargeDeclined`, …): what each does
//! when confirmed, and the `payment_method` JSON of the card behind it, as a declined
//! PaymentIntent's `last_payment_error.payment_method` embeds it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// A test card: how Stripe's test PaymentMethod of that name looks and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestCard {
    /// The test PaymentMethod's name, e.g. `pm_card_visa`.
    pub(crate) name: &'static str,
    pub(crate) brand: &'static str,
    pub(crate) last4: &'static str,
    /// `credit` or `debit`.
    pub(crate) funding: &'static str,
    /// `None` succeeds; `Some((decline_code, message))` declines.
    pub(crate) decline: Option<(&'static str, &'static str)>,
}

/// Stripe's test PaymentMethods the sandbox knows (stripe.com/docs/testing), with the last
/// four digits of the card each stands for.
const TEST_CARDS: &[TestCard] = &[
    TestCard {
        name: "pm_card_visa",
        brand: "visa",
        last4: "4242",
        funding: "credit",
        decline: None,
    },
    TestCard {
        name: "pm_card_mastercard",
        brand: "mastercard",
        last4: "4444",
        funding: "credit",
        decline: None,
    },
    TestCard {
        name: "pm_card_amex",
        brand: "amex",
        last4: "8431",
        funding: "credit",
        decline: None,
    },
    TestCard {
        name: "pm_card_visa_debit",
        brand: "visa",
        last4: "5556",
        funding: "debit",
        decline: None,
    },
    TestCard {
        name: "pm_card_chargeDeclined",
        brand: "visa",
        last4: "0002",
        funding: "credit",
        decline: Some(("generic_decline", "Your card was declined.")),
    },
    TestCard {
        name: "pm_card_chargeDeclinedInsufficientFunds",
        brand: "visa",
        last4: "9995",
        funding: "credit",
        decline: Some(("insufficient_funds", "Your card has insufficient funds.")),
    },
    TestCard {
        name: "pm_card_chargeDeclinedExpiredCard",
        brand: "visa",
        last4: "0069",
        funding: "credit",
        decline: Some(("expired_card", "Your card has expired.")),
    },
];

/// Finds a test PaymentMethod by name.
pub(crate) fn test_card(name: &str) -> Option<TestCard> {
    TEST_CARDS.iter().copied().find(|card| card.name == name)
}

/// Renders the PaymentMethod `id` made from `card` as Stripe's `payment_method` JSON.
pub(crate) fn render(id: &str, card: TestCard, customer: Option<&str>, created: i64) -> Value {
    json!({
        "id": id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": null, "country": null, "line1": null, "line2": null,
                "postal_code": null, "state": null,
            },
            "email": null,
            "name": null,
            "phone": null,
            "tax_id": null,
        },
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": null,
                "address_postal_code_check": null,
                "cvc_check": null,
            },
            "country": "US",
            "display_brand": card.brand,
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": format!("sandbox{}{}", card.brand, card.last4),
            "funding": card.funding,
            "generated_from": null,
            "last4": card.last4,
            "networks": { "available": [card.brand], "preferred": null },
            "regulated_status": "unregulated",
            "three_d_secure_usage": { "supported": true },
            "wallet": null,
        },
        "created": created,
        "customer": customer,
        "customer_account": null,
        "livemode": false,
        "metadata": BTreeMap::<String, String>::new(),
        "type": "card",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declining_cards_carry_their_codes() {
        let declined = test_card("pm_card_chargeDeclinedInsufficientFunds").unwrap();
        assert_eq!(
            declined.decline.map(|(code, _)| code),
            Some("insufficient_funds")
        );
        assert!(test_card("pm_card_visa").is_some_and(|card| card.decline.is_none()));
        assert_eq!(test_card("pm_card_unknown"), None);
        let rendered = render("pm_1", TEST_CARDS[0], None, 5);
        assert_eq!(rendered["card"]["last4"], "4242");
        assert_eq!(rendered["billing_details"]["email"], Value::Null);
    }
}
