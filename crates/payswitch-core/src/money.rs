//! Money as integer minor units with a currency that knows its exponent.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What went wrong in a money operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not an active ISO 4217 currency. `Display` shows it only when it looks like
    /// a code: a misplaced value (perhaps a secret) is never repeated.
    #[error("unknown currency code {}", shown_code(.0))]
    UnknownCurrency(String),
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in an `i64` of minor units.
    #[error("amount overflows i64 minor units")]
    Overflow,
    /// The amount cannot be written in the requested number of decimals without losing
    /// precision (a gateway that counts a currency in fewer decimals than ISO 4217).
    #[error("{amount} cannot be expressed with {exponent} decimals")]
    Precision {
        /// The amount that did not fit.
        amount: Money,
        /// The number of decimals asked for.
        exponent: u8,
    },
}

fn shown_code(code: &str) -> String {
    if code.len() <= 8 && code.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        format!("{code:?}")
    } else {
        "(not a currency code)".to_owned()
    }
}

/// An ISO 4217 currency, with the number of minor-unit digits gateways bill it in.
///
/// ```
/// use payswitch_core::Currency;
/// let yen = Currency::new("jpy").unwrap();
/// assert_eq!(yen.code(), "JPY");
/// assert_eq!(yen.exponent(), 0);
/// assert_eq!(Currency::KWD.exponent(), 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Every active ISO 4217 code with its minor-unit digits, sorted by code for binary search.
///
/// ISO 4217 gives most currencies 2 digits, a few 0 or 3, and two units of account 4. MGA is
/// listed with 0 (ISO says 2) because Stripe and the card networks bill it in whole ariary.
const CURRENCIES: &[([u8; 3], u8)] = &[
    (*b"AED", 2),
    (*b"AFN", 2),
    (*b"ALL", 2),
    (*b"AMD", 2),
    (*b"ANG", 2),
    (*b"AOA", 2),
    (*b"ARS", 2),
    (*b"AUD", 2),
    (*b"AWG", 2),
    (*b"AZN", 2),
    (*b"BAM", 2),
    (*b"BBD", 2),
    (*b"BDT", 2),
    (*b"BGN", 2),
    (*b"BHD", 3),
    (*b"BIF", 0),
    (*b"BMD", 2),
    (*b"BND", 2),
    (*b"BOB", 2),
    (*b"BOV", 2),
    (*b"BRL", 2),
    (*b"BSD", 2),
    (*b"BTN", 2),
    (*b"BWP", 2),
    (*b"BYN", 2),
    (*b"BZD", 2),
    (*b"CAD", 2),
    (*b"CDF", 2),
    (*b"CHE", 2),
    (*b"CHF", 2),
    (*b"CHW", 2),
    (*b"CLF", 4),
    (*b"CLP", 0),
    (*b"CNY", 2),
    (*b"COP", 2),
    (*b"COU", 2),
    (*b"CRC", 2),
    (*b"CUP", 2),
    (*b"CVE", 2),
    (*b"CZK", 2),
    (*b"DJF", 0),
    (*b"DKK", 2),
    (*b"DOP", 2),
    (*b"DZD", 2),
    (*b"EGP", 2),
    (*b"ERN", 2),
    (*b"ETB", 2),
    (*b"EUR", 2),
    (*b"FJD", 2),
    (*b"FKP", 2),
    (*b"GBP", 2),
    (*b"GEL", 2),
    (*b"GHS", 2),
    (*b"GIP", 2),
    (*b"GMD", 2),
    (*b"GNF", 0),
    (*b"GTQ", 2),
    (*b"GYD", 2),
    (*b"HKD", 2),
    (*b"HNL", 2),
    (*b"HTG", 2),
    (*b"HUF", 2),
    (*b"IDR", 2),
    (*b"ILS", 2),
    (*b"INR", 2),
    (*b"IQD", 3),
    (*b"IRR", 2),
    (*b"ISK", 0),
    (*b"JMD", 2),
    (*b"JOD", 3),
    (*b"JPY", 0),
    (*b"KES", 2),
    (*b"KGS", 2),
    (*b"KHR", 2),
    (*b"KMF", 0),
    (*b"KPW", 2),
    (*b"KRW", 0),
    (*b"KWD", 3),
    (*b"KYD", 2),
    (*b"KZT", 2),
    (*b"LAK", 2),
    (*b"LBP", 2),
    (*b"LKR", 2),
    (*b"LRD", 2),
    (*b"LSL", 2),
    (*b"LYD", 3),
    (*b"MAD", 2),
    (*b"MDL", 2),
    (*b"MGA", 0),
    (*b"MKD", 2),
    (*b"MMK", 2),
    (*b"MNT", 2),
    (*b"MOP", 2),
    (*b"MRU", 2),
    (*b"MUR", 2),
    (*b"MVR", 2),
    (*b"MWK", 2),
    (*b"MXN", 2),
    (*b"MXV", 2),
    (*b"MYR", 2),
    (*b"MZN", 2),
    (*b"NAD", 2),
    (*b"NGN", 2),
    (*b"NIO", 2),
    (*b"NOK", 2),
    (*b"NPR", 2),
    (*b"NZD", 2),
    (*b"OMR", 3),
    (*b"PAB", 2),
    (*b"PEN", 2),
    (*b"PGK", 2),
    (*b"PHP", 2),
    (*b"PKR", 2),
    (*b"PLN", 2),
    (*b"PYG", 0),
    (*b"QAR", 2),
    (*b"RON", 2),
    (*b"RSD", 2),
    (*b"RUB", 2),
    (*b"RWF", 0),
    (*b"SAR", 2),
    (*b"SBD", 2),
    (*b"SCR", 2),
    (*b"SDG", 2),
    (*b"SEK", 2),
    (*b"SGD", 2),
    (*b"SHP", 2),
    (*b"SLE", 2),
    (*b"SOS", 2),
    (*b"SRD", 2),
    (*b"SSP", 2),
    (*b"STN", 2),
    (*b"SVC", 2),
    (*b"SYP", 2),
    (*b"SZL", 2),
    (*b"THB", 2),
    (*b"TJS", 2),
    (*b"TMT", 2),
    (*b"TND", 3),
    (*b"TOP", 2),
    (*b"TRY", 2),
    (*b"TTD", 2),
    (*b"TWD", 2),
    (*b"TZS", 2),
    (*b"UAH", 2),
    (*b"UGX", 0),
    (*b"USD", 2),
    (*b"USN", 2),
    (*b"UYI", 0),
    (*b"UYU", 2),
    (*b"UYW", 4),
    (*b"UZS", 2),
    (*b"VED", 2),
    (*b"VES", 2),
    (*b"VND", 0),
    (*b"VUV", 0),
    (*b"WST", 2),
    (*b"XAF", 0),
    (*b"XCD", 2),
    (*b"XCG", 2),
    (*b"XOF", 0),
    (*b"XPF", 0),
    (*b"YER", 2),
    (*b"ZAR", 2),
    (*b"ZMW", 2),
    (*b"ZWG", 2),
];

