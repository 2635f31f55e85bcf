//! Stripe's money rules: the currencies it accepts and the minimum charge per currency.
//!
//! Both tables are independent of the adapters on purpose (STYLE #9): the sandbox checks the
//! Stripe adapter's amounts against Stripe's published tables, not against the adapter's copy.

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

/// Returns Stripe's minimum charge in minor units for a currency, from
/// Stripe's published table; other currencies fall back to 50 minor units.
pub(crate) fn minimum_charge(currency: &str) -> i64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimums_follow_stripes_published_table() {
        // stripe.com/docs/currencies#minimum-and-maximum-charge-amounts
        let published = [
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
        for (currency, minimum) in published {
            assert_eq!(minimum_charge(currency), minimum, "{currency}");
        }
        assert_eq!(minimum_charge("GBP"), 30);
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
