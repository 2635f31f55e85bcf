//! Times as the schema keeps them: unix milliseconds in an `i64`.
//!
//! A leaf module; every other module may use it.

use std::time::Duration;

use time::{Date, OffsetDateTime, Time};

/// `at` as unix milliseconds, saturating at the ends of `i64`.
pub(crate) fn to_millis(at: OffsetDateTime) -> i64 {
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX })
}

/// Unix milliseconds as a time; values beyond what `time` represents clamp to its first or
/// last day.
pub(crate) fn from_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).unwrap_or_else(|_| {
        let day = if millis < 0 { Date::MIN } else { Date::MAX };
        OffsetDateTime::new_utc(day, Time::MIDNIGHT)
    })
}

/// A duration in milliseconds, saturating.
pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_saturates() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(to_millis(at), 1_700_000_000_000);
        assert_eq!(
            from_millis(1_700_000_000_123),
            at + time::Duration::milliseconds(123)
        );
        let _ = from_millis(i64::MAX);
        let _ = from_millis(i64::MIN);
        assert_eq!(duration_millis(Duration::MAX), i64::MAX);
    }
}
