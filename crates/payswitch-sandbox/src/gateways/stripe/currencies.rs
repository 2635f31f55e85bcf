//! Stripe's money rules: the currencies it accepts, the exponent of its wire amounts, the
//! amounts it refuses for their last digits, and the minimum charge, which applies in the
//! account's settlement currency after conversion.
//!
//! Every table is independent of the adapters on purpose (STYLE #9): the sandbox checks the
//! Stripe adapter's amounts against Stripe's published rules, not against the adapter's copy.

use crate::gateways::stripe::error::Failure;
use crate::money;

/// Currencies Stripe accepts for prices and charges, lowercase.
const STRIPE_CURRENCIES: &[&str] = &[
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
    "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
    "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
    "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
    "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Stripe's zero-decimal currencies (stripe.com/docs/currencies#zero-decimal). UGX is here
/// although ISO 4217 gives it two decimals.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Three-decimal currencies: Stripe requires the last digit of their amounts to be 0
/// (stripe.com/docs/currencies, "Three-decimal currencies").
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// FIXED SANDBOX RATES, not market rates: units of each currency per 1 USD, in millionths.
/// They only decide whether a charge clears the settlement currency's minimum, so round
/// figures suffice; CNY is 6.40 so that Stripe's documented example (CNY 3.00 "converts to
/// approximately $0.47") comes out the same here.
const UNITS_PER_USD_PPM: &[(&str, i64)] = &[
    ("usd", 1_000_000),
    ("aed", 3_672_500),
    ("afn", 70_000_000),
    ("all", 93_000_000),
    ("amd", 390_000_000),
    ("ang", 1_790_000),
    ("aoa", 830_000_000),
    ("ars", 850_000_000),
    ("aud", 1_520_000),
    ("awg", 1_790_000),
    ("azn", 1_700_000),
    ("bam", 1_800_000),
    ("bbd", 2_000_000),
    ("bdt", 110_000_000),
    ("bgn", 1_800_000),
    ("bhd", 376_000),
    ("bif", 2_850_000_000),
    ("bmd", 1_000_000),
    ("bnd", 1_340_000),
    ("bob", 6_910_000),
    ("brl", 5_000_000),
    ("bsd", 1_000_000),
    ("bwp", 13_600_000),
    ("byn", 3_270_000),
    ("bzd", 2_000_000),
    ("cad", 1_360_000),
    ("cdf", 2_750_000_000),
    ("chf", 880_000),
    ("clp", 940_000_000),
    ("cny", 6_400_000),
    ("cop", 3_900_000_000),
    ("crc", 520_000_000),
    ("cve", 101_000_000),
    ("czk", 23_000_000),
    ("djf", 178_000_000),
    ("dkk", 6_900_000),
    ("dop", 58_000_000),
    ("dzd", 135_000_000),
    ("egp", 47_000_000),
    ("etb", 57_000_000),
    ("eur", 920_000),
    ("fjd", 2_250_000),
    ("fkp", 790_000),
    ("gbp", 790_000),
    ("gel", 2_700_000),
    ("gip", 790_000),
    ("gmd", 67_000_000),
    ("gnf", 8_600_000_000),
    ("gtq", 7_800_000),
    ("gyd", 209_000_000),
    ("hkd", 7_800_000),
    ("hnl", 24_700_000),
    ("htg", 132_000_000),
    ("huf", 360_000_000),
    ("idr", 15_600_000_000),
    ("ils", 3_700_000),
    ("inr", 83_000_000),
    ("isk", 138_000_000),
    ("jmd", 155_000_000),
    ("jod", 709_000),
    ("jpy", 150_000_000),
    ("kes", 130_000_000),
    ("kgs", 89_000_000),
    ("khr", 4_100_000_000),
    ("kmf", 452_000_000),
    ("krw", 1_330_000_000),
    ("kwd", 307_000),
    ("kyd", 833_000),
    ("kzt", 450_000_000),
    ("lak", 20_800_000_000),
    ("lbp", 89_500_000_000),
    ("lkr", 300_000_000),
    ("lrd", 190_000_000),
    ("lsl", 18_500_000),
    ("mad", 10_000_000),
    ("mdl", 17_700_000),
    ("mga", 4_500_000_000),
    ("mkd", 56_700_000),
    ("mmk", 2_100_000_000),
    ("mnt", 3_400_000_000),
    ("mop", 8_050_000),
    ("mur", 46_000_000),
    ("mvr", 15_400_000),
    ("mwk", 1_730_000_000),
    ("mxn", 17_000_000),
    ("myr", 4_700_000),
    ("mzn", 63_900_000),
    ("nad", 18_500_000),
    ("ngn", 1_500_000_000),
    ("nio", 36_800_000),
    ("nok", 10_600_000),
    ("npr", 133_000_000),
    ("nzd", 1_640_000),
    ("omr", 385_000),
    ("pab", 1_000_000),
    ("pen", 3_750_000),
    ("pgk", 3_750_000),
    ("php", 56_000_000),
    ("pkr", 279_000_000),
    ("pln", 4_000_000),
    ("pyg", 7_300_000_000),
    ("qar", 3_640_000),
    ("ron", 4_600_000),
    ("rsd", 108_000_000),
    ("rub", 92_000_000),
    ("rwf", 1_300_000_000),
    ("sar", 3_750_000),
    ("sbd", 8_400_000),
    ("scr", 13_500_000),
    ("sek", 10_500_000),
    ("sgd", 1_340_000),
    ("shp", 790_000),
    ("sle", 22_500_000),
    ("sos", 571_000_000),
    ("srd", 35_000_000),
    ("std", 22_300_000_000),
    ("szl", 18_500_000),
    ("thb", 36_000_000),
    ("tjs", 10_900_000),
    ("tnd", 3_100_000),
    ("top", 2_350_000),
    ("try", 32_000_000),
    ("ttd", 6_780_000),
    ("twd", 31_500_000),
    ("tzs", 2_550_000_000),
    ("uah", 39_000_000),
    ("ugx", 3_800_000_000),
    ("uyu", 39_000_000),
    ("uzs", 12_600_000_000),
    ("vnd", 24_800_000_000),
    ("vuv", 119_000_000),
    ("wst", 2_700_000),
    ("xaf", 605_000_000),
    ("xcd", 2_700_000),
    ("xof", 605_000_000),
    ("xpf", 110_000_000),
    ("yer", 250_000_000),
    ("zar", 18_500_000),
    ("zmw", 26_000_000),
];

/// Minimum charge per settlement currency, in that currency's minor units
/// (stripe.com/docs/currencies#minimum-and-maximum-charge-amounts, transcribed in
/// `reference/stripe-api.md` §4).
const SETTLEMENT_MINIMUMS: &[(&str, i64)] = &[
    ("usd", 50),
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 50),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("thb", 1000),
];

