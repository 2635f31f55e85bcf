//! Gateway-neutral money display: each currency's minor-unit exponent and the formatting the
//! hosted page and error messages use, all in integer math.
//!
//! The exponent tables are independent of the adapters on purpose (STYLE #9): the sandbox
//! checks the adapters' amounts instead of sharing their mistakes. They follow Stripe's
//! published zero-decimal list and ISO 4217's three-decimal currencies.

/// Currencies with no minor unit (Stripe's zero-decimal list).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies with three decimals.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Returns how many decimal digits the currency's minor unit has.
pub(crate) fn exponent(currency: &str) -> u32 {
    let upper = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&upper.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&upper.as_str()) {
        3
    } else {
        2
    }
}

/// Formats an amount in minor units for people, e.g. `$1,234.50`,
/// `¥500`, `KWD 1.500`.
pub(crate) fn format_amount(amount: i64, currency: &str) -> String {
    let upper = currency.to_ascii_uppercase();
    let digits = exponent(&upper);
    let magnitude = amount.unsigned_abs();
    let divisor = 10u64.pow(digits);
    let major = group_thousands(magnitude / divisor);
    let number = if digits == 0 {
        major
    } else {
        format!(
            "{major}.{minor:0width$}",
            minor = magnitude % divisor,
            width = digits as usize
        )
    };
    let sign = if amount < 0 { "-" } else { "" };
    match upper.as_str() {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        "JPY" => format!("{sign}¥{number}"),
        _ => format!("{sign}{upper} {number}"),
    }
}

fn group_thousands(value: u64) -> String {
    let text = value.to_string();
    let mut grouped = String::with_capacity(text.len() + text.len() / 3);
    for (position, digit) in text.chars().enumerate() {
        if position > 0 && (text.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_exponent() {
        assert_eq!(format_amount(2000, "usd"), "$20.00");
        assert_eq!(format_amount(123456789, "usd"), "$1,234,567.89");
        assert_eq!(format_amount(5, "eur"), "€0.05");
        assert_eq!(format_amount(500, "jpy"), "¥500");
        assert_eq!(format_amount(1500, "kwd"), "KWD 1.500");
        assert_eq!(format_amount(-250, "gbp"), "-£2.50");
        assert_eq!(
            format_amount(i64::MIN, "usd"),
            "-$92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn exponents_follow_the_published_lists() {
        // Stripe's zero-decimal currencies (stripe.com/docs/currencies#zero-decimal).
        for currency in [
            "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
            "VUV", "XAF", "XOF", "XPF",
        ] {
            assert_eq!(exponent(currency), 0, "{currency}");
        }
        // ISO 4217 three-decimal currencies Stripe supports.
        for currency in ["bhd", "jod", "kwd", "omr", "tnd"] {
            assert_eq!(exponent(currency), 3, "{currency}");
        }
        for currency in ["usd", "eur", "gbp", "inr", "mxn"] {
            assert_eq!(exponent(currency), 2, "{currency}");
        }
    }
}