impl Currency {
    /// United States dollar.
    pub const USD: Currency = Currency::known(*b"USD", 2);
    /// Euro.
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    /// Pound sterling.
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency::known(*b"JPY", 0);
    /// Kuwaiti dinar (three minor-unit digits).
    pub const KWD: Currency = Currency::known(*b"KWD", 3);

    const fn known(code: [u8; 3], exponent: u8) -> Currency {
        Currency { code, exponent }
    }

    /// Looks a currency up by its ISO 4217 code, in any letter case.
    pub fn new(code: &str) -> Result<Currency, MoneyError> {
        let unknown = || MoneyError::UnknownCurrency(code.to_owned());
        let &[first, second, third] = code.as_bytes() else {
            return Err(unknown());
        };
        let upper = [
            first.to_ascii_uppercase(),
            second.to_ascii_uppercase(),
            third.to_ascii_uppercase(),
        ];
        CURRENCIES
            .binary_search_by(|(listed, _)| listed.cmp(&upper))
            .map(|index| Currency::known(upper, CURRENCIES[index].1))
            .map_err(|_| unknown())
    }

    /// The upper-case ISO code, e.g. `"USD"` (Creem's spelling).
    pub fn code(&self) -> &str {
        // The code is built only from ASCII letters, so this never fails.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// The lower-case ISO code, e.g. `"usd"` (Stripe's spelling).
    pub fn lowercase(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// How many minor-unit digits the currency has: JPY 0, USD 2, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::new(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units (cents for USD, yen for JPY) and a currency.
///
/// There are no floats anywhere: arithmetic is checked and fails instead of wrapping.
///
/// ```
/// use payswitch_core::{Currency, Money};
/// let price = Money::new(1999, Currency::USD);
/// let total = price.checked_mul(3).unwrap();
/// assert_eq!(total.amount(), 5997);
/// assert_eq!(total.to_string(), "59.97 USD");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// Makes an amount from minor units.
    pub const fn new(amount: i64, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Makes an amount from whole major units (e.g. dollars), failing on overflow.
    pub fn from_major(units: i64, currency: Currency) -> Result<Money, MoneyError> {
        let scale = 10i64.pow(u32::from(currency.exponent()));
        units
            .checked_mul(scale)
            .map(|amount| Money::new(amount, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The amount in minor units.
    pub const fn amount(&self) -> i64 {
        self.amount
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Says whether the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.amount < 0
    }

    /// Multiplies by a quantity, failing instead of wrapping.
    pub fn checked_mul(&self, quantity: u32) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(i64::from(quantity))
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The amount counted with `exponent` decimals instead of the currency's ISO 4217 exponent,
    /// as a gateway's wire amount: exact, failing rather than rounding.
    ///
    /// Stripe counts ISK in hundredths although ISO gives it no decimals:
    ///
    /// ```
    /// use payswitch_core::{Currency, Money};
    /// let isk = Currency::new("ISK").unwrap();
    /// assert_eq!(Money::new(5_000, isk).to_exponent(2).unwrap(), 500_000);
    /// assert_eq!(Money::new(1_250, Currency::USD).to_exponent(0).ok(), None);
    /// ```
    pub fn to_exponent(&self, exponent: u8) -> Result<i64, MoneyError> {
        let iso = self.currency.exponent();
        let precision = MoneyError::Precision {
            amount: *self,
            exponent,
        };
        if exponent >= iso {
            let scale = 10i64
                .checked_pow(u32::from(exponent - iso))
                .ok_or(MoneyError::Overflow)?;
            self.amount.checked_mul(scale).ok_or(MoneyError::Overflow)
        } else {
            let scale = 10i64
                .checked_pow(u32::from(iso - exponent))
                .ok_or(precision.clone())?;
            if self.amount % scale != 0 {
                return Err(precision);
            }
            Ok(self.amount / scale)
        }
    }

    /// Reads a gateway's wire amount counted with `exponent` decimals back into [`Money`] in
    /// the currency's ISO 4217 exponent: the inverse of [`Money::to_exponent`].
    ///
    /// ```
    /// use payswitch_core::{Currency, Money};
    /// let isk = Currency::new("ISK").unwrap();
    /// assert_eq!(Money::from_exponent(500_000, 2, isk).unwrap(), Money::new(5_000, isk));
    /// ```
    pub fn from_exponent(
        amount: i64,
        exponent: u8,
        currency: Currency,
    ) -> Result<Money, MoneyError> {
        let iso = currency.exponent();
        let wire = Money::new(amount, currency);
        if exponent <= iso {
            let scale = 10i64
                .checked_pow(u32::from(iso - exponent))
                .ok_or(MoneyError::Overflow)?;
            amount
                .checked_mul(scale)
                .map(|amount| Money::new(amount, currency))
                .ok_or(MoneyError::Overflow)
        } else {
            let scale =
                10i64
                    .checked_pow(u32::from(exponent - iso))
                    .ok_or(MoneyError::Precision {
                        amount: wire,
                        exponent,
                    })?;
            if amount % scale != 0 {
                return Err(MoneyError::Precision {
                    amount: wire,
                    exponent,
                });
            }
            Ok(Money::new(amount / scale, currency))
        }
    }

    /// Adds an amount in the same currency, failing on a currency mismatch or overflow.
    pub fn checked_add(&self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        self.amount
            .checked_add(other.amount)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Subtracts an amount in the same currency, failing on a currency mismatch or overflow.
    pub fn checked_sub(&self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        self.amount
            .checked_sub(other.amount)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }
}

impl fmt::Display for Money {
    /// Formats as `major.minor CODE` with integer arithmetic: `20.00 USD`, `500 JPY`, `1.250 KWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = u32::from(self.currency.exponent());
        let sign = if self.amount < 0 { "-" } else { "" };
        let magnitude = self.amount.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency);
        }
        let scale = 10u64.pow(exponent);
        let width = exponent as usize;
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn wire_exponents_convert_exactly_both_ways() {
        let isk = Currency::new("ISK").unwrap();
        assert_eq!(Money::new(-7, isk).to_exponent(2), Ok(-700));
        assert_eq!(Money::from_exponent(-700, 2, isk), Ok(Money::new(-7, isk)));
        // 1 kr and 50 aurar: Stripe's ISK hundredths that no króna amount can hold.
        assert!(matches!(
            Money::from_exponent(150, 2, isk),
            Err(MoneyError::Precision { exponent: 2, .. })
        ));
        assert_eq!(Money::new(1999, Currency::USD).to_exponent(2), Ok(1999));
        assert_eq!(Money::new(1200, Currency::USD).to_exponent(0), Ok(12));
        assert_eq!(
            Money::new(i64::MAX, isk).to_exponent(2),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::from_exponent(i64::MAX, 0, Currency::USD),
            Err(MoneyError::Overflow)
        );
        assert!(Money::new(1, Currency::USD).to_exponent(40).is_err());
    }

    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::new("usd").unwrap().exponent(), 2);
        assert_eq!(Currency::new("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::new("kwd").unwrap().exponent(), 3);
        assert_eq!(Currency::new("CLF").unwrap().exponent(), 4);
        assert_eq!(Currency::new("Eur").unwrap(), Currency::EUR);
        assert_eq!(Currency::USD.lowercase(), "usd");
    }

    #[test]
    fn the_table_is_sorted_and_complete() {
        assert!(CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(CURRENCIES.len(), 166);
        for (code, exponent) in CURRENCIES {
            let text = std::str::from_utf8(code).unwrap();
            assert_eq!(Currency::new(text).unwrap().exponent(), *exponent);
        }
    }

    #[test]
    fn unknown_codes_are_rejected() {
        for code in ["", "US", "USDD", "ABC", "12$", "ü$d"] {
            assert_eq!(
                Currency::new(code),
                Err(MoneyError::UnknownCurrency(code.to_owned())),
                "{code}"
            );
        }
    }

    #[test]
    fn display_uses_the_exponent() {
        assert_eq!(Money::new(2000, Currency::USD).to_string(), "20.00 USD");
        assert_eq!(Money::new(5, Currency::USD).to_string(), "0.05 USD");
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "-0.05 USD");
        assert_eq!(Money::new(500, Currency::JPY).to_string(), "500 JPY");
        assert_eq!(Money::new(1250, Currency::KWD).to_string(), "1.250 KWD");
        assert_eq!(
            Money::new(i64::MIN, Currency::USD).to_string(),
            "-92233720368547758.08 USD"
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        let usd = Money::new(i64::MAX / 2 + 1, Currency::USD);
        assert_eq!(usd.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(usd.checked_add(usd), Err(MoneyError::Overflow));
        assert_eq!(
            Money::new(1, Currency::USD).checked_add(Money::new(1, Currency::EUR)),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            })
        );
        assert_eq!(
            Money::new(150, Currency::USD).checked_mul(3),
            Ok(Money::new(450, Currency::USD))
        );
        assert_eq!(
            Money::from_major(20, Currency::KWD).unwrap().amount(),
            20_000
        );
        assert_eq!(Money::from_major(20, Currency::JPY).unwrap().amount(), 20);
        assert_eq!(
            Money::from_major(i64::MAX, Currency::USD),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn serde_round_trip() {
        let money = Money::new(1999, Currency::EUR);
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount":1999,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"XYZ"}"#).is_err());
    }
}
