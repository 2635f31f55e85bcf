//! Money as integer minor units with a currency that knows its exponent.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What went wrong in a money operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not an active ISO 4217 currency.
    #[error("unknown currency code {0:?}")]
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

/// Currencies billed in whole units. ISO 4217 lists these with exponent 0; MGA is
/// added because Stripe (and the card networks it uses) bill it in whole ariary.
const ZERO_DECIMAL: &str =
    "BIF CLP DJF GNF ISK JPY KMF KRW MGA PYG RWF UGX UYI VND VUV XAF XOF XPF";
/// Currencies with three minor-unit digits.
const THREE_DECIMAL: &str = "BHD IQD JOD KWD LYD OMR TND";
/// Currencies with four minor-unit digits (units of account).
const FOUR_DECIMAL: &str = "CLF UYW";
/// Every other active ISO 4217 code; these have two minor-unit digits.
const TWO_DECIMAL: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB \
BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN \
ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW \
KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO \
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP \
STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR \
ZMW ZWG";

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
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(unknown());
        }
        let upper = [
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ];
        let needle = std::str::from_utf8(&upper).map_err(|_| unknown())?;
        let listed = |list: &str| list.split_whitespace().any(|c| c == needle);
        let exponent = if listed(TWO_DECIMAL) {
            2
        } else if listed(ZERO_DECIMAL) {
            0
        } else if listed(THREE_DECIMAL) {
            3
        } else if listed(FOUR_DECIMAL) {
            4
        } else {
            return Err(unknown());
        };
        Ok(Currency::known(upper, exponent))
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