/// True when Stripe knows the currency (any case).
pub(crate) fn is_stripe_currency(currency: &str) -> bool {
    STRIPE_CURRENCIES.contains(&currency.to_ascii_lowercase().as_str())
}

/// Returns how many decimals Stripe's wire amounts have in `currency`: ISK counts in
/// hundredths on Stripe's API (an amount of 100 is 1 króna) although ISO 4217 gives it none.
pub(crate) fn wire_exponent(currency: &str) -> u32 {
    let lower = currency.to_ascii_lowercase();
    if ZERO_DECIMAL.contains(&lower.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&lower.as_str()) {
        3
    } else {
        2
    }
}

/// Formats a Stripe wire amount for people, with Stripe's exponent.
pub(crate) fn format(amount: i64, currency: &str) -> String {
    money::format_amount(amount, currency, wire_exponent(currency))
}

/// Refuses a wire amount whose last digits Stripe rejects: ISK amounts that are not whole
/// krónur, three-decimal amounts whose last digit is not 0.
///
/// # Errors
/// ISK: the code and message Stripe's support page quotes
/// (support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds), confirmed.
/// Three-decimal currencies: the rule is confirmed (stripe.com/docs/currencies); the code
/// `invalid_charge_amount` and the message are the sandbox's guess, not confirmed.
pub(crate) fn check_wire_amount(currency: &str, amount: i64, param: &str) -> Result<(), Failure> {
    let lower = currency.to_ascii_lowercase();
    if lower == "isk" && amount % 100 != 0 {
        return Err(Failure::invalid(
            Some("invalid_charge_amount_no_decimal_compatible"),
            Some(param),
            "Invalid amount. Currency ISK has become effectively zero-decimal and charged \
             amounts must be evenly divisible by 100. See \
             https://stripe.com/docs/currencies#special-cases for more information."
                .to_owned(),
        ));
    }
    if THREE_DECIMAL.contains(&lower.as_str()) && amount % 10 != 0 {
        return Err(Failure::invalid(
            Some("invalid_charge_amount"),
            Some(param),
            format!(
                "Invalid amount. Currency {} amounts must end in 0: the least significant digit \
                 of a three-decimal currency must be 0. See \
                 https://stripe.com/docs/currencies#three-decimal for more information.",
                lower.to_ascii_uppercase()
            ),
        ));
    }
    Ok(())
}

