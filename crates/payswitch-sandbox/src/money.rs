//! Gateway-neutral money display: formats an amount in minor units for people, in integer
//! math. Each gateway says how many decimals its wire amounts have (Stripe's exponent for ISK
//! is not ISO 4217's), so the exponent is an argument here, never looked up.

/// Formats an amount of `exponent`-decimal minor units for people, e.g. `$1,234.50`,
/// `¥500`, `KWD 1.500`.
pub(crate) fn format_amount(amount: i64, currency: &str, exponent: u32) -> String {
    let upper = currency.to_ascii_uppercase();
    let digits = exponent.min(18);
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
        assert_eq!(format_amount(2000, "usd", 2), "$20.00");
        assert_eq!(format_amount(123456789, "usd", 2), "$1,234,567.89");
        assert_eq!(format_amount(5, "eur", 2), "€0.05");
        assert_eq!(format_amount(500, "jpy", 0), "¥500");
        assert_eq!(format_amount(1500, "kwd", 3), "KWD 1.500");
        assert_eq!(format_amount(10000, "isk", 2), "ISK 100.00");
        assert_eq!(format_amount(-250, "gbp", 2), "-£2.50");
        assert_eq!(
            format_amount(i64::MIN, "usd", 2),
            "-$92,233,720,368,547,758.08"
        );
    }
}
