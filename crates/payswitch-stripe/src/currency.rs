//! Stripe's wire exponents: how many decimals an amount has on Stripe's API, which is not
//! always ISO 4217's. The one place amounts cross between [`Money`] and the wire, both ways.
//!
//! From stripe.com/docs/currencies: the zero-decimal list below, the three-decimal list
//! (whose amounts must end in 0), and everything else two-decimal — ISK included, which ISO
//! gives no decimals but Stripe counts in hundredths ("an ISK amount of 100 represents
//! 1 króna"). HUF and TWD are two-decimal on the API, as in ISO.

use payswitch_core::{Currency, Money, MoneyError, PaymentError};

/// Stripe's zero-decimal currencies (MGA is zero-decimal at Stripe although ISO gives it two).
pub(crate) const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Stripe's three-decimal currencies; their amounts must end in 0.
pub(crate) const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// The number of decimals Stripe's API counts `currency` in.
pub(crate) fn wire_exponent(currency: Currency) -> u8 {
    let code = currency.code();
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

/// The amount Stripe's API expects for `money`; `field` names the request field a refusal
/// is about (a three-decimal amount not ending in 0, an amount too large for the wire).
pub(crate) fn to_wire(money: Money, field: &str) -> Result<i64, PaymentError> {
    let exponent = wire_exponent(money.currency());
    let amount = money.to_exponent(exponent).map_err(|error| {
        if matches!(error, MoneyError::Overflow) {
            PaymentError::invalid(field, "is too large for Stripe")
        } else {
            PaymentError::invalid(
                field,
                format!(
                    "{money} cannot be written with the {exponent} decimals Stripe counts {} in",
                    money.currency()
                ),
            )
        }
    })?;
    if exponent == 3 && amount % 10 != 0 {
        return Err(PaymentError::invalid(
            field,
            format!(
                "Stripe requires {} amounts to end in 0 (a multiple of 0.010); {money} does not",
                money.currency()
            ),
        ));
    }
    Ok(amount)
}

/// Reads an amount Stripe wrote in `currency` back into [`Money`]; `what` names the object
/// for the `Decode` error (an ISK amount that is not whole krónur, an overflow).
pub(crate) fn from_wire(
    amount: i64,
    currency: Currency,
    what: &'static str,
) -> Result<Money, PaymentError> {
    Money::from_exponent(amount, wire_exponent(currency), currency).map_err(|_| {
        PaymentError::decode(
            what,
            format!("an amount in {currency} does not fit payswitch's minor units"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every currency Stripe's currency page lists for card payments, with the wire exponent
    /// that page gives it.
    #[rustfmt::skip]
    const STRIPE_CURRENCIES: &[(&str, u8)] = &[
        ("USD", 2), ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2),
        ("ARS", 2), ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2),
        ("BGN", 2), ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2),
        ("BSD", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2),
        ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0),
        ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2),
        ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2),
        ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2),
        ("INR", 2), ("ISK", 2), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2),
        ("KHR", 2), ("KMF", 0), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2),
        ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("MAD", 2), ("MDL", 2), ("MGA", 0),
        ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
        ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2),
        ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2),
        ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2),
        ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2),
        ("SLE", 2), ("SOS", 2), ("SRD", 2), ("STD", 2), ("SZL", 2), ("THB", 2), ("TJS", 2),
        ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
        ("UGX", 0), ("UYU", 2), ("UZS", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0),
        ("XCD", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2),
    ];

    #[test]
    fn every_listed_currency_round_trips_with_stripes_exponent() {
        for &(code, exponent) in STRIPE_CURRENCIES {
            let Ok(currency) = Currency::new(code) else {
                // A code core does not know (withdrawn from ISO 4217) cannot be a Money.
                continue;
            };
            assert_eq!(wire_exponent(currency), exponent, "{code}");
            // 12 major units, written with Stripe's exponent, and read back.
            let money = Money::from_major(12, currency).unwrap();
            let wire = to_wire(money, "amount").unwrap();
            assert_eq!(wire, 12 * 10i64.pow(u32::from(exponent)), "{code}");
            assert_eq!(from_wire(wire, currency, "x").unwrap(), money, "{code}");
        }
    }

    #[test]
    fn isk_is_sent_in_hundredths() {
        let isk = Currency::new("ISK").unwrap();
        assert_eq!(to_wire(Money::new(5000, isk), "amount").unwrap(), 500_000);
        assert_eq!(from_wire(500_000, isk, "x").unwrap(), Money::new(5000, isk));
        // Stripe never writes fractional krónur; if it did, payswitch cannot hold them.
        assert!(from_wire(150, isk, "x").is_err());
        assert!(to_wire(Money::new(i64::MAX, isk), "amount").is_err());
    }

    #[test]
    fn three_decimal_amounts_must_end_in_zero() {
        let error = to_wire(Money::new(5125, Currency::KWD), "line_items[0].unit_amount");
        assert!(matches!(
            error,
            Err(PaymentError::InvalidRequest { field, .. }) if field == "line_items[0].unit_amount"
        ));
        assert_eq!(to_wire(Money::new(5120, Currency::KWD), "x").unwrap(), 5120);
    }
}