/// Returns the minimum charge of a settlement currency, `None` when Stripe publishes none.
pub(crate) fn settlement_minimum(settlement: &str) -> Option<i64> {
    let lower = settlement.to_ascii_lowercase();
    SETTLEMENT_MINIMUMS
        .iter()
        .find(|(known, _)| *known == lower)
        .map(|(_, minimum)| *minimum)
}

fn units_per_usd(currency: &str) -> Option<i64> {
    let lower = currency.to_ascii_lowercase();
    UNITS_PER_USD_PPM
        .iter()
        .find(|(known, _)| *known == lower)
        .map(|(_, rate)| *rate)
}

/// Converts a wire amount between currencies with the fixed sandbox rates, rounding half up;
/// `None` for a currency without a rate or on overflow.
pub(crate) fn convert(amount: i64, from: &str, to: &str) -> Option<i64> {
    let from_rate = i128::from(units_per_usd(from)?);
    let to_rate = i128::from(units_per_usd(to)?);
    let from_scale = 10i128.pow(wire_exponent(from));
    let to_scale = 10i128.pow(wire_exponent(to));
    let numerator = i128::from(amount)
        .checked_mul(to_rate)?
        .checked_mul(to_scale)?;
    let denominator = from_rate.checked_mul(from_scale)?;
    let rounded = (numerator.checked_mul(2)? + denominator) / (denominator * 2);
    i64::try_from(rounded).ok()
}

/// Why a charge is below the minimum, for the error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TooSmall {
    /// Charged in the settlement currency, below its minimum.
    SameCurrency { minimum: i64 },
    /// Charged in another currency whose conversion falls below the settlement minimum.
    Converted { minimum: i64, converted: i64 },
}

/// Decides whether a positive charge clears the settlement currency's minimum. Stripe applies
/// the minimum of the currency the account settles in, to the converted amount.
pub(crate) fn below_minimum(amount: i64, currency: &str, settlement: &str) -> Option<TooSmall> {
    let minimum = settlement_minimum(settlement)?;
    if currency.eq_ignore_ascii_case(settlement) {
        return (amount < minimum).then_some(TooSmall::SameCurrency { minimum });
    }
    // Every Stripe currency has a rate (a unit test checks it), so `None` means overflow:
    // an amount that large is far above any minimum.
    let converted = convert(amount, currency, settlement)?;
    (converted < minimum).then_some(TooSmall::Converted { minimum, converted })
}

