//! Currency facts the sandbox needs: minor-unit exponents, Stripe's minimum
//! charge amounts and display formatting, all in integer math.

/// Currencies with no minor unit (Stripe's zero-decimal list).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies with three decimals.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

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

/// True when Stripe knows the currency (any case).
pub(crate) fn is_stripe_currency(currency: &str) -> bool {
    STRIPE_CURRENCIES.contains(&currency.to_ascii_lowercase().as_str())
}

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

/// Returns Stripe's minimum charge in minor units for a currency, from
/// Stripe's published table; other currencies fall back to 50 minor units.
pub(crate) fn stripe_minimum(currency: &str) -> i64 {
    match currency.to_ascii_lowercase().as_str() {
        "aed" | "myr" | "pln" | "ron" => 200,
        "bgn" => 100,
        "czk" => 1500,
        "dkk" => 250,
        "gbp" => 30,
        "hkd" => 400,
        "huf" => 17500,
        "mxn" | "thb" => 1000,
        "nok" | "sek" => 300,
        _ => 50,
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
    fn minimums_follow_the_table() {
        assert_eq!(stripe_minimum("usd"), 50);
        assert_eq!(stripe_minimum("GBP"), 30);
        assert_eq!(stripe_minimum("huf"), 17500);
    }
}
