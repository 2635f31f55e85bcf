//! Creem's billing periods on the calendar: how many months a `billing_period` spans, and the
//! end of a subscription's n-th period counted from its anchor. Pure functions.
//!
//! Periods are calendar months, not fixed day counts: Creem's own samples show a monthly period
//! from `2024-10-12T11:58:38Z` to `2024-11-12T11:58:38Z` [confirmed, webhooks.mdx]. A day that
//! the target month lacks (the 31st in April) becomes that month's last day, and each period is
//! counted from the anchor rather than from the previous end, so a subscription started on
//! January 31st renews on February 28th, then March 31st [inferred: the usual rule of card
//! billing; Creem does not document it].

use time::{Date, Month, OffsetDateTime};

/// Seconds in a day, for trials (`trial_period_days`).
pub(crate) const DAY: i64 = 24 * 60 * 60;

/// Months in one billing period, `None` for `once` or an unknown period.
pub(crate) fn months_in(billing_period: &str) -> Option<u32> {
    match billing_period {
        "every-month" => Some(1),
        "every-three-months" => Some(3),
        "every-six-months" => Some(6),
        "every-year" => Some(12),
        _ => None,
    }
}

/// Adds calendar months to a Unix time, keeping the time of day and clamping the day to the
/// target month's last day; `None` past the calendar's range.
pub(crate) fn add_months(seconds: i64, months: u32) -> Option<i64> {
    let at = OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    let month_number = i64::from(u8::from(at.month())) - 1;
    let total = i64::from(at.year()) * 12 + month_number + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = at.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(date.with_time(at.time()).assume_utc().unix_timestamp())
}

/// Returns the end of period `index` (0 = the first) of a subscription billed every
/// `billing_period` from `anchor`; a period the calendar cannot hold ends at `anchor` plus a
/// month of 31 days per period, so a bad product never stops the sandbox.
pub(crate) fn period_end(anchor: i64, billing_period: &str, index: u32) -> i64 {
    let months = months_in(billing_period).unwrap_or(1);
    let periods = index.saturating_add(1);
    add_months(anchor, months.saturating_mul(periods)).unwrap_or_else(|| {
        let fallback_days = i64::from(months) * i64::from(periods) * 31;
        anchor.saturating_add(fallback_days.saturating_mul(DAY))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC calendar time.
    fn at(year: i32, month: Month, day: u8, hour: u8) -> i64 {
        Date::from_calendar_date(year, month, day)
            .expect("date")
            .with_hms(hour, 0, 0)
            .expect("time")
            .assume_utc()
            .unix_timestamp()
    }

    #[test]
    fn months_follow_the_calendar() {
        // Creem's sample: 2024-10-12T11:58:38Z to 2024-11-12T11:58:38Z.
        assert_eq!(add_months(1_728_734_318, 1), Some(1_728_734_318 + 31 * DAY));
        let table = [
            (
                at(2025, Month::January, 31, 9),
                1,
                at(2025, Month::February, 28, 9),
            ),
            (
                at(2024, Month::January, 31, 9),
                1,
                at(2024, Month::February, 29, 9),
            ),
            (
                at(2025, Month::March, 31, 0),
                1,
                at(2025, Month::April, 30, 0),
            ),
            (
                at(2025, Month::November, 15, 23),
                3,
                at(2026, Month::February, 15, 23),
            ),
            (
                at(2025, Month::August, 31, 12),
                6,
                at(2026, Month::February, 28, 12),
            ),
            (
                at(2024, Month::February, 29, 1),
                12,
                at(2025, Month::February, 28, 1),
            ),
            (
                at(2025, Month::December, 1, 0),
                1,
                at(2026, Month::January, 1, 0),
            ),
        ];
        for (start, months, end) in table {
            assert_eq!(add_months(start, months), Some(end), "{start} + {months}");
        }
        assert_eq!(add_months(i64::MAX, 1), None);
    }

    #[test]
    fn periods_count_from_the_anchor() {
        let anchor = at(2025, Month::January, 31, 9);
        assert_eq!(
            period_end(anchor, "every-month", 0),
            at(2025, Month::February, 28, 9)
        );
        // Not February 28th + 1 month: the anchor's 31st comes back.
        assert_eq!(
            period_end(anchor, "every-month", 1),
            at(2025, Month::March, 31, 9)
        );
        assert_eq!(
            period_end(anchor, "every-three-months", 0),
            at(2025, Month::April, 30, 9)
        );
        assert_eq!(
            period_end(anchor, "every-six-months", 1),
            at(2026, Month::January, 31, 9)
        );
        assert_eq!(
            period_end(anchor, "every-year", 0),
            at(2026, Month::January, 31, 9)
        );
        assert_eq!(months_in("once"), None);
    }
}