/// Stripe's `amount_too_small` error for a charge below the minimum. `same_currency_message`
/// words the same-currency case (it differs between Checkout and PaymentIntents).
///
/// The conversion wording follows the messages Stripe is known to send ("Amount must convert
/// to at least 50 cents. CN¥3.00 converts to approximately $0.47."), with the sandbox's own
/// currency formatting.
pub(crate) fn too_small_failure(
    too_small: &TooSmall,
    amount: i64,
    currency: &str,
    settlement: &str,
    param: Option<&str>,
    same_currency_message: impl FnOnce(&str) -> String,
) -> Failure {
    let message = match too_small {
        TooSmall::SameCurrency { minimum } => same_currency_message(&format!(
            "{} {}",
            format(*minimum, settlement),
            settlement.to_ascii_lowercase()
        )),
        TooSmall::Converted { minimum, converted } => {
            let minimum_text = if settlement.eq_ignore_ascii_case("usd") {
                format!("{minimum} cents")
            } else {
                format(*minimum, settlement)
            };
            format!(
                "Amount must convert to at least {minimum_text}. {} converts to approximately {}.",
                format(amount, currency),
                format(*converted, settlement)
            )
        }
    };
    Failure::invalid(Some("amount_too_small"), param, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimums_follow_stripes_published_table() {
        // stripe.com/docs/currencies#minimum-and-maximum-charge-amounts
        let published = [
            ("usd", 50),
            ("aed", 200),
            ("czk", 1500),
            ("gbp", 30),
            ("huf", 17500),
            ("mxn", 1000),
            ("thb", 1000),
        ];
        for (currency, minimum) in published {
            assert_eq!(settlement_minimum(currency), Some(minimum), "{currency}");
        }
        assert_eq!(settlement_minimum("GBP"), Some(30));
        assert_eq!(settlement_minimum("idr"), None);
    }

    #[test]
    fn every_stripe_currency_has_a_rate_and_every_settlement_currency_is_known() {
        for currency in STRIPE_CURRENCIES {
            assert!(units_per_usd(currency).is_some(), "{currency}");
        }
        for (currency, _) in UNITS_PER_USD_PPM.iter().chain(SETTLEMENT_MINIMUMS) {
            assert!(is_stripe_currency(currency), "{currency}");
        }
    }

    #[test]
    fn wire_exponents_follow_stripes_lists() {
        for currency in ZERO_DECIMAL {
            assert_eq!(wire_exponent(currency), 0, "{currency}");
        }
        for currency in ["bhd", "jod", "kwd", "omr", "tnd"] {
            assert_eq!(wire_exponent(currency), 3, "{currency}");
        }
        // ISK is two-decimal on Stripe's wire; HUF and TWD too.
        for currency in ["usd", "eur", "isk", "huf", "twd", "ISK"] {
            assert_eq!(wire_exponent(currency), 2, "{currency}");
        }
    }

    #[test]
    fn converts_with_fixed_rates_rounding_half_up() {
        assert_eq!(convert(300, "cny", "usd"), Some(47));
        assert_eq!(convert(1000, "usd", "jpy"), Some(1500));
        assert_eq!(convert(10000, "isk", "usd"), Some(72));
        assert_eq!(convert(50, "idr", "usd"), Some(0));
        assert_eq!(convert(i64::MAX, "idr", "usd"), Some(591_241_797_234_281));
    }

    #[test]
    fn minimum_applies_in_the_settlement_currency() {
        assert_eq!(
            below_minimum(300, "cny", "usd"),
            Some(TooSmall::Converted {
                minimum: 50,
                converted: 47
            })
        );
        assert_eq!(below_minimum(400, "cny", "usd"), None);
        // MXN 9.50 and CZK 14 clear a USD account although they are below MXN's and CZK's own
        // minimums; GBP 0.30 does not.
        assert_eq!(below_minimum(950, "mxn", "usd"), None);
        assert_eq!(below_minimum(1400, "czk", "usd"), None);
        assert!(below_minimum(30, "gbp", "usd").is_some());
        assert_eq!(
            below_minimum(49, "usd", "usd"),
            Some(TooSmall::SameCurrency { minimum: 50 })
        );
        assert!(below_minimum(50_000, "idr", "usd").is_some());
        assert_eq!(below_minimum(50, "eur", "eur"), None);
    }

    #[test]
    fn last_digit_rules() {
        assert!(check_wire_amount("isk", 10_000, "amount").is_ok());
        let isk = check_wire_amount("ISK", 10_050, "amount").unwrap_err();
        assert_eq!(
            isk.error.code,
            Some("invalid_charge_amount_no_decimal_compatible")
        );
        assert!(check_wire_amount("kwd", 5_120, "amount").is_ok());
        assert!(check_wire_amount("kwd", 5_125, "amount").is_err());
        assert!(check_wire_amount("usd", 5_125, "amount").is_ok());
    }

    #[test]
    fn knows_stripes_currencies_in_any_case() {
        for currency in ["usd", "EUR", "jpy", "kwd", "xof"] {
            assert!(is_stripe_currency(currency), "{currency}");
        }
        assert!(!is_stripe_currency("xyz"));
        assert!(!is_stripe_currency("us"));
    }
}
