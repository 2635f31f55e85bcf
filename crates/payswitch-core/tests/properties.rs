//! Property tests of core's arithmetic and policies, against independent oracles: money
//! against `i128`, wire exponents against exact rescaling, backoff against its caps, and
//! redaction of configuration values.

use std::time::Duration;

use payswitch_core::{Config, Currency, Money, MoneyError, RetryConfig};
use proptest::prelude::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["USD", "JPY", "KWD", "ISK", "EUR", "CLP", "BHD", "UGX"])
        .prop_map(|code| Currency::new(code).unwrap())
}

proptest! {
    #[test]
    fn checked_arithmetic_matches_i128(a in any::<i64>(), b in any::<i64>(), quantity in any::<u32>()) {
        let usd = Currency::USD;
        let sum = i128::from(a) + i128::from(b);
        match Money::new(a, usd).checked_add(Money::new(b, usd)) {
            Ok(money) => prop_assert_eq!(i128::from(money.amount()), sum),
            Err(error) => {
                prop_assert_eq!(error, MoneyError::Overflow);
                prop_assert!(sum > i128::from(i64::MAX) || sum < i128::from(i64::MIN));
            }
        }
        let product = i128::from(a) * i128::from(quantity);
        match Money::new(a, usd).checked_mul(quantity) {
            Ok(money) => prop_assert_eq!(i128::from(money.amount()), product),
            Err(error) => {
                prop_assert_eq!(error, MoneyError::Overflow);
                prop_assert!(product > i128::from(i64::MAX) || product < i128::from(i64::MIN));
            }
        }
    }

    #[test]
    fn wire_exponents_rescale_exactly(amount in any::<i64>(), currency in currency(), exponent in 0u8..=4) {
        let money = Money::new(amount, currency);
        let iso = i32::from(currency.exponent());
        let shift = i32::from(exponent) - iso;
        // The oracle: exact rescaling in i128.
        let expected: Option<i128> = if shift >= 0 {
            Some(i128::from(amount) * 10i128.pow(shift.unsigned_abs()))
        } else {
            let scale = 10i128.pow(shift.unsigned_abs());
            (i128::from(amount) % scale == 0).then(|| i128::from(amount) / scale)
        };
        match money.to_exponent(exponent) {
            Ok(wire) => {
                prop_assert_eq!(Some(i128::from(wire)), expected);
                // And back again.
                prop_assert_eq!(Money::from_exponent(wire, exponent, currency), Ok(money));
            }
            Err(MoneyError::Overflow) => {
                let fits = expected.is_some_and(|value| i64::try_from(value).is_ok());
                prop_assert!(!fits);
            }
            Err(MoneyError::Precision { .. }) => prop_assert_eq!(expected, None),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn backoff_never_exceeds_its_caps(
        retry in any::<u32>(),
        initial_ms in 0u64..10_000,
        max_ms in 0u64..100_000,
        retry_after_ms in proptest::option::of(0u64..1_000_000),
        cap_ms in 0u64..120_000,
        jitter in any::<bool>(),
    ) {
        let config = RetryConfig {
            max_retries: 3,
            initial_backoff: Duration::from_millis(initial_ms),
            max_backoff: Duration::from_millis(max_ms),
            max_retry_after: Duration::from_millis(cap_ms),
            jitter,
        };
        let asked = retry_after_ms.map(Duration::from_millis);
        let wait = config.backoff(retry, asked);
        let ceiling = config.max_backoff.max(asked.map_or(Duration::ZERO, |asked| asked.min(config.max_retry_after)));
        prop_assert!(wait <= ceiling, "{wait:?} > {ceiling:?}");
        if let Some(asked) = asked {
            prop_assert!(wait >= asked.min(config.max_retry_after));
        }
    }

    #[test]
    fn configuration_errors_never_quote_a_value(secret in "[A-Za-z0-9_]{12,40}") {
        let marker = format!("PLANTED{secret}");
        for text in [
            format!("[acme]\nwebhook_secrets = \"{marker}\""),
            format!("[http]\ntimeout_secs = \"{marker}\""),
            format!("[retry]\njitter = \"{marker}\""),
            format!("provider = \"acme\"\n[acme]\napi_key = \"{marker}\" junk"),
            format!("colour = \"{marker}\""),
        ] {
            if let Err(error) = Config::from_toml_str(&text) {
                prop_assert!(!error.to_string().contains(&marker), "{error}");
                prop_assert!(!format!("{error:?}").contains(&marker), "{error:?}");
            }
        }
    }
}
